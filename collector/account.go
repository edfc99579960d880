package collector

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

func init() {
	register(Registration{
		Name:            "account",
		Actions:         []string{bssclient.ActionQueryAccountBill},
		Help:            "QueryAccountBill grouped by product: spend by product, owner, subscription type and currency, per settled day and per billing cycle.",
		DefaultEnabled:  true,
		DefaultInterval: time.Hour,
		readDays:        func(a Account, c Config, _ log.Logger) dayReader { return newAccountReader(a, c) },
		Kind:            bssclient.KindAmounts,
	}, newAccountCollector)
}

// accountCollector reads QueryAccountBill grouped by product.
//
// Daily series: each day is read once, when its amounts have settled (24 h
// after it ends), and exposed with its 00:00 UTC+8 timestamp for
// ExposureDays days.
//
// Cycle gauges: the cycle's MONTHLY total minus the DAILY totals of its days
// that have not settled yet, i.e. the cycle to date as of the newest complete
// day. Reading the MONTHLY total every refresh is what brings restatements
// (refunds, adjustments) of already settled days in; it is cheap (one row per
// owner, product and subscription type). The previous cycle is read until its
// bill is final (12:00 UTC+8 on the 3rd), once more after, and then never.
type accountCollector struct {
	*accountReader
	labelled amountFamily // the same days, labelled billing_day (LabelledDays)

	dayBookParts
	cycles map[bssclient.Cycle]cycleTotal
}

// accountReader reads QueryAccountBill grouped by product: a settled day,
// a cycle to date, and the families they fill. The live collector and the
// backfill share it.
type accountReader struct {
	acct  Account
	cfg   Config
	daily amountFamily
	cycle amountFamily
}

// cycleTotal is a billing cycle's spend to date.
type cycleTotal struct {
	series []series
	asOf   bssclient.Day // the newest settled day included; zero if none yet
	final  bool          // read after the cycle's bill became final
}

// accountCyclePrefix is the prefix of the account collector's cycle
// families (aliyun_billing_account_cycle_<column>).
const accountCyclePrefix = namespace + "_account_cycle"

var accountLabels = []string{"account", "owner_id", "product_code", "subscription_type", "currency"}

// cycleFinalDesc is shared by the collectors with cycle gauges (account,
// amortized), each emitting its own collector label.
var cycleFinalDesc = prometheus.NewDesc(namespace+"_cycle_final",
	"1 once the billing cycle's bill is final (after 12:00 UTC+8 on the 3rd of the next month; the 4th for split bills, the 6th for amortized cost) and will not be restated; 0 while it may still change.",
	[]string{"account", "collector", "billing_cycle", "cycle"}, nil)

func newAccountReader(acct Account, cfg Config) *accountReader {
	return &accountReader{
		acct: acct, cfg: cfg,
		daily: newAmountFamily(namespace+"_account_daily",
			"per settled billing day (QueryAccountBill DAILY). Timestamped 00:00 UTC+8 of the day; exposed from 24 h after the day ends; a value never changes once exposed.",
			accountLabels, columnsOf(cfg, "account")),
		cycle: newAmountFamily(accountCyclePrefix,
			"of the billing cycle to date, as of the newest settled day, including later refunds and adjustments (QueryAccountBill MONTHLY)."+cachedHelp,
			append(append([]string{}, accountLabels...), "billing_cycle", "cycle"), columnsOf(cfg, "account")),
	}
}

func newAccountCollector(acct Account, cfg Config, logger log.Logger) (Collector, error) {
	return &accountCollector{
		accountReader: newAccountReader(acct, cfg),
		labelled: newAmountFamily(namespace+"_account_day",
			"per settled billing day (QueryAccountBill DAILY), one series per day of the last --billing.labelled-days, labelled billing_day (UTC+8), without a timestamp, for stores that take no past samples; a value never changes once exposed.",
			append(append([]string{}, accountLabels...), "billing_day"), columnsOf(cfg, "account")),
		dayBookParts: newDayBookParts("account", bssclient.KindAmounts, acct, cfg, len(accountLabels)-1, 0, logger),
		cycles:       map[bssclient.Cycle]cycleTotal{},
	}, nil
}

func (c *accountCollector) Describe(ch chan<- *prometheus.Desc) {
	c.daily.describe(ch)
	if c.cfg.LabelledDays > 0 {
		c.labelled.describe(ch)
	}
	c.cycle.describe(ch)
	describe(ch, cycleFinalDesc)
}

