package dashboards

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/proctest"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/collector"
)

// utc8Offset is the billing zone's offset: billing days start at 00:00 UTC+8.
const utc8Offset = 8 * 3600

// dailyFamilies are the timestamped families whose placement the test proves.
var dailyFamilies = []string{
	"aliyun_billing_account_daily_payable",
	"aliyun_billing_instance_daily_payable",
	"aliyun_billing_ossbucket_daily_payable",
}

// remoteWriteSignals exist only on an exporter that pushes
// (--remote-write.url): TestRemoteWritePush checks them there.
var remoteWriteSignals = map[string]bool{
	"aliyun_billing_remote_write_oldest_pending_day_age_seconds": true,
	"aliyun_billing_remote_write_failures_total":                 true,
}

// alertSignals name, per alert, a part of its expression that must have data
// in the demo: the alerts themselves only fire on trouble, so an empty
// result would not show that they read real series. The test fails for an
// alert missing here.
var alertSignals = map[string]string{
	"AliyunBillingRemoteWritePending":       "aliyun_billing_remote_write_oldest_pending_day_age_seconds",
	"AliyunBillingRemoteWriteRejected":      "aliyun_billing_remote_write_failures_total",
	"AliyunBillingBudgetNearlyExhausted":    "account_owner_product_currency:aliyun_billing_budget_used:ratio",
	"AliyunBillingBudgetExceeded":           "account_owner_product_currency:aliyun_billing_budget_used:ratio",
	"AliyunBillingBudgetForecastExceeded":   "account_owner_product_currency:aliyun_billing_budget_forecast_used:ratio",
	"AliyunBillingProductSpendAnomaly":      "account_product_currency:aliyun_billing_payg_daily_payable:newest_day_above_band",
	"AliyunBillingRegionSpendAnomaly":       "account_region_currency:aliyun_billing_payg_daily_payable:newest_day_above_band",
	"AliyunBillingProductNewSpend":          "account_product_currency:aliyun_billing_payg_daily_payable:newest_day",
	"AliyunBillingRegionNewSpend":           "account_region_currency:aliyun_billing_payg_daily_payable:newest_day",
	"AliyunBillingBalanceRunwayLow":         "account_currency:aliyun_billing_balance_runway:days",
	"AliyunBillingBalanceRunwayCritical":    "account_currency:aliyun_billing_balance_runway:days",
	"AliyunBillingDataStale":                "account_collector:aliyun_billing_newest_complete_day:age_seconds",
	"AliyunBillingDailySamplesDropped":      "aliyun_billing_snapshot_timestamped_samples",
	"AliyunBillingRefreshFailing":           "aliyun_billing_refresh_success",
	"AliyunBillingBSSThrottled":             "aliyun_billing_bss_requests_total",
	"AliyunBillingBSSAuthenticationFailing": "aliyun_billing_bss_requests_total",
	"AliyunBillingBSSAccessDenied":          "aliyun_billing_bss_requests_total",
	"AliyunBillingExporterDown":             `up{job="aliyun-billing"}`,
	"AliyunBillingReconciliationMismatch":   "aliyun_billing_overview_reconciliation_difference",

	"AliyunBillingResourcePlanLow":                    "account_instance:aliyun_billing_resource_plan_remaining:ratio",
	"AliyunBillingResourcePlanExhaustingBeforeExpiry": "account_instance:aliyun_billing_resource_plan_expiry:timestamp_seconds",
	"AliyunBillingResourcePlanExpiringSoon":           "account_instance:aliyun_billing_resource_plan_expiry:timestamp_seconds",
	"AliyunBillingSavingsPlanExpiringSoon":            "aliyun_billing_savings_plan_expiry_timestamp_seconds",
	"AliyunBillingSavingsPlansUnderused":              "aliyun_billing_savings_plans_utilization_ratio",
	"AliyunBillingReservationUnderused":               "aliyun_billing_reservation_utilization_ratio",
	"AliyunBillingInstancesExpiringWithoutAutoRenew":  `aliyun_billing_instances_expiring_without_auto_renew{within="7d"}`,
	"AliyunBillingCashCouponExpiring":                 "aliyun_billing_cash_coupon_next_expiry_timestamp_seconds",
	"AliyunBillingPrepaidCardExpiring":                "aliyun_billing_prepaid_card_next_expiry_timestamp_seconds",
	"AliyunBillingCommitmentActionDenied":             "aliyun_billing_commitments_api_available",
}

// needsADay names, per recording rule that reads a day of its own history
// (a burn rate over [1d]), the input that must have data in the demo: a
// test run of minutes sees no burn yet, but the rule must read real series.
var needsADay = map[string]string{
	"account_instance:aliyun_billing_resource_plan_exhaustion:timestamp_seconds": "account_instance:aliyun_billing_resource_plan_remaining:ratio",
}

