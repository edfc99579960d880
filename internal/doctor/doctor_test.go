package doctor

import (
	"context"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/collector"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
)

// countingObserver counts attempts; the exporter's walks run at once.
type countingObserver struct{ n atomic.Int64 }

func (o *countingObserver) RequestDone(string, string, time.Duration) { o.n.Add(1) }
func (o *countingObserver) Retried(string, string)                    {}
func (o *countingObserver) Throttled(string)                          {}

// TestPredictionsMatchAColdStart: on the benchmark's account of about
// 5,000 instance-bill rows a day, the predicted cold-start requests are
// within 20 % of what the exporter's default collectors then make, and the
// predicted series of each collector within 10 % of what it publishes.
func TestPredictionsMatchAColdStart(t *testing.T) {
	for _, moment := range []time.Time{
		time.Date(2026, 3, 6, 11, 0, 0, 0, bssclient.BillingZone),  // early: exposed days of two cycles
		time.Date(2026, 3, 16, 11, 0, 0, 0, bssclient.BillingZone), // mid-month
		time.Date(2026, 4, 2, 11, 0, 0, 0, bssclient.BillingZone),  // the previous cycle not final yet
	} {
		t.Run(moment.Format("Jan 2"), func(t *testing.T) { predictAt(t, moment, false) })
	}
	// Reading both bill collectors' days from the bill files.
	t.Run("bill files", func(t *testing.T) { predictAt(t, time.Date(2026, 3, 16, 11, 0, 0, 0, bssclient.BillingZone), true) })
}

