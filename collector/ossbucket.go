package collector

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

func init() {
	register(Registration{
		Name:            "ossbucket",
		Help:            "DescribeSplitItemBill for OSS: spend per bucket. Needs Split Bill enabled in the Billing console.",
		DefaultEnabled:  true,
		DefaultInterval: time.Hour,
	}, newOSSBucketCollector)
}

// ossProductCode is the product code of Object Storage Service in bills.
const ossProductCode = "oss"

// ossBucketCollector reads the split bill of OSS, where each bucket is a
// split item. Split items complete 72 h after the day ends, so a day is read
// once, 72 h after it ends, and never again. Like the instance collector, its
// cycle gauges sum the settled days as first read.
//
// An account can have tens of thousands of buckets, so each day and the
// cycle keep the MaxBuckets largest by payable amount and sum the rest into
// bucket="__overflow__": totals stay exact, series stay bounded.
type ossBucketCollector struct {
	acct   Account
	cfg    Config
	logger log.Logger

	daily   amountFamily
	cycle   amountFamily
	enabled *prometheus.Desc

	book     *dayBook
	restated restatements
	publish  func(Snapshot) // publishes the days read so far during a refresh; nil: no one listens
	state    *stateStore
	// splitBill is false once BSS said Split Bill is not enabled; it turns
	// back to true on the next successful read.
	splitBill bool
	// acc sums every bucket of the current cycle's settled days, before the
	// cap; cycleSum is its last complete state, capped, as published.
	acc      cycleAccumulator
	cycleSum settledCycleSum
}

var ossBucketLabels = []string{"account", "owner_id", "bucket", "region_id", "currency"}

// ossBucketItemLabels are ossBucketLabels with billing_item, the labels
// under OSSBucketConfig.BillingItem. billingItemLabel is its index in a
// series' labels (which lack "account").
var ossBucketItemLabels = []string{"account", "owner_id", "bucket", "billing_item", "region_id", "currency"}

const billingItemLabel = 2

// ossBucketLabelsOf returns the ossbucket collector's labels under cfg.
func ossBucketLabelsOf(cfg Config) []string {
	if cfg.OSSBucket.BillingItem {
		return ossBucketItemLabels
	}
	return ossBucketLabels
}

func newOSSBucketCollector(acct Account, cfg Config, logger log.Logger) (Collector, error) {
	labels := ossBucketLabelsOf(cfg)
	return &ossBucketCollector{
		acct: acct, cfg: cfg, logger: logger, splitBill: true,
		daily: newAmountFamily(namespace+"_ossbucket_daily",
			"per OSS bucket and settled billing day (DescribeSplitItemBill DAILY). Timestamped 00:00 UTC+8 of the day; exposed from 72 h after the day ends, when split items are complete; a value never changes once exposed.",
			labels, columnsOf(cfg, "ossbucket")),
		cycle: newAmountFamily(namespace+"_ossbucket_cycle",
			"per OSS bucket for the current billing cycle to date: the sum of its settled days as first read, without later restatements. Cached; refreshed in the background.",
			append(slices.Clone(labels), "billing_cycle", "cycle"), columnsOf(cfg, "ossbucket")),
		enabled: prometheus.NewDesc(namespace+"_split_bill_enabled",
			"1 if the account's split bill can be read; 0 if BSS answered that Split Bill is not enabled (enable it in the Billing console: Cost Allocation > Split Bill; data appears 24 h later).",
			[]string{"account"}, nil),
		book: newDayBook(bssclient.KindSplitItems, cfg.SettleMargin),
		// The labels (billing_item or not) are part of the shape, so a file
		// written under other options is read from BSS again.
		state: newStateStore(cfg, acct, "ossbucket", fmt.Sprintf("labels=%s max-buckets=%d",
			strings.Join(labels[1:], ","), cfg.OSSBucket.MaxBuckets), len(labels)-1, 0, logger),
	}, nil
}

func (c *ossBucketCollector) Describe(ch chan<- *prometheus.Desc) {
	c.daily.describe(ch)
	c.cycle.describe(ch)
	ch <- c.enabled
}

