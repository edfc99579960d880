package collector

// Shared pieces of the benchmark harness (issue 5): simulated worlds of a
// chosen size, clients against the simulator, a transport that replays
// captured answers without a network, and the arithmetic every figure in
// BENCHMARKS.md is reported with. Nothing here runs in `go test` except the
// smoke tests, which assert request counts, never timings.

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim/bsssimtest"
)

// benchWorld returns a world config whose instance bill has about rowsPerDay
// rows a day, spread over owners member accounts plus the payer. The
// simulator bills about 0.58 rows per instance a day (pay-as-you-go daily,
// subscriptions monthly), so the population is sized from that and the
// caller reads the exact count back with dayRows.
func benchWorld(seed int64, owners, rowsPerDay int) bsssim.WorldConfig {
	const rowsPerInstance = 0.58
	perOwner := int(math.Round(float64(rowsPerDay) / rowsPerInstance / float64(owners+1)))
	return bsssim.WorldConfig{Seed: seed, Owners: owners, InstancesPerOwner: max(perOwner, 1), SplitBillEnabled: true}
}

// dayRows is the exact number of instance-bill rows of day d at t: what one
// DescribeInstanceBill DAILY walk reads.
func dayRows(w *bsssim.World, d bssclient.Day, t time.Time) int {
	return bsssimtest.Wrap(w).InstanceBillCount(bssclient.InstanceBillRequest{BillingCycle: d.Cycle(), Granularity: bssclient.Daily, BillingDate: d}, t)
}

// minPages is the fewest requests a walk over rows rows can cost: full
// pages of MaxPageSize, and one request to learn that a bill is empty.
func minPages(rows int) int {
	return max(1, (rows+bssclient.MaxPageSize-1)/bssclient.MaxPageSize)
}

// benchClient is a client of the simulator at url with the given rate limit
// (the exporter's own default when 0) and an HTTP client of its own.
func benchClient(tb testing.TB, url string, rateLimit float64, transport http.RoundTripper, obs bssclient.Observer) *bssclient.Client {
	tb.Helper()
	if transport == nil {
		transport = &http.Transport{MaxIdleConns: 32, MaxIdleConnsPerHost: 32, IdleConnTimeout: time.Minute}
	}
	c, err := bssclient.New(bssclient.Config{
		Endpoint:    url,
		Credentials: bssclient.StaticCredentials(bsssim.TestAccessKeyID, bsssim.TestAccessKeySecret, ""),
		RateLimit:   rateLimit,
		HTTPClient:  &http.Client{Transport: transport},
		Observer:    obs,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// startBenchSim serves world on loopback with the given quota (negative:
// unlimited) and latency, at a billing clock standing at t.
func startBenchSim(tb testing.TB, world *bsssim.World, t time.Time, quota int, latency time.Duration) (*bsssim.Running, *bsssim.ManualClock) {
	tb.Helper()
	clock := bsssim.NewManualClock(t)
	run, err := bsssim.Start(bsssim.Config{World: world, Clock: clock, QuotaPerSecond: quota, Latency: latency})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = run.Close() })
	return run, clock
}

// newBenchExporter builds an Exporter of the named collectors over one
// account, with the default configuration except the clock and what
// configure changes.
func newBenchExporter(tb testing.TB, client BSS, now func() time.Time, names []string, configure func(*Config)) *Exporter {
	tb.Helper()
	cfg := DefaultConfig()
	cfg.Now = now
	if configure != nil {
		configure(&cfg)
	}
	var enabled []Enabled
	for _, n := range names {
		reg, err := Lookup(n)
		if err != nil {
			tb.Fatal(err)
		}
		enabled = append(enabled, Enabled{Name: n, Interval: reg.DefaultInterval})
	}
	exp, err := New(Account{Name: "bench", Client: client}, enabled, cfg, log.NewNopLogger())
	if err != nil {
		tb.Fatal(err)
	}
	return exp
}

// countingObserver counts what the client reports: attempts, throttled
// answers and retries.
type countingObserver struct {
	mu                           sync.Mutex
	requests, throttled, retries int
	last                         time.Time // wall time of the last answer
}

func (o *countingObserver) RequestDone(_, _ string, _ time.Duration) {
	now := time.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	o.requests++
	o.last = now
}

func (o *countingObserver) Retried(string, string) {
	o.mu.Lock()
	o.retries++
	o.mu.Unlock()
}

func (o *countingObserver) Throttled(string) {
	o.mu.Lock()
	o.throttled++
	o.mu.Unlock()
}

// ---------------------------------------------------------------------------
// Capture and replay: the CPU figures measure the client and the collector
// alone, so the answers are recorded once from the simulator and served
// again from memory.

// capturingTransport passes requests on and keeps every answer's body,
// keyed by the request's query without its signature parts.
type capturingTransport struct {
	next   http.RoundTripper
	mu     sync.Mutex
	bodies map[string][]byte
}

func (c *capturingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.bodies == nil {
		c.bodies = map[string][]byte{}
	}
	c.bodies[replayKey(req)] = body
	c.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// replayTransport answers from captured bodies, without a network.
type replayTransport struct {
	bodies map[string][]byte
}

func (r *replayTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	body, ok := r.bodies[replayKey(req)]
	if !ok {
		return nil, fmt.Errorf("replay: no answer captured for %s", replayKey(req))
	}
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": []string{"application/json;charset=utf-8"}},
		Body:       io.NopCloser(bytes.NewReader(body)),
		Request:    req,
	}, nil
}

// replayKey identifies a request by its action and bill parameters.
func replayKey(req *http.Request) string {
	q := req.URL.Query()
	return req.Header.Get("x-acs-action") + " " + q.Get("BillingDate") + " " + q.Get("NextToken")
}

// ---------------------------------------------------------------------------
// Reporting

// median returns the median of xs (xs is sorted in place).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	sort.Float64s(xs)
	if n := len(xs); n%2 == 1 {
		return xs[n/2]
	}
	return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
}
