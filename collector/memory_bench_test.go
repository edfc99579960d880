package collector

import (
	"context"
	"iter"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/proctest"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

// Figure 4, memory. The instance collector refreshes one settled day of
// 10,000, 100,000 and 1,000,000 instance-bill rows (and the million rows
// again by zone and by zone and tags, for more series), and a goroutine samples
// the heap every millisecond meanwhile. The simulator runs as a separate
// process (cmd/bss-simulator, built by the benchmark), so the heap measured
// is the exporter's alone: the simulator's own caches for a million-row day
// would otherwise dominate it. Its peak resident size is reported apart.

// memoryStart is when March 1 is the only day the instance collector keeps:
// the cycle's first day, settled 48 h after it ended, and the whole of a
// one-day exposure window.
var memoryStart = at(2025, time.March, 4, 12)

// startSimProcess runs bss-simulator with the quota lifted, its billing
// clock starting at start.
func startSimProcess(tb testing.TB, owners, instancesPerOwner int, start time.Time) *proctest.Simulator {
	tb.Helper()
	return proctest.StartSimulator(tb, "--seed=41", "--owners="+strconv.Itoa(owners), "--instances-per-owner="+strconv.Itoa(instancesPerOwner),
		"--quota=-1", "--latency=0s", "--clock.start="+start.Format(time.RFC3339), "--log.level=warn")
}

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
	byZone := func(c *Config) { c.Instance.Zone = true }
	byZoneAndEnv := func(c *Config) {
		c.Instance.Zone = true
		c.Instance.TagKeys = []string{"env", "team"} // team follows the owner: only env adds series
	}
	for _, size := range []struct {
		name              string
		instancesPerOwner int
		configure         func(*Config)
	}{
		// Owners 9 plus the payer at about 0.58 rows per instance a day.
		{"rows=10k", 1_750, nil},
		{"rows=100k", 17_500, nil},
		{"rows=1M", 175_000, nil},
		// The same day by zone, and by zone and tags: more series.
		{"rows=1M/zone", 175_000, byZone},
		{"rows=1M/zone+tags", 175_000, byZoneAndEnv},
	} {
		b.Run(size.name, func(b *testing.B) {
			for b.Loop() {
				sim := startSimProcess(b, 9, size.instancesPerOwner, memoryStart)
				obs := &countingObserver{}
				client := &rowCounter{Client: benchClient(b, sim.URL, 1e9, nil, obs)}
				exp := newBenchExporter(b, client, func() time.Time { return memoryStart }, []string{"instance"},
					func(c *Config) {
						c.ExposureDays = 1
						if size.configure != nil {
							size.configure(c)
						}
					})

				h := startHeapSampler(time.Millisecond)
				start := time.Now()
				err := exp.RefreshOnce(context.Background())
				took := time.Since(start)
				h.finish()
				if err != nil {
					b.Fatal(err)
				}
				st := exp.workers[0].state.Load()
				rows := client.rows.Load()
				if n := len(exp.workers[0].collector.(*instanceCollector).book.days); n != 1 {
					b.Fatalf("the collector booked %d days, want 1", n)
				}
				b.ReportMetric(float64(h.inuse)/mib, "peak-heap-inuse-MiB")
				b.ReportMetric(float64(h.alloc)/mib, "peak-heap-alloc-MiB")
				b.ReportMetric(float64(h.goal)/mib, "peak-heap-goal-MiB")
				b.ReportMetric(float64(h.baseInuse)/mib, "base-heap-MiB")
				b.ReportMetric(float64(rows), "rows")
				b.ReportMetric(float64(len(st.snapshot.Metrics)), "metrics")
				b.ReportMetric(float64(rows)/took.Seconds(), "rows/s")
				b.ReportMetric(float64(sim.PeakRSS())/mib, "simulator-peak-rss-MiB")
				b.Logf("%d rows in %d requests, %s; %d series (%d metrics, six amount columns each)",
					rows, obs.requests, took.Round(time.Millisecond), len(st.snapshot.Metrics)/6, len(st.snapshot.Metrics))
			}
		})
	}
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

// TestMain removes the binaries the benchmarks built (proctest.Built).
func TestMain(m *testing.M) { proctest.Main(m) }
