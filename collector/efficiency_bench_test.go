package collector

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim/bsssimtest"
)

// Figure 1, API efficiency. Every collector runs on its default interval
// against a simulated account, stepped by a manual billing clock in
// five-minute steps. Each walk the exporter makes is recorded with the
// moment it was made, and its minimum cost is worked out from the World
// itself: ceil(rows/300) requests (one for an empty bill), or zero when it
// re-reads a day that had settled and was already read. The figure is the
// requests the simulator answered divided by the sum of those minima.
//
// The naive baseline is what the only other Alibaba Cloud billing exporter
// does: on every 60 s scrape it downloads everything again at 100 rows a
// page. The harness measures it for real: at the middle of the measured day
// it takes the walks a cold start of our exporter makes (everything the
// exporter publishes, read from nothing) and replays each with PageSize or
// MaxResults 100 through Client.Call, counting the requests the simulator
// answers. A day of it is that count times 1,440 scrapes.

// efficiencyRun sizes one run of the harness.
type efficiencyRun struct {
	world bsssim.WorldConfig
	start time.Time // billing time of the cold start
	// warmDays are simulated before the measured day; the measured day is
	// the 24 h after them.
	warmDays int
	naive    bool          // also measure the naive baseline
	step     time.Duration // of the billing clock; default 5 min, the shortest interval
}

// walkCost is one recorded walk or call: what it asked, when, its minimum.
type walkCost struct {
	collector string
	action    string
	day       bssclient.Day // DAILY walks
	cycle     bssclient.Cycle
	at        time.Time
	min       int
}

type efficiencyResult struct {
	// requests and minimum per phase: the cold start (first refresh of
	// every collector), the measured steady-state day, and the whole run.
	coldRequests, coldMin     int
	steadyRequests, steadyMin int
	totalRequests, totalMin   int
	perCollector              map[string][2]int // steady day: requests, minimum
	rowsPerDay                int
	naivePerScrape            int // requests of one naive scrape
	naiveRows                 int // rows one naive scrape reads
	coldWalks                 int
	samples                   map[string]int // snapshot samples per collector at the end
}

func (r efficiencyResult) ratio(requests, minimum int) float64 {
	if minimum == 0 {
		if requests == 0 {
			return 1
		}
		return float64(requests)
	}
	return float64(requests) / float64(minimum)
}

// efficiencyBSS records every walk and call an exporter asks for, with the
// collector that asked (one exporter per collector) and the billing time.
type efficiencyBSS struct {
	*bssclient.Client
	world     bsssimtest.World
	now       func() time.Time
	collector string
	log       *costLog
}

type costLog struct {
	mu    sync.Mutex
	walks []walkCost
	// read holds settled DAILY walks already done, per action and day, and
	// MONTHLY walks of final cycles already done after they became final.
	read map[string]int
}

func (b *efficiencyBSS) record(action string, day bssclient.Day, cycle bssclient.Cycle, rows int, settled bool) {
	b.log.mu.Lock()
	defer b.log.mu.Unlock()
	key := fmt.Sprintf("%s %s %s", action, cycle, day)
	min := minPages(rows)
	if settled {
		// A settled day is read once, and once more a day later to count
		// late restatements (the exporter's design); more reads are free in
		// the minimum.
		if b.log.read[key] >= 2 {
			min = 0
		}
		b.log.read[key]++
	}
	b.log.walks = append(b.log.walks, walkCost{collector: b.collector, action: action, day: day, cycle: cycle, at: b.now(), min: min})
}

// settledNow is the billing moment the exporter's defaults treat days as
// settled against: DefaultSettleMargin before now. A day inside the margin
// is not settled yet, so reading it again is part of the minimum.
func (b *efficiencyBSS) settledNow() time.Time { return b.now().Add(-DefaultSettleMargin) }

func (b *efficiencyBSS) QueryAccountBill(ctx context.Context, req bssclient.AccountBillRequest) iter.Seq2[[]bssclient.AccountBillItem, error] {
	now := b.now()
	settled := false
	if req.Granularity == bssclient.Daily {
		settled = !b.settledNow().Before(req.BillingDate.SettledAt(bssclient.KindAmounts))
	} else {
		settled = bssclient.Calendar{}.CycleFinal(req.BillingCycle, b.settledNow(), bssclient.KindAmounts)
	}
	b.record(bssclient.ActionQueryAccountBill, req.BillingDate, req.BillingCycle, len(b.world.AccountBill(req, now)), settled)
	return b.Client.QueryAccountBill(ctx, req)
}

