package collector

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

func init() {
	register(Registration{
		Name:            "instance",
		Actions:         []string{bssclient.ActionDescribeInstanceBill},
		Help:            "DescribeInstanceBill DAILY aggregated by product, owner, subscription type and region (zone, tags and per-instance series on request).",
		DefaultEnabled:  true,
		DefaultInterval: time.Hour,
		readDays:        func(a Account, c Config, l log.Logger) dayReader { return newInstanceReader(a, c, l) },
		Kind:            bssclient.KindInstanceAttributes,
	}, newInstanceCollector)
}

// overflowInstanceID labels the series that sums every instance beyond the
// per-instance cap, so per-instance series still add up to the total.
const overflowInstanceID = "__overflow__"

// instanceCollector reads DescribeInstanceBill per day. Its series carry
// instance attributes (region, zone), which BSS completes only 48 h after the
// day ends, so a day is read once, 48 h after it ends, and never again.
//
// The cycle gauges are the cycle's MONTHLY bill minus the DAILY bills of its
// days that have not settled, as the account collector does: what the
// settled days cost, restatements included. That costs the same whatever
// the day of the month (one MONTHLY walk and about three DAILY walks),
// where summing the settled days costs one walk per day, and it is read
// again only when a day settles, not every refresh.
type instanceCollector struct {
	*instanceReader
	dayBookParts
	cycleSum settledCycleSum // as of cycleSum.asOf; read again when a newer day settles
}

// instanceReader reads DescribeInstanceBill: a settled day (from the API
// or the day's bill file), the current cycle to date, and the families
// they fill. The live collector and the backfill share it.
type instanceReader struct {
	acct Account
	cfg  Config

	labels      []string // after "account": owner_id, product_code, …
	daily       amountFamily
	cycle       amountFamily
	perInstance amountFamily
	files       *billFiles // nil: rows come from the API
}

// instanceLabelsOf is the aggregated series' labels after "account".
func instanceLabelsOf(cfg Config) []string {
	labels := []string{"owner_id", "product_code", "subscription_type", "region_id"}
	if cfg.Instance.Zone {
		labels = append(labels, "zone_id")
	}
	if cfg.Instance.ResourceGroup {
		labels = append(labels, "resource_group")
	}
	if cfg.Instance.CostUnit {
		labels = append(labels, "cost_unit")
	}
	for _, k := range cfg.Instance.TagKeys {
		labels = append(labels, "tag_"+k)
	}
	return append(labels, "currency")
}

func newInstanceReader(acct Account, cfg Config, logger log.Logger) *instanceReader {
	labels := instanceLabelsOf(cfg)
	all := append([]string{"account"}, labels...)
	return &instanceReader{
		acct: acct, cfg: cfg, labels: labels,
		daily: newAmountFamily(namespace+"_instance_daily",
			"per settled billing day and region (DescribeInstanceBill DAILY). Timestamped 00:00 UTC+8 of the day; exposed from 48 h after the day ends, when instance attributes are complete; a value never changes once exposed.",
			all, columnsOf(cfg, "instance")),
		cycle: newAmountFamily(namespace+"_instance_cycle",
			"of the current billing cycle to date by region, as of the newest settled day, including later refunds and adjustments (DescribeInstanceBill MONTHLY). Cached; read again when a day settles.",
			append(slices.Clone(all), "billing_cycle", "cycle"), columnsOf(cfg, "instance")),
		perInstance: newAmountFamily(namespace+"_instance_daily_by_instance",
			"per instance and settled billing day, for the largest instances; the rest are summed under instance_id=\""+overflowInstanceID+"\". Timestamped 00:00 UTC+8 of the day; exposed from 48 h after the day ends.",
			[]string{"account", "instance_id", "owner_id", "product_code", "subscription_type", "region_id", "currency"},
			[]amountColumn{columnPayable}),
		files: newBillFiles(cfg.Instance.Source, acct, "instance", logger, dailyInstanceFiles, monthlyInstanceFiles),
	}
}

