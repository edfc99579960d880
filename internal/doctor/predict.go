package doctor

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/collector"
	"github.com/go-kit/log"
)

// pages is the requests a walk of n rows takes: at least one.
func pages(n int) int { return max(1, (n+bssclient.MaxPageSize-1)/bssclient.MaxPageSize) }

// calendar is what the prediction needs of the billing calendar at now.
type calendar struct {
	exposed    int // settled days each daily family exposes
	unsettled  int // days of the current cycle begun but not settled
	prevOpen   int // days of the previous cycle not settled (early in a month)
	prevFinal  bool
	cycleEmpty bool // no day of the current cycle has settled yet
}

func (r *run) calendarOf(kind bssclient.DataKind) calendar {
	now, cfg := r.in.Now, r.in.Config
	newest := cfg.Calendar().NewestSettledDay(now, kind)
	today := bssclient.DayOf(now)
	cur := bssclient.CycleOf(now)
	c := calendar{exposed: cfg.ExposureDays, prevFinal: cfg.Calendar().CycleFinal(cur.Prev(), now, kind)}
	if !cfg.DailySeries {
		c.exposed = 0
	}
	for d := newest.AddDays(1); !today.Before(d); d = d.AddDays(1) {
		if d.Cycle() == cur {
			c.unsettled++
		} else {
			c.prevOpen++
		}
	}
	c.cycleEmpty = newest.Before(cur.FirstDay())
	return c
}

// predict says, from the sizes measured, what each enabled collector costs
// at a cold start and then a day, and how many series the bill collectors
// publish: the collectors' own walks, counted.
func (r *run) predict(ctx context.Context) {
	intervals := map[string]time.Duration{}
	for _, reg := range collector.Registrations() {
		intervals[reg.Name] = reg.DefaultInterval
	}
	perDay := func(name string, n int) int { return n * int(24*time.Hour/intervals[name]) }
	total := 0
	if r.in.Config.StateDir != "" {
		total++ // the payer, once per start
	}
	for _, name := range r.in.Enabled {
		p, ok := r.predictOne(name, perDay)
		if !ok {
			continue
		}
		total += p.ColdRequests
		r.report.Predictions = append(r.report.Predictions, p)
	}
	if total == 0 {
		return
	}
	r.refreshSmall(ctx)
	rate := r.in.RateLimit
	if rate <= 0 {
		rate = bssclient.DefaultRateLimit
	}
	cold := time.Duration(float64(total) / rate * float64(time.Second)).Round(time.Second)
	r.add(OK, "cold start", fmt.Sprintf("about %d requests, %s at %g requests/s; a restart with --storage.path reads only what can still change", total, cold, rate),
		"")
	r.predictMemory()
	for _, p := range r.report.Predictions {
		if p.Collector == "instance" && p.Series > 20000 {
			r.add(Unknown, "series instance", fmt.Sprintf("about %d series: large for one Prometheus target", p.Series),
				"narrow the labels (--collector.instance.tag-keys, zone) or the money columns (--collector.instance.amounts)")
		}
	}
}

// refreshSmall counts the series of the enabled collectors that keep no
// day book (balance, credit, commitments, names, subscription) the only
// exact way: it builds them as the exporter does and refreshes each once,
// when their cold-start requests (a few each) fit the budget. Nothing is
// kept: no state directory, no budgets.
func (r *run) refreshSmall(ctx context.Context) {
	var enabled []collector.Enabled
	cost := 0
	for i, p := range r.report.Predictions {
		if !keepsDayBook(p.Collector) {
			enabled = append(enabled, collector.Enabled{Name: p.Collector, Interval: time.Hour}) // refreshed once: any interval
			cost += r.report.Predictions[i].ColdRequests
		}
	}
	if len(enabled) == 0 || !r.afford(cost) {
		return
	}
	cfg := r.in.Config
	cfg.StateDir, cfg.Budgets = "", nil
	exp, err := collector.New(collector.Account{Name: r.in.Account, Client: r.in.Client}, enabled, cfg, log.NewNopLogger())
	if err != nil {
		return
	}
	_ = exp.RefreshOnce(ctx) // a collector that fails has no series to count; its check above says why
	series, err := collector.SnapshotSeries(exp)
	if err != nil {
		return
	}
	for i, p := range r.report.Predictions {
		if n, ok := series[p.Collector]; ok && !keepsDayBook(p.Collector) {
			r.report.Predictions[i].Series = n
		}
	}
}

