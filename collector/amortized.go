package collector

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

func init() {
	register(Registration{
		Name: "amortized",
		// The series are labelled with the balance's currency; with
		// --collector.amortized.per-instance it also calls the instance
		// action, which needs the same RAM action and feature.
		Actions: []string{bssclient.ActionQueryAccountBalance, bssclient.ActionDescribeProductAmortizedCost},
		Help:    "DescribeProductAmortizedCostByAmortizationPeriod: effective (amortized) cost of the current and previous billing cycle by product, owner and subscription type; per instance with --collector.amortized.per-instance.",
		// Amortized cost is "updated 48 hours after the detailed bill is
		// generated": a few reads a day see every change.
		DefaultEnabled:  true,
		DefaultInterval: 3 * time.Hour,
	}, newAmortizedCollector)
}

// The amortized collector's families. The first shares the account cycle
// families' prefix but not their finality (FinalCycleOwner).
const (
	effectiveCostName         = namespace + "_account_cycle_effective_cost"
	instanceEffectiveCostName = namespace + "_instance_cycle_by_instance_effective_cost"
)

// AmortizedBSS is the part of the BSS API the amortized collector reads.
// *bssclient.Client implements it; it is separate from BSS so that clients
// and fakes written for the bill collectors need not grow.
type AmortizedBSS interface {
	DescribeProductAmortizedCost(ctx context.Context, req bssclient.AmortizedCostRequest) iter.Seq2[[]bssclient.ProductAmortizedCostItem, error]
	DescribeInstanceAmortizedCost(ctx context.Context, req bssclient.AmortizedCostRequest) iter.Seq2[[]bssclient.InstanceAmortizedCostItem, error]
}

// amortizedCollector reads the effective cost of the current and the
// previous cycle: what BSS amortizes into each (CurrentAmortizationPretaxAmount,
// the payable spread over the days it pays for), summed over the consume
// periods it comes from. BSS restates a cycle until it is final (12:00 UTC+8
// on the 6th of the next month, KindAmortized); a cycle read after that is
// never read again. An account without Amortized Cost enabled, or without
// bssapi:DescribeCostBill, turns only this collector off
// (aliyun_billing_commitments_api_available 0 for the action), and it is
// tried again every refresh.
type amortizedCollector struct {
	client AmortizedBSS // checked when the collector is built
	acct   Account
	cfg    Config
	parts  *apiParts

	cycle, perInstance *prometheus.Desc
	cycles             map[bssclient.Cycle]amortizedCycle
	currency           string // the account's; the rows name none
}

// amortizedCycle is one cycle's effective cost as last read.
type amortizedCycle struct {
	products  []series // owner_id, product_code, subscription_type, currency
	instances []series // instance_id, owner_id, product_code, subscription_type, currency; capped
	final     bool     // read after the cycle became final
}

func newAmortizedCollector(acct Account, cfg Config, logger log.Logger) (Collector, error) {
	client, err := clientAs[AmortizedBSS](acct, "amortized cost")
	if err != nil {
		return nil, err
	}
	actions := []string{bssclient.ActionDescribeProductAmortizedCost}
	if cfg.Amortized.PerInstance {
		actions = append(actions, bssclient.ActionDescribeInstanceAmortizedCost)
	}
	const how = " Restated until final (aliyun_billing_cycle_final{collector=\"amortized\"}: 12:00 UTC+8 on the 6th of the next month)." + cachedHelp
	return &amortizedCollector{
		client: client, acct: acct, cfg: cfg,
		parts: newAPIParts(logger, actions...),
		cycle: prometheus.NewDesc(effectiveCostName,
			"Effective (amortized) cost of the billing cycle: the payable amortized into it, subscriptions spread over the days they pay for (DescribeProductAmortizedCostByAmortizationPeriod CurrentAmortizationPretaxAmount), in the account's currency."+how,
			[]string{"account", "owner_id", "product_code", "subscription_type", "currency", "billing_cycle", "cycle"}, nil),
		perInstance: prometheus.NewDesc(instanceEffectiveCostName,
			"Effective (amortized) cost of the billing cycle per instance (DescribeInstanceAmortizedCostByAmortizationPeriod CurrentAmortizationPretaxAmount), for the largest instances; the rest are summed under instance_id=\""+overflowInstanceID+"\"."+how,
			[]string{"account", "instance_id", "owner_id", "product_code", "subscription_type", "currency", "billing_cycle", "cycle"}, nil),
		cycles: map[bssclient.Cycle]amortizedCycle{},
	}, nil
}