func (c *accountCollector) Refresh(ctx context.Context, now time.Time) (Snapshot, error) {
	newest := c.cfg.Calendar().NewestSettledDay(now, bssclient.KindAmounts)
	current := bssclient.CycleOf(now)
	var errs []error
	if err := c.state.loadOnce(ctx, now, c.book, nil, nil); err != nil {
		return c.snapshot(now, newest), err
	}
	defer c.state.save(c.book, nil, nil)

	// The book holds the days the daily and the labelled families show.
	if days := c.bookDays(); days > 0 {
		from := exposureStart(now, newest, days, bssclient.KindAmounts)
		done := c.startReading(now, from, func() Snapshot { return c.snapshot(now, newest) })
		if err := c.book.fill(ctx, from, newest, c.cfg.ConcurrentWalks, c.fetchDay); err != nil {
			errs = append(errs, err)
		}
		done()
		if err := c.book.recheck(ctx, c.cfg.ConcurrentWalks, c.fetchDay, &c.restated); err != nil {
			errs = append(errs, err)
		}
	}

	keepCurrentAndPrevious(c.cycles, current)
	for _, cyc := range gaugeCycles(current) {
		if have, ok := c.cycles[cyc]; ok && have.final {
			continue // final: it will never change again
		}
		total, err := c.fetchCycle(ctx, cyc, now, newest)
		if err != nil {
			errs = append(errs, fmt.Errorf("billing cycle %s: %w", cyc, err))
			continue // keep the last good total
		}
		c.cycles[cyc] = total
	}
	if len(errs) == 0 && c.cfg.Budgets != nil {
		c.cfg.Budgets.ObserveSpend(c.acct.Name, c.spendScopes())
	}
	return c.snapshot(now, newest), errors.Join(errs...)
}

// spendScopes lists the owners, products and currencies of the cycles held.
func (c *accountCollector) spendScopes() []SpendScope {
	var out []SpendScope
	for _, t := range c.cycles {
		for _, s := range t.series { // owner_id, product_code, subscription_type, currency
			out = append(out, SpendScope{OwnerID: s.labels[0], ProductCode: s.labels[1], Currency: s.labels[3]})
		}
	}
	return out
}

func (r *accountReader) dailyViews() []historyView { return []historyView{{r.daily, mainView}} }

// billFiles is nil: the account bill has no bill file of its grouping.
func (r *accountReader) billFiles() *billFiles { return nil }

func (r *accountReader) fetchDay(ctx context.Context, day bssclient.Day) (bookedDay, error) {
	agg, err := r.walk(ctx, bssclient.AccountBillRequest{
		BillingCycle: day.Cycle(), Granularity: bssclient.Daily, BillingDate: day, IsGroupByProduct: true,
	})
	if err != nil {
		return bookedDay{}, err
	}
	return bookedDay{series: agg.sorted()}, nil
}

// fetchCycle reads a cycle's MONTHLY total and subtracts the days in it that
// have begun but not settled, so the result holds settled days only.
func (r *accountReader) fetchCycle(ctx context.Context, cyc bssclient.Cycle, now time.Time, newest bssclient.Day) (cycleTotal, error) {
	final := r.cfg.Calendar().CycleFinal(cyc, now, bssclient.KindAmounts) // decided before reading: a read that starts before the moment is not final
	total, err := r.walk(ctx, bssclient.AccountBillRequest{BillingCycle: cyc, Granularity: bssclient.Monthly, IsGroupByProduct: true})
	if err != nil {
		return cycleTotal{}, err
	}
	unsettled := unsettledDays(cyc, now, newest)
	provisional := make([]*aggregate, len(unsettled))
	errs := runParallel(ctx, r.cfg.ConcurrentWalks, len(unsettled), func(ctx context.Context, i int) error {
		agg, err := r.walk(ctx, bssclient.AccountBillRequest{
			BillingCycle: cyc, Granularity: bssclient.Daily, BillingDate: unsettled[i], IsGroupByProduct: true,
		})
		provisional[i] = agg
		return err
	})
	if len(errs) > 0 {
		return cycleTotal{}, errors.Join(errs...)
	}
	for _, p := range provisional {
		if err := total.subtractAll(p.series); err != nil {
			return cycleTotal{}, err
		}
	}
	asOf := newest
	if asOf.Cycle() != cyc {
		if newest.Before(cyc.FirstDay()) {
			asOf = bssclient.Day{} // no day of the cycle has settled yet
		} else {
			asOf = cyc.LastDay()
		}
	}
	return cycleTotal{series: total.sorted(), asOf: asOf, final: final}, nil
}

