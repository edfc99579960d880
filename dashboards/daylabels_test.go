package dashboards

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/collector"
)

// labelledDays is --billing.labelled-days in the demo.
const labelledDays = 30

// TestDailyTrendWithoutOutOfOrderWindow: on a store that takes no sample
// from the past, the Daily trend's "by billing day" panel still shows the
// last 30 settled days with the simulator's exact values, from the
// day-labelled gauges (aliyun_billing_account_day_*), which carry no
// timestamp: on a Prometheus with no out-of-order window that scrapes an
// HA pair, and on a second Prometheus that receives the first one's
// remote write (the path that drops every timestamped daily sample).
func TestDailyTrendWithoutOutOfOrderWindow(t *testing.T) {
	promBin := toolPath(t, "prometheus")
	exp := sharedExporter(t)
	replica := anotherExporter(t, "labelled-replica")
	truth := newDemoTruth(t, exp)
	dir := t.TempDir()

	// The receiver: plain remote-write receiver, no out-of-order window.
	receiver, _ := startPrometheus(t, promBin, dir, "receiver", "global: {}\n", "--web.enable-remote-write-receiver")

	// The scraper: no out-of-order window, forwarding all it stores.
	writeTargets(t, dir, exp, replica)
	writeFile(t, filepath.Join(dir, "recording.yml"), string(mustRead(t, recordingRulesFile)))
	scraper, promProc := startPrometheus(t, promBin, dir, "prometheus", fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: [recording.yml]
scrape_configs:
  - job_name: aliyun-billing
    file_sd_configs:
      - files: [targets.json]
        refresh_interval: 1s
remote_write:
  - url: %s/api/v1/write
    queue_config: {batch_send_deadline: 1s}
`, receiver.base))
	waitScraped(t, scraper, promProc, exp, replica)

	// The premise: neither store holds a timestamped daily sample.
	for name, api := range map[string]promClient{"scraper": scraper, "receiver": receiver} {
		if got, err := api.query(`count_over_time(aliyun_billing_account_daily_payable[40d])`, time.Now()); err != nil || len(got) != 0 {
			t.Fatalf("the %s without an out-of-order window stored %d daily series (%v); the test shows nothing", name, len(got), err)
		}
	}

	expr := substitute(labelledPanelQuery(t))
	for name, api := range map[string]promClient{"scraper": scraper, "receiver": receiver} {
		var got []promSample
		err := eventually(60*time.Second, time.Second, func() error {
			var err error
			if got, err = api.nonEmpty(expr, time.Now()); err != nil {
				return err
			}
			if len(got) != labelledDays {
				return fmt.Errorf("%d billing days, want %d", len(got), labelledDays)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: the by-billing-day panel: %v\n%s", name, err, expr)
		}
		newest := collector.DefaultConfig().Calendar().NewestSettledDay(exp.billingNow(), bssclient.KindAmounts)
		days := map[string]bool{}
		for _, s := range got {
			day, err := bssclient.ParseDay(s.Metric["billing_day"])
			if err != nil {
				t.Fatalf("%s: billing_day %q: %v", name, s.Metric["billing_day"], err)
			}
			days[day.String()] = true
			if want := truth.dayPayable(day); !sameMoney(s.value(), want) {
				t.Errorf("%s: %s shows %v, the simulator's truth is %s (an HA pair scraped: a double would show here)", name, day, s.value(), want)
			}
		}
		for d := range labelledDays {
			if day := newest.AddDays(-d); !days[day.String()] {
				t.Errorf("%s: settled day %s is missing from the panel (days shown: %v)", name, day, strings.Join(slices.Sorted(maps.Keys(days)), " "))
			}
		}
	}
	logLabelledCost(t, exp)
}

// labelledPanelQuery is the query of the Daily trend's by-billing-day panel.
func labelledPanelQuery(t *testing.T) string {
	t.Helper()
	for _, d := range loadDashboards(t) {
		for _, p := range d.allPanels() {
			for _, tg := range p.Targets {
				if strings.Contains(tg.Expr, "aliyun_billing_account_day_payable") && strings.Contains(p.Title, "by billing day") {
					if !tg.Instant {
						t.Fatalf("panel %q: the day-labelled gauges carry no timestamp and are read at one instant; the query is a range query", p.Title)
					}
					return tg.Expr
				}
			}
		}
	}
	t.Fatal("no dashboard panel reads aliyun_billing_account_day_payable by billing day")
	return ""
}

// logLabelledCost logs what the day-labelled gauges cost against the
// timestamped daily family they stand in for, from one exposition: series
// a scrape carries, and samples a store keeps a day at a 60 s scrape.
func logLabelledCost(t *testing.T, exp *demoExporter) {
	t.Helper()
	fams := parseExposition(t, exp.exposition(t))
	count := func(prefix string) (samples int) {
		for name, mf := range fams {
			if strings.HasPrefix(name, prefix) {
				samples += len(mf.GetMetric())
			}
		}
		return samples
	}
	labelled := count("aliyun_billing_account_day_")
	timestamped := count("aliyun_billing_account_daily_")
	// A timestamped series holds one sample per day whatever the scrape
	// interval; a labelled one is a gauge sampled at every scrape.
	const scrapesPerDay = 24 * 60
	t.Logf("account collector, demo world: day-labelled (%d days): %d series, %d samples stored a day at a 60 s scrape; timestamped daily (7 days exposed): %d samples a scrape, %d samples stored a day",
		labelledDays, labelled, labelled*scrapesPerDay, timestamped, timestamped/7)
}