func (c *amortizedCollector) Describe(ch chan<- *prometheus.Desc) {
	describe(ch, c.cycle, cycleFinalDesc, apiAvailableDesc)
	if c.cfg.Amortized.PerInstance {
		describe(ch, c.perInstance)
	}
}

func (c *amortizedCollector) Refresh(ctx context.Context, now time.Time) (Snapshot, error) {
	if c.currency == "" {
		// It labels every series: without it the refresh fails and keeps
		// the last good data.
		currency, err := c.acct.Currency(ctx)
		if err != nil {
			return c.snapshot(now), err
		}
		c.currency = currency
	}
	current := bssclient.CycleOf(now)
	keepCurrentAndPrevious(c.cycles, current)
	var errs []error
	for _, cyc := range gaugeCycles(current) {
		if have, ok := c.cycles[cyc]; ok && have.final && c.parts.available(bssclient.ActionDescribeProductAmortizedCost) {
			continue // final: it will never change again
		}
		read, off, err := c.fetchCycle(ctx, cyc, now)
		switch {
		case off:
			clear(c.cycles) // the account cannot use it: no metrics, not stale ones
			return c.snapshot(now), nil
		case err != nil:
			errs = append(errs, fmt.Errorf("billing cycle %s: %w", cyc, err)) // keep the last good cycle
		default:
			c.cycles[cyc] = read
		}
	}
	return c.snapshot(now), errors.Join(errs...)
}

// fetchCycle reads one cycle. off reports that the account cannot use an
// action (not enabled, not permitted): nothing of the cycle is published.
func (c *amortizedCollector) fetchCycle(ctx context.Context, cyc bssclient.Cycle, now time.Time) (read amortizedCycle, off bool, err error) {
	read.final = c.cfg.Calendar().CycleFinal(cyc, now, bssclient.KindAmortized) // decided before reading: a read that starts before the moment is not final
	req := bssclient.AmortizedCostRequest{BillingCycle: cyc}
	products := newAggregate()
	labels := make([]string, 4)
	err = eachRow(c.client.DescribeProductAmortizedCost(ctx, req), func(it *bssclient.ProductAmortizedCostItem) error {
		c.labelsOf(it, labels)
		return products.add(labels, bssclient.Amounts{PretaxAmount: it.CurrentAmortizationPretaxAmount})
	})
	if off, err := c.parts.settle(bssclient.ActionDescribeProductAmortizedCost, err); off || err != nil {
		return read, off, err
	}
	read.products = products.sorted()
	if !c.cfg.Amortized.PerInstance {
		return read, false, nil
	}
	instances := newAggregate()
	instLabels := make([]string, 5)
	err = eachRow(c.client.DescribeInstanceAmortizedCost(ctx, req), func(it *bssclient.InstanceAmortizedCostItem) error {
		instLabels[0] = orUnknown(it.InstanceID)
		c.labelsOf(&it.ProductAmortizedCostItem, instLabels[1:])
		return instances.add(instLabels, bssclient.Amounts{PretaxAmount: it.CurrentAmortizationPretaxAmount})
	})
	if off, err := c.parts.settle(bssclient.ActionDescribeInstanceAmortizedCost, err); off || err != nil {
		return read, false, err // off: the products without the instances
	}
	read.instances, err = capSeries(instances.sorted(), c.cfg.Amortized.MaxInstances, func(s series) []string {
		return []string{overflowInstanceID, "", "", "", s.labels[len(s.labels)-1]}
	})
	return read, false, err
}

// labelsOf fills owner, product, subscription type and currency (4).
func (c *amortizedCollector) labelsOf(it *bssclient.ProductAmortizedCostItem, labels []string) {
	labels[0] = orUnknown(string(it.BillOwnerID))
	labels[1] = orUnknown(it.ProductCode)
	labels[2] = orUnknown(it.SubscriptionType)
	labels[3] = orUnknown(c.currency)
}

func (c *amortizedCollector) snapshot(now time.Time) Snapshot {
	var snap Snapshot
	current := bssclient.CycleOf(now)
	for cyc, t := range heldCycles(c.cycles, current) {
		which := cycleName(cyc, current)
		for _, s := range t.products {
			snap.addGauge(c.cycle, s.amounts.PretaxAmount.Float64(), withLabels(s, c.acct.Name, cyc.String(), which).labels...)
		}
		for _, s := range t.instances {
			snap.addGauge(c.perInstance, s.amounts.PretaxAmount.Float64(), withLabels(s, c.acct.Name, cyc.String(), which).labels...)
		}
		snap.addGauge(cycleFinalDesc, boolValue(t.final), c.acct.Name, "amortized", cyc.String(), which)
	}
	snap.Metrics = append(snap.Metrics, c.parts.metrics(c.acct.Name)...)
	return snap
}