// forecastDependent reports whether an expression needs a complete day in
// the current month.
func forecastDependent(expr string) bool {
	return strings.Contains(expr, "cycle_forecast") || strings.Contains(expr, "forecast_used") ||
		strings.Contains(expr, "cycle_days:")
}

// mayLackForecast reports whether the forecast may legitimately be empty:
// the demo runs in the last days of the previous month (see billingShift),
// or the month turned since the exporter started, so that no day of the
// current month is complete.
func mayLackForecast(exp *demoExporter, expr string) bool {
	return forecastDependent(expr) &&
		(exp.shift >= 72*time.Hour || billingShift(exp.billingNow()) > 0 || billingShift(time.Now()) > 0)
}

// mayLackFinalCycle reports whether an expression of a final cycle may
// legitimately be empty: the demo's previous cycle is not final yet (before
// 12:00 UTC+8 on the 3rd, and the settle margin).
func mayLackFinalCycle(exp *demoExporter, expr string) bool {
	prev := bssclient.CycleOf(exp.billingNow()).Prev()
	return strings.Contains(expr, "reconciliation") && !bssclient.Calendar{}.CycleFinal(prev, exp.billingNow().Add(-collector.DefaultSettleMargin), bssclient.KindAmounts)
}

// mayBeEmpty reports whether expr may legitimately have no data in the
// demo at this moment.
func mayBeEmpty(exp *demoExporter, expr string) bool {
	return mayLackForecast(exp, expr) || mayLackFinalCycle(exp, expr)
}

