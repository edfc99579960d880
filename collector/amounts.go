package collector

import (
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

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
	labels  *labelPairs // every column has the same labels
}

// newAmountFamily names each gauge prefix_<column>; help describes the
// series and is appended to the column's own help.
func newAmountFamily(prefix, help string, labels []string, columns []amountColumn) amountFamily {
	f := amountFamily{columns: columns}
	for _, c := range columns {
		f.descs = append(f.descs, prometheus.NewDesc(prefix+"_"+c.name, c.help+", "+help, labels, nil))
	}
	f.labels = newLabelPairs(f.descs[0], slices.Clone(labels))
	return f
}

func (f amountFamily) describe(ch chan<- *prometheus.Desc) {
	for _, d := range f.descs {
		ch <- d
	}
}

// appendMetrics appends one gauge per column for a series. A non-zero ts
// stamps the samples with it (the daily families). The columns share the
// series' label pairs and timestamp (gauge.go).
func (f amountFamily) appendMetrics(dst []prometheus.Metric, s series, ts time.Time) []prometheus.Metric {
	labels := f.labels.of(s.labels)
	tsMs := timestampMs(ts)
	samples := make([]struct {
		gauge gauge
		value dto.Gauge
		float float64
	}, len(f.columns)) // one allocation for the series
	for i, c := range f.columns {
		sm := &samples[i]
		sm.float = c.get(&s.amounts).Float64()
		sm.value.Value = &sm.float
		sm.gauge = gauge{desc: f.descs[i], labels: labels, value: &sm.value, tsMs: tsMs}
		dst = append(dst, &sm.gauge)
	}
	return dst
}
