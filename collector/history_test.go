package collector

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
)

// historyAccount is a small world's account on a manual billing clock.
func historyAccount(t *testing.T, now time.Time) Account {
	t.Helper()
	world, err := bsssim.NewWorld(bsssim.WorldConfig{Seed: 3, Owners: 2, InstancesPerOwner: 10, SplitBillEnabled: true})
	if err != nil {
		t.Fatal(err)
	}
	sim, err := bsssim.Start(bsssim.Config{World: world, Clock: bsssim.NewManualClock(now), QuotaPerSecond: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	client, err := bssclient.New(bssclient.Config{Endpoint: sim.URL, RateLimit: 1000,
		Credentials: bssclient.StaticCredentials(bsssim.TestAccessKeyID, bsssim.TestAccessKeySecret, "")})
	if err != nil {
		t.Fatal(err)
	}
	return Account{Name: "hist", Client: client}
}

// historyExposition encodes the families whose name has prefix, samples of day only.
func historyExposition(t *testing.T, mfs []*dto.MetricFamily, prefix string, day bssclient.Day) string {
	t.Helper()
	var b strings.Builder
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), prefix) {
			continue
		}
		keep := &dto.MetricFamily{Name: mf.Name, Help: mf.Help, Type: mf.Type}
		for _, m := range mf.Metric {
			if m.GetTimestampMs() == day.Start().UnixMilli() {
				keep.Metric = append(keep.Metric, m)
			}
		}
		if _, err := expfmt.MetricFamilyToText(&b, keep); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// TestDailyHistoryIsTheLiveFamily: a day read for backfill is exposed with
// the names, help, labels, values and timestamps the live exporter gives
// the same day, per-instance series included, so dashboards see no seam.
func TestDailyHistoryIsTheLiveFamily(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 20, 0, 0, bssclient.BillingZone)
	acct := historyAccount(t, now)
	cfg := DefaultConfig()
	cfg.Now = func() time.Time { return now }
	cfg.Instance = InstanceConfig{Zone: true, ResourceGroup: true, CostUnit: true, TagKeys: []string{"env"}, PerInstance: true, MaxInstances: 5}

	var enabled []Enabled
	for _, name := range DayBookCollectors() {
		enabled = append(enabled, Enabled{Name: name, Interval: time.Hour})
	}
	exp, err := New(acct, enabled, cfg, log.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	if err := exp.RefreshOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	if err := reg.Register(exp); err != nil {
		t.Fatal(err)
	}
	live, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}

	// The history reads days with the collectors' readers alone: a state
	// directory it is given stays untouched.
	histCfg := cfg
	histCfg.StateDir = t.TempDir()
	for _, name := range DayBookCollectors() {
		h, err := NewDailyHistory(name, acct, histCfg, log.NewNopLogger())
		if err != nil {
			t.Fatal(err)
		}
		day := LiveWindowStart(now, h.kind, cfg) // the oldest day the live exporter shows
		ms, err := h.ReadDay(context.Background(), day)
		if err != nil {
			t.Fatal(err)
		}
		hreg := prometheus.NewRegistry()
		if err := hreg.Register(historyMetrics(ms)); err != nil {
			t.Fatal(err)
		}
		read, err := hreg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		prefix := namespace + "_" + name + "_daily_"
		want, got := historyExposition(t, live, prefix, day), historyExposition(t, read, prefix, day)
		if want == "" || !strings.Contains(want, "} ") {
			t.Fatalf("%s: the live exporter shows nothing on %s", name, day)
		}
		if got != want {
			t.Errorf("%s on %s: the backfill reads\n%s\nthe live exporter shows\n%s", name, day, got, want)
		}
	}
	if left, err := os.ReadDir(histCfg.StateDir); err != nil || len(left) > 0 {
		t.Errorf("the history wrote to the state directory: %v %v", left, err)
	}
}

func TestReadFinalCycle(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 20, 0, 0, bssclient.BillingZone)
	acct := historyAccount(t, now)
	cfg := DefaultConfig()
	if _, err := ReadFinalCycle(context.Background(), acct, cfg, bssclient.Cycle{Year: 2026, Month: 2}, now); err == nil ||
		err.Error() != "billing cycle 2026-02 is not final until 2026-03-03T15:00:00+08:00 (BSS's moment plus the settle margin)" {
		t.Errorf("a cycle not final yet: %v", err)
	}
	jan := bssclient.Cycle{Year: 2026, Month: 1}
	ms, err := ReadFinalCycle(context.Background(), acct, cfg, jan, now)
	if err != nil {
		t.Fatal(err)
	}
	var finals, payables int
	for _, m := range ms {
		var d dto.Metric
		if err := m.Write(&d); err != nil {
			t.Fatal(err)
		}
		if d.GetTimestampMs() != jan.FinalAt(bssclient.KindAmounts).UnixMilli() {
			t.Errorf("%s stamped %d, want the final moment", m.Desc(), d.GetTimestampMs())
		}
		switch desc := m.Desc().String(); {
		case strings.Contains(desc, `"aliyun_billing_cycle_final"`):
			finals++
		case strings.Contains(desc, `"aliyun_billing_account_cycle_payable"`):
			payables++
		}
	}
	if finals != 1 || payables == 0 {
		t.Errorf("%d cycle_final and %d payable samples, want 1 and some", finals, payables)
	}
}

// historyMetrics is an unchecked collector of ready-made metrics.
type historyMetrics []prometheus.Metric

func (historyMetrics) Describe(chan<- *prometheus.Desc) {}
func (s historyMetrics) Collect(ch chan<- prometheus.Metric) {
	for _, m := range s {
		ch <- m
	}
}
