package collector

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

func init() {
	register(Registration{
		Name:            "ossbucket",
		Actions:         []string{bssclient.ActionDescribeSplitItemBill},
		Help:            "DescribeSplitItemBill for OSS: spend per bucket. Needs Split Bill enabled in the Billing console.",
		DefaultEnabled:  true,
		DefaultInterval: time.Hour,
		readDays:        func(a Account, c Config, l log.Logger) dayReader { return newOSSBucketReader(a, c, l) },
		Kind:            bssclient.KindSplitItems,
	}, newOSSBucketCollector)
}

// ossProductCode is the product code of Object Storage Service in bills.
const ossProductCode = "oss"

// ossBucketCollector reads the split bill of OSS, where each bucket is a
// split item. Split items complete 72 h after the day ends, so a day is read
// once, 72 h after it ends (and once more a day later, for restatements).
//
// Its cycle gauges are, like the instance collector's, the cycle's MONTHLY
// split bill minus the DAILY split bills of the days not settled yet, read
// again when a day settles: the cost is the same whatever the day of the
// month, and restatements are included. That subtraction is exact per
// bucket only if the MONTHLY view books each day's amounts as that day's
// DAILY view does: under a bucket once the day is split, with no split item
// before. BSS does not document it, so it is checked on every read (see
// readCycle). If the views disagree, the cycle gauges fall back to the sum
// of the cycle's settled days as first read, which needs every settled day
// of the cycle, for the rest of the cycle.
//
// An account can have tens of thousands of buckets, so each day and the
// cycle keep the MaxBuckets largest by payable amount and sum the rest into
// bucket="__overflow__": totals stay exact, series stay bounded.
type ossBucketCollector struct {
	*ossBucketReader
	logger               log.Logger
	enabled, fromMonthly *prometheus.Desc

	dayBookParts
	// splitBill is false once BSS said Split Bill is not enabled; it turns
	// back to true on the next successful read.
	splitBill bool
	// cycleSum is the cycle's gauges as published: from the MONTHLY bill,
	// or, while acc sums the cycle, from acc, capped.
	cycleSum settledCycleSum
	// acc sums every bucket of the current cycle's settled days, before the
	// cap, once the cycle's MONTHLY view was found to disagree with its
	// DAILY views; it is empty otherwise (a big account's buckets cost
	// memory, and the MONTHLY bill does not need them). So whether it holds
	// the current cycle is also which way the cycle gauges are read, and a
	// state file carries that across a restart.
	acc cycleAccumulator
}

// ossBucketReader reads the split bill of OSS: a settled day (from the API
// or the month's bill file) and the families a day fills. The live
// collector and the backfill share it.
type ossBucketReader struct {
	acct  Account
	cfg   Config
	daily amountFamily
	cycle amountFamily
	// dayBuckets is how many buckets the last day read held; it decides
	// how many days the collector reads at once (walks).
	dayBuckets atomic.Int64
	// summing, when set, is given each day read from the API that it wants:
	// the collector's sum of the cycle's buckets (acc).
	summing *cycleAccumulator
	// files is nil when rows come from the API; fromFiles is what the
	// collector's refresh read from the month files, which fetchDay serves
	// from.
	files     *billFiles
	fromFiles *splitFileRead
	// months are the month files read for days asked one at a time (the
	// backfill), the latest few.
	months monthReads
}

var ossBucketLabels = []string{"account", "owner_id", "bucket", "region_id", "currency"}

// ossBucketItemLabels are ossBucketLabels with billing_item, the labels
// under OSSBucketConfig.BillingItem. billingItemLabel is its index in a
// series' labels (which lack "account").
var ossBucketItemLabels = []string{"account", "owner_id", "bucket", "billing_item", "region_id", "currency"}

const billingItemLabel = 2

// ossBucketLabel is the bucket's index in a series' labels (which lack
// "account"): the one label with a value per series.
const ossBucketLabel = 1

