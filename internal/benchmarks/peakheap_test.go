package benchmarks

import (
	"context"
	"iter"
	"net/http"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/collector"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/proctest"
)

// Figure 4, memory. The instance collector refreshes one settled day of
// 10,000, 100,000 and 1,000,000 instance-bill rows (and the million rows
// again by zone and by zone and tags, for more series), and a goroutine samples
// the heap every millisecond meanwhile. The simulator runs as a separate
// process (cmd/bss-simulator, built by the benchmark), so the heap measured
// is the collector's alone: the simulator's own caches for a million-row day
// would otherwise dominate it. Its peak resident size is reported apart.

// memoryStart is when March 1 is the only day the instance collector keeps:
// the cycle's first day, settled 48 h after it ended, and the whole of a
// one-day exposure window.
var memoryStart = time.Date(2025, time.March, 4, 12, 0, 0, 0, bssclient.BillingZone)

// heapSampler records the largest heap seen: in use (objects plus free
// space in spans holding objects, runtime.MemStats.HeapInuse), objects
// alone (HeapAlloc), and the GC's heap goal.
type heapSampler struct {
	stop                 chan struct{}
	done                 chan struct{}
	inuse, alloc, goal   uint64
	baseInuse, baseAlloc uint64
}

var heapMetrics = []string{"/memory/classes/heap/objects:bytes", "/memory/classes/heap/unused:bytes", "/gc/heap/goal:bytes"}

func readHeap(s []metrics.Sample) (inuse, alloc, goal uint64) {
	metrics.Read(s)
	alloc = s[0].Value.Uint64()
	return alloc + s[1].Value.Uint64(), alloc, s[2].Value.Uint64()
}

func startHeapSampler(every time.Duration) *heapSampler {
	runtime.GC()
	runtime.GC()
	h := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	samples := make([]metrics.Sample, len(heapMetrics))
	for i, name := range heapMetrics {
		samples[i].Name = name
	}
	h.baseInuse, h.baseAlloc, _ = readHeap(samples)
	go func() {
		defer close(h.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			inuse, alloc, goal := readHeap(samples)
			h.inuse, h.alloc, h.goal = max(h.inuse, inuse), max(h.alloc, alloc), max(h.goal, goal)
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

func (h *heapSampler) finish() {
	close(h.stop)
	<-h.done
}

const mib = 1 << 20

// BenchmarkPeakHeap is figure 4. Each size is a fixed amount of work: run
// it with -benchtime 1x.
func BenchmarkPeakHeap(b *testing.B) {
	byZone := func(c *collector.Config) { c.Instance.Zone = true }
	byZoneAndEnv := func(c *collector.Config) {
		c.Instance.Zone = true
		c.Instance.TagKeys = []string{"env", "team"} // team follows the owner: only env adds series
	}
	for _, size := range []struct {
		name              string
		instancesPerOwner int
		configure         func(*collector.Config)
	}{
		// Owners 9 plus the payer at about 3.1 rows per instance a day.
		{"rows=10k", 345, nil},
		{"rows=100k", 3_450, nil},
		{"rows=1M", 34_500, nil},
		// The same day by zone, and by zone and tags: more series.
		{"rows=1M/zone", 34_500, byZone},
		{"rows=1M/zone+tags", 34_500, byZoneAndEnv},
	} {
		b.Run(size.name, func(b *testing.B) {
			for b.Loop() {
				sim := proctest.StartSimulator(b, "--seed=41", "--owners=9", "--instances-per-owner="+strconv.Itoa(size.instancesPerOwner),
					"--quota=-1", "--latency=0s", "--clock.start="+memoryStart.Format(time.RFC3339), "--log.level=warn")
				client := &rowCounter{Client: unlimitedClient(b, sim.URL)}
				cfg := collector.DefaultConfig()
				cfg.Now = func() time.Time { return memoryStart }
				cfg.ExposureDays = 1
				if size.configure != nil {
					size.configure(&cfg)
				}
				exp, err := collector.New(collector.Account{Name: "bench", Client: client},
					[]collector.Enabled{{Name: "instance", Interval: time.Hour}}, cfg, log.NewNopLogger())
				if err != nil {
					b.Fatal(err)
				}

				var requests atomic.Int64
				h := startHeapSampler(time.Millisecond)
				start := time.Now()
				err = exp.RefreshOnce(bssclient.WithRequestCounter(context.Background(), &requests))
				took := time.Since(start)
				h.finish()
				if err != nil {
					b.Fatal(err)
				}
				samples, days := instanceSamples(b, exp)
				if days != 1 {
					b.Fatalf("the collector exposed %d days, want 1", days)
				}
				rows := client.rows.Load()
				b.ReportMetric(float64(h.inuse)/mib, "peak-heap-inuse-MiB")
				b.ReportMetric(float64(h.alloc)/mib, "peak-heap-alloc-MiB")
				b.ReportMetric(float64(h.goal)/mib, "peak-heap-goal-MiB")
				b.ReportMetric(float64(h.baseInuse)/mib, "base-heap-MiB")
				b.ReportMetric(float64(rows), "rows")
				b.ReportMetric(float64(samples), "samples")
				b.ReportMetric(float64(rows)/took.Seconds(), "rows/s")
				b.ReportMetric(float64(sim.PeakRSS())/mib, "simulator-peak-rss-MiB")
				b.Logf("%d rows in %d requests, %s; %d samples in the instance families (the day's and the cycle's, an amount column each)",
					rows, requests.Load(), took.Round(time.Millisecond), samples)
			}
		})
	}
}

// instanceSamples counts the samples of the aliyun_billing_instance_*
// families exp exposes, and the distinct days those of the daily families
// are stamped with.
func instanceSamples(tb testing.TB, exp *collector.Exporter) (samples, days int) {
	tb.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(exp)
	families, err := reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	stamps := map[int64]bool{}
	for _, f := range families {
		if !strings.HasPrefix(f.GetName(), "aliyun_billing_instance_") {
			continue
		}
		for _, m := range f.GetMetric() {
			samples++
			if strings.HasPrefix(f.GetName(), "aliyun_billing_instance_daily_") {
				stamps[m.GetTimestampMs()] = true
			}
		}
	}
	return samples, len(stamps)
}

// unlimitedClient is a client of the simulator at url with the rate limit
// lifted, as the simulator's quota is.
func unlimitedClient(tb testing.TB, url string) *bssclient.Client {
	tb.Helper()
	c, err := bssclient.New(bssclient.Config{
		Endpoint:    url,
		Credentials: bssclient.StaticCredentials(bsssim.TestAccessKeyID, bsssim.TestAccessKeySecret, ""),
		RateLimit:   1e9,
		HTTPClient:  &http.Client{Transport: &http.Transport{MaxIdleConns: 32, MaxIdleConnsPerHost: 32, IdleConnTimeout: time.Minute}},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// rowCounter counts the instance-bill rows its walks yield.
type rowCounter struct {
	*bssclient.Client
	rows atomic.Int64
}

func (r *rowCounter) DescribeInstanceBill(ctx context.Context, req bssclient.InstanceBillRequest) iter.Seq2[[]bssclient.InstanceBillItem, error] {
	return func(yield func([]bssclient.InstanceBillItem, error) bool) {
		for page, err := range r.Client.DescribeInstanceBill(ctx, req) {
			r.rows.Add(int64(len(page)))
			if !yield(page, err) {
				return
			}
		}
	}
}
