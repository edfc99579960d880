package backfill

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/collector"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
)

// BenchmarkBackfillQuota backfills 60 days of the account and OSS bucket
// families plus a final cycle against a simulator with BSS's quota (10/s)
// and 150 ms answers, interrupted half way and resumed. It reports the
// requests of both runs against the minimum (one page per unit, nothing
// read twice) and the resumed run's pace against the quota.
func BenchmarkBackfillQuota(b *testing.B) {
	for range b.N {
		world, err := bsssim.NewWorld(bsssim.WorldConfig{Seed: 11, Owners: 2, InstancesPerOwner: 8, SplitBillEnabled: true})
		if err != nil {
			b.Fatal(err)
		}
		sim, err := bsssim.Start(bsssim.Config{World: world, Clock: bsssim.NewManualClock(planNow), Latency: 150 * time.Millisecond})
		if err != nil {
			b.Fatal(err)
		}
		client, err := bssclient.New(bssclient.Config{Endpoint: sim.URL, RateLimit: bssclient.DefaultRateLimit,
			Credentials: bssclient.StaticCredentials(bsssim.TestAccessKeyID, bsssim.TestAccessKeySecret, "")})
		if err != nil {
			b.Fatal(err)
		}
		acct := collector.Account{Name: "bench", Client: client}
		plan, err := NewPlan(Request{From: day("2025-12-18"), To: day("2026-02-15"), Families: []string{"account", "ossbucket"}}, planNow, collector.DefaultConfig())
		if err != nil {
			b.Fatal(err)
		}
		units := len(plan.units())
		output := filepath.Join(b.TempDir(), "h.om")

		failing := &failingAfter{BSS: client}
		failing.left.Store(int64(units / 2))
		first := testRunner(collector.Account{Name: acct.Name, Client: failing}, output, OpenMetrics)
		first.Collector.ConcurrentWalks = 4
		res1, err := first.Run(context.Background(), plan)
		if !errors.Is(err, errInjected) {
			b.Fatalf("the first run: %v, want the injected failure", err)
		}
		second := testRunner(acct, output, OpenMetrics)
		second.Collector.ConcurrentWalks = 4
		start := time.Now()
		res2, err := second.Run(context.Background(), plan)
		if err != nil {
			b.Fatal(err)
		}
		elapsed := time.Since(start)
		sim.Close()

		b.ReportMetric(float64(res1.Requests+res2.Requests)/float64(units), "requests/minimum")
		b.ReportMetric(float64(res2.Requests)/elapsed.Seconds()/bssclient.DefaultRateLimit, "pace/quota")
		b.Logf("%d units; interrupted run %d requests, resumed run %d requests (%d units from the journal) in %s",
			units, res1.Requests, res2.Requests, res2.Resumed, elapsed.Round(time.Millisecond))
	}
}