func (c *ossBucketCollector) Refresh(ctx context.Context, now time.Time) (Snapshot, error) {
	newest := c.cfg.newestSettledDay(now, bssclient.KindSplitItems)
	from := bssclient.CycleOf(now).FirstDay()
	if c.cfg.DailySeries {
		if e := exposureStart(now, newest, c.cfg.ExposureDays, bssclient.KindSplitItems); e.Before(from) {
			from = e
		}
	}
	if oldest := bssclient.OldestQueryable(now, bssclient.KindSplitItems).FirstDay(); from.Before(oldest) {
		from = oldest // split bills keep 12 months only
	}
	c.state.loadOnce(c.book, &c.acc, nil)
	defer c.state.save(c.book, &c.acc, nil)
	c.book.prune(from)
	c.book.now = now
	c.book.onDay = c.publishProgress(now, newest)
	defer func() { c.book.onDay = nil }()
	current := bssclient.CycleOf(now)
	if c.acc.cycle != current || c.acc.days == nil {
		c.acc.reset(current)
	}
	// A booked day of the cycle that is not in the sum (it started over)
	// is read again: the sum needs every bucket, the book keeps the largest.
	for d := current.FirstDay(); !newest.Before(d); d = d.AddDays(1) {
		if !c.acc.has(d) {
			delete(c.book.days, d)
		}
	}
	var err error
	if !c.splitBill {
		// Known to be disabled: probe one day rather than spend a request
		// per day on answers already known; the rest follow at once if it works.
		err = c.book.fill(ctx, newest, newest, c.cfg.ConcurrentWalks, c.fetchDay)
	}
	if err == nil {
		err = c.book.fill(ctx, from, newest, c.cfg.ConcurrentWalks, c.fetchDay)
	}
	if err == nil {
		err = c.book.recheck(ctx, c.cfg.ConcurrentWalks, c.fetchDay, &c.restated)
	}
	var apiErr *bssclient.APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.Code == bssclient.CodeSplitBillNotEnabled:
		if c.splitBill {
			level.Warn(c.logger).Log("msg", "Split Bill is not enabled for this account, so OSS spend per bucket cannot be read. Enable it in the Billing console (Cost Allocation > Split Bill); data appears 24 h later.", "code", apiErr.Code)
		}
		c.splitBill = false
	case err == nil:
		c.splitBill = true
	}
	return c.snapshot(now, newest), err
}

func (c *ossBucketCollector) fetchDay(ctx context.Context, day bssclient.Day) (bookedDay, error) {
	agg := newAggregate()
	labels := make([]string, len(ossBucketLabelsOf(c.cfg))-1)
	req := bssclient.SplitItemBillRequest{BillingCycle: day.Cycle(), Granularity: bssclient.Daily, BillingDate: day, ProductCode: ossProductCode}
	for page, err := range c.acct.Client.DescribeSplitItemBill(ctx, req) {
		if err != nil {
			return bookedDay{}, err
		}
		for i := range page {
			it := &page[i]
			if productCode(it.ProductCode, it.PipCode) != ossProductCode {
				continue // the filter is the server's; do not count other products as buckets
			}
			bucket := it.SplitItemName
			if bucket == "" {
				bucket = it.SplitItemID
			}
			labels[0] = orUnknown(it.OwnerID)
			labels[1] = orUnknown(bucket)
			rest := labels[2:]
			if c.cfg.OSSBucket.BillingItem {
				// INFERRED: each split row is one billing item of one split
				// item (the API documents BillingItemCode on every split row,
				// not that a row never mixes items). If rows turn out to mix
				// items, this label is what to revisit.
				labels[billingItemLabel] = orUnknown(it.BillingItemCode)
				rest = labels[billingItemLabel+1:]
			}
			rest[0] = orUnknown(bssclient.RegionID(it.Region))
			rest[1] = orUnknown(it.Currency)
			if err := agg.add(labels, it.Amounts); err != nil {
				return bookedDay{}, err
			}
		}
	}
	all := agg.sorted()
	if err := c.acc.add(day, all); err != nil {
		return bookedDay{}, err
	}
	capped, err := c.capBuckets(all)
	if err != nil {
		return bookedDay{}, err
	}
	return bookedDay{series: capped}, nil
}

