package dashboards

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/proctest"
)

// needsDailySeries reports whether a query reads the timestamped daily
// families, directly or through the rules built on them.
func needsDailySeries(expr string) bool {
	return strings.Contains(expr, "_daily_") || strings.Contains(expr, ":aliyun_billing_balance_runway:")
}

// TestWithoutDailySeries: where the storage cannot take samples days old
// (README "Backends"), the exporter runs with --no-billing.daily-series.
// Every panel that does not need the daily families (month to date,
// forecast, budgets, top products, owners, regions and buckets, balance,
// exporter health) still has data, the budget alert still fires, and
// AliyunBillingDailySamplesDropped stays quiet.
func TestWithoutDailySeries(t *testing.T) {
	promBin := toolPath(t, "prometheus")
	exp := anotherExporter(t, "no-daily", "--no-billing.daily-series")
	if names := sampleNames(exp.exposition(t)); names["aliyun_billing_account_daily_payable"] {
		t.Fatal("--no-billing.daily-series still exposes aliyun_billing_account_daily_payable")
	}
	api := prometheusWithoutWindow(t, promBin, exp)

	now := time.Now()
	checked := 0
	for _, d := range loadDashboards(t) {
		for _, p := range d.allPanels() {
			for _, tg := range p.Targets {
				if needsDailySeries(tg.Expr) || strings.Contains(tg.Expr, "ALERTS") {
					continue
				}
				expr := substitute(tg.Expr)
				name := fmt.Sprintf("%s panel %d %q query %s", filepath.Base(d.file), p.ID, p.Title, tg.RefID)
				var err error
				if tg.Instant {
					_, err = api.nonEmpty(expr, now)
				} else {
					_, err = api.nonEmptyRange(expr, now.Add(-2*time.Minute), now, 15*time.Second)
				}
				checked++
				if errors.Is(err, errEmpty) && mayBeEmpty(exp, expr) {
					continue
				}
				if err != nil {
					t.Errorf("%s: %v\n%s", name, err, expr)
				}
			}
		}
	}
	if checked < 40 {
		t.Errorf("checked only %d panel queries without the daily series", checked)
	}
	if _, err := api.nonEmpty(`ALERTS{alertname="AliyunBillingBudgetExceeded", alertstate="firing", account="demo"}`, now); err != nil {
		t.Errorf("AliyunBillingBudgetExceeded is not firing without the daily series: %v", err)
	}
	if got, err := api.query(`ALERTS{alertname="AliyunBillingDailySamplesDropped"}`, now); err != nil || len(got) != 0 {
		t.Errorf("AliyunBillingDailySamplesDropped fires with --no-billing.daily-series: %v (%v)", got, err)
	}
}

// TestDailySamplesDroppedAlertFires: a Prometheus without an out-of-order
// window drops every daily sample of a scrape that otherwise succeeds;
// AliyunBillingDailySamplesDropped fires for the demo account.
func TestDailySamplesDroppedAlertFires(t *testing.T) {
	promBin := toolPath(t, "prometheus")
	exp := sharedExporter(t)
	api := prometheusWithoutWindow(t, promBin, exp)
	if got, err := api.query(`count_over_time(aliyun_billing_account_daily_payable[12d])`, time.Now()); err != nil || len(got) != 0 {
		t.Fatalf("Prometheus without an out-of-order window stored %d daily series (%v); the test shows nothing", len(got), err)
	}
	err := eventually(60*time.Second, time.Second, func() error {
		_, err := api.nonEmpty(`ALERTS{alertname="AliyunBillingDailySamplesDropped", alertstate="firing", account="demo"}`, time.Now())
		return err
	})
	if err != nil {
		t.Errorf("AliyunBillingDailySamplesDropped does not fire while Prometheus drops every daily sample: %v", err)
	}
}

// prometheusWithoutWindow runs Prometheus with the shipped rules (for:
// shortened) and no out-of-order window, scraping exps, and waits for a few
// scrapes and evaluations.
func prometheusWithoutWindow(t *testing.T, promBin string, exps ...*demoExporter) promClient {
	t.Helper()
	api, prom := prometheusWithShippedRules(t, promBin, exps...)
	waitScraped(t, api, prom, exps...)
	return api
}

// prometheusWithShippedRules runs Prometheus with the shipped rules (for:
// shortened) and no out-of-order window, scraping exps every second.
func prometheusWithShippedRules(t *testing.T, promBin string, exps ...*demoExporter) (promClient, *proctest.Process) {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "recording.yml"), string(mustRead(t, recordingRulesFile)))
	writeFile(t, filepath.Join(dir, "alerts.yml"), fastAlerts(t, alertRulesFile))
	writeTargets(t, dir, exps...)
	api, prom := startPrometheus(t, promBin, dir, "prometheus", `global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: [recording.yml, alerts.yml]
scrape_configs:
  - job_name: aliyun-billing
    file_sd_configs:
      - files: [targets.json]
        refresh_interval: 1s
`)
	return api, prom
}
