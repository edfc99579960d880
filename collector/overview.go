package collector

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

// The overview collector reads QueryBillOverview
// (https://www.alibabacloud.com/help/en/boa/latest/api-bssopenapi-2017-12-14-querybilloverview)
// once per cycle and refresh: the cycle's tax and after-tax amounts, which
// no bill row carries, and its payable as the overview counts it. Once the
// previous cycle is final, it checks the overview against the account bill
// of the same cycle, exactly, per currency: the two are Alibaba's own
// sources and should agree to the last decimal.

func init() {
	register(Registration{
		Name: "overview",
		// The account bill is what the final previous cycle is compared with.
		Actions:         []string{bssclient.ActionQueryBillOverview, bssclient.ActionQueryAccountBill},
		Help:            "QueryBillOverview: tax, after-tax amount and payable of the current and previous billing cycle per product, and, once the previous cycle is final, its difference from the account bill.",
		DefaultEnabled:  true,
		DefaultInterval: 6 * time.Hour,
	}, newOverviewCollector)
}

// OverviewBSS is the part of the BSS API the overview collector reads.
// *bssclient.Client implements it.
type OverviewBSS interface {
	QueryBillOverview(ctx context.Context, req bssclient.BillOverviewRequest) ([]bssclient.BillOverviewItem, error)
}

type overviewCollector struct {
	client                    OverviewBSS // checked when the collector is built
	acct                      Account
	cfg                       Config
	parts                     *apiParts
	payable, tax, after, diff *prometheus.Desc
	cycles                    map[bssclient.Cycle]overviewCycle
}

// overviewCycle is one cycle's overview, summed per product, billing
// method and currency.
type overviewCycle struct {
	rows  []overviewRow
	final bool // read after the cycle became final: never read again
	// difference is the account bill's payable minus the overview's, per
	// currency; set only when final.
	difference map[string]bssclient.Money
}

type overviewRow struct {
	productCode, subscriptionType, currency string
	payable, tax, afterTax                  bssclient.Money
}

func newOverviewCollector(acct Account, cfg Config, logger log.Logger) (Collector, error) {
	client, err := clientAs[OverviewBSS](acct, "the bill overview")
	if err != nil {
		return nil, err
	}
	labels := []string{"account", "product_code", "subscription_type", "currency", "billing_cycle", "cycle"}
	const tail = " Cycle to date as BSS shows it now, unsettled days included; refreshed in the background."
	return &overviewCollector{
		client: client,
		acct:   acct,
		cfg:    cfg,
		parts:  newAPIParts(logger, bssclient.ActionQueryBillOverview),
		payable: prometheus.NewDesc(namespace+"_overview_cycle_payable",
			"Payable amount of the billing cycle per product and billing method, as QueryBillOverview counts it (PretaxAmount)."+tail, labels, nil),
		tax: prometheus.NewDesc(namespace+"_overview_cycle_tax",
			"Tax of the billing cycle per product and billing method (QueryBillOverview Tax)."+tail, labels, nil),
		after: prometheus.NewDesc(namespace+"_overview_cycle_after_tax",
			"Amount after tax of the billing cycle per product and billing method, as BSS writes it (QueryBillOverview AfterTaxAmount, \"the amount paid after the tax is deducted\")."+tail, labels, nil),
		diff: prometheus.NewDesc(namespace+"_overview_reconciliation_difference",
			"The account bill's payable (QueryAccountBill PretaxAmount) minus QueryBillOverview's for the previous billing cycle, once it is final; 0 when Alibaba's two sources agree. Read once per process.",
			[]string{"account", "currency", "billing_cycle"}, nil),
		cycles: map[bssclient.Cycle]overviewCycle{},
	}, nil
}

func (c *overviewCollector) Describe(ch chan<- *prometheus.Desc) {
	describe(ch, c.payable, c.tax, c.after, c.diff, apiAvailableDesc)
}

func (c *overviewCollector) Refresh(ctx context.Context, now time.Time) (Snapshot, error) {
	current := bssclient.CycleOf(now)
	keepCurrentAndPrevious(c.cycles, current)
	var errs []error
	for _, cyc := range gaugeCycles(current) {
		if c.cycles[cyc].final {
			continue // final: it will never change again
		}
		got, err := c.read(ctx, cyc, now)
		off, err := c.parts.settle(bssclient.ActionQueryBillOverview, err)
		if err != nil {
			errs = append(errs, fmt.Errorf("billing cycle %s: %w", cyc, err))
			continue // keep the last good overview
		}
		if off {
			clear(c.cycles) // the account cannot use the overview: nothing to show
			break
		}
		c.cycles[cyc] = got
	}
	return c.snapshot(current), errors.Join(errs...)
}