func (b *efficiencyBSS) DescribeInstanceBill(ctx context.Context, req bssclient.InstanceBillRequest) iter.Seq2[[]bssclient.InstanceBillItem, error] {
	now := b.now()
	settled := req.Granularity == bssclient.Daily && !b.settledNow().Before(req.BillingDate.SettledAt(bssclient.KindInstanceAttributes))
	b.record(bssclient.ActionDescribeInstanceBill, req.BillingDate, req.BillingCycle, b.world.InstanceBillCount(req, now), settled)
	return b.Client.DescribeInstanceBill(ctx, req)
}

func (b *efficiencyBSS) DescribeSplitItemBill(ctx context.Context, req bssclient.SplitItemBillRequest) iter.Seq2[[]bssclient.SplitItemBillItem, error] {
	now := b.now()
	settled := req.Granularity == bssclient.Daily && !b.settledNow().Before(req.BillingDate.SettledAt(bssclient.KindSplitItems))
	b.record(bssclient.ActionDescribeSplitItemBill, req.BillingDate, req.BillingCycle, b.world.SplitItemBillCount(req, now), settled)
	return b.Client.DescribeSplitItemBill(ctx, req)
}

func (b *efficiencyBSS) QueryBillToOSSSubscription(ctx context.Context) ([]bssclient.BillSubscription, error) {
	b.record(bssclient.ActionQueryBillToOSSSubscription, bssclient.Day{}, bssclient.Cycle{}, 1, false)
	return b.Client.QueryBillToOSSSubscription(ctx)
}

func (b *efficiencyBSS) QueryAccountBalance(ctx context.Context) (bssclient.AccountBalance, error) {
	b.record(bssclient.ActionQueryAccountBalance, bssclient.Day{}, bssclient.Cycle{}, 1, false)
	return b.Client.QueryAccountBalance(ctx)
}

// defaultCollectors are the collectors the exporter enables by default.
func defaultCollectors() []Registration {
	var out []Registration
	for _, r := range Registrations() {
		if r.DefaultEnabled {
			out = append(out, r)
		}
	}
	return out
}

func runEfficiency(tb testing.TB, run efficiencyRun) efficiencyResult {
	tb.Helper()
	ctx := context.Background()
	world, err := bsssim.NewWorld(run.world)
	if err != nil {
		tb.Fatal(err)
	}
	sim, clock := startBenchSim(tb, world, run.start, -1, 0)
	client := benchClient(tb, sim.URL, 1e6, nil, nil)
	log := &costLog{read: map[string]int{}}

	type scheduled struct {
		reg  Registration
		exp  *Exporter
		next time.Time
	}
	var collectors []*scheduled
	for _, reg := range defaultCollectors() {
		bss := &efficiencyBSS{Client: client, world: bsssimtest.Wrap(world), now: clock.Now, collector: reg.Name, log: log}
		exp := newBenchExporter(tb, bss, clock.Now, []string{reg.Name}, nil)
		collectors = append(collectors, &scheduled{reg: reg, exp: exp, next: run.start})
	}

	res := efficiencyResult{perCollector: map[string][2]int{}}
	step := cmp.Or(run.step, 5*time.Minute)
	steadyFrom := run.start.Add(time.Duration(run.warmDays) * 24 * time.Hour)
	end := steadyFrom.Add(24 * time.Hour)
	first := true
	for now := run.start; now.Before(end); now = now.Add(step) {
		clock.Set(now)
		for _, c := range collectors {
			if now.Before(c.next) {
				continue
			}
			before := sim.Server.Stats().TotalRequests()
			walksBefore := len(log.walks)
			if err := c.exp.RefreshOnce(ctx); err != nil {
				tb.Fatalf("%s refresh at %s: %v", c.reg.Name, now, err)
			}
			requests := int(sim.Server.Stats().TotalRequests() - before)
			minimum := 0
			for _, w := range log.walks[walksBefore:] {
				minimum += w.min
			}
			res.totalRequests += requests
			res.totalMin += minimum
			if first {
				res.coldRequests += requests
				res.coldMin += minimum
				res.coldWalks += len(log.walks) - walksBefore
			}
			if !now.Before(steadyFrom) {
				res.steadyRequests += requests
				res.steadyMin += minimum
				pc := res.perCollector[c.reg.Name]
				res.perCollector[c.reg.Name] = [2]int{pc[0] + requests, pc[1] + minimum}
			}
			c.next = now.Add(c.reg.DefaultInterval)
		}
		first = false
	}
	res.samples = map[string]int{}
	for _, c := range collectors {
		res.samples[c.reg.Name] = len(c.exp.workers[0].state.Load().snapshot.Metrics)
	}
	mid := steadyFrom.Add(12 * time.Hour)
	res.rowsPerDay = dayRows(world, bssclient.Calendar{}.NewestSettledDay(mid, bssclient.KindInstanceAttributes), mid)
	if run.naive {
		res.naivePerScrape, res.naiveRows = naiveScrape(tb, world, sim, clock, mid)
	}
	return res
}

