package dashboards

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/proctest"
)

// vmDedupInterval is what the README recommends for VictoriaMetrics (with
// -search.cacheTimestampOffset, see startVictoriaMetrics):
// -dedup.minScrapeInterval equal to the scrape interval (1s in these tests,
// 60s in the example), so that the daily samples the exporter re-sends at
// every scrape, and those of an HA pair, are stored once.
const vmDedupInterval = "1s"

// TestVictoriaMetrics runs the Debian victoria-metrics binary with the
// README's settings in the ways users run it, and checks that every daily
// sample lands on its UTC+8 day exactly once and that the "Daily spend"
// bars and the month to date equal the simulator's truth:
//   - VictoriaMetrics scrapes an HA pair of demo exporters itself
//     (-promscrape.config, honor_timestamps: true);
//   - vmagent scrapes them and remote_writes to VictoriaMetrics, the
//     long-term store;
//   - Prometheus scrapes them and remote_writes to VictoriaMetrics. Its
//     remote_write does not send out-of-order samples
//     (https://github.com/prometheus/prometheus/issues/11496), and every
//     daily sample is one: the month to date arrives, the daily series do
//     not, and AliyunBillingDailySamplesDropped says so.
func TestVictoriaMetrics(t *testing.T) {
	vmBin := toolPath(t, "victoria-metrics")
	vmagentBin := toolPath(t, "vmagent")
	promBin := toolPath(t, "prometheus")
	exp := sharedExporter(t)
	replica := anotherExporter(t, "vm-replica")
	truth := newDemoTruth(t, exp)
	want := exposedSampleCounts(t, exp)
	scrapeConfig := fmt.Sprintf(`scrape_configs:
  - job_name: aliyun-billing
    scrape_interval: 1s
    honor_timestamps: true
    static_configs:
      - targets: [%q, %q]
`, exp.addr, replica.addr)

	t.Run("ScrapesTheExporter", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "scrape.yml"), scrapeConfig)
		vm, vmProc := startVictoriaMetrics(t, vmBin, dir, "vm", "-dedup.minScrapeInterval="+vmDedupInterval, "-promscrape.config=scrape.yml")
		// The same scrapes into a VictoriaMetrics without deduplication:
		// every scrape re-sends each daily sample, and it keeps them all.
		plain, _ := startVictoriaMetrics(t, vmBin, dir, "vm-no-dedup", "-promscrape.config=scrape.yml")
		for _, api := range []promClient{vm, plain} {
			waitVM(t, api, 2, true)
		}
		checkVMDaily(t, vm, exp, truth, want)
		noCacheResets(t, vmProc)

		got, err := vm.nonEmpty(`count_over_time(aliyun_billing_account_daily_payable[12d])`, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		dup, err := plain.nonEmpty(`count_over_time(aliyun_billing_account_daily_payable[12d])`, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if sum(dup) <= sum(got) {
			t.Errorf("without -dedup.minScrapeInterval VictoriaMetrics stored %v daily samples, with it %v: the test no longer shows re-sent samples", sum(dup), sum(got))
		}
	})

	t.Run("RemoteWriteFromVmagent", func(t *testing.T) {
		dir := t.TempDir()
		vm, vmProc := startVictoriaMetrics(t, vmBin, dir, "vm", "-dedup.minScrapeInterval="+vmDedupInterval)
		writeFile(t, filepath.Join(dir, "scrape.yml"), scrapeConfig)
		agentAddr := proctest.FreeAddr(t)
		agent := proctest.StartT(t, "vmagent", dir, vmagentBin,
			"-httpListenAddr="+agentAddr, "-promscrape.config=scrape.yml",
			"-remoteWrite.url="+vm.base+"/api/v1/write", "-remoteWrite.tmpDataPath="+filepath.Join(dir, "vmagent-data"))
		if err := agent.WaitReady("http://"+agentAddr+"/health", time.Minute); err != nil {
			t.Fatal(err)
		}
		waitVM(t, vm, 2, true)
		checkVMDaily(t, vm, exp, truth, want)
		noCacheResets(t, vmProc)
	})

	t.Run("RemoteWriteFromPrometheus", func(t *testing.T) {
		dir := t.TempDir()
		vm, _ := startVictoriaMetrics(t, vmBin, dir, "vm", "-dedup.minScrapeInterval="+vmDedupInterval)
		var example struct {
			Storage struct {
				TSDB struct {
					OOOWindow string `yaml:"out_of_order_time_window"`
				} `yaml:"tsdb"`
			} `yaml:"storage"`
		}
		readYAML(t, examplePrometheus, &example)
		writeTargets(t, dir, exp, replica)
		local, _ := startPrometheus(t, promBin, dir, "prometheus", fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
storage:
  tsdb:
    out_of_order_time_window: %s
remote_write:
  - url: %s/api/v1/write
scrape_configs:
  - job_name: aliyun-billing
    file_sd_configs:
      - files: [targets.json]
        refresh_interval: 1s
`, example.Storage.TSDB.OOOWindow, vm.base))
		waitVM(t, vm, 2, false)
		// Prometheus itself stored the daily samples ...
		if _, err := local.nonEmpty(`count_over_time(aliyun_billing_account_daily_payable[12d])`, time.Now()); err != nil {
			t.Fatalf("Prometheus did not store the daily samples: %v", err)
		}
		// ... and remote_written the cycle gauges, which equal the truth ...
		testMonthToDate(t, vm, truth)
		// ... but not the daily samples: the alert sees it.
		time.Sleep(5 * time.Second) // more than remote_write's 5s batch deadline
		if got, err := vm.query(`count_over_time(aliyun_billing_account_daily_payable[12d])`, time.Now()); err != nil || len(got) != 0 {
			t.Errorf("VictoriaMetrics received %d daily series through Prometheus's remote_write (%v): "+
				"if this Prometheus sends out-of-order samples now, update the README's Backends table and this test", len(got), err)
		}
		var dropped string
		for _, r := range loadRules(t, alertRulesFile) {
			if r.Alert == "AliyunBillingDailySamplesDropped" {
				dropped = r.Expr
			}
		}
		// The alert reads the age of the newest complete day from a
		// recording rule; without vmalert, give it inline.
		dropped = strings.ReplaceAll(dropped, `account_collector:aliyun_billing_newest_complete_day:age_seconds{collector="account"}`,
			`(time() - max by (account, collector) (aliyun_billing_newest_complete_day_timestamp_seconds{collector="account"}))`)
		if got, err := vm.nonEmpty(dropped, time.Now()); err != nil || len(got) != 1 || got[0].Metric["account"] != "demo" {
			t.Errorf("AliyunBillingDailySamplesDropped's expression on VictoriaMetrics: %v (%v), want account demo\n%s", got, err, dropped)
		}
	})
}

func sum(samples []promSample) float64 {
	var s float64
	for _, v := range samples {
		s += v.value()
	}
	return s
}

// startVictoriaMetrics runs a single-node VictoriaMetrics on a free port
// with its data in dir/name and the README's retention.
//
// -search.cacheTimestampOffset=288h (README): a sample older than this
// offset makes VictoriaMetrics reset its whole rollup result cache, and the
// exporter re-sends samples up to 11 days old at every scrape.
func startVictoriaMetrics(t *testing.T, bin, dir, name string, args ...string) (promClient, *proctest.Process) {
	t.Helper()
	return startVictoriaMetricsOn(t, bin, dir, name, proctest.FreeAddr(t), args...)
}

// startVictoriaMetricsOn is startVictoriaMetrics on addr: one a client was
// pointed at while nothing listened there.
func startVictoriaMetricsOn(t *testing.T, bin, dir, name, addr string, args ...string) (promClient, *proctest.Process) {
	t.Helper()
	p := proctest.StartT(t, name, dir, bin, append([]string{
		"-httpListenAddr=" + addr, "-storageDataPath=" + filepath.Join(dir, name+"-data"),
		"-retentionPeriod=400d", "-search.cacheTimestampOffset=288h", "-search.latencyOffset=0s",
	}, args...)...)
	if err := p.WaitReady("http://"+addr+"/health", time.Minute); err != nil {
		t.Fatal(err)
	}
	// nocache: the daily samples arrive with old timestamps; the test must
	// not read a cached result from before they did.
	return promClient{base: "http://" + addr, extra: url.Values{"nocache": {"1"}}}, p
}

// noCacheResets fails the test if VictoriaMetrics reset its rollup result
// cache, which it does for every sample older than -search.cacheTimestampOffset.
func noCacheResets(t *testing.T, p *proctest.Process) {
	t.Helper()
	if log := p.LogTail(100000); strings.Contains(log, "resetting rollup result cache") {
		t.Errorf("%s reset its rollup result cache on the re-sent daily samples: -search.cacheTimestampOffset is too small", p.Name)
	}
}

// waitVM waits until VictoriaMetrics has at least n targets' worth of five
// scrapes and, with daily, searchable daily samples.
func waitVM(t *testing.T, api promClient, n int, daily bool) {
	t.Helper()
	const scraped = `count_over_time(up{job="aliyun-billing"}[1m]) >= 5`
	err := eventually(90*time.Second, time.Second, func() error {
		got, err := api.nonEmpty(scraped, time.Now())
		if err != nil {
			return fmt.Errorf("%s: %w", scraped, err)
		}
		if len(got) < n {
			return fmt.Errorf("%s: %d series, want %d", scraped, len(got), n)
		}
		if daily {
			const q = `count_over_time(aliyun_billing_account_daily_payable[12d])`
			if _, err = api.nonEmpty(q, time.Now()); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Let the newest rows reach the searchable parts.
	time.Sleep(2 * time.Second)
}

// exposedSampleCounts counts, per series (labels without job and
// instance), the daily samples the exporter exposes: one per day.
func exposedSampleCounts(t *testing.T, exp *demoExporter) map[string]int {
	t.Helper()
	days := dailyFamily(t, parseExposition(t, exp.exposition(t)), "aliyun_billing_account_daily_payable", func(string) bool { return true })
	counts := map[string]int{}
	for _, series := range days {
		for key := range series {
			counts[key]++
		}
	}
	return counts
}

// checkVMDaily: each series of each exporter holds exactly one sample per
// exposed day, and the "Daily spend" bars equal the simulator's truth on
// their UTC+8 days.
func checkVMDaily(t *testing.T, api promClient, exp *demoExporter, truth *demoTruth, want map[string]int) {
	t.Helper()
	window := fmt.Sprintf("[%ds]", int((12*24*time.Hour + exp.shift).Seconds()))
	got, err := api.nonEmpty(`count_over_time(aliyun_billing_account_daily_payable`+window+`)`, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	perInstance := map[string]int{}
	for _, s := range got {
		perInstance[s.Metric["instance"]]++
		key := labelKey(s.Metric)
		if n := int(s.value()); n != want[key] {
			t.Errorf("%s on %s: %d samples stored, the exporter exposes %d days", key, s.Metric["instance"], n, want[key])
		}
	}
	for inst, n := range perInstance {
		if n != len(want) {
			t.Errorf("%s: %d daily series stored, the exporter exposes %d", inst, n, len(want))
		}
	}
	// No recording rules here: VictoriaMetrics evaluates them with vmalert,
	// which these tests do not run; the dashboards' own queries are checked.
	testTotalsEqualTruth(t, api, exp, truth, len(perInstance), false)
	if t.Failed() {
		t.Logf("exposed series: %s", strings.Join(mapKeys(want), "; "))
	}
}

func mapKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
