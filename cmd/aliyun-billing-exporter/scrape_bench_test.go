package main

// Figure 5 of BENCHMARKS.md, scrape cost, and the load target of issue 6:
// the exporter's own /metrics handler (newHandler, with the registry run
// builds) serving a snapshot of about 100,000 samples in per-instance mode,
// read from an in-process simulator before the clock starts.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/metrics"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/collector"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
)

// scrapeFixture is an exporter with its snapshot loaded, serving on loopback.
type scrapeFixture struct {
	reg      *prometheus.Registry
	gatherer prometheus.Gatherer
	exp      *collector.Exporter
	opts     *options
	handler  http.Handler
	url      string
	samples  int   // samples a scrape carries
	liveHeap int64 // heap in use once the snapshot is loaded and gathered
}

// scrapeWorld bills about 12,300 instances a day over three owners, so
// that seven exposed days of per-instance series plus the aggregated
// families make about 100,000 samples.
var scrapeWorld = bsssim.WorldConfig{Seed: 5, Owners: 2, InstancesPerOwner: 7_100}

// scrapeNow exposes March 1–7: seven settled days of instance bills.
var scrapeNow = time.Date(2025, time.March, 10, 12, 0, 0, 0, bssclient.BillingZone)

// textAccept is what Prometheus sends for the text format, without gzip:
// the figure compares with expfmt's text encoder.
const textAccept = "text/plain;version=0.0.4;q=0.3,*/*;q=0.2"

var fixtureOnce = sync.OnceValues(newScrapeFixture)

func newScrapeFixture() (*scrapeFixture, error) {
	world, err := bsssim.NewWorld(scrapeWorld)
	if err != nil {
		return nil, err
	}
	clock := bsssim.NewManualClock(scrapeNow)
	sim, err := bsssim.Start(bsssim.Config{World: world, Clock: clock, QuotaPerSecond: -1})
	if err != nil {
		return nil, err
	}
	opts, err := parseFlags([]string{
		"--bss.endpoint=" + sim.URL,
		"--collector.instance.per-instance", "--collector.instance.max-instances=20000",
		"--no-collector.account", "--no-collector.ossbucket", "--no-collector.subscription", "--no-collector.balance",
	}, io.Discard, io.Discard)
	if err != nil {
		return nil, err
	}
	bssMetrics := collector.NewBSSMetrics()
	client, err := bssclient.New(bssclient.Config{
		Endpoint:    sim.URL,
		Credentials: bssclient.StaticCredentials(bsssim.TestAccessKeyID, bsssim.TestAccessKeySecret, ""),
		RateLimit:   1e6,
		Observer:    bssMetrics.Observer("bench"),
	})
	if err != nil {
		return nil, err
	}
	cfg := opts.collectorConfig()
	cfg.Now = clock.Now
	logger := log.NewNopLogger()
	exp, err := collector.New(collector.Account{Name: "bench", Client: client}, opts.enabledCollectors(), cfg, logger)
	if err != nil {
		return nil, err
	}
	if err := exp.RefreshOnce(context.Background()); err != nil {
		return nil, err
	}
	budgets := collector.NewBudgetCollector(nil)
	// The registry run builds, exporter metrics included.
	reg := prometheus.NewRegistry()
	reg.MustRegister(bssMetrics, budgets, versioncollector.NewCollector(exporterName))
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if err := reg.Register(exp); err != nil {
		return nil, err
	}
	var gatherer prometheus.Gatherer = reg
	handler := newRouter(reg, gatherer, exp, nil, opts, logger)
	srv := httptest.NewServer(handler) // 127.0.0.1, a free port
	mfs, err := gatherer.Gather()
	if err != nil {
		return nil, err
	}
	n := 0
	for _, mf := range mfs {
		n += len(mf.GetMetric())
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	// The simulator and the server live as long as the benchmark binary.
	return &scrapeFixture{reg: reg, gatherer: gatherer, exp: exp, opts: opts, handler: handler,
		url: srv.URL + opts.telemetryPath, samples: n, liveHeap: int64(ms.HeapAlloc)}, nil
}

// serveWithLimit serves the fixture's exporter with --web.max-requests set
// to limit, on a loopback port of its own.
func (f *scrapeFixture) serveWithLimit(b *testing.B, limit int) string {
	opts := *f.opts
	opts.maxRequests = limit
	srv := httptest.NewServer(newRouter(f.reg, f.gatherer, f.exp, nil, &opts, log.NewNopLogger()))
	b.Cleanup(srv.Close)
	return srv.URL + opts.telemetryPath
}

func fixture(b *testing.B) *scrapeFixture {
	b.Helper()
	f, err := fixtureOnce()
	if err != nil {
		b.Fatal(err)
	}
	return f
}

// discardWriter is a ResponseWriter that keeps nothing.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

func encodeText(w io.Writer, mfs []*dto.MetricFamily) error {
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return err
		}
	}
	return nil
}

// scrape GETs /metrics over loopback and returns the bytes read.
func scrape(client *http.Client, url string) (int64, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", textAccept)
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return n, err
	}
	if resp.StatusCode != http.StatusOK {
		return n, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return n, nil
}