// ossBucketLabelsOf returns the ossbucket collector's labels under cfg.
func ossBucketLabelsOf(cfg Config) []string {
	if cfg.OSSBucket.BillingItem {
		return ossBucketItemLabels
	}
	return ossBucketLabels
}

func newOSSBucketReader(acct Account, cfg Config, logger log.Logger) *ossBucketReader {
	labels := ossBucketLabelsOf(cfg)
	return &ossBucketReader{
		acct: acct, cfg: cfg,
		daily: newAmountFamily(namespace+"_ossbucket_daily",
			"per OSS bucket and settled billing day (DescribeSplitItemBill DAILY). Timestamped 00:00 UTC+8 of the day; exposed from 72 h after the day ends, when split items are complete; a value never changes once exposed.",
			labels, columnsOf(cfg, "ossbucket")),
		cycle: newAmountFamily(namespace+"_ossbucket_cycle",
			"per OSS bucket for the current billing cycle to date, as of the newest settled day, including later refunds and adjustments (DescribeSplitItemBill MONTHLY minus the days not settled yet; the sum of the settled days as first read if BSS's MONTHLY and DAILY views disagree, see docs/operations.md). Cached; read again when a day settles.",
			append(slices.Clone(labels), "billing_cycle", "cycle"), columnsOf(cfg, "ossbucket")),
		files: newBillFiles(cfg.OSSBucket.Source, acct, "ossbucket", logger, splitItemFiles),
	}
}

func newOSSBucketCollector(acct Account, cfg Config, logger log.Logger) (Collector, error) {
	c := &ossBucketCollector{
		ossBucketReader: newOSSBucketReader(acct, cfg, logger),
		logger:          logger,
		splitBill:       true,
		enabled: prometheus.NewDesc(namespace+"_split_bill_enabled",
			"1 if the account's split bill can be read; 0 if BSS answered that Split Bill is not enabled (enable it in the Billing console: Cost Allocation > Split Bill; data appears 24 h later).",
			[]string{"account"}, nil),
		fromMonthly: prometheus.NewDesc(namespace+"_ossbucket_cycle_from_monthly_bill",
			"1 if the OSS bucket cycle gauges come from the MONTHLY split bill minus the days not settled yet; 0 if, in this cycle, the MONTHLY view did not book the days not split yet as their DAILY views do, so they sum the settled days as first read (one walk per settled day on a cold start, no later restatements).",
			[]string{"account"}, nil),
		dayBookParts: newDayBookParts("ossbucket", bssclient.KindSplitItems, acct, cfg, len(ossBucketLabelsOf(cfg))-1, 0, logger),
	}
	c.summing = &c.acc
	return c, nil
}

func (c *ossBucketCollector) Describe(ch chan<- *prometheus.Desc) {
	c.daily.describe(ch)
	c.cycle.describe(ch)
	describe(ch, c.enabled, c.fromMonthly)
}