// capBuckets keeps the MaxBuckets largest series and sums the rest per
// currency into bucket="__overflow__".
func (c *ossBucketCollector) capBuckets(all []series) ([]series, error) {
	if c.cfg.OSSBucket.BillingItem {
		return capBucketItems(all, c.cfg.OSSBucket.MaxBuckets)
	}
	return capSeries(all, c.cfg.OSSBucket.MaxBuckets, func(s series) []string {
		return []string{"", overflowBucket, "", s.labels[len(s.labels)-1]}
	})
}

// capBucketItems is capBuckets with billing_item labels: it ranks buckets
// by their payable amount over all their items and keeps every item of the
// maxBuckets largest, so the cap counts buckets, not bucket×item. The rest
// are summed per billing item and currency into bucket="__overflow__".
func capBucketItems(all []series, maxBuckets int) ([]series, error) {
	bucketOf := func(s series) []string {
		return slices.Delete(slices.Clone(s.labels), billingItemLabel, billingItemLabel+1)
	}
	totals := newAggregate()
	for _, s := range all {
		if err := totals.add(bucketOf(s), s.amounts); err != nil {
			return nil, err
		}
	}
	// capSeries ranks the buckets; the kept ones are those it left as they were.
	ranked, err := capSeries(totals.series, maxBuckets, func(s series) []string { return nil })
	if err != nil {
		return nil, err
	}
	kept := map[string]bool{}
	for _, b := range ranked[:min(maxBuckets, len(totals.series))] {
		kept[strings.Join(b.labels, "\x00")] = true
	}
	var out []series
	overflow := newAggregate()
	for _, s := range all {
		if kept[strings.Join(bucketOf(s), "\x00")] {
			out = append(out, s)
			continue
		}
		l := s.labels
		if err := overflow.add([]string{"", overflowBucket, l[billingItemLabel], "", l[len(l)-1]}, s.amounts); err != nil {
			return nil, err
		}
	}
	rest := overflow.series // not sorted(), which drops all-zero series
	slices.SortFunc(rest, func(x, y series) int { return slices.Compare(x.labels, y.labels) })
	return append(out, rest...), nil
}

// overflowBucket labels the series that sums every bucket beyond the cap.
const overflowBucket = "__overflow__"

func (c *ossBucketCollector) snapshot(now time.Time, newest bssclient.Day) Snapshot {
	var snap Snapshot
	if c.cfg.DailySeries {
		from := exposureStart(now, newest, c.cfg.ExposureDays, bssclient.KindSplitItems)
		snap.Metrics = c.book.appendDaily(snap.Metrics, c.daily, c.acct.Name, from, newest, mainView)
		snap.NewestCompleteDay = c.book.completeThrough(from, newest)
	}
	snap.Days = len(c.book.days)
	c.restated.appendTo(&snap, c.acct.Name, "ossbucket")
	c.updateCycleSum(now, newest)
	c.cycleSum.appendTo(&snap, c.cycle, c.acct.Name, now)
	snap.Metrics = append(snap.Metrics, prometheus.MustNewConstMetric(c.enabled, prometheus.GaugeValue, boolValue(c.splitBill), c.acct.Name))
	return snap
}

// updateCycleSum publishes the accumulated cycle, capped, once it holds
// every settled day of the cycle; until then the last complete sum stays.
func (c *ossBucketCollector) updateCycleSum(now time.Time, newest bssclient.Day) {
	current := bssclient.CycleOf(now)
	first := current.FirstDay()
	if newest.Before(first) { // nothing of the cycle has settled: empty, and complete
		c.cycleSum = settledCycleSum{cycle: current}
		return
	}
	c.acc.mu.Lock()
	defer c.acc.mu.Unlock()
	for d := first; !newest.Before(d); d = d.AddDays(1) {
		if !c.acc.days[d] {
			return
		}
	}
	capped, err := c.capBuckets(c.acc.sum.sorted())
	if err != nil {
		return // beyond ±92 billion: keep the last sum rather than show a wrong one
	}
	c.cycleSum = settledCycleSum{cycle: current, asOf: newest, series: capped}
}

func (c *ossBucketCollector) setPublisher(publish func(Snapshot)) { c.publish = publish }

// publishProgress returns the book's onDay: publish the days read so far.
func (c *ossBucketCollector) publishProgress(now time.Time, newest bssclient.Day) func() {
	if c.publish == nil {
		return nil
	}
	return func() { c.publish(c.snapshot(now, newest)) }
}