// TestEndToEnd runs the exporter (demo), a real Prometheus with the shipped
// rules and the example's settings, and a real Alertmanager with the example
// routing, then checks every dashboard query, every rule, the alert's
// delivery and the placement of the daily series.
//
// Prometheus scrapes two demo exporters of the same world at once (an HA
// pair), then one of them moves to a new port, as a pod does: the daily
// samples it exposed stay under its old instance label, since timestamped
// samples get no staleness marker. Every check runs after the move, and
// the totals must still equal the simulator's ground truth.
func TestEndToEnd(t *testing.T) {
	promBin := toolPath(t, "prometheus")
	amBin := toolPath(t, "prometheus-alertmanager")
	exp := sharedExporter(t)
	replica := anotherExporter(t, "replica")
	dir := t.TempDir()

	hooks := &webhookRecorder{}
	hookServer := httptest.NewServer(hooks)
	t.Cleanup(hookServer.Close)

	amAddr := proctest.FreeAddr(t)
	writeFile(t, filepath.Join(dir, "alertmanager.yml"), alertmanagerConfig(t, hookServer.URL))
	am := proctest.StartT(t, "alertmanager", dir, amBin,
		"--config.file=alertmanager.yml", "--storage.path=am-data",
		"--web.listen-address="+amAddr, "--cluster.listen-address=")

	promAddr := proctest.FreeAddr(t)
	writeFile(t, filepath.Join(dir, "recording.yml"), string(mustRead(t, recordingRulesFile)))
	writeFile(t, filepath.Join(dir, "alerts.yml"), fastAlerts(t, alertRulesFile))
	writeFile(t, filepath.Join(dir, "commitments.yml"), fastAlerts(t, commitmentRulesFile))
	writeTargets(t, dir, exp, replica)
	writeFile(t, filepath.Join(dir, "prometheus.yml"), prometheusConfig(t, exp, amAddr))
	prom := proctest.StartT(t, "prometheus", dir, promBin,
		"--config.file=prometheus.yml", "--storage.tsdb.path=prom-data",
		"--web.listen-address="+promAddr)

	if err := am.WaitReady("http://"+amAddr+"/-/ready", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := prom.WaitReady("http://"+promAddr+"/-/ready", time.Minute); err != nil {
		t.Fatal(err)
	}
	api := promClient{base: "http://" + promAddr}
	truth := newDemoTruth(t, exp)

	// A few scrapes of both (rate and increase need two samples) and rule
	// evaluations.
	waitScraped(t, api, prom, exp, replica)
	t.Run("HAPairTotalsEqualTruth", func(t *testing.T) { testTotalsEqualTruth(t, api, exp, truth, 2, true) })

	// The replica moves: a new process on a new port, under a new instance.
	replica.proc.Stop()
	moved := anotherExporter(t, "moved-replica")
	writeTargets(t, dir, exp, moved)
	waitScraped(t, api, prom, exp, moved)
	// The old instance's daily samples are still there: without the
	// deduplication the totals below would triple.
	if _, err := api.nonEmpty(fmt.Sprintf(`count_over_time(aliyun_billing_account_daily_payable{instance=%q}[12d])`, replica.addr), time.Now()); err != nil {
		t.Fatalf("the moved replica's daily samples are gone (%v); the test no longer shows a moved pod", err)
	}
	// The example's out-of-order window must fit the oldest daily sample, or
	// Prometheus 2.x rejects whole scrapes with "too old sample".
	targetsHealthy(t, api, 2)

	t.Run("MovedReplicaTotalsEqualTruth", func(t *testing.T) { testTotalsEqualTruth(t, api, exp, truth, 3, true) })
	t.Run("BudgetAlertDeliveredAndRouted", func(t *testing.T) { testAlertDelivery(t, "http://"+amAddr, hooks) })
	t.Run("DashboardQueries", func(t *testing.T) { testDashboardQueries(t, api, exp) })
	t.Run("DashboardVariables", func(t *testing.T) { testDashboardVariables(t, api) })
	t.Run("Rules", func(t *testing.T) { testRules(t, api, exp) })
	t.Run("DailySeriesOnTheirDay", func(t *testing.T) { testDailyPlacement(t, api, exp) })
	t.Run("DailyBarsMatchExposition", func(t *testing.T) { testDailyBars(t, api, exp) })
}

// waitScraped waits until Prometheus has scraped every exporter a few times
// and evaluated the rules on them.
func waitScraped(t *testing.T, api promClient, prom *proctest.Process, exps ...*demoExporter) {
	t.Helper()
	err := eventually(90*time.Second, 500*time.Millisecond, func() error {
		if err := prom.Exited(); err != nil {
			return err
		}
		for _, e := range exps {
			if _, err := api.nonEmpty(fmt.Sprintf(`count_over_time(up{job="aliyun-billing", instance=%q}[1m]) >= 5`, e.addr), time.Now()); err != nil {
				return fmt.Errorf("%s: %w", e.addr, err)
			}
		}
		for _, expr := range []string{
			`account_owner_product_currency:aliyun_billing_budget_used:ratio`,
			`account_collector:aliyun_billing_newest_complete_day:age_seconds`,
		} {
			if _, err := api.nonEmpty(expr, time.Now()); err != nil {
				return fmt.Errorf("%s: %w", expr, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Prometheus did not scrape and evaluate: %v", err)
	}
	// Two more evaluation rounds, so that no rule still reads a scrape of
	// before the change.
	time.Sleep(2 * time.Second)
}

// writeTargets points the scrape job at exps (file_sd, read within 1s).
func writeTargets(t *testing.T, dir string, exps ...*demoExporter) {
	t.Helper()
	var targets []string
	for _, e := range exps {
		targets = append(targets, e.addr)
	}
	b, err := json.Marshal([]map[string]any{{"targets": targets}})
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "targets.json.tmp")
	writeFile(t, tmp, string(b))
	if err := os.Rename(tmp, filepath.Join(dir, "targets.json")); err != nil {
		t.Fatal(err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

var forRE = regexp.MustCompile(`(?m)^(\s+for:\s*)\S+\s*$`)

// fastAlerts is a rule file with every `for:` set to 0s, so that a test run
// of seconds sees alerts fire. The shipped files keep realistic durations;
// promtool's unit tests cover them.
func fastAlerts(t *testing.T, path string) string {
	t.Helper()
	src := string(mustRead(t, path))
	out := forRE.ReplaceAllString(src, "${1}0s")
	alerts := 0
	for _, r := range loadRules(t, path) {
		if r.Alert != "" {
			alerts++
		}
	}
	if n := len(forRE.FindAllString(src, -1)); n < alerts {
		t.Fatalf("rewrote %d for: lines, want one per alert", n)
	}
	return out
}

// prometheusConfig is the example configuration with test intervals and
// addresses. It keeps the example's job name and out-of-order window, so the
// test proves the example against the real exporter. Its targets are in
// targets.json (writeTargets), so that the test can move one.
func prometheusConfig(t *testing.T, exp *demoExporter, amAddr string) string {
	t.Helper()
	var example struct {
		Storage struct {
			TSDB struct {
				OOOWindow string `yaml:"out_of_order_time_window"`
			} `yaml:"tsdb"`
		} `yaml:"storage"`
		ScrapeConfigs []struct {
			JobName string `yaml:"job_name"`
		} `yaml:"scrape_configs"`
	}
	readYAML(t, examplePrometheus, &example)
	window, err := model.ParseDuration(example.Storage.TSDB.OOOWindow)
	if err != nil || len(example.ScrapeConfigs) == 0 {
		t.Fatalf("%s: out_of_order_time_window %q (%v) and a scrape config are needed", examplePrometheus, example.Storage.TSDB.OOOWindow, err)
	}
	// A demo started in the past publishes older days; widen the window by
	// as much.
	window += model.Duration(exp.shift)
	return fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
storage:
  tsdb:
    out_of_order_time_window: %s
rule_files: [recording.yml, alerts.yml, commitments.yml]
alerting:
  alertmanagers:
    - static_configs:
        - targets: [%q]
scrape_configs:
  - job_name: %q
    file_sd_configs:
      - files: [targets.json]
        refresh_interval: 1s
`, window, amAddr, example.ScrapeConfigs[0].JobName)
}

var exampleURLRE = regexp.MustCompile(`https://[a-z-]+\.example\.com/[^\s]*`)

// alertmanagerConfig is the example routing with its receivers pointed at the
// test's webhook and the first notification sent after 1s.
func alertmanagerConfig(t *testing.T, hookURL string) string {
	t.Helper()
	src := string(mustRead(t, exampleAM))
	if !exampleURLRE.MatchString(src) || !strings.Contains(src, "group_wait: 1m") {
		t.Fatalf("%s changed: the test rewrites its example.com receiver URLs and group_wait: 1m", exampleAM)
	}
	out := exampleURLRE.ReplaceAllString(src, hookURL+"/")
	return strings.Replace(out, "group_wait: 1m", "group_wait: 1s", 1)
}

func targetsHealthy(t *testing.T, api promClient, want int) {
	t.Helper()
	var data struct {
		ActiveTargets []struct {
			Health    string            `json:"health"`
			LastError string            `json:"lastError"`
			ScrapeURL string            `json:"scrapeUrl"`
			Labels    map[string]string `json:"labels"`
		} `json:"activeTargets"`
	}
	if err := api.get("/api/v1/targets", nil, &data); err != nil {
		t.Fatal(err)
	}
	if len(data.ActiveTargets) != want {
		t.Fatalf("want %d targets, got %+v", want, data.ActiveTargets)
	}
	active := map[string]bool{}
	for _, tg := range data.ActiveTargets {
		active[tg.Labels["instance"]] = true
		if strings.Contains(tg.LastError, "too old") || strings.Contains(tg.LastError, "out of bounds") {
			t.Errorf("scraping %s: %s: the example's out_of_order_time_window is too small for the daily series", tg.ScrapeURL, tg.LastError)
		}
	}
	// A window too small fails every scrape (each one carries the oldest
	// daily sample); allow a rare timeout of a 1s scrape on a loaded machine.
	v, err := api.nonEmpty(`avg_over_time(up{job="aliyun-billing"}[5m])`, time.Now())
	if err != nil {
		t.Errorf("share of successful scrapes: %v", err)
	}
	for _, s := range v {
		if active[s.Metric["instance"]] && s.value() < 0.8 {
			t.Errorf("scrapes of %s fail (share of successful scrapes %v)", s.Metric["instance"], s.value())
		}
	}
}

// --- (b) the budget alert reaches Alertmanager and is routed ---------------

type webhookRecorder struct {
	mu        sync.Mutex
	delivered map[string]bool // receiver + "/" + alertname
}

func (w *webhookRecorder) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	var msg struct {
		Receiver string `json:"receiver"`
		Alerts   []struct {
			Labels map[string]string `json:"labels"`
		} `json:"alerts"`
	}
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &msg); err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.delivered == nil {
		w.delivered = map[string]bool{}
	}
	for _, a := range msg.Alerts {
		w.delivered[msg.Receiver+"/"+a.Labels["alertname"]] = true
	}
}

func (w *webhookRecorder) got(receiver, alertname string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.delivered[receiver+"/"+alertname]
}

type amAlert struct {
	Labels    map[string]string `json:"labels"`
	Receivers []struct {
		Name string `json:"name"`
	} `json:"receivers"`
	Status struct {
		State       string   `json:"state"`
		InhibitedBy []string `json:"inhibitedBy"`
	} `json:"status"`
}

// wholeAccountBudget selects the alert about the demo's whole-account budget:
// no product_code and no owner_id label.
func wholeAccountBudget(a amAlert, alertname string) bool {
	l := a.Labels
	return l["alertname"] == alertname && l["account"] == "demo" && l["currency"] == "CNY" &&
		l["product_code"] == "" && l["owner_id"] == ""
}

func testAlertDelivery(t *testing.T, amURL string, hooks *webhookRecorder) {
	err := eventually(90*time.Second, time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		body, err := httpGet(ctx, amURL+"/api/v2/alerts")
		if err != nil {
			return err
		}
		var alerts []amAlert
		if err := json.Unmarshal(body, &alerts); err != nil {
			return fmt.Errorf("decoding /api/v2/alerts: %w", err)
		}
		var exceeded, nearly *amAlert
		for i := range alerts {
			switch {
			case wholeAccountBudget(alerts[i], "AliyunBillingBudgetExceeded"):
				exceeded = &alerts[i]
			case wholeAccountBudget(alerts[i], "AliyunBillingBudgetNearlyExhausted"):
				nearly = &alerts[i]
			}
		}
		if exceeded == nil {
			return fmt.Errorf("AliyunBillingBudgetExceeded for the whole demo account is not in Alertmanager (%d alerts)", len(alerts))
		}
		var receivers []string
		for _, r := range exceeded.Receivers {
			receivers = append(receivers, r.Name)
		}
		// category="cost", severity="critical": the page, then (continue) the chat.
		if !slices.Contains(receivers, "finops-page") || !slices.Contains(receivers, "finops") {
			return fmt.Errorf("AliyunBillingBudgetExceeded routed to %v, want finops-page and finops", receivers)
		}
		if !hooks.got("finops-page", "AliyunBillingBudgetExceeded") {
			return fmt.Errorf("receiver finops-page has not been notified of AliyunBillingBudgetExceeded yet")
		}
		// The inhibit rule's equal: [account, owner_id, product_code,
		// currency] must treat absent labels as equal.
		if nearly == nil || len(nearly.Status.InhibitedBy) == 0 {
			return fmt.Errorf("AliyunBillingBudgetNearlyExhausted for the whole account is not inhibited: %+v", nearly)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// --- (a) every panel, variable and rule evaluates, with data ---------------

var grafanaVarRE = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)

// substitute does what Grafana does before sending a query: $datasource is
// not in queries; every selection variable becomes "All" (.*); a custom
// variable of one choice (the Cost variable) gets the value it starts with;
// interval variables get the durations Grafana would compute for a 1s
// scrape.
func substitute(expr string) string {
	return grafanaVarRE.ReplaceAllStringFunc(expr, func(m string) string {
		name := strings.Trim(m, "${}")
		switch name {
		case "__rate_interval", "__interval":
			return "1m"
		case "__range":
			return "1h"
		}
		if v, ok := customVariables()[name]; ok {
			return v.Current.Value
		}
		return ".*"
	})
}

// customVariables are the shipped dashboards' custom variables of one
// choice, by name. A name means the same variable in every dashboard.
var customVariables = sync.OnceValue(func() map[string]gVariable {
	out := map[string]gVariable{}
	files, _ := filepath.Glob(filepath.Join(grafanaDir, "*.json"))
	for _, f := range files {
		var d gDashboard
		if b, err := os.ReadFile(f); err == nil && json.Unmarshal(b, &d) == nil {
			for _, v := range d.Templating.List {
				if v.Type == "custom" && !v.IncludeAll {
					out[v.Name] = v
				}
			}
		}
	}
	return out
})

// choices is expr once per option of each custom variable it uses, each
// other variable left as it is: a panel must work whichever is chosen.
func choices(expr string) []string {
	out := []string{expr}
	for name, v := range customVariables() {
		if !strings.Contains(expr, "$"+name) && !strings.Contains(expr, "${"+name+"}") {
			continue
		}
		var next []string
		for _, e := range out {
			for _, o := range v.Options {
				next = append(next, strings.NewReplacer("${"+name+"}", o.Value, "$"+name, o.Value).Replace(e))
			}
		}
		out = next
	}
	return out
}

// dailyStart is where Grafana would start a 1d-step range query in a
// dashboard set to UTC+8: the 00:00 UTC+8 of a day.
func dailyStart(t time.Time) time.Time {
	s := t.Unix()
	s -= (s + utc8Offset) % 86400
	return time.Unix(s, 0)
}

func testDashboardQueries(t *testing.T, api promClient, exp *demoExporter) {
	now := time.Now()
	checked := 0
	for _, d := range loadDashboards(t) {
		for _, p := range d.allPanels() {
			for _, tg := range p.Targets {
				for _, chosen := range choices(tg.Expr) {
					expr := substitute(chosen)
					name := fmt.Sprintf("%s panel %d %q query %s", filepath.Base(d.file), p.ID, p.Title, tg.RefID)
					var err error
					switch {
					case tg.Instant:
						_, err = api.nonEmpty(expr, now)
					case p.Interval == "1d" || tg.Interval == "1d":
						_, err = api.nonEmptyRange(expr, dailyStart(now.Add(-12*24*time.Hour-exp.shift)), now, 24*time.Hour)
					default:
						_, err = api.nonEmptyRange(expr, now.Add(-2*time.Minute), now, 15*time.Second)
					}
					checked++
					if errors.Is(err, errEmpty) && mayBeEmpty(exp, expr) {
						t.Logf("%s: no data, as expected while no day of the month is complete", name)
						continue
					}
					if err != nil {
						t.Errorf("%s: %v\n%s", name, err, expr)
					}
				}
			}
		}
	}
	if checked < 50 {
		t.Errorf("checked only %d dashboard queries", checked)
	}
}

func testDashboardVariables(t *testing.T, api promClient) {
	for _, d := range loadDashboards(t) {
		for _, v := range d.Templating.List {
			if v.Type != "query" {
				continue
			}
			m := labelValuesRE.FindStringSubmatch(v.queryText())
			if m == nil {
				t.Errorf("%s $%s: %q is not label_values(selector, label)", d.file, v.Name, v.queryText())
				continue
			}
			var values []string
			params := url.Values{"match[]": {substitute(m[1])}}
			if err := api.get("/api/v1/label/"+m[2]+"/values", params, &values); err != nil {
				t.Errorf("%s $%s: %v", d.file, v.Name, err)
			} else if len(values) == 0 {
				t.Errorf("%s $%s: %s lists no values", d.file, v.Name, v.queryText())
			}
		}
	}
}

func testRules(t *testing.T, api promClient, exp *demoExporter) {
	var data struct {
		Groups []struct {
			File  string `json:"file"`
			Rules []struct {
				Name      string `json:"name"`
				Type      string `json:"type"`
				Health    string `json:"health"`
				LastError string `json:"lastError"`
			} `json:"rules"`
		} `json:"groups"`
	}
	if err := api.get("/api/v1/rules", nil, &data); err != nil {
		t.Fatal(err)
	}
	loaded := 0
	for _, g := range data.Groups {
		for _, r := range g.Rules {
			loaded++
			if r.Health != "ok" {
				t.Errorf("rule %s in %s: health %q, last error %q", r.Name, filepath.Base(g.File), r.Health, r.LastError)
			}
		}
	}
	now := time.Now()
	recording := slices.Concat(loadRules(t, recordingRulesFile), commitmentRules(t, false))
	alerts := slices.Concat(loadRules(t, alertRulesFile), commitmentRules(t, true))
	if loaded != len(recording)+len(alerts) {
		t.Errorf("Prometheus loaded %d rules, the files define %d", loaded, len(recording)+len(alerts))
	}
	for _, r := range recording {
		if _, err := api.nonEmpty(r.Record, now); err != nil {
			if errors.Is(err, errEmpty) && mayBeEmpty(exp, r.Record) {
				continue
			}
			if input, ok := needsADay[r.Record]; ok && errors.Is(err, errEmpty) {
				// Its own input must have data, so that it is only the
				// day of history that is missing.
				if _, err := api.nonEmpty(input, now); err != nil {
					t.Errorf("recording rule %s: its input %s: %v", r.Record, input, err)
				}
				continue
			}
			t.Errorf("recording rule %s: %v", r.Record, err)
		}
		if _, err := api.query(r.Expr, now); err != nil {
			t.Errorf("recording rule %s: its expression fails: %v", r.Record, err)
		}
	}
	for _, r := range alerts {
		if _, err := api.query(r.Expr, now); err != nil {
			t.Errorf("alert %s: its expression fails: %v", r.Alert, err)
		}
		signal, ok := alertSignals[r.Alert]
		switch {
		case !ok:
			t.Errorf("alert %s has no entry in alertSignals", r.Alert)
		case !strings.Contains(r.Expr, signal):
			t.Errorf("alert %s: its expression does not read its signal %s", r.Alert, signal)
		case remoteWriteSignals[signal]:
		default:
			if _, err := api.nonEmpty(signal, now); err != nil && !(errors.Is(err, errEmpty) && mayBeEmpty(exp, signal)) {
				t.Errorf("alert %s: signal %s: %v", r.Alert, signal, err)
			}
		}
	}
	// The demo's two sources agree on every final cycle, to the cent.
	if got, err := api.query(`aliyun_billing_overview_reconciliation_difference != 0`, now); err != nil || len(got) != 0 {
		t.Errorf("the demo's account bill and bill overview disagree: %v (%v)", got, err)
	}
	// Every daily sample is stored on its day here: the dropped-samples
	// alert (for: 0s) must stay quiet, through the HA pair and the move.
	if got, err := api.query(`ALERTS{alertname="AliyunBillingDailySamplesDropped"}`, now); err != nil || len(got) != 0 {
		t.Errorf("AliyunBillingDailySamplesDropped fires while Prometheus stores every daily sample: %v (%v)", got, err)
	}
	// The demo's whole-account budget (1000 CNY) is exceeded: the budget
	// alerts fire in Prometheus itself, with for: rewritten to 0s.
	for _, name := range []string{"AliyunBillingBudgetExceeded", "AliyunBillingBudgetNearlyExhausted"} {
		if _, err := api.nonEmpty(fmt.Sprintf(`ALERTS{alertname=%q, alertstate="firing", account="demo"}`, name), now); err != nil {
			t.Errorf("%s is not firing in Prometheus: %v", name, err)
		}
	}
}

// --- (c) daily series land on their billing day ---------------------------

// exposedDays is a daily family as the exporter exposes it: per sample
// timestamp (ms), each series' labels (sorted k=v) and value.
type exposedDays map[int64]map[string]float64

func parseExposition(t *testing.T, body []byte) map[string]*dto.MetricFamily {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parsing the exporter's exposition: %v", err)
	}
	return fams
}

func dailyFamily(t *testing.T, fams map[string]*dto.MetricFamily, name string, keep func(label string) bool) exposedDays {
	t.Helper()
	fam, ok := fams[name]
	if !ok || len(fam.GetMetric()) == 0 {
		t.Fatalf("the exporter exposes no %s", name)
	}
	days := exposedDays{}
	for _, m := range fam.GetMetric() {
		if m.TimestampMs == nil {
			t.Fatalf("%s has a sample without a timestamp", name)
		}
		labels := map[string]string{}
		for _, lp := range m.GetLabel() {
			if keep(lp.GetName()) {
				labels[lp.GetName()] = lp.GetValue()
			}
		}
		ts := m.GetTimestampMs()
		if days[ts] == nil {
			days[ts] = map[string]float64{}
		}
		days[ts][labelKey(labels)] += m.GetGauge().GetValue()
	}
	return days
}

func labelKey(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k, v := range labels {
		if v != "" && k != "__name__" && k != "job" && k != "instance" {
			keys = append(keys, k+"="+v)
		}
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

func sortedTimestamps(days exposedDays) []int64 {
	out := make([]int64, 0, len(days))
	for ts := range days {
		out = append(out, ts)
	}
	slices.Sort(out)
	return out
}

func testDailyPlacement(t *testing.T, api promClient, exp *demoExporter) {
	fams := parseExposition(t, exp.exposition(t))
	for _, family := range dailyFamilies {
		days := dailyFamily(t, fams, family, func(string) bool { return true })
		for _, ts := range sortedTimestamps(days) {
			at := time.UnixMilli(ts)
			if (ts/1000+utc8Offset)%86400 != 0 {
				t.Errorf("%s: sample at %s is not 00:00 UTC+8", family, at.UTC())
			}
			// Queried exactly at the day's 00:00 UTC+8, Prometheus holds the
			// exporter's series and values for that day, no more, no less.
			got, err := api.nonEmpty(family, at)
			if err != nil {
				t.Errorf("%s at %s: %v", family, at.UTC(), err)
				continue
			}
			gotDay := map[string]float64{}
			for _, s := range got {
				gotDay[labelKey(s.Metric)] = s.value()
			}
			if !mapsEqual(gotDay, days[ts]) {
				t.Errorf("%s at %s (00:00 UTC+8 of %s): Prometheus has %d series, the exporter exposes %d, or their values differ\nPrometheus: %v\nexporter:   %v",
					family, at.UTC(), at.In(time.FixedZone("UTC+8", utc8Offset)).Format(time.DateOnly), len(gotDay), len(days[ts]), gotDay, days[ts])
			}
			// The sample sits exactly there: timestamp() a minute later is
			// the day's start for every series.
			stamps, err := api.nonEmpty("timestamp("+family+")", at.Add(time.Minute))
			if err != nil {
				t.Errorf("timestamp(%s) at %s: %v", family, at.Add(time.Minute).UTC(), err)
				continue
			}
			for _, s := range stamps {
				if int64(s.value()*1000) != ts {
					t.Errorf("%s%v: sample timestamp %v, want %d", family, s.Metric, s.value(), ts/1000)
				}
			}
		}
		// Older than the 5m lookback: an instant query at now sees nothing.
		if got, err := api.query(family, time.Now()); err != nil || len(got) != 0 {
			t.Errorf("instant query of %s at now: %d series (%v); daily samples must be invisible to it", family, len(got), err)
		}
	}
}

// testDailyBars: the daily-trend dashboard's "Daily spend" bars, queried as
// Grafana does in a UTC+8 dashboard (steps at 00:00 UTC+8, 1d), are exactly
// the exporter's per-day totals, on their own day, with no bar for days not
// yet complete.
func testDailyBars(t *testing.T, api promClient, exp *demoExporter) {
	var expr string
	for _, d := range loadDashboards(t) {
		if filepath.Base(d.file) != "daily-trend.json" {
			continue
		}
		for _, p := range d.allPanels() {
			if strings.HasPrefix(p.Title, "Daily spend (") && len(p.Targets) == 1 {
				expr = substitute(p.Targets[0].Expr)
			}
		}
	}
	if expr == "" {
		t.Fatal(`daily-trend.json has no single-query "Daily spend (...)" panel`)
	}
	fams := parseExposition(t, exp.exposition(t))
	want := dailyFamily(t, fams, "aliyun_billing_account_daily_payable", func(l string) bool { return l == "account" || l == "currency" })
	now := time.Now()
	start := dailyStart(now.Add(-12*24*time.Hour - exp.shift))
	series, err := api.nonEmptyRange(expr, start, now, 24*time.Hour)
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	got := exposedDays{}
	for _, s := range series {
		for _, v := range s.Values {
			ts := int64(v.time() * 1000)
			if got[ts] == nil {
				got[ts] = map[string]float64{}
			}
			got[ts][labelKey(s.Metric)] = v.value()
		}
	}
	if !slices.Equal(sortedTimestamps(got), sortedTimestamps(want)) {
		t.Fatalf("bars on %v, exposed days %v", utc8Days(got), utc8Days(want))
	}
	for ts, day := range want {
		if !mapsClose(got[ts], day) {
			t.Errorf("bar of %s: %v, exporter's total %v", utc8Days(exposedDays{ts: nil}), got[ts], day)
		}
	}
}

func utc8Days(days exposedDays) []string {
	var out []string
	for _, ts := range sortedTimestamps(days) {
		out = append(out, time.UnixMilli(ts).In(time.FixedZone("UTC+8", utc8Offset)).Format("2006-01-02T15:04"))
	}
	return out
}

func mapsEqual(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// mapsClose compares sums, which Prometheus may add in another order.
func mapsClose(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || math.Abs(v-w) > 1e-9*math.Max(1, math.Abs(w)) {
			return false
		}
	}
	return true
}

// --- a small Prometheus HTTP API client ------------------------------------

// promClient speaks the Prometheus HTTP API, which VictoriaMetrics serves
// too; extra goes with every request (VictoriaMetrics: nocache=1).
type promClient struct {
	base  string
	extra url.Values
}

type promValue [2]any // [unix seconds, "value"]

func (v promValue) time() float64 {
	f, _ := v[0].(float64)
	return f
}

func (v promValue) value() float64 {
	s, _ := v[1].(string)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return math.NaN()
	}
	return f
}

type promSample struct {
	Metric map[string]string `json:"metric"`
	Value  promValue         `json:"value"`
}

func (s promSample) value() float64 { return s.Value.value() }

type promSeries struct {
	Metric map[string]string `json:"metric"`
	Values []promValue       `json:"values"`
}

func (c promClient) get(path string, params url.Values, into any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	u := c.base + path
	if len(c.extra) > 0 {
		merged := url.Values{}
		for k, v := range params {
			merged[k] = v
		}
		for k, v := range c.extra {
			merged[k] = v
		}
		params = merged
	}
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var env struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
		Error  string          `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return fmt.Errorf("%s: HTTP %d, undecodable answer: %w", path, resp.StatusCode, err)
	}
	if env.Status != "success" {
		return fmt.Errorf("%s: %s", path, env.Error)
	}
	return json.Unmarshal(env.Data, into)
}

func (c promClient) query(expr string, at time.Time) ([]promSample, error) {
	var data struct {
		ResultType string       `json:"resultType"`
		Result     []promSample `json:"result"`
	}
	params := url.Values{"query": {expr}, "time": {strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64)}}
	if err := c.get("/api/v1/query", params, &data); err != nil {
		return nil, err
	}
	if data.ResultType != "vector" {
		return nil, fmt.Errorf("result type %s, want vector", data.ResultType)
	}
	return data.Result, nil
}

// nonEmpty is query, with an empty result as errEmpty.
func (c promClient) nonEmpty(expr string, at time.Time) ([]promSample, error) {
	r, err := c.query(expr, at)
	if err == nil && len(r) == 0 {
		err = errEmpty
	}
	return r, err
}

// nonEmptyRange runs a range query and returns errEmpty when no series has a
// point.
func (c promClient) nonEmptyRange(expr string, start, end time.Time, step time.Duration) ([]promSeries, error) {
	var data struct {
		Result []promSeries `json:"result"`
	}
	params := url.Values{
		"query": {expr},
		"start": {strconv.FormatInt(start.Unix(), 10)},
		"end":   {strconv.FormatInt(end.Unix(), 10)},
		"step":  {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)},
	}
	if err := c.get("/api/v1/query_range", params, &data); err != nil {
		return nil, err
	}
	for _, s := range data.Result {
		if len(s.Values) > 0 {
			return data.Result, nil
		}
	}
	return nil, errEmpty
}
