package collector

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

// amountColumn is one money column a finance user reads, and the BSS field
// it comes from.
type amountColumn struct {
	name string
	help string
	get  func(*bssclient.Amounts) bssclient.Money
}

var (
	columnListPrice = amountColumn{"list_price", "List price before discounts (PretaxGrossAmount)",
		func(a *bssclient.Amounts) bssclient.Money { return a.PretaxGrossAmount }}
	columnDiscount = amountColumn{"discount", "Discount (InvoiceDiscount)",
		func(a *bssclient.Amounts) bssclient.Money { return a.InvoiceDiscount }}
	columnCoupon = amountColumn{"coupon_deduction", "Deducted by coupons (DeductedByCoupons)",
		func(a *bssclient.Amounts) bssclient.Money { return a.DeductedByCoupons }}
	columnPayable = amountColumn{"payable", "Payable amount after discounts and coupons (PretaxAmount)",
		func(a *bssclient.Amounts) bssclient.Money { return a.PretaxAmount }}
	columnCash = amountColumn{"cash_paid", "Paid in cash (CashAmount)",
		func(a *bssclient.Amounts) bssclient.Money { return a.CashAmount }}
	columnOutstanding = amountColumn{"outstanding", "Outstanding: unsettled or paid by credit (OutstandingAmount)",
		func(a *bssclient.Amounts) bssclient.Money { return a.OutstandingAmount }}

	// financeColumns are the amounts every bill family exposes.
	financeColumns = []amountColumn{columnListPrice, columnDiscount, columnCoupon, columnPayable, columnCash, columnOutstanding}
)

// amountFamily is a set of gauges, one per amount column, sharing a name
// prefix and labels.
type amountFamily struct {
	columns []amountColumn
	descs   []*prometheus.Desc
}

// newAmountFamily names each gauge prefix_<column>; help describes the
// series and is appended to the column's own help.
func newAmountFamily(prefix, help string, labels []string, columns []amountColumn) amountFamily {
	f := amountFamily{columns: columns}
	for _, c := range columns {
		f.descs = append(f.descs, prometheus.NewDesc(prefix+"_"+c.name, c.help+", "+help, labels, nil))
	}
	return f
}

func (f amountFamily) describe(ch chan<- *prometheus.Desc) {
	for _, d := range f.descs {
		ch <- d
	}
}

// appendMetrics appends one gauge per column for a series. A non-zero ts
// stamps the samples with it (the daily families).
func (f amountFamily) appendMetrics(dst []prometheus.Metric, s series, ts time.Time) []prometheus.Metric {
	for i, c := range f.columns {
		m := prometheus.MustNewConstMetric(f.descs[i], prometheus.GaugeValue, c.get(&s.amounts).Float64(), s.labels...)
		if !ts.IsZero() {
			m = prometheus.NewMetricWithTimestamp(ts, m)
		}
		dst = append(dst, m)
	}
	return dst
}
