package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

// Budget is a monthly budget from the configuration file.
type Budget struct {
	Account     string
	ProductCode string // "" for the whole account
	OwnerID     string // "" for every owner
	Currency    string
	Monthly     bssclient.Money
}

// BudgetCollector exposes the configured budgets as gauges, so alert rules
// compare spend with them and changing a budget never means editing PromQL.
type BudgetCollector struct {
	desc    *prometheus.Desc
	metrics []prometheus.Metric
}

// NewBudgetCollector builds the gauges once; a reload of the configuration
// builds a new collector rather than changing this one.
func NewBudgetCollector(budgets []Budget) *BudgetCollector {
	c := &BudgetCollector{desc: prometheus.NewDesc(namespace+"_budget_monthly",
		"Monthly budget from the exporter's configuration file. Empty product_code or owner_id means the budget covers all of them.",
		[]string{"account", "product_code", "owner_id", "currency"}, nil)}
	for _, b := range budgets {
		c.metrics = append(c.metrics, prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue,
			b.Monthly.Float64(), b.Account, b.ProductCode, b.OwnerID, b.Currency))
	}
	return c
}

// Describe implements prometheus.Collector.
func (c *BudgetCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *BudgetCollector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c.metrics {
		ch <- m
	}
}