// startSim starts a simulator of a world at moment, without a quota, until
// the test ends.
func startSim(t *testing.T, wc bsssim.WorldConfig, moment time.Time) (*bsssim.World, *bsssim.ManualClock, *bsssim.Running) {
	t.Helper()
	world, err := bsssim.NewWorld(wc)
	if err != nil {
		t.Fatal(err)
	}
	clock := bsssim.NewManualClock(moment)
	sim, err := bsssim.Start(bsssim.Config{World: world, Clock: clock, QuotaPerSecond: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	return world, clock, sim
}

func predictAt(t *testing.T, moment time.Time, billFiles bool) {
	world, clock, sim := startSim(t, bsssim.WorldConfig{Seed: 11, Owners: 5, InstancesPerOwner: 1412, SplitBillEnabled: true, SplitItemSubscription: true}, moment)
	client := func(o bssclient.Observer) *bssclient.Client {
		c, err := bssclient.New(bssclient.Config{Endpoint: sim.URL, RateLimit: 1000, Burst: 100, Observer: o,
			Credentials: bssclient.StaticCredentials(bsssim.TestAccessKeyID, bsssim.TestAccessKeySecret, "")})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	cfg := collector.DefaultConfig()
	cfg.Now = clock.Now
	acct := collector.Account{Name: "sim"}
	if billFiles {
		cfg.Instance.Source, cfg.OSSBucket.Source = collector.SourceBillFiles, collector.SourceBillFiles
		oss, err := bsssim.StartOSS(world, bsssim.OSSConfig{Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = oss.Close() })
		creds := bssclient.StaticCredentials(bsssim.TestAccessKeyID, bsssim.TestAccessKeySecret, "")
		if acct.BillFiles, err = bssclient.NewOSSReader(bssclient.OSSConfig{Credentials: creds, Region: bsssim.DefaultOSSRegion, Endpoint: oss.URL}); err != nil {
			t.Fatal(err)
		}
	}
	var enabled []collector.Enabled
	var names []string
	for _, r := range collector.Registrations() {
		if r.DefaultEnabled {
			enabled = append(enabled, collector.Enabled{Name: r.Name, Interval: r.DefaultInterval})
			names = append(names, r.Name)
		}
	}

	doctorObs := &countingObserver{}
	report := Run(context.Background(), Input{
		Account: "sim", Client: client(doctorObs), Credentials: bssclient.StaticCredentials(bsssim.TestAccessKeyID, bsssim.TestAccessKeySecret, ""),
		CredentialSource: "access_key", Endpoint: sim.URL, RateLimit: 10, Config: cfg, Enabled: names, MaxRequests: 200,
		Skew: func() (time.Duration, bool) { return 0, true }, Now: moment,
	})
	if report.ExitCode() != 0 {
		t.Fatalf("the doctor found faults: %+v", report.Checks)
	}
	if seen := int(doctorObs.n.Load()); report.Requests != seen {
		t.Errorf("the doctor reports %d requests, its client's observer saw %d", report.Requests, seen)
	}

	exporterObs := &countingObserver{}
	acct.Client = client(exporterObs)
	exp, err := collector.New(acct, enabled, cfg, log.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	if err := exp.RefreshOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	series := map[string]float64{}
	reg := prometheus.NewRegistry()
	reg.MustRegister(exp)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "aliyun_billing_snapshot_series" {
			for _, m := range mf.GetMetric() {
				series[label(m, "collector")] = m.GetGauge().GetValue()
			}
		}
	}

	predicted := 0
	for _, p := range report.Predictions {
		predicted += p.ColdRequests
		got := series[p.Collector]
		if p.Series == 0 {
			t.Errorf("%s: no series predicted; the exporter publishes %.0f", p.Collector, got)
		} else if math.Abs(float64(p.Series)-got) > 0.1*got {
			t.Errorf("%s: predicted %d series, the exporter publishes %.0f", p.Collector, p.Series, got)
		}
	}
	made := int(exporterObs.n.Load())
	if math.Abs(float64(predicted-made)) > 0.2*float64(made) {
		t.Errorf("predicted %d cold-start requests, the exporter made %d", predicted, made)
	}
	t.Logf("cold start: predicted %d requests, made %d; series %v; predictions %+v", predicted, made, series, report.Predictions)
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// TestPeakMemoryPrediction: the prediction takes the larger read of the
// enabled collectors that hold rows (they take turns), costs a bucket
// read by its source, and says "?" with a limit to set when the limit the
// peak needs is above the chart's default.
func TestPeakMemoryPrediction(t *testing.T) {
	api, files := collector.SourceAPI, collector.SourceBillFiles
	for _, tc := range []struct {
		name            string
		enabled         []string
		source          collector.Source
		instanceMonth   int
		splitDay        int
		wantHeapMiB     int
		wantLimitMiB    int
		wantMark        Mark
		wantNextMention string
	}{
		{"no bill collector holds rows", []string{"account", "balance"}, api, 1_000_000, 1_000_000, 15, 25, OK, ""},
		{"a small account", []string{"account", "instance", "ossbucket"}, api, 5783, 6354, 15, 25, OK, ""},
		{"only ossbucket", []string{"ossbucket"}, api, 1_000_000, 1_000_000, 15 + 49, 107, OK, ""},
		{"the instance month is the larger read", []string{"instance", "ossbucket"}, api, 8_000_000, 1_000_000, 15 + 122, 229, OK, ""},
		{"a million rows a day", []string{"instance", "ossbucket"}, api, 1_150_000, 1_270_000, 15 + 62, 129, OK, ""},
		{"a million rows a day from bill files", []string{"instance", "ossbucket"}, files, 1_150_000, 1_270_000, 15 + 30, 75, OK, ""},
		{"five million split rows a day", []string{"instance", "ossbucket"}, api, 1_150_000, 5_000_000, 15 + 247, 437, Unknown, "at least 437 MiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := collector.DefaultConfig()
			cfg.OSSBucket.Source = tc.source
			r := &run{in: Input{Enabled: tc.enabled, Config: cfg}, rows: map[string]billSize{
				bssclient.ActionDescribeInstanceBill:  {day: tc.instanceMonth / 30, month: tc.instanceMonth},
				bssclient.ActionDescribeSplitItemBill: {day: tc.splitDay, month: tc.splitDay * 30},
			}}
			r.predictMemory()
			if r.report.PeakHeapMiB != tc.wantHeapMiB || r.report.MemoryLimitMiB != tc.wantLimitMiB {
				t.Errorf("predicted %d MiB of heap and a %d MiB limit, want %d and %d", r.report.PeakHeapMiB, r.report.MemoryLimitMiB, tc.wantHeapMiB, tc.wantLimitMiB)
			}
			if len(r.report.Checks) != 1 || r.report.Checks[0].Mark != tc.wantMark || !strings.Contains(r.report.Checks[0].Next, tc.wantNextMention) {
				t.Errorf("checks %+v, want one marked %s naming %q", r.report.Checks, tc.wantMark, tc.wantNextMention)
			}
		})
	}
	r := &run{in: Input{Enabled: []string{"instance"}}, rows: map[string]billSize{}}
	r.predictMemory()
	if r.report.PeakHeapMiB != 0 || len(r.report.Checks) != 0 {
		t.Errorf("predicted without the instance bill measured: %+v", r.report)
	}
}

// TestSavingsPlanTimestampGuess: an EndTimestamp in seconds, not the
// milliseconds the exporter reads, is a "?" naming the guess.
func TestSavingsPlanTimestampGuess(t *testing.T) {
	end := time.Date(2027, 5, 1, 0, 0, 0, 0, bssclient.BillingZone)
	plan := func(stamp int64) bssclient.SavingsPlanInstance {
		return bssclient.SavingsPlanInstance{EndTime: end.Format("2006-01-02 15:04:05"), EndTimestamp: bssclient.FlexInt(stamp)}
	}
	for _, tc := range []struct {
		name  string
		plans []bssclient.SavingsPlanInstance
		want  Mark
	}{
		{"milliseconds", []bssclient.SavingsPlanInstance{plan(end.UnixMilli()), plan(end.UnixMilli() + 3_600_000)}, Note},
		{"seconds", []bssclient.SavingsPlanInstance{plan(end.UnixMilli()), plan(end.Unix())}, Unknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &run{}
			r.planTimestamps(tc.plans)
			r.guesses()
			for _, c := range r.report.Checks {
				if strings.Contains(c.Detail, "savings plan timestamps") {
					if c.Mark != tc.want {
						t.Errorf("%s %s, want mark %s", c.Mark, c.Detail, tc.want)
					}
					return
				}
			}
			t.Errorf("no savings plan timestamp check in %+v", r.report.Checks)
		})
	}
}