// BenchmarkScrape is figure 5. "ratio" interleaves one scrape over
// loopback and one direct expfmt encoding of the same (pre-gathered)
// families per round and reports the median of each; the other sub-
// benchmarks break a scrape down and report its allocations.
func BenchmarkScrape(b *testing.B) {
	f := fixture(b)
	mfs, err := f.gatherer.Gather()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("ratio", func(b *testing.B) {
		client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
		var scrapes, encodes []float64
		var size int64
		for b.Loop() {
			start := time.Now()
			n, err := scrape(client, f.url)
			if err != nil {
				b.Fatal(err)
			}
			scrapes = append(scrapes, time.Since(start).Seconds())
			size = n
			start = time.Now()
			if err := encodeText(io.Discard, mfs); err != nil {
				b.Fatal(err)
			}
			encodes = append(encodes, time.Since(start).Seconds())
		}
		s, e := median(scrapes), median(encodes)
		b.ReportMetric(s*1e3, "scrape-median-ms")
		b.ReportMetric(e*1e3, "expfmt-median-ms")
		b.ReportMetric(s/e, "scrape/expfmt")
		b.ReportMetric(float64(f.samples), "samples")
		b.ReportMetric(float64(size)/(1<<20), "body-MiB")
	})
	b.Run("handler", func(b *testing.B) {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.Header.Set("Accept", textAccept)
		b.ReportAllocs()
		for b.Loop() {
			f.handler.ServeHTTP(&discardWriter{h: http.Header{}}, req)
		}
	})
	b.Run("gather", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := f.gatherer.Gather(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("expfmt", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := encodeText(io.Discard, mfs); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func median(xs []float64) float64 {
	sort.Float64s(xs)
	if len(xs) == 0 {
		return 0
	}
	return xs[len(xs)/2]
}

// loadDuration is how long each load run scrapes; SCRAPE_LOAD_DURATION
// overrides it (a Go duration) for a quick look.
func loadDuration(b *testing.B) time.Duration {
	if v := os.Getenv("SCRAPE_LOAD_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("SCRAPE_LOAD_DURATION: %v", err)
		}
		return d
	}
	return time.Minute
}

// BenchmarkScrapeLoad scrapes /metrics from many clients at once, each
// scraping again as soon as it has read the last answer, for a minute: 20
// clients and 50 clients with the binary's defaults, whose
// --web.max-requests of 40 refuses the ten scrapes beyond it with 503, and
// 50 clients with --web.max-requests=50. It reports errors (anything but a
// complete 200), scrapes per second, latency, and the heap in use: live
// before the run, and the peak of each half of the run, to show it does not
// grow with time. A fixed-duration measurement: run with -benchtime 1x.
func BenchmarkScrapeLoad(b *testing.B) {
	f := fixture(b)
	for _, run := range []struct {
		clients, maxRequests int
	}{{20, 40}, {50, 40}, {50, 50}} {
		b.Run(fmt.Sprintf("clients=%d/max-requests=%d", run.clients, run.maxRequests), func(b *testing.B) {
			url := f.serveWithLimit(b, run.maxRequests)
			for b.Loop() {
				runLoad(b, f, url, run.clients, loadDuration(b))
			}
		})
	}
}

func runLoad(b *testing.B, f *scrapeFixture, url string, clients int, d time.Duration) {
	transport := &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: clients}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport}
	runtime.GC()
	var (
		ok, failed atomic.Int64
		mu         sync.Mutex
		latencies  []float64
		firstErr   error
	)
	start := time.Now()
	half := start.Add(d / 2)
	end := start.Add(d)
	heap := startHeapPeaks(half)
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []float64
			for time.Now().Before(end) {
				t := time.Now()
				if _, err := scrape(client, url); err != nil {
					failed.Add(1)
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				ok.Add(1)
				mine = append(mine, time.Since(t).Seconds())
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	first, second := heap.finish()
	sort.Float64s(latencies)
	pct := func(p float64) float64 {
		if len(latencies) == 0 {
			return 0
		}
		return latencies[min(len(latencies)-1, int(p*float64(len(latencies))))]
	}
	b.ReportMetric(float64(failed.Load()), "errors")
	b.ReportMetric(float64(ok.Load()), "scrapes")
	b.ReportMetric(float64(ok.Load())/elapsed.Seconds(), "scrapes/s")
	b.ReportMetric(pct(0.5)*1e3, "p50-ms")
	b.ReportMetric(pct(0.99)*1e3, "p99-ms")
	b.ReportMetric(float64(f.liveHeap)/(1<<20), "heap-live-before-MiB")
	b.ReportMetric(float64(first)/(1<<20), "heap-peak-1st-half-MiB")
	b.ReportMetric(float64(second)/(1<<20), "heap-peak-2nd-half-MiB")
	if firstErr != nil {
		b.Logf("first error: %v", firstErr)
	}
}

// heapPeaks samples the heap in use every 5 ms and keeps the peak of the
// first and of the second half of a run.
type heapPeaks struct {
	stop          chan struct{}
	done          chan struct{}
	first, second uint64
}

func startHeapPeaks(half time.Time) *heapPeaks {
	h := &heapPeaks{stop: make(chan struct{}), done: make(chan struct{})}
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
	go func() {
		defer close(h.done)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			inuse := s[0].Value.Uint64() + s[1].Value.Uint64()
			if time.Now().Before(half) {
				h.first = max(h.first, inuse)
			} else {
				h.second = max(h.second, inuse)
			}
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

func (h *heapPeaks) finish() (first, second uint64) {
	close(h.stop)
	<-h.done
	return h.first, h.second
}