// naiveScrape measures one scrape of the naive exporter at t: every walk a
// cold start of ours makes, read again with 100 rows a page.
func naiveScrape(tb testing.TB, world *bsssim.World, sim *bsssim.Running, clock *bsssim.ManualClock, t time.Time) (requests, rows int) {
	tb.Helper()
	ctx := context.Background()
	clock.Set(t)
	client := benchClient(tb, sim.URL, 1e6, nil, nil)
	log := &costLog{read: map[string]int{}}
	walks := &walkRecorder{}
	for _, reg := range defaultCollectors() {
		bss := &efficiencyBSS{Client: client, world: bsssimtest.Wrap(world), now: clock.Now, collector: reg.Name, log: log}
		exp := newBenchExporter(tb, &recordingWalks{efficiencyBSS: bss, rec: walks}, clock.Now, []string{reg.Name}, nil)
		if err := exp.RefreshOnce(ctx); err != nil {
			tb.Fatal(err)
		}
	}
	before := sim.Server.Stats()
	for _, w := range walks.walks {
		rows += naiveWalk(tb, client, w)
	}
	after := sim.Server.Stats()
	return int(after.TotalRequests() - before.TotalRequests()), rows
}

// recordedWalk is one walk's action and parameters, as BSS receives them.
type recordedWalk struct {
	action string
	params url.Values
	paged  bool // a bill walk; else a single call
	token  bool // paged by NextToken/MaxResults, else by PageNum/PageSize
}

type walkRecorder struct {
	mu    sync.Mutex
	walks []recordedWalk
}

func (r *walkRecorder) add(w recordedWalk) {
	r.mu.Lock()
	r.walks = append(r.walks, w)
	r.mu.Unlock()
}

// recordingWalks notes the parameters of every walk and call it passes on.
type recordingWalks struct {
	*efficiencyBSS
	rec *walkRecorder
}

func periodParams(cycle bssclient.Cycle, g bssclient.Granularity, day bssclient.Day) url.Values {
	p := url.Values{"BillingCycle": {cycle.String()}}
	if g != "" {
		p.Set("Granularity", string(g))
	}
	if !day.IsZero() {
		p.Set("BillingDate", day.String())
	}
	return p
}

func (r *recordingWalks) QueryAccountBill(ctx context.Context, req bssclient.AccountBillRequest) iter.Seq2[[]bssclient.AccountBillItem, error] {
	p := periodParams(req.BillingCycle, req.Granularity, req.BillingDate)
	if req.IsGroupByProduct {
		p.Set("IsGroupByProduct", "true")
	}
	r.rec.add(recordedWalk{action: bssclient.ActionQueryAccountBill, params: p, paged: true})
	return r.efficiencyBSS.QueryAccountBill(ctx, req)
}

func (r *recordingWalks) DescribeInstanceBill(ctx context.Context, req bssclient.InstanceBillRequest) iter.Seq2[[]bssclient.InstanceBillItem, error] {
	r.rec.add(recordedWalk{action: bssclient.ActionDescribeInstanceBill, params: periodParams(req.BillingCycle, req.Granularity, req.BillingDate), paged: true, token: true})
	return r.efficiencyBSS.DescribeInstanceBill(ctx, req)
}

func (r *recordingWalks) DescribeSplitItemBill(ctx context.Context, req bssclient.SplitItemBillRequest) iter.Seq2[[]bssclient.SplitItemBillItem, error] {
	p := periodParams(req.BillingCycle, req.Granularity, req.BillingDate)
	if req.ProductCode != "" {
		p.Set("ProductCode", req.ProductCode)
	}
	r.rec.add(recordedWalk{action: bssclient.ActionDescribeSplitItemBill, params: p, paged: true, token: true})
	return r.efficiencyBSS.DescribeSplitItemBill(ctx, req)
}

func (r *recordingWalks) QueryBillToOSSSubscription(ctx context.Context) ([]bssclient.BillSubscription, error) {
	r.rec.add(recordedWalk{action: bssclient.ActionQueryBillToOSSSubscription})
	return r.efficiencyBSS.QueryBillToOSSSubscription(ctx)
}

func (r *recordingWalks) QueryAccountBalance(ctx context.Context) (bssclient.AccountBalance, error) {
	r.rec.add(recordedWalk{action: bssclient.ActionQueryAccountBalance})
	return r.efficiencyBSS.QueryAccountBalance(ctx)
}

