package collector

import (
	"slices"
	"sync"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
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

// SpendScope is one owner, product and currency an account spent in: what
// a budget's scope must match to compare with any spend.
type SpendScope struct {
	OwnerID, ProductCode, Currency string
}

// matches reports whether b's scope covers s.
func (b Budget) matches(s SpendScope) bool {
	return b.Currency == s.Currency && (b.ProductCode == "" || b.ProductCode == s.ProductCode) &&
		(b.OwnerID == "" || b.OwnerID == s.OwnerID)
}

// budgetKey names a budget's scope; the configuration allows one budget
// per scope.
type budgetKey struct{ account, product, owner, currency string }

func (b Budget) key() budgetKey { return budgetKey{b.Account, b.ProductCode, b.OwnerID, b.Currency} }

// BudgetCollector exposes the configured budgets as gauges, so alert rules
// compare spend with them and changing a budget never means editing PromQL.
// A reload replaces the budgets (Set). It also tells which budgets can
// never fire: a scope (a product code or owner ID mistyped, a currency the
// account does not bill in) that matches no spend of the current or
// previous cycle, as the account collector reports it (ObserveSpend).
type BudgetCollector struct {
	desc, unmatchedDesc *prometheus.Desc

	mu        sync.Mutex
	logger    log.Logger
	budgets   []Budget
	metrics   []prometheus.Metric
	unmatched map[string]int     // per account, as of its last ObserveSpend
	warned    map[budgetKey]bool // budgets already logged as matching nothing
}

// NewBudgetCollector serves budgets.
func NewBudgetCollector(budgets []Budget) *BudgetCollector {
	c := &BudgetCollector{
		desc: prometheus.NewDesc(namespace+"_budget_monthly",
			"Monthly budget from the exporter's configuration file. Empty product_code or owner_id means the budget covers all of them.",
			[]string{"account", "product_code", "owner_id", "currency"}, nil),
		unmatchedDesc: prometheus.NewDesc(namespace+"_budgets_unmatched",
			"Budgets of the account whose scope (product_code, owner_id, currency) matched no spend of the current or previous billing cycle at the account collector's last successful refresh: they can never fire. Each is logged once as a warning.",
			[]string{"account"}, nil),
		logger: log.NewNopLogger(),
		warned: map[budgetKey]bool{},
	}
	c.Set(budgets)
	return c
}

// SetLogger sets where unmatched budgets are reported.
func (c *BudgetCollector) SetLogger(l log.Logger) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.logger = l
}

// Set replaces the budgets, on a reload. The unmatched counts wait for each
// account's next refresh.
func (c *BudgetCollector) Set(budgets []Budget) {
	metrics := make([]prometheus.Metric, 0, len(budgets))
	for _, b := range budgets {
		metrics = append(metrics, prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue,
			b.Monthly.Float64(), b.Account, b.ProductCode, b.OwnerID, b.Currency))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.budgets, c.metrics, c.unmatched = budgets, metrics, map[string]int{}
}

// ObserveSpend is told, after each successful refresh of an account's cycle
// spend, every scope it spent in. It counts the account's budgets that
// match none, and logs each such budget once.
func (c *BudgetCollector) ObserveSpend(account string, spent []SpendScope) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, has := 0, false
	for _, b := range c.budgets {
		if b.Account != account {
			continue
		}
		has = true
		if slices.ContainsFunc(spent, b.matches) {
			continue
		}
		n++
		if !c.warned[b.key()] {
			c.warned[b.key()] = true
			level.Warn(c.logger).Log("msg", "a budget matches no spend of the current or previous billing cycle, so it can never fire; check its product_code, owner_id and currency",
				"account", b.Account, "product_code", b.ProductCode, "owner_id", b.OwnerID, "currency", b.Currency)
		}
	}
	if !has { // no budget, nothing to count
		delete(c.unmatched, account)
		return
	}
	c.unmatched[account] = n
}

// Describe implements prometheus.Collector.
func (c *BudgetCollector) Describe(ch chan<- *prometheus.Desc) { describe(ch, c.desc, c.unmatchedDesc) }

// Collect implements prometheus.Collector.
func (c *BudgetCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.metrics {
		ch <- m
	}
	for account, n := range c.unmatched {
		ch <- prometheus.MustNewConstMetric(c.unmatchedDesc, prometheus.GaugeValue, float64(n), account)
	}
}
