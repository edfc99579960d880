package collector

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

func init() {
	register(Registration{
		Name:            "instance",
		Help:            "DescribeInstanceBill DAILY aggregated by product, owner, subscription type and region (zone, tags and per-instance series on request).",
		DefaultEnabled:  true,
		DefaultInterval: time.Hour,
	}, newInstanceCollector)
}

// overflowInstanceID labels the series that sums every instance beyond the
// per-instance cap, so per-instance series still add up to the total.
const overflowInstanceID = "__overflow__"

// instanceCollector reads DescribeInstanceBill per day. Its series carry
// instance attributes (region, zone), which BSS completes only 48 h after the
// day ends, so a day is read once, 48 h after it ends, and never again.
//
// The cycle gauges are the sum of the cycle's settled days as first read.
// Re-reading the cycle to catch restatements would cost a walk over every
// instance each refresh; the account collector's cycle gauges carry
// restatements instead.
type instanceCollector struct {
	acct   Account
	cfg    Config
	logger log.Logger

	labels      []string // after "account": owner_id, product_code, …
	daily       amountFamily
	cycle       amountFamily
	perInstance amountFamily

	book     *dayBook
	state    *stateStore
	cycleSum settledCycleSum
}

func newInstanceCollector(acct Account, cfg Config, logger log.Logger) (Collector, error) {
	labels := []string{"owner_id", "product_code", "subscription_type", "region_id"}
	if cfg.Instance.Zone {
		labels = append(labels, "zone_id")
	}
	for _, k := range cfg.Instance.TagKeys {
		labels = append(labels, "tag_"+k)
	}
	labels = append(labels, "currency")
	all := append([]string{"account"}, labels...)
	// Per-instance series are booked with the day, capped: they shape the state too.
	shape, extraWidth := "labels="+strings.Join(labels, ","), 0
	if cfg.Instance.PerInstance {
		shape += fmt.Sprintf(" per-instance max=%d", cfg.Instance.MaxInstances)
		extraWidth = 6
	}
	return &instanceCollector{
		acct: acct, cfg: cfg, logger: logger, labels: labels,
		daily: newAmountFamily(namespace+"_instance_daily",
			"per settled billing day and region (DescribeInstanceBill DAILY). Timestamped 00:00 UTC+8 of the day; exposed from 48 h after the day ends, when instance attributes are complete; a value never changes once exposed.",
			all, columnsOf(cfg, "instance")),
		cycle: newAmountFamily(namespace+"_instance_cycle",
			"of the current billing cycle to date by region: the sum of its settled days as first read, without later restatements (see aliyun_billing_account_cycle_*). Cached; refreshed in the background.",
			append(slices.Clone(all), "billing_cycle", "cycle"), columnsOf(cfg, "instance")),
		perInstance: newAmountFamily(namespace+"_instance_daily_by_instance",
			"per instance and settled billing day, for the largest instances; the rest are summed under instance_id=\""+overflowInstanceID+"\". Timestamped 00:00 UTC+8 of the day; exposed from 48 h after the day ends.",
			[]string{"account", "instance_id", "owner_id", "product_code", "subscription_type", "region_id", "currency"},
			[]amountColumn{columnPayable}),
		book:  newDayBook(bssclient.KindInstanceAttributes),
		state: newStateStore(cfg, acct, "instance", shape, len(labels), extraWidth, logger),
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
	newest := bssclient.NewestSettledDay(now, bssclient.KindInstanceAttributes)
	from := c.firstDay(now, newest)
	c.state.loadOnce(c.book, nil)
	c.book.prune(from)
	err := c.book.fill(ctx, from, newest, c.cfg.ConcurrentWalks, c.fetchDay)
	c.state.save(c.book, nil)
	return c.snapshot(now, newest), err
}

// firstDay is the oldest day the collector keeps: the start of the current
// cycle (for its sum) or of the exposure window, whichever is earlier.
func (c *instanceCollector) firstDay(now time.Time, newest bssclient.Day) bssclient.Day {
	from := bssclient.CycleOf(now).FirstDay()
	if c.cfg.DailySeries {
		if e := exposureStart(now, newest, c.cfg.ExposureDays, bssclient.KindInstanceAttributes); e.Before(from) {
			from = e
		}
	}
	return from
}

func (c *instanceCollector) fetchDay(ctx context.Context, day bssclient.Day) (bookedDay, error) {
	agg := newAggregate()
	var byInstance *aggregate
	if c.cfg.Instance.PerInstance {
		byInstance = newAggregate()
	}
	labels := make([]string, len(c.labels))
	instLabels := make([]string, 6)
	req := bssclient.InstanceBillRequest{BillingCycle: day.Cycle(), Granularity: bssclient.Daily, BillingDate: day}
	for page, err := range c.acct.Client.DescribeInstanceBill(ctx, req) {
		if err != nil {
			return bookedDay{}, err
		}
		for i := range page {
			it := &page[i]
			region := orUnknown(bssclient.RegionID(it.Region))
			n := 0
			for _, v := range []string{it.OwnerID, productCode(it.ProductCode, it.PipCode), it.SubscriptionType, region} {
				labels[n] = orUnknown(v)
				n++
			}
			if c.cfg.Instance.Zone {
				labels[n] = orUnknown(it.Zone)
				n++
			}
			if len(c.cfg.Instance.TagKeys) > 0 {
				tags := parseTags(it.Tag)
				for _, k := range c.cfg.Instance.TagKeys {
					labels[n] = tags[k] // an untagged instance gets an empty label
					n++
				}
			}
			labels[n] = orUnknown(it.Currency)
			if err := agg.add(labels, it.Amounts); err != nil {
				return bookedDay{}, err
			}
			if byInstance != nil {
				instLabels[0] = orUnknown(it.InstanceID)
				instLabels[1], instLabels[2], instLabels[3], instLabels[4] = labels[0], labels[1], labels[2], region
				instLabels[5] = labels[len(labels)-1]
				if err := byInstance.add(instLabels, it.Amounts); err != nil {
					return bookedDay{}, err
				}
			}
		}
	}
	day0 := bookedDay{series: agg.sorted()}
	if byInstance != nil {
		capped, err := capInstances(byInstance.series, c.cfg.Instance.MaxInstances)
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
	var snap Snapshot
	if c.cfg.DailySeries {
		from := exposureStart(now, newest, c.cfg.ExposureDays, bssclient.KindInstanceAttributes)
		snap.Metrics = c.book.appendDaily(snap.Metrics, c.daily, c.acct.Name, from, newest, mainView)
		snap.Metrics = c.book.appendDaily(snap.Metrics, c.perInstance, c.acct.Name, from, newest, extraView)
		snap.NewestCompleteDay = c.book.completeThrough(from, newest)
	}
	snap.Days = len(c.book.days)
	c.cycleSum.update(c.book, now, newest)
	c.cycleSum.appendTo(&snap, c.cycle, c.acct.Name, now)
	return snap
}