// accountLabelsOf fills labels (4) from a bill row: owner, product,
// subscription type and currency.
func accountLabelsOf(it *bssclient.AccountBillItem, labels []string) {
	labels[0] = orUnknown(it.OwnerID)
	labels[1] = orUnknown(productCode(it.ProductCode, it.PipCode))
	labels[2] = orUnknown(it.SubscriptionType)
	labels[3] = orUnknown(it.Currency)
}

// walk reads every page of a QueryAccountBill request into an aggregate
// keyed by owner, product, subscription type and currency.
func (r *accountReader) walk(ctx context.Context, req bssclient.AccountBillRequest) (*aggregate, error) {
	agg := newAggregate()
	labels := make([]string, 4)
	err := eachRow(r.acct.Client.QueryAccountBill(ctx, req), func(it *bssclient.AccountBillItem) error {
		accountLabelsOf(it, labels)
		return agg.add(labels, it.Amounts)
	})
	if err != nil {
		return nil, err
	}
	return agg, nil
}

func (c *accountCollector) snapshot(now time.Time, newest bssclient.Day) Snapshot {
	snap := c.daySnapshot(c.cfg, c.acct.Name, "account", now, newest, historyView{c.daily, mainView})
	if c.cfg.LabelledDays > 0 {
		from := exposureStart(now, newest, c.cfg.LabelledDays, bssclient.KindAmounts)
		for _, d := range c.book.sorted(from, newest) {
			for _, s := range c.book.days[d].series {
				snap.Metrics = c.labelled.appendMetrics(snap.Metrics, withLabels(s, c.acct.Name, d.String()), time.Time{})
			}
		}
		if complete := c.book.completeThrough(from, newest); snap.NewestCompleteDay.Before(complete) {
			snap.NewestCompleteDay = complete
		}
	}
	current := bssclient.CycleOf(now)
	for cyc, t := range heldCycles(c.cycles, current) {
		which := cycleName(cyc, current)
		for _, s := range t.series {
			snap.Metrics = c.cycle.appendMetrics(snap.Metrics, withLabels(s, c.acct.Name, cyc.String(), which), time.Time{})
		}
		snap.addGauge(cycleFinalDesc, boolValue(t.final), c.acct.Name, "account", cyc.String(), which)
		if snap.NewestCompleteDay.Before(t.asOf) {
			snap.NewestCompleteDay = t.asOf
		}
	}
	return snap
}

// bookDays is how many settled days the book holds: the longer of the
// daily and the labelled families' windows; 0 when neither is on.
func (c *accountCollector) bookDays() int {
	days := c.cfg.LabelledDays
	if c.cfg.DailySeries {
		days = max(days, c.cfg.ExposureDays)
	}
	return days
}

// exposureStart is the first day the daily families expose: ExposureDays
// settled days ending at newest, but never before the API's retention.
func exposureStart(now time.Time, newest bssclient.Day, exposureDays int, kind bssclient.DataKind) bssclient.Day {
	from := newest.AddDays(-(exposureDays - 1))
	if oldest := bssclient.OldestQueryable(now, kind).FirstDay(); from.Before(oldest) {
		return oldest
	}
	return from
}

// gaugeCycles are the two billing cycles the cycle gauges show, the
// previous and the current, in that order.
func gaugeCycles(current bssclient.Cycle) []bssclient.Cycle {
	return []bssclient.Cycle{current.Prev(), current}
}

// keepCurrentAndPrevious drops from cycles every billing cycle but the
// gaugeCycles.
func keepCurrentAndPrevious[V any](cycles map[bssclient.Cycle]V, current bssclient.Cycle) {
	maps.DeleteFunc(cycles, func(cyc bssclient.Cycle, _ V) bool { return !slices.Contains(gaugeCycles(current), cyc) })
}

// heldCycles yields, of the gaugeCycles, those cycles holds, with what it
// holds.
func heldCycles[V any](cycles map[bssclient.Cycle]V, current bssclient.Cycle) iter.Seq2[bssclient.Cycle, V] {
	return func(yield func(bssclient.Cycle, V) bool) {
		for _, cyc := range gaugeCycles(current) {
			if v, ok := cycles[cyc]; ok && !yield(cyc, v) {
				return
			}
		}
	}
}

// cycleName is the cycle label: "current" or "previous".
func cycleName(cyc, current bssclient.Cycle) string {
	if cyc == current {
		return "current"
	}
	return "previous"
}

// productCode prefers ProductCode, which QueryAccountBill fills only when
// grouping by product, and falls back to PipCode.
func productCode(code, pip string) string { return cmp.Or(code, pip) }