func newInstanceCollector(acct Account, cfg Config, logger log.Logger) (Collector, error) {
	r := newInstanceReader(acct, cfg, logger)
	// Per-instance series are booked with the day: they shape the state too.
	extraWidth := 0
	if cfg.Instance.PerInstance {
		extraWidth = 6
	}
	return &instanceCollector{
		instanceReader: r,
		dayBookParts:   newDayBookParts("instance", bssclient.KindInstanceAttributes, acct, cfg, len(r.labels), extraWidth, logger),
	}, nil
}

func (c *instanceCollector) Describe(ch chan<- *prometheus.Desc) {
	c.daily.describe(ch)
	c.cycle.describe(ch)
	if c.cfg.Instance.PerInstance {
		c.perInstance.describe(ch)
	}
}

func (c *instanceCollector) Refresh(ctx context.Context, now time.Time) (Snapshot, error) {
	newest := c.cfg.Calendar().NewestSettledDay(now, bssclient.KindInstanceAttributes)
	if err := c.state.loadOnce(ctx, now, c.book, nil, &c.cycleSum); err != nil {
		return c.snapshot(now, newest), err
	}
	defer c.state.save(c.book, nil, &c.cycleSum)
	c.files.newRefresh()
	var daysErr, cycleErr error
	if c.cfg.DailySeries {
		from := exposureStart(now, newest, c.cfg.ExposureDays, bssclient.KindInstanceAttributes)
		done := c.startReading(now, from, func() Snapshot { return c.snapshot(now, newest) })
		daysErr = c.book.fill(ctx, from, newest, c.cfg.ConcurrentWalks, c.fetchDay)
		done()
		if daysErr == nil {
			daysErr = c.book.recheck(ctx, c.cfg.ConcurrentWalks, c.fetchDay, &c.restated)
		}
	}
	// The cycle is read once the days are: a day that failed means BSS is
	// in trouble or restating, and the retry soon after reads both.
	if daysErr == nil {
		if cycleErr = c.refreshCycle(ctx, now, newest); cycleErr != nil {
			cycleErr = fmt.Errorf("billing cycle %s: %w", bssclient.CycleOf(now), cycleErr)
		}
	}
	return c.snapshot(now, newest), errors.Join(daysErr, cycleErr)
}

// refreshCycle reads the current cycle's gauges when a day has settled
// since they were read, and keeps the last ones on failure.
func (c *instanceCollector) refreshCycle(ctx context.Context, now time.Time, newest bssclient.Day) error {
	current := bssclient.CycleOf(now)
	if !c.cycleSum.needsRead(current, newest) {
		return nil
	}
	release, err := c.acct.holdMonth(ctx)
	if err != nil {
		return err
	}
	defer release()
	sum, err := c.readCycle(ctx, now, newest)
	if err != nil {
		return err
	}
	c.cycleSum = settledCycleSum{cycle: current, asOf: newest, series: sum.sorted()}
	return nil
}

// readCycle reads the MONTHLY bill of the current cycle and subtracts the
// DAILY bills of its days after newest, from the bill files when the
// collector reads them, else (or when they fall back) from the API.
func (r *instanceReader) readCycle(ctx context.Context, now time.Time, newest bssclient.Day) (*aggregate, error) {
	current := bssclient.CycleOf(now)
	if r.files != nil {
		sum, err := r.readCycleFiles(ctx, now, newest)
		if !fallsBack(ctx, err) {
			return sum, err
		}
		r.files.fellBack("instance bill of "+current.String(), err)
	}
	monthly := r.acct.Client.DescribeInstanceBill(ctx, bssclient.InstanceBillRequest{BillingCycle: current, Granularity: bssclient.Monthly})
	daily := func(ctx context.Context, day bssclient.Day) iter.Seq2[[]bssclient.InstanceBillItem, error] {
		return r.acct.Client.DescribeInstanceBill(ctx, bssclient.InstanceBillRequest{BillingCycle: current, Granularity: bssclient.Daily, BillingDate: day})
	}
	return r.sumCycle(ctx, monthly, unsettledDays(current, now, newest), daily)
}