// The exporter's peak live heap through a cold start grows with the bill
// rows its collectors hold at once. An account's collectors read a month
// one at a time, so the peak is the larger of two reads: the instance
// collector's index of every row of the cycle's MONTHLY bill (16 bytes a
// row), and the ossbucket collector's sums of every bucket of a day and of
// the cycle. The bytes a split row of a day costs are measured
// (BENCHMARKS.md, figure 6, at 1,270,000 split rows a day): 45 MiB of live
// heap from bill files, 25 bytes a row over the base; 78 MiB from the API,
// 52 bytes a row, as its cycle also indexes every MONTHLY row.
const (
	peakHeapBaseMiB          = 15
	instanceBytesPerMonthRow = 16
	splitBytesPerDayRowAPI   = 52
	splitBytesPerDayRowFiles = 25
	// heapShareOfLimit is how much of a container's memory limit the live
	// heap may take. --auto-gomemlimit gives the Go runtime 0.9 of the
	// limit; the rest of that share is the garbage the collector needs room
	// for, and what the runtime counts beyond the heap. Judged from the
	// 1,000,000-row cold starts: 133 MiB of live heap peaked at 244 MiB of
	// the chart's 256; 210 MiB at 255 MiB, the collector running back to
	// back.
	heapShareOfLimit = 0.6
	// chartMemoryLimitMiB is the Helm chart's default memory limit.
	chartMemoryLimitMiB = 256
)

// predictMemory predicts the peak live heap of a cold start from the rows
// measured, and the memory limit that holds it; it says when the chart's
// default would not.
func (r *run) predictMemory() {
	held, heldBytes := 0, 0 // of the larger read
	for _, name := range r.in.Enabled {
		rows, perRow := 0, 0
		switch name {
		case "instance":
			s, ok := r.rows[bssclient.ActionDescribeInstanceBill]
			if !ok {
				return
			}
			rows, perRow = s.month, instanceBytesPerMonthRow
		case "ossbucket":
			s, ok := r.rows[bssclient.ActionDescribeSplitItemBill]
			if !ok {
				return
			}
			rows, perRow = s.day, splitBytesPerDayRowAPI
			if r.in.Config.SourceOf(name) == collector.SourceBillFiles {
				perRow = splitBytesPerDayRowFiles
			}
		}
		if rows*perRow > heldBytes {
			held, heldBytes = rows, rows*perRow
		}
	}
	heap := peakHeapBaseMiB + heldBytes/(1<<20)
	limit := int(math.Ceil(float64(heap) / heapShareOfLimit))
	r.report.PeakHeapMiB, r.report.MemoryLimitMiB = heap, limit
	detail := fmt.Sprintf("about %d MiB of live heap at the peak of a cold start (%d bill rows held at once), which a memory limit of %d MiB holds with --auto-gomemlimit; it grows as the cycle's instances and a day's buckets do",
		heap, held, limit)
	if limit > chartMemoryLimitMiB {
		r.add(Unknown, "peak memory", detail+fmt.Sprintf(": above the chart's default limit of %d MiB", chartMemoryLimitMiB),
			fmt.Sprintf("give the exporter at least %d MiB (the chart's resources.limits.memory), or leave out the instance or ossbucket collector", limit))
		return
	}
	r.add(OK, "peak memory", detail, "")
}

// countGroups counts, where the walks fit the budget, the series the bill
// collectors will make, as the collectors count them: of every exposed day
// and both cycles of the account bill (a page each at most sizes), of the
// newest settled day of the split bill (buckets are capped, so one day
// tells), and of as many exposed days of the instance bill as the budget
// allows, newest first (its series vary from day to day).
func (r *run) countGroups(ctx context.Context) {
	r.daySeries = map[string][]int{}
	cfg := r.in.Config
	r.countAccountSeries(ctx)
	if s, ok := r.rows[bssclient.ActionDescribeSplitItemBill]; ok && r.afford(pages(s.day)+1) {
		day := cfg.Calendar().NewestSettledDay(r.in.Now, bssclient.KindSplitItems)
		form := splitForm{rowsPerBucket: map[string]int{}}
		n, err := countSeries(cfg, r.in.Client.DescribeSplitItemBill(ctx, bssclient.SplitItemBillRequest{BillingCycle: day.Cycle(), Granularity: bssclient.Daily, BillingDate: day, ProductCode: "oss"}),
			func(c *collector.SeriesCounter, it *bssclient.SplitItemBillItem) error {
				form.add(*it)
				if it.SplitItemID == "" { // a day not split yet: no bucket
					return nil
				}
				return c.AddBucketRow(it)
			})
		if err == nil {
			r.splitForm = form
			r.daySeries[bssclient.ActionDescribeSplitItemBill] = []int{min(n, cfg.OSSBucket.MaxBuckets+1)} // the cap, and the overflow series
		}
	}
	if s, ok := r.rows[bssclient.ActionDescribeInstanceBill]; ok {
		day := cfg.Calendar().NewestSettledDay(r.in.Now, bssclient.KindInstanceAttributes)
		reserve := r.smallReserve()
		for range max(1, r.calendarOf(bssclient.KindInstanceAttributes).exposed) {
			if !r.afford(pages(s.day) + 1 + reserve) {
				break
			}
			n, err := countSeries(cfg, r.in.Client.DescribeInstanceBill(ctx, bssclient.InstanceBillRequest{BillingCycle: day.Cycle(), Granularity: bssclient.Daily, BillingDate: day}),
				(*collector.SeriesCounter).AddInstanceRow)
			if err != nil {
				break
			}
			r.daySeries[bssclient.ActionDescribeInstanceBill] = append(r.daySeries[bssclient.ActionDescribeInstanceBill], n)
			day = day.AddDays(-1)
		}
	}
}

