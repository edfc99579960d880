package collector

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

// amountColumn is one money column a finance user reads, and the BSS field
// it comes from.
type amountColumn struct {
	name  string
	help  string
	field string // of bssclient.Amounts
	get   func(*bssclient.Amounts) bssclient.Money
}

var (
	columnListPrice = amountColumn{"list_price", "List price before discounts (PretaxGrossAmount)", "PretaxGrossAmount",
		func(a *bssclient.Amounts) bssclient.Money { return a.PretaxGrossAmount }}
	columnDiscount = amountColumn{"discount", "Discount (InvoiceDiscount)", "InvoiceDiscount",
		func(a *bssclient.Amounts) bssclient.Money { return a.InvoiceDiscount }}
	columnCoupon = amountColumn{"coupon_deduction", "Deducted by coupons (DeductedByCoupons)", "DeductedByCoupons",
		func(a *bssclient.Amounts) bssclient.Money { return a.DeductedByCoupons }}
	columnPayable = amountColumn{"payable", "Payable amount after discounts and coupons (PretaxAmount)", "PretaxAmount",
		func(a *bssclient.Amounts) bssclient.Money { return a.PretaxAmount }}
	columnCash = amountColumn{"cash_paid", "Paid in cash (CashAmount)", "CashAmount",
		func(a *bssclient.Amounts) bssclient.Money { return a.CashAmount }}
	columnOutstanding = amountColumn{"outstanding", "Outstanding: unsettled or paid by credit (OutstandingAmount)", "OutstandingAmount",
		func(a *bssclient.Amounts) bssclient.Money { return a.OutstandingAmount }}

	// allColumns are the amounts a bill family can expose, in exposition order.
	allColumns = []amountColumn{columnListPrice, columnDiscount, columnCoupon, columnPayable, columnCash, columnOutstanding}
)

// DefaultAmounts returns the columns a bill collector exposes unless told
// otherwise. What was paid for (payable) and what it would have cost
// without discounts (list price) answer "what do we spend, and what do the
// discounts save" everywhere. The account collector, whose series are few
// (owners × products × subscription types), adds the discount and coupon
// columns that the shipped dashboards break list price down by. Each column
// is one series per label set, so the rest (cash paid, outstanding), which
// finance teams reconcile rather than watch, are on request.
func DefaultAmounts(collector string) []string {
	if collector == "account" {
		return []string{columnPayable.name, columnListPrice.name, columnDiscount.name, columnCoupon.name}
	}
	return []string{columnPayable.name, columnListPrice.name}
}

// AmountNames lists every money column a bill collector can expose.
func AmountNames() []string { return columnNames(allColumns) }

func columnNames(cols []amountColumn) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.name
	}
	return out
}

// columnsNamed returns the named columns in exposition order, or an error
// naming the first unknown or repeated one.
func columnsNamed(names []string) ([]amountColumn, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("no amount columns: name at least one of %s", strings.Join(AmountNames(), ", "))
	}
	seen := map[string]bool{}
	for _, n := range names {
		if !slices.Contains(AmountNames(), n) {
			return nil, fmt.Errorf("unknown amount column %q (known: %s)", n, strings.Join(AmountNames(), ", "))
		}
		if seen[n] {
			return nil, fmt.Errorf("amount column %q is listed twice", n)
		}
		seen[n] = true
	}
	var out []amountColumn
	for _, c := range allColumns {
		if seen[c.name] {
			out = append(out, c)
		}
	}
	return out, nil
}

// AmountColumns names the money columns collector exposes under cfg.
func AmountColumns(cfg Config, collector string) []string {
	return columnNames(columnsOf(cfg, collector))
}

// columnsOf returns the columns cfg asks the named collector to expose.
func columnsOf(cfg Config, collector string) []amountColumn {
	names, ok := cfg.Amounts[collector]
	if !ok {
		names = DefaultAmounts(collector)
	}
	cols, err := columnsNamed(names)
	if err != nil { // Validate refused this config already
		panic(err)
	}
	return cols
}

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

func (f amountFamily) describe(ch chan<- *prometheus.Desc) { describe(ch, f.descs...) }

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