func (c *ossBucketCollector) Refresh(ctx context.Context, now time.Time) (Snapshot, error) {
	newest := c.cfg.Calendar().NewestSettledDay(now, bssclient.KindSplitItems)
	current := bssclient.CycleOf(now)
	if err := c.state.loadOnce(ctx, now, c.book, &c.acc, &c.cycleSum); err != nil {
		return c.snapshot(now, newest), err
	}
	defer c.state.save(c.book, &c.acc, &c.cycleSum)
	summing := c.acc.sums(current)
	from := newest.AddDays(1) // no day to read unless exposed or summed
	if c.cfg.DailySeries {
		from = exposureStart(now, newest, c.cfg.ExposureDays, bssclient.KindSplitItems)
	}
	if summing && current.FirstDay().Before(from) {
		from = current.FirstDay()
	}
	if oldest := bssclient.OldestQueryable(now, bssclient.KindSplitItems).FirstDay(); from.Before(oldest) {
		from = oldest // split bills keep 12 months only
	}
	defer c.startReading(now, from, func() Snapshot { return c.snapshot(now, newest) })()
	if summing {
		c.forgetUnsummedDays(current, newest)
	} else {
		c.acc.clear() // the MONTHLY bill serves (or a new cycle tries it again): sum nothing
	}
	var err error
	if c.files != nil {
		c.files.newRefresh()
		wantCycle := !newest.Before(current.FirstDay()) && (c.cycleSum.cycle != current || c.cycleSum.asOf != newest)
		if c.fromFiles, err = c.readSplitFilesHeld(ctx, now, newest, c.book.wanted(from, newest), wantCycle); err != nil {
			return c.snapshot(now, newest), err
		}
		defer func() { c.fromFiles = nil }()
	}
	if !c.splitBill {
		// Known to be disabled: probe one day rather than spend a request
		// per day on answers already known; the rest follow at once if it works.
		err = c.book.fill(ctx, newest, newest, c.walks(), c.fetchDay)
	}
	if err == nil {
		err = c.book.fill(ctx, from, newest, c.walks(), c.fetchDay)
	}
	if err == nil {
		err = c.book.recheck(ctx, c.walks(), c.fetchDay, &c.restated)
	}
	// The cycle is read once the days are: a day that failed means BSS is
	// in trouble or restating, and the retry soon after reads both.
	if err == nil {
		if err = c.refreshCycle(ctx, now, newest); err != nil {
			err = fmt.Errorf("billing cycle %s: %w", current, err)
		}
	}
	switch {
	case bssclient.ErrorCode(err) == bssclient.CodeSplitBillNotEnabled:
		if c.splitBill {
			level.Warn(c.logger).Log("msg", "Split Bill is not enabled for this account, so OSS spend per bucket cannot be read. Enable it in the Billing console (Cost Allocation > Split Bill); data appears 24 h later.", "code", bssclient.CodeSplitBillNotEnabled)
		}
		c.splitBill = false
	case err == nil:
		c.splitBill = true
	}
	return c.snapshot(now, newest), err
}

// maxBucketWalks bounds the split-bill walks the collector runs at once,
// below --billing.concurrent-walks. Two walks still ask more than the 10/s
// quota at BSS's usual 150 ms; one asks 6.7 a second.
const maxBucketWalks = 2

// manyBucketsADay is where a day's walk holds enough (about 200 bytes a
// bucket until the cap ranks them) that the collector reads one day at a
// time: two walks of 330,000 buckets a day would take a cold start of the
// biggest simulated account past the chart's 256 MiB (BENCHMARKS.md,
// figure 6), while one leaves a third of the quota unused once the
// instance collector is done.
const manyBucketsADay = 100_000

// walks is how many days the collector reads at once. A cold start reads
// the newest day alone first (the Split Bill probe), so the first fill
// already knows how big a day is.
func (c *ossBucketCollector) walks() int {
	if c.dayBuckets.Load() > manyBucketsADay {
		return 1
	}
	return min(c.cfg.ConcurrentWalks, maxBucketWalks)
}

// forgetUnsummedDays drops the booked days of the cycle that acc has not
// summed (it started over, or they were read before the fallback), so that
// they are read again: the sum needs every bucket, the book keeps the largest.
func (c *ossBucketCollector) forgetUnsummedDays(current bssclient.Cycle, newest bssclient.Day) {
	for d := current.FirstDay(); !newest.Before(d); d = d.AddDays(1) {
		if !c.acc.has(d) {
			delete(c.book.days, d)
		}
	}
}