// readCycleFiles is readCycle from the cycle's month-so-far file and the
// daily files. The month file holds the days BSS had pushed when it wrote
// it (INFERRED from "the full data generated from the beginning of the
// month to the current day", SubscribeBillToOSS), those whose amounts had
// settled, so those of them after newest are the days to subtract. Any
// file that cannot serve fails the whole read, for the API to stand in.
func (r *instanceReader) readCycleFiles(ctx context.Context, now time.Time, newest bssclient.Day) (*aggregate, error) {
	current := bssclient.CycleOf(now)
	monthFiles, err := r.files.of(ctx, monthlyInstanceFiles, current)
	if err != nil {
		return nil, err
	}
	dayFiles, err := r.files.of(ctx, dailyInstanceFiles, current)
	if err != nil {
		return nil, err
	}
	f, err := monthFiles.OpenMonth(ctx, current)
	monthly, err := openedRows(r.files, f, err, newest.SettledAt(bssclient.KindAmounts), (*bssclient.BillFile).InstanceBill)
	if err != nil {
		return nil, err
	}
	var days []bssclient.Day
	for _, d := range unsettledDays(current, now, newest) {
		if !f.LastModified.Before(d.SettledAt(bssclient.KindAmounts)) {
			days = append(days, d)
		}
	}
	daily := func(ctx context.Context, day bssclient.Day) iter.Seq2[[]bssclient.InstanceBillItem, error] {
		f, err := dayFiles.OpenDay(ctx, day)
		rows, err := openedRows(r.files, f, err, day.SettledAt(bssclient.KindAmounts), (*bssclient.BillFile).InstanceBill)
		if err != nil {
			return func(yield func([]bssclient.InstanceBillItem, error) bool) { yield(nil, err) }
		}
		return fileRows(rows)
	}
	return r.sumCycle(ctx, fileRows(monthly), days, daily)
}

