package collector

import (
	"context"
	"encoding/json"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
)

// cpuDay is the day the CPU benchmark walks, and cpuNow a moment at which
// its instance attributes have settled.
var (
	cpuDay = bssclient.Day{Year: 2025, Month: time.March, Day: 10}
	cpuNow = at(2025, time.March, 14, 12)
)

// capturedDay is one day's DescribeInstanceBill walk, recorded.
type capturedDay struct {
	rows   int
	bodies [][]byte // in walk order
	replay *replayTransport
}

// captureInstanceDay walks day once against a simulator with the quota
// lifted and keeps every answer.
func captureInstanceDay(b *testing.B, wc bsssim.WorldConfig, day bssclient.Day, now time.Time) capturedDay {
	b.Helper()
	world, err := bsssim.NewWorld(wc)
	if err != nil {
		b.Fatal(err)
	}
	run, _ := startBenchSim(b, world, now, -1, 0)
	capture := &capturingTransport{next: http.DefaultTransport}
	client := benchClient(b, run.URL, 1e9, capture, nil)
	req := bssclient.InstanceBillRequest{BillingCycle: day.Cycle(), Granularity: bssclient.Daily, BillingDate: day}
	var out capturedDay
	for page, err := range client.DescribeInstanceBill(b.Context(), req) {
		if err != nil {
			b.Fatal(err)
		}
		out.rows += len(page)
	}
	if want := dayRows(world, day, now); out.rows != want {
		b.Fatalf("walked %d rows, the day has %d", out.rows, want)
	}
	// Walk order: follow the tokens from the first page.
	token := ""
	for {
		body := capture.bodies[bssclient.ActionDescribeInstanceBill+" "+day.String()+" "+token]
		if body == nil {
			b.Fatalf("no captured page for token %q", token)
		}
		out.bodies = append(out.bodies, body)
		var env struct {
			Data struct{ NextToken string }
		}
		if err := json.Unmarshal(body, &env); err != nil {
			b.Fatal(err)
		}
		if token = env.Data.NextToken; token == "" {
			break
		}
	}
	out.replay = &replayTransport{bodies: capture.bodies}
	return out
}

// quotaRowsPerSecond is the most bill rows BSS serves one account: 10
// requests a second of at most 300 rows.
const quotaRowsPerSecond = bssclient.DefaultRateLimit * bssclient.MaxPageSize

// BenchmarkDecodeAggregate is figure 3: the exporter's CPU per instance-bill
// row, from the HTTP answer to the aggregated day (signing, the limiter,
// decoding with exact money, label extraction and exact sums). Answers are
// replayed from memory, so neither the network nor the simulator is
// measured. Run it with -cpu 1: the target is per core.
//
// rows/cpu-s counts the process's CPU time (all threads, garbage collection
// included) spent in the collector, not the wall clock, so that other work
// on a shared machine does not count against it. x-quota is rows/cpu-s over
// the 3,000 rows/s BSS delivers to one account at most; the target is ≥ 10,
// a tenth of a core at full quota. Each round also decodes the same pages
// with plain encoding/json, nothing aggregated, back to back on the same
// machine: ratio-to-plain (the median of the rounds) is what aggregation
// adds to decoding.
func BenchmarkDecodeAggregate(b *testing.B) {
	day := captureInstanceDay(b, benchWorld(5, 5, 50_000), cpuDay, cpuNow)
	client := benchClient(b, "http://127.0.0.1:1", 1e9, day.replay, nil)
	cfg := DefaultConfig()
	cfg.Now = func() time.Time { return cpuNow }
	col, err := newInstanceCollector(Account{Name: "bench", Client: client}, cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	ic := col.(*instanceCollector)
	ctx := context.Background()

	var ours, oursCPU time.Duration
	var ratios []float64
	var series int
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		start, startCPU := time.Now(), processCPUTime(b)
		booked, err := ic.fetchDay(ctx, cpuDay)
		if err != nil {
			b.Fatal(err)
		}
		o, oCPU := time.Since(start), processCPUTime(b)-startCPU
		series = len(booked.series)

		b.StopTimer()
		startCPU = processCPUTime(b)
		n := 0
		for _, body := range day.bodies {
			var env struct {
				Data bssclient.InstanceBillData
			}
			if err := json.Unmarshal(body, &env); err != nil {
				b.Fatal(err)
			}
			n += len(env.Data.Items)
		}
		pCPU := processCPUTime(b) - startCPU
		if n != day.rows {
			b.Fatalf("plain decode read %d rows, want %d", n, day.rows)
		}
		b.StartTimer()
		ours += o
		oursCPU += oCPU
		ratios = append(ratios, oCPU.Seconds()/pCPU.Seconds())
	}
	perCPUSecond := float64(day.rows) * float64(b.N) / oursCPU.Seconds()
	b.ReportMetric(float64(day.rows)*float64(b.N)/ours.Seconds(), "rows/s")
	b.ReportMetric(perCPUSecond, "rows/cpu-s")
	b.ReportMetric(perCPUSecond/quotaRowsPerSecond, "x-quota")
	b.ReportMetric(median(ratios), "ratio-to-plain")
	b.ReportMetric(float64(day.rows), "rows/op")
	b.ReportMetric(float64(series), "series")
}

// processCPUTime is the CPU time this process has used, all threads.
func processCPUTime(tb testing.TB) time.Duration {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