// refreshCycle reads the current cycle's gauges when a day has settled
// since they were read, and keeps the last ones on failure.
func (c *ossBucketCollector) refreshCycle(ctx context.Context, now time.Time, newest bssclient.Day) error {
	current := bssclient.CycleOf(now)
	if !c.cycleSum.needsRead(current, newest) || c.acc.sums(current) { // acc: summed from the days, in snapshot
		return nil
	}
	publish := func(sum *keyedSums) error {
		capped, err := c.capBuckets(sum)
		if err == nil {
			c.cycleSum = settledCycleSum{cycle: current, asOf: newest, series: capped}
		}
		return err
	}
	if c.files != nil {
		if r := c.fromFiles; r != nil && r.cycle != nil {
			return publish(r.cycle)
		} else if r != nil && r.cycleErr != nil {
			c.files.fellBack("split bill of "+current.String(), r.cycleErr)
		}
	}
	release, err := c.acct.holdMonth(ctx)
	if err != nil {
		return err
	}
	defer release()
	// A row that appears between the MONTHLY read and a DAILY read (the
	// hour's restatements, a day's first rows) also looks like a
	// disagreement; it does not happen twice in a row, a real one does.
	for range 2 {
		sum, err := c.readCycle(ctx, now, newest)
		if err != nil {
			return err
		}
		if sum != nil {
			return publish(sum)
		}
	}
	level.Info(c.logger).Log("msg", "the split bill's MONTHLY view does not book the days not split yet as their DAILY views do, so per-bucket cycle gauges are summed from the cycle's settled days instead; this cycle's first read costs one walk per settled day",
		"cycle", current)
	c.acc.reset(current)
	c.forgetUnsummedDays(current, newest)
	return c.book.fill(ctx, current.FirstDay(), newest, c.walks(), c.fetchDay)
}

