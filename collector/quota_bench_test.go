package collector

import (
	"context"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
)

// Figure 2, quota use. The simulator enforces BSS's 10 requests a second
// per account over a sliding second and answers after 150 ms, as BSS does.
// Every default collector of the exporter starts cold against it, sharing
// one client and its rate limiter, as the binary runs them. The figure is
// the bill pages answered per second, over the window from the first
// request to the last answer, divided by 10 (the few non-paged calls,
// balance and subscriptions, count against the quota but not as pages). A DescribeInstanceBill walk is
// sequential (each page needs the previous page's NextToken), so one walk
// alone is capped by latency near 1/150 ms; the collectors reach the quota
// by walking days concurrently (Config.ConcurrentWalks).

// quotaStart is a billing moment whose cold start reads three settled days
// of instance and split bills (ExposureDays 3 reaching back into February)
// and the account bills: about 730 requests, over 75 s at the quota.
var quotaStart = at(2025, time.March, 5, 12)

const (
	bssQuota   = bsssim.DefaultQuotaPerSecond
	bssLatency = 150 * time.Millisecond
)

type quotaResult struct {
	requests, pages, rows int64
	throttled             int64 // answered Throttling.User by the simulator
	clientThrottled       int   // seen by the client
	retries               int
	window                time.Duration
	// stall is the longest a 1 ms sleep overslept during the run: how long
	// the process's goroutines can wait for a CPU on this machine. The
	// limiter absorbs up to arrivalJitterAllowance (50 ms) of delay between
	// one request and a later one; a longer stall can let the simulator see
	// 11 requests in one second.
	stall time.Duration
}

// stallProbe measures scheduling delay: it sleeps 1 ms at a time and keeps
// the longest oversleep.
func stallProbe(stop <-chan struct{}) <-chan time.Duration {
	out := make(chan time.Duration, 1)
	go func() {
		var worst time.Duration
		for {
			select {
			case <-stop:
				out <- worst
				return
			default:
			}
			t := time.Now()
			time.Sleep(time.Millisecond)
			worst = max(worst, time.Since(t)-time.Millisecond)
		}
	}()
	return out
}

func (r quotaResult) perSecond() float64 { return float64(r.requests) / r.window.Seconds() }

// quotaUse is the figure: pages answered per second, over the quota.
func (r quotaResult) quotaUse() float64 { return float64(r.pages) / r.window.Seconds() / bssQuota }

// runQuota starts the collectors cold against a simulator with BSS's quota
// and latency and waits until each has refreshed once.
func runQuota(tb testing.TB, start time.Time, names []string, configure func(*Config)) quotaResult {
	tb.Helper()
	world, err := bsssim.NewWorld(benchWorld(11, 5, 50_000))
	if err != nil {
		tb.Fatal(err)
	}
	sim, clock := startBenchSim(tb, world, start, bssQuota, bssLatency)
	obs := &countingObserver{}
	// The exporter's own default limiter: 10 a second, spaced for jitter.
	client := benchClient(tb, sim.URL, 0, nil, obs)
	exp := newBenchExporter(tb, client, clock.Now, names, configure)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	stopProbe := make(chan struct{})
	stall := stallProbe(stopProbe)
	began := time.Now()
	go func() {
		defer close(done)
		exp.Run(ctx)
	}()
	for !exp.Ready() {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	close(stopProbe)
	for _, w := range exp.workers {
		if st := w.state.Load(); st == nil || !st.ok {
			tb.Fatalf("collector %s did not refresh successfully", w.name)
		}
	}
	st := sim.Server.Stats()
	obs.mu.Lock()
	defer obs.mu.Unlock()
	return quotaResult{
		requests: st.TotalRequests(), pages: st.Pages, rows: st.Rows, throttled: st.Throttled,
		clientThrottled: obs.throttled, retries: obs.retries,
		window: obs.last.Sub(began), stall: <-stall,
	}
}

// BenchmarkQuotaUse is figure 2: the default collectors' cold start,
// about 75 s of walking at the quota. A fixed-duration measurement: run it
// with -benchtime 1x.
func BenchmarkQuotaUse(b *testing.B) {
	names := []string{}
	for _, r := range defaultCollectors() {
		names = append(names, r.Name)
	}
	for b.Loop() {
		r := runQuota(b, quotaStart, names, func(c *Config) { c.ExposureDays = 3 })
		b.ReportMetric(r.quotaUse(), "quota-use")
		b.ReportMetric(float64(r.pages)/r.window.Seconds(), "pages/s")
		b.ReportMetric(r.perSecond(), "requests/s")
		b.ReportMetric(r.window.Seconds(), "window-s")
		b.ReportMetric(float64(r.throttled), "throttled")
		b.ReportMetric(float64(r.stall.Microseconds())/1e3, "longest-stall-ms")
		b.Logf("%d requests (%d pages, %d rows) in %s; throttled: %d answered, %d seen by the client; %d retries; longest scheduling stall %s",
			r.requests, r.pages, r.rows, r.window.Round(time.Millisecond), r.throttled, r.clientThrottled, r.retries, r.stall.Round(time.Millisecond))
		if r.window < time.Minute {
			b.Errorf("measured over %s, want at least 60 s of walking", r.window)
		}
	}
}

// BenchmarkQuotaUseOneWalk is the same account read one walk at a time
// (ConcurrentWalks 1, the instance collector alone, one day): what a
// sequential NextToken walk achieves against 150 ms answers. It shows why
// the collectors walk days concurrently.
func BenchmarkQuotaUseOneWalk(b *testing.B) {
	for b.Loop() {
		// March 1 is the only day to read: the cycle's first, settled 48 h
		// after it ended.
		r := runQuota(b, at(2025, time.March, 4, 12), []string{"instance"}, func(c *Config) { c.ExposureDays = 1; c.ConcurrentWalks = 1 })
		b.ReportMetric(r.quotaUse(), "quota-use")
		b.ReportMetric(float64(r.pages)/r.window.Seconds(), "pages/s")
		b.ReportMetric(r.window.Seconds(), "window-s")
		b.ReportMetric(float64(r.throttled), "throttled")
		b.Logf("%d requests (%d pages, %d rows) in %s", r.requests, r.pages, r.rows, r.window.Round(time.Millisecond))
	}
}