// read reads one cycle's overview and, when the cycle is final, the account
// bill it is reconciled with.
func (c *overviewCollector) read(ctx context.Context, cyc bssclient.Cycle, now time.Time) (overviewCycle, error) {
	final := c.cfg.Calendar().CycleFinal(cyc, now, bssclient.KindAmounts) // decided before reading, as the account collector does
	items, err := c.client.QueryBillOverview(ctx, bssclient.BillOverviewRequest{BillingCycle: cyc})
	if err != nil {
		return overviewCycle{}, err
	}
	rows, err := sumOverview(items)
	if err != nil {
		return overviewCycle{}, fmt.Errorf("%s: %w", bssclient.ActionQueryBillOverview, err)
	}
	got := overviewCycle{rows: rows, final: final}
	if !final {
		return got, nil
	}
	bill, err := accountBillPayable(ctx, c.acct.Client, cyc)
	if err != nil {
		return overviewCycle{}, fmt.Errorf("the account bill to reconcile with: %w", err)
	}
	if got.difference, err = reconcile(bill, rows); err != nil {
		return overviewCycle{}, err
	}
	return got, nil
}

// sumOverview sums the items per product, billing method and currency,
// across owners and bill types (orders, pay-as-you-go bills, refunds,
// adjustments), exactly.
func sumOverview(items []bssclient.BillOverviewItem) ([]overviewRow, error) {
	type key struct{ product, subscriptionType, currency string }
	index := map[key]int{}
	var rows []overviewRow
	for _, it := range items {
		k := key{orUnknown(productCode(it.ProductCode, it.PipCode)), orUnknown(it.SubscriptionType), orUnknown(it.Currency)}
		i, ok := index[k]
		if !ok {
			i = len(rows)
			index[k] = i
			rows = append(rows, overviewRow{productCode: k.product, subscriptionType: k.subscriptionType, currency: k.currency})
		}
		r := &rows[i]
		var err error
		if r.payable, err = r.payable.Add(it.PretaxAmount); err != nil {
			return nil, err
		}
		if r.tax, err = r.tax.Add(it.Tax); err != nil {
			return nil, err
		}
		if r.afterTax, err = r.afterTax.Add(it.AfterTaxAmount); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(rows, func(a, b overviewRow) int {
		return cmp.Or(cmp.Compare(a.productCode, b.productCode), cmp.Compare(a.subscriptionType, b.subscriptionType), cmp.Compare(a.currency, b.currency))
	})
	return rows, nil
}

// accountBillPayable is the cycle's MONTHLY account bill payable per
// currency: the bill the account collector publishes.
func accountBillPayable(ctx context.Context, client BSS, cyc bssclient.Cycle) (map[string]bssclient.Money, error) {
	out := map[string]bssclient.Money{}
	req := bssclient.AccountBillRequest{BillingCycle: cyc, Granularity: bssclient.Monthly, IsGroupByProduct: true}
	err := eachRow(client.QueryAccountBill(ctx, req), func(r *bssclient.AccountBillItem) error {
		cur := orUnknown(r.Currency)
		sum, err := out[cur].Add(r.PretaxAmount)
		out[cur] = sum
		return err
	})
	return out, err
}

// reconcile is bill − overview per currency, over the currencies of both.
func reconcile(bill map[string]bssclient.Money, rows []overviewRow) (map[string]bssclient.Money, error) {
	out := maps.Clone(bill)
	for _, r := range rows {
		d, err := out[r.currency].Add(r.payable.Neg())
		if err != nil {
			return nil, err
		}
		out[r.currency] = d
	}
	return out, nil
}

func (c *overviewCollector) snapshot(current bssclient.Cycle) Snapshot {
	var s Snapshot
	for cyc, got := range heldCycles(c.cycles, current) {
		which := cycleName(cyc, current)
		for _, r := range got.rows {
			lv := []string{c.acct.Name, r.productCode, r.subscriptionType, r.currency, cyc.String(), which}
			s.addGauge(c.payable, r.payable.Float64(), lv...)
			s.addGauge(c.tax, r.tax.Float64(), lv...)
			s.addGauge(c.after, r.afterTax.Float64(), lv...)
		}
		for _, cur := range slices.Sorted(maps.Keys(got.difference)) {
			s.addGauge(c.diff, got.difference[cur].Float64(), c.acct.Name, cur, cyc.String())
		}
	}
	s.Metrics = append(s.Metrics, c.parts.metrics(c.acct.Name)...)
	return s
}