// naivePageSize is the existing exporter's page size.
const naivePageSize = 100

// naiveWalk reads one walk with naivePageSize rows a page and returns the
// rows read.
func naiveWalk(tb testing.TB, client *bssclient.Client, w recordedWalk) int {
	tb.Helper()
	ctx := context.Background()
	p := url.Values{}
	for k, v := range w.params {
		p[k] = v
	}
	switch {
	case !w.paged:
		if err := client.Call(ctx, w.action, p, nil); err != nil {
			tb.Fatal(err)
		}
		return 0
	case w.token:
		rows := 0
		p.Set("MaxResults", strconv.Itoa(naivePageSize))
		for {
			var data struct {
				NextToken string
				Items     []struct{ InstanceID string }
			}
			if err := client.Call(ctx, w.action, p, &data); err != nil {
				tb.Fatal(err)
			}
			rows += len(data.Items)
			if data.NextToken == "" {
				return rows
			}
			p.Set("NextToken", data.NextToken)
		}
	default:
		rows := 0
		p.Set("PageSize", strconv.Itoa(naivePageSize))
		for page := 1; ; page++ {
			p.Set("PageNum", strconv.Itoa(page))
			var data struct {
				TotalCount int
				Items      struct{ Item []struct{ OwnerID string } }
			}
			if err := client.Call(ctx, w.action, p, &data); err != nil {
				tb.Fatal(err)
			}
			rows += len(data.Items.Item)
			if page*naivePageSize >= data.TotalCount {
				return rows
			}
		}
	}
}

// efficiencyStart is the harness's cold start: mid-March, with February
// final and ten settled days of March to read.
var efficiencyStart = at(2025, time.March, 9, 0).Add(30 * time.Minute)

// BenchmarkAPIEfficiency is figure 1 on the world: 50,000
// instance-bill rows a day over 5 member accounts, two days of warm-up, a
// measured steady-state day, and the naive baseline. It is a fixed amount
// of work; run it with -benchtime 1x.
func BenchmarkAPIEfficiency(b *testing.B) {
	for b.Loop() {
		res := runEfficiency(b, efficiencyRun{world: benchWorld(11, 5, 50_000), start: efficiencyStart, warmDays: 2, naive: true})
		ourDay := res.steadyRequests
		naiveDay := res.naivePerScrape * 1440
		b.ReportMetric(res.ratio(res.coldRequests, res.coldMin), "cold-efficiency")
		b.ReportMetric(res.ratio(res.steadyRequests, res.steadyMin), "steady-efficiency")
		b.ReportMetric(res.ratio(res.totalRequests, res.totalMin), "run-efficiency")
		b.ReportMetric(float64(ourDay), "requests/day")
		b.ReportMetric(float64(naiveDay), "naive-requests/day")
		b.ReportMetric(float64(naiveDay)/float64(ourDay), "naive/ours")
		b.ReportMetric(float64(res.rowsPerDay), "rows/day")
		b.Logf("cold start: %d walks, %d requests, minimum %d", res.coldWalks, res.coldRequests, res.coldMin)
		b.Logf("steady day: %d requests, minimum %d; per collector (requests, minimum): %v", res.steadyRequests, res.steadyMin, res.perCollector)
		b.Logf("snapshot samples at the end, per collector: %v", res.samples)
		b.Logf("naive scrape: %d requests for %d rows at %d rows a page; %d scrapes a day = %d requests, %.1f× the 864,000 a day the 10/s quota allows",
			res.naivePerScrape, res.naiveRows, naivePageSize, 1440, naiveDay, float64(naiveDay)/864_000)
	}
}

// TestAPIEfficiencySmoke runs figure 1 on a small world for a day: the
// exporter's requests must equal the minimum exactly. It asserts counts,
// never timings, so it runs with the unit tests.
func TestAPIEfficiencySmoke(t *testing.T) {
	// Hourly steps: the balance collector then refreshes hourly rather
	// than every 5 minutes, which changes the counts, not their ratio.
	res := runEfficiency(t, efficiencyRun{world: multiPageWorld, start: efficiencyStart, step: time.Hour})
	if res.coldMin == 0 || res.steadyMin == 0 {
		t.Fatalf("nothing measured: %+v", res)
	}
	if res.coldRequests != res.coldMin || res.steadyRequests != res.steadyMin || res.totalRequests != res.totalMin {
		t.Fatalf("requests above the minimum: cold %d/%d, steady %d/%d, run %d/%d; steady per collector %v",
			res.coldRequests, res.coldMin, res.steadyRequests, res.steadyMin, res.totalRequests, res.totalMin, res.perCollector)
	}
}