// countAccountSeries counts the account collector's series: of each
// exposed day, and of the current and previous cycles.
func (r *run) countAccountSeries(ctx context.Context) {
	s, ok := r.rows[bssclient.ActionQueryAccountBill]
	if !ok {
		return
	}
	c := r.calendarOf(bssclient.KindAmounts)
	if !r.afford(c.exposed*pages(s.day) + pages(s.month) + pages(s.prevMonth)) {
		return
	}
	cycle := bssclient.CycleOf(r.in.Now)
	reqs := []bssclient.AccountBillRequest{{BillingCycle: cycle.Prev(), Granularity: bssclient.Monthly, IsGroupByProduct: true}}
	if !c.cycleEmpty { // no current cycle gauges before its first settled day
		reqs = append(reqs, bssclient.AccountBillRequest{BillingCycle: cycle, Granularity: bssclient.Monthly, IsGroupByProduct: true})
	}
	day := r.in.Config.Calendar().NewestSettledDay(r.in.Now, bssclient.KindAmounts)
	for range c.exposed {
		reqs = append(reqs, bssclient.AccountBillRequest{BillingCycle: day.Cycle(), Granularity: bssclient.Daily, BillingDate: day, IsGroupByProduct: true})
		day = day.AddDays(-1)
	}
	total := 0
	for _, req := range reqs {
		n, err := countSeries(r.in.Config, r.in.Client.QueryAccountBill(ctx, req), (*collector.SeriesCounter).AddAccountRow)
		if err != nil {
			return
		}
		total += n
	}
	r.daySeries[bssclient.ActionQueryAccountBill] = []int{total}
}

// countSeries walks one bill and counts the series its rows become.
func countSeries[T any](cfg collector.Config, walk func(yield func([]T, error) bool), add func(*collector.SeriesCounter, *T) error) (int, error) {
	c := collector.NewSeriesCounter(cfg)
	for page, err := range walk {
		if err != nil {
			return 0, err
		}
		for i := range page {
			if err := add(c, &page[i]); err != nil {
				return 0, err
			}
		}
	}
	return c.Len(), nil
}