// readCycle reads the MONTHLY split bill of the current cycle and subtracts
// the DAILY split bills of its days after newest, each row off the series
// the MONTHLY bill books its key (instance, item, split item, billing item)
// under: the DAILY rows of those days may lack attributes the MONTHLY ones
// have, such as the region.
//
// INFERRED: the MONTHLY view holds each key the DAILY views of the cycle
// hold, so that a day's amounts are under no split item in both views
// until the day is split, and under the same bucket in both after. BSS
// documents neither; a DAILY row whose key the MONTHLY bill lacks shows
// that it does not hold, and readCycle returns a nil sum.
func (c *ossBucketCollector) readCycle(ctx context.Context, now time.Time, newest bssclient.Day) (*keyedSums, error) {
	current := bssclient.CycleOf(now)
	labels := make([]string, len(ossBucketLabelsOf(c.cfg))-1)
	sum := newKeyedSums(len(labels), ossBucketLabel)
	var seriesOf rowIndex // splitRowDigest → position in sum
	req := bssclient.SplitItemBillRequest{BillingCycle: current, Granularity: bssclient.Monthly, ProductCode: ossProductCode}
	err := eachRow(c.acct.Client.DescribeSplitItemBill(ctx, req), func(it *bssclient.SplitItemBillItem) error {
		if !c.labelsOf(it, labels) {
			return nil
		}
		at, err := sum.add(labels, it.Amounts)
		if err == nil {
			seriesOf.add(splitRowDigest(it), at)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	daily := func(ctx context.Context, day bssclient.Day) iter.Seq2[[]bssclient.SplitItemBillItem, error] {
		return c.acct.Client.DescribeSplitItemBill(ctx, bssclient.SplitItemBillRequest{BillingCycle: current, Granularity: bssclient.Daily, BillingDate: day, ProductCode: ossProductCode})
	}
	agree := true
	err = eachDayRow(ctx, c.walks(), unsettledDays(current, now, newest), daily, func(it *bssclient.SplitItemBillItem) error {
		if productCode(it.ProductCode, it.PipCode) != ossProductCode {
			return nil
		}
		k, ok := seriesOf.lookup(splitRowDigest(it))
		if !ok {
			agree = false
			return nil
		}
		return sum.subtractAt(k, it.Amounts)
	})
	if err != nil || !agree {
		return nil, err
	}
	return sum, nil
}

// splitRowDigest identifies a split-bill row across the DAILY and MONTHLY
// views: instance, item, split item and billing item.
func splitRowDigest(it *bssclient.SplitItemBillItem) rowDigest {
	return digestOf(it.InstanceID, it.Item, it.SplitItemID, it.BillingItemCode)
}

func (r *ossBucketReader) billFiles() *billFiles { return r.files }

func (r *ossBucketReader) dailyViews() []historyView { return []historyView{{r.daily, mainView}} }

// fetchDay books day from what the refresh read of the month files, or
// from the API: when the collector reads the API, or when the file could
// not serve the day (a fallback). The backfill asks outside a refresh, one
// day at a time: the day's month file is read once for all its days.
func (r *ossBucketReader) fetchDay(ctx context.Context, day bssclient.Day) (bookedDay, error) {
	read := r.fromFiles
	if read == nil && r.files != nil { // asked outside a refresh: the backfill
		var err error
		if read, err = r.months.of(ctx, day.Cycle(), r.readMonthDays); err != nil {
			return bookedDay{}, err
		}
	}
	if read != nil {
		if d, ok := read.days[day]; ok {
			return d, nil
		}
		if err := read.failed[day]; err != nil {
			r.files.fellBack("split bill of "+day.String(), err)
		}
	}
	return r.fetchDayAPI(ctx, day)
}

// readMonthDays reads every day of cyc from its month file.
func (r *ossBucketReader) readMonthDays(ctx context.Context, cyc bssclient.Cycle) (*splitFileRead, error) {
	var days []bssclient.Day
	for d := cyc.FirstDay(); d.Cycle() == cyc; d = d.AddDays(1) {
		days = append(days, d)
	}
	return r.readSplitFiles(ctx, time.Time{}, bssclient.Day{}, days, false)
}

// monthReads keeps the month files read last, so that the backfill, which
// asks for days one at a time and in order, reads each month's file once.
type monthReads struct {
	mu    sync.Mutex
	reads []monthRead // the latest last
}

type monthRead struct {
	cycle bssclient.Cycle
	read  *splitFileRead
}

// keptMonthReads bounds the months kept: the backfill's concurrent days
// straddle two months at most.
const keptMonthReads = 2

// of returns cyc's days, read with read unless kept. One month is read at
// a time: a month file is read whole, and two at once would hold two
// months' buckets.
func (m *monthReads) of(ctx context.Context, cyc bssclient.Cycle, read func(context.Context, bssclient.Cycle) (*splitFileRead, error)) (*splitFileRead, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.reads {
		if r.cycle == cyc {
			return r.read, nil
		}
	}
	r, err := read(ctx, cyc)
	if err != nil {
		return nil, err
	}
	m.reads = append(m.reads, monthRead{cyc, r})
	if len(m.reads) > keptMonthReads {
		m.reads = m.reads[1:]
	}
	return r, nil
}

// fetchDayAPI reads day's DAILY split bill from the API.
func (r *ossBucketReader) fetchDayAPI(ctx context.Context, day bssclient.Day) (bookedDay, error) {
	labels := make([]string, len(ossBucketLabelsOf(r.cfg))-1)
	sums := newKeyedSums(len(labels), ossBucketLabel)
	req := bssclient.SplitItemBillRequest{BillingCycle: day.Cycle(), Granularity: bssclient.Daily, BillingDate: day, ProductCode: ossProductCode}
	err := eachRow(r.acct.Client.DescribeSplitItemBill(ctx, req), func(it *bssclient.SplitItemBillItem) error {
		if !r.labelsOf(it, labels) || it.Amounts == (bssclient.Amounts{}) {
			return nil // a zero row adds nothing, and gives no series
		}
		_, err := sums.add(labels, it.Amounts)
		return err
	})
	if err != nil {
		return bookedDay{}, err
	}
	r.dayBuckets.Store(int64(sums.len()))
	if r.summing != nil && r.summing.wants(day) {
		if err := r.summing.add(day, sums.series()); err != nil {
			return bookedDay{}, err
		}
	}
	capped, err := r.capBuckets(sums)
	if err != nil {
		return bookedDay{}, err
	}
	return bookedDay{series: capped}, nil
}

// labelsOf fills labels (the series labels after "account") from a split
// row, and reports false for a row of another product than OSS: the filter
// is the server's, and other products must not count as buckets.
func (r *ossBucketReader) labelsOf(it *bssclient.SplitItemBillItem, labels []string) bool {
	if productCode(it.ProductCode, it.PipCode) != ossProductCode {
		return false
	}
	labels[0] = orUnknown(it.OwnerID)
	labels[1] = orUnknown(cmp.Or(it.SplitItemName, it.SplitItemID))
	rest := labels[2:]
	if r.cfg.OSSBucket.BillingItem {
		// INFERRED: each split row is one billing item of one split
		// item (the API documents BillingItemCode on every split row,
		// not that a row never mixes items). If rows turn out to mix
		// items, this label is what to revisit.
		labels[billingItemLabel] = orUnknown(it.BillingItemCode)
		rest = labels[billingItemLabel+1:]
	}
	rest[0] = orUnknown(bssclient.RegionID(it.Region))
	rest[1] = orUnknown(it.Currency)
	return true
}

// capBuckets keeps the MaxBuckets largest series and sums the rest per
// currency into bucket="__overflow__".
func (r *ossBucketReader) capBuckets(sums *keyedSums) ([]series, error) {
	if r.cfg.OSSBucket.BillingItem {
		return r.capBucketSeries(sums.series())
	}
	return sums.capped(r.cfg.OSSBucket.MaxBuckets, overflowBucketOf)
}

// overflowBucketOf labels the overflow series of a bucket's currency.
func overflowBucketOf(s series) []string {
	return []string{"", overflowBucket, "", s.labels[len(s.labels)-1]}
}

// capBucketSeries is capBuckets of series with labels: the cycle the
// accumulator sums.
func (r *ossBucketReader) capBucketSeries(all []series) ([]series, error) {
	if r.cfg.OSSBucket.BillingItem {
		return capBucketItems(all, r.cfg.OSSBucket.MaxBuckets)
	}
	return capSeries(all, r.cfg.OSSBucket.MaxBuckets, overflowBucketOf)
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
	slices.SortFunc(out, compareLabels) // all may come in any order
	rest := overflow.series             // not sorted(), which drops all-zero series
	slices.SortFunc(rest, compareLabels)
	return append(out, rest...), nil
}

// overflowBucket labels the series that sums every bucket beyond the cap.
const overflowBucket = "__overflow__"

func (c *ossBucketCollector) snapshot(now time.Time, newest bssclient.Day) Snapshot {
	snap := c.daySnapshot(c.cfg, c.acct.Name, "ossbucket", now, newest, historyView{c.daily, mainView})
	if c.acc.sums(bssclient.CycleOf(now)) {
		c.updateCycleSum(now, newest)
	}
	c.cycleSum.appendTo(&snap, c.cycle, c.acct.Name, now)
	snap.addGauge(c.enabled, boolValue(c.splitBill), c.acct.Name)
	snap.addGauge(c.fromMonthly, boolValue(!c.acc.sums(bssclient.CycleOf(now))), c.acct.Name)
	c.files.appendTo(&snap)
	return snap
}

// updateCycleSum publishes the accumulated cycle, capped, once it holds
// every settled day of the cycle; until then the last complete sum stays.
// It serves the cycles in which the MONTHLY view cannot be used.
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
	capped, err := c.capBucketSeries(c.acc.sum.sorted())
	if err != nil {
		return // beyond ±92 billion: keep the last sum rather than show a wrong one
	}
	c.cycleSum = settledCycleSum{cycle: current, asOf: newest, series: capped}
}