// sumCycle sums a MONTHLY bill's rows and subtracts the DAILY bills of
// days. The DAILY rows of days not settled lack instance attributes (they
// come 48 h after a day ends), so each is taken off the series of its
// instance and item as the MONTHLY bill labels it, not a series of its own
// with region "unknown".
func (r *instanceReader) sumCycle(ctx context.Context, monthly iter.Seq2[[]bssclient.InstanceBillItem, error], days []bssclient.Day,
	daily func(ctx context.Context, day bssclient.Day) iter.Seq2[[]bssclient.InstanceBillItem, error]) (*aggregate, error) {
	sum := newAggregate()
	var seriesOf rowIndex // instance and item → index in sum.series
	labels := make([]string, len(r.labels))
	err := eachRow(monthly, func(it *bssclient.InstanceBillItem) error {
		labels = r.labelsOf(it, labels)
		if err := sum.add(labels, it.Amounts); err != nil {
			return err
		}
		seriesOf.add(digestOf(it.InstanceID, it.Item), sum.index[string(sum.key)])
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = eachDayRow(ctx, r.cfg.ConcurrentWalks, days, daily, func(it *bssclient.InstanceBillItem) error {
		if k, ok := seriesOf.lookup(digestOf(it.InstanceID, it.Item)); ok {
			return sum.subtractAt(k, it.Amounts)
		}
		labels = r.labelsOf(it, labels)
		return sum.add(labels, negate(it.Amounts))
	})
	if err != nil {
		return nil, err
	}
	return sum, nil
}

// labelsOf returns the labels (len(r.labels)) of a bill row, written over
// buf's.
func (r *instanceReader) labelsOf(it *bssclient.InstanceBillItem, buf []string) []string {
	labels := append(buf[:0], orUnknown(it.OwnerID), orUnknown(productCode(it.ProductCode, it.PipCode)),
		orUnknown(it.SubscriptionType), orUnknown(bssclient.RegionID(it.Region)))
	if r.cfg.Instance.Zone {
		labels = append(labels, orUnknown(it.Zone))
	}
	// Both are instance attributes, complete 48 h after the day ends, when
	// the day is read.
	if r.cfg.Instance.ResourceGroup {
		labels = append(labels, orUnknown(it.ResourceGroup))
	}
	if r.cfg.Instance.CostUnit {
		labels = append(labels, orUnknown(it.CostUnit))
	}
	if len(r.cfg.Instance.TagKeys) > 0 {
		tags := parseTags(it.Tag)
		for _, k := range r.cfg.Instance.TagKeys {
			labels = append(labels, tags[k]) // an untagged instance gets an empty label
		}
	}
	return append(labels, orUnknown(it.Currency))
}

func (r *instanceReader) billFiles() *billFiles { return r.files }

func (r *instanceReader) dailyViews() []historyView {
	views := []historyView{{r.daily, mainView}}
	if r.cfg.Instance.PerInstance {
		views = append(views, historyView{r.perInstance, extraView})
	}
	return views
}

// fetchDay reads day's DAILY bill, from the day's file when the collector
// reads files: one written once the day's instance attributes settled.
func (r *instanceReader) fetchDay(ctx context.Context, day bssclient.Day) (bookedDay, error) {
	fromFile := func() (iter.Seq2[[]bssclient.InstanceBillItem, error], error) {
		files, err := r.files.of(ctx, dailyInstanceFiles, day.Cycle())
		if err != nil {
			return nil, err
		}
		f, err := files.OpenDay(ctx, day)
		return openedRows(r.files, f, err, day.SettledAt(bssclient.KindInstanceAttributes), (*bssclient.BillFile).InstanceBill)
	}
	fromAPI := func() iter.Seq2[[]bssclient.InstanceBillItem, error] {
		req := bssclient.InstanceBillRequest{BillingCycle: day.Cycle(), Granularity: bssclient.Daily, BillingDate: day}
		return r.acct.Client.DescribeInstanceBill(ctx, req)
	}
	return withFallback(ctx, r.files, "instance bill of "+day.String(), fromFile, fromAPI, r.bookDay)
}

// bookDay sums a day's rows into its series.
func (r *instanceReader) bookDay(rows iter.Seq2[[]bssclient.InstanceBillItem, error]) (bookedDay, error) {
	agg := newAggregate()
	var byInstance *aggregate
	if r.cfg.Instance.PerInstance {
		byInstance = newAggregate()
	}
	labels := make([]string, len(r.labels))
	instLabels := make([]string, 0, 6)
	err := eachRow(rows, func(it *bssclient.InstanceBillItem) error {
		labels = r.labelsOf(it, labels)
		if err := agg.add(labels, it.Amounts); err != nil || byInstance == nil {
			return err
		}
		// instance_id, then owner_id, product_code, subscription_type, region_id and currency.
		instLabels = append(instLabels[:0], orUnknown(it.InstanceID), labels[0], labels[1], labels[2], labels[3], labels[len(labels)-1])
		return byInstance.add(instLabels, it.Amounts)
	})
	if err != nil {
		return bookedDay{}, err
	}
	day0 := bookedDay{series: agg.sorted()}
	if byInstance != nil {
		capped, err := capInstances(byInstance.series, r.cfg.Instance.MaxInstances)
		if err != nil {
			return bookedDay{}, err
		}
		day0.extra = capped
	}
	return day0, nil
}

// capInstances keeps the max instances with the largest payable amount and
// sums the rest, per currency, into one overflow series each, so that the
// per-instance series always add up to the day's total.
func capInstances(all []series, maxInstances int) ([]series, error) {
	return capSeries(all, maxInstances, func(s series) []string {
		return []string{overflowInstanceID, "", "", "", "", s.labels[len(s.labels)-1]}
	})
}

func (c *instanceCollector) snapshot(now time.Time, newest bssclient.Day) Snapshot {
	snap := c.daySnapshot(c.cfg, c.acct.Name, "instance", now, newest, historyView{c.daily, mainView}, historyView{c.perInstance, extraView})
	c.cycleSum.appendTo(&snap, c.cycle, c.acct.Name, now)
	c.files.appendTo(&snap)
	return snap
}