// predictOne is what collector name costs and publishes, from the sizes
// measured; false when its bill could not be measured.
func (r *run) predictOne(name string, perDay func(string, int) int) (Prediction, bool) {
	p := Prediction{Collector: name}
	switch name {
	case "account":
		s, ok := r.rows[bssclient.ActionQueryAccountBill]
		if !ok {
			return p, false
		}
		c := r.calendarOf(bssclient.KindAmounts)
		cycles := pages(s.month) + c.unsettled*pages(s.day)
		p.ColdRequests = c.exposed*pages(s.day) + cycles + pages(s.prevMonth) + c.prevOpen*pages(s.day)
		p.DailyRequests = 2*pages(s.day) + perDay(name, cycles)
		if !c.prevFinal {
			p.DailyRequests += perDay(name, pages(s.prevMonth)+c.prevOpen*pages(s.day))
		}
		cols := len(collector.AmountColumns(r.in.Config, name))
		series := c.exposed*s.day + s.month + s.prevMonth // rows, when the keys could not be walked
		if n, ok := r.daySeries[bssclient.ActionQueryAccountBill]; ok {
			series = n[0]
		}
		p.Series = series*cols + 2
	case "names":
		s, ok := r.rows[bssclient.ActionQueryAccountBill]
		if !ok {
			return p, false
		}
		p.ColdRequests, p.DailyRequests = pages(s.month), perDay(name, pages(s.month))
	case "instance", "ossbucket":
		action, kind := bssclient.ActionDescribeInstanceBill, bssclient.KindInstanceAttributes
		if name == "ossbucket" {
			action, kind = bssclient.ActionDescribeSplitItemBill, bssclient.KindSplitItems
		}
		s, ok := r.rows[action]
		if !ok {
			return p, false
		}
		c := r.calendarOf(kind)
		cycle := 0
		if !c.cycleEmpty {
			cycle = pages(s.month) + c.unsettled*pages(s.day)
		}
		p.ColdRequests = c.exposed*pages(s.day) + cycle
		p.DailyRequests = 2*pages(s.day) + cycle // a new day, a recheck, the cycle read again as a day settles
		if r.in.Config.SourceOf(name) == collector.SourceBillFiles {
			// The subscriptions, asked by each refresh that reads a file.
			p.ColdRequests, p.DailyRequests = 1, 1
		}
		if walked := r.daySeries[action]; len(walked) > 0 {
			// Days not walked, and the cycle gauges, count as the mean
			// walked day. With no daily series, the one day walked stands
			// in for the cycle only.
			sum := 0
			for _, n := range walked {
				sum += n
			}
			mean := float64(sum) / float64(len(walked))
			daily := float64(sum)
			if c.exposed == 0 {
				daily = 0
			}
			rest := float64(max(0, c.exposed-len(walked)))
			if !c.cycleEmpty {
				rest++
			}
			cols := float64(len(collector.AmountColumns(r.in.Config, name)))
			p.Series = int((daily + rest*mean) * cols)
			if name == "ossbucket" {
				p.Series += 2 // split_bill_enabled, cycle_from_monthly_bill
			}
		}
	default:
		n := r.smallRequests(name)
		p.ColdRequests, p.DailyRequests = n, perDay(name, n)
	}
	return p, true
}

// smallRequests is a refresh of a collector without a day book: one
// request per action it calls.
func (r *run) smallRequests(name string) int {
	n := len(collectorActions(name))
	switch name {
	case "savingsplan":
		n += 2 // the RI and SCU analyses are one action each, asked twice
	case "amortized":
		n++ // the current and the previous cycle (one page each at most accounts)
		if r.in.Config.Amortized.PerInstance {
			n += 2 // and the same per instance
		}
	}
	return n
}

// keepsDayBook says whether collector name walks bills into a day book
// (its series come from the bills doctor counts); the others are small.
func keepsDayBook(name string) bool { return slices.Contains(collector.DayBookCollectors(), name) }

// smallReserve is what refreshSmall will spend: the bill walks leave it.
func (r *run) smallReserve() int {
	n := 0
	for _, name := range r.in.Enabled {
		if !keepsDayBook(name) {
			n += r.smallRequests(name)
		}
	}
	return n
}

// splitForm is what one settled day's split rows say of their form: one
// row per bucket, or one per billing item of a bucket.
type splitForm struct {
	rows, withItem int
	rowsPerBucket  map[string]int
}

func (f *splitForm) add(row bssclient.SplitItemBillItem) {
	f.rows++
	if row.BillingItemCode != "" {
		f.withItem++
	}
	if row.SplitItemID != "" {
		f.rowsPerBucket[row.InstanceID+"|"+row.SplitItemID]++
	}
}

// check reports the form seen, against the guess that a split row is one
// billing item of a bucket; false when no day was walked.
func (f splitForm) check(r *run) bool {
	if f.rows == 0 {
		return false
	}
	several := 0
	for _, n := range f.rowsPerBucket {
		if n > 1 {
			several++
		}
	}
	seen := fmt.Sprintf("of %d split rows on the newest settled day, %d name a billing item; %d of %d buckets have several rows",
		f.rows, f.withItem, several, len(f.rowsPerBucket))
	switch {
	case f.withItem == f.rows:
		r.add(Note, "guess", "one split row is one billing item of a bucket: "+seen+"; --collector.ossbucket.billing-item labels each", "")
	case f.withItem == 0 && r.in.Config.OSSBucket.BillingItem:
		r.add(Unknown, "guess", "one split row is one billing item of a bucket: "+seen+": one row per bucket",
			"--collector.ossbucket.billing-item labels every bucket billing_item=\"unknown\" here: leave it off, and report this (README, First run)")
	default:
		r.add(Note, "guess", "one split row is one billing item of a bucket: "+seen+
			"; rows without one show as billing_item=\"unknown\" with --collector.ossbucket.billing-item", "")
	}
	return true
}
