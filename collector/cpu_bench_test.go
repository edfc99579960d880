package collector

import (
	"context"
	"encoding/json"
	"net/http"
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

// BenchmarkDecodeAggregate is figure 3: the exporter's CPU per instance-bill
// row, from the HTTP answer to the aggregated day (signing, the limiter,
// decoding with exact money, label extraction and exact sums), against a
// plain encoding/json decode of the same bytes into the same structs.
// Answers are replayed from memory, so neither the network nor the
// simulator is measured. Run it with -cpu 1: the target is per core.
//
// Each round times one full day through the collector and one plain decode
// of the same pages, back to back, so that both see the same machine; the
// ratio reported is the median of the rounds.
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

	var ours, plain time.Duration
	var ratios []float64
	var series int
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		booked, err := ic.fetchDay(ctx, cpuDay)
		if err != nil {
			b.Fatal(err)
		}
		o := time.Since(start)
		series = len(booked.series)

		b.StopTimer()
		start = time.Now()
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
		p := time.Since(start)
		if n != day.rows {
			b.Fatalf("plain decode read %d rows, want %d", n, day.rows)
		}
		b.StartTimer()
		ours += o
		plain += p
		ratios = append(ratios, o.Seconds()/p.Seconds())
	}
	b.ReportMetric(float64(day.rows)*float64(b.N)/ours.Seconds(), "rows/s")
	b.ReportMetric(float64(day.rows)*float64(b.N)/plain.Seconds(), "plain-rows/s")
	b.ReportMetric(median(ratios), "ratio-to-plain")
	b.ReportMetric(float64(day.rows), "rows/op")
	b.ReportMetric(float64(series), "series")
}
