package dashboards

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

const grafanaDir = "grafana"

// minSchemaVersion is Grafana 10's dashboard schema.
const minSchemaVersion = 38

// datasourceUID is what every panel and query points at: the $datasource
// variable, so users pick their Prometheus on import.
const datasourceUID = "${datasource}"

type dsRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type gTarget struct {
	Datasource *dsRef `json:"datasource"`
	Expr       string `json:"expr"`
	RefID      string `json:"refId"`
	Instant    bool   `json:"instant"`
	Interval   string `json:"interval"`
}

type gPanel struct {
	ID          int       `json:"id"`
	Type        string    `json:"type"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Datasource  *dsRef    `json:"datasource"`
	Interval    string    `json:"interval"`
	Targets     []gTarget `json:"targets"`
	Panels      []gPanel  `json:"panels"`
}

type gVariable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"`
	Datasource *dsRef          `json:"datasource"`
	AllValue   string          `json:"allValue"`
	IncludeAll bool            `json:"includeAll"`
	Current    struct {
		Value string `json:"value"`
	} `json:"current"`
	Options []gOption `json:"options"`
}

// gOption is an option of a custom variable.
type gOption struct {
	Text  string `json:"text"`
	Value string `json:"value"`
}

// queryText is the variable's query, stored as a string or, by Grafana 10's
// Prometheus editor, as {"query": "..."}.
func (v gVariable) queryText() string {
	var s string
	if json.Unmarshal(v.Query, &s) == nil {
		return s
	}
	var o struct {
		Query string `json:"query"`
	}
	_ = json.Unmarshal(v.Query, &o)
	return o.Query
}

type gDashboard struct {
	file          string
	UID           string `json:"uid"`
	Title         string `json:"title"`
	SchemaVersion int    `json:"schemaVersion"`
	Timezone      string `json:"timezone"`
	Panels        []gPanel
	Templating    struct {
		List []gVariable `json:"list"`
	} `json:"templating"`
}

// allPanels flattens rows: a collapsed row keeps its panels inside it.
func (d gDashboard) allPanels() []gPanel {
	var out []gPanel
	var walk func([]gPanel)
	walk = func(ps []gPanel) {
		for _, p := range ps {
			out = append(out, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

func loadDashboards(t *testing.T) []gDashboard {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(grafanaDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no dashboards in %s", grafanaDir)
	}
	var out []gDashboard
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d gDashboard
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s is not valid JSON: %v", f, err)
		}
		d.file = f
		out = append(out, d)
	}
	return out
}

// dashboardVariables are the variables every dashboard has; the value is the
// label a query variable lists.
var dashboardVariables = map[string]string{
	"account":  "account",
	"currency": "currency",
	"owner":    "owner_id",
	"product":  "product_code",
}

var labelValuesRE = regexp.MustCompile(`^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$`)

func TestDashboardStructure(t *testing.T) {
	uids := map[string]string{}
	for _, d := range loadDashboards(t) {
		t.Run(filepath.Base(d.file), func(t *testing.T) {
			if d.UID == "" || d.Title == "" {
				t.Errorf("uid %q, title %q: both are needed", d.UID, d.Title)
			}
			if other, ok := uids[d.UID]; ok {
				t.Errorf("uid %q is also used by %s", d.UID, other)
			}
			uids[d.UID] = d.file
			if d.SchemaVersion < minSchemaVersion {
				t.Errorf("schemaVersion %d, want >= %d (Grafana 10)", d.SchemaVersion, minSchemaVersion)
			}

			vars := map[string]gVariable{}
			for _, v := range d.Templating.List {
				vars[v.Name] = v
			}
			if ds, ok := vars["datasource"]; !ok || ds.Type != "datasource" || string(ds.Query) != `"prometheus"` {
				t.Errorf("want a datasource variable of query prometheus, got %+v", ds)
			}
			for name, label := range dashboardVariables {
				v, ok := vars[name]
				if !ok {
					t.Errorf("no $%s variable", name)
					continue
				}
				m := labelValuesRE.FindStringSubmatch(v.queryText())
				if v.Type != "query" || m == nil || m[2] != label {
					t.Errorf("$%s: want a query variable label_values(..., %s), got type %q query %q", name, label, v.Type, v.queryText())
				}
			}
			for _, v := range d.Templating.List {
				if v.Type == "query" && (v.Datasource == nil || *v.Datasource != (dsRef{"prometheus", datasourceUID})) {
					t.Errorf("variable $%s: datasource %+v, want prometheus %s", v.Name, v.Datasource, datasourceUID)
				}
			}
			// A custom variable (the Cost choice) means the same everywhere:
			// the query tests run every panel with each of its options.
			for _, v := range d.Templating.List {
				if v.Type != "custom" {
					continue
				}
				shared, ok := customVariables()[v.Name]
				if v.IncludeAll || len(v.Options) < 2 || !ok || !reflect.DeepEqual(v.Options, shared.Options) {
					t.Errorf("custom variable $%s: want one choice of at least two options, the same in every dashboard, got %+v", v.Name, v)
				}
				if !slices.ContainsFunc(v.Options, func(o gOption) bool { return o.Value == v.Current.Value }) {
					t.Errorf("custom variable $%s starts at %q, which is not one of its options", v.Name, v.Current.Value)
				}
			}

			ids := map[int]string{}
			for _, p := range d.allPanels() {
				if p.ID <= 0 {
					t.Errorf("panel %q has no id", p.Title)
				}
				if other, ok := ids[p.ID]; ok {
					t.Errorf("panel id %d is used by %q and %q", p.ID, other, p.Title)
				}
				ids[p.ID] = p.Title
				if p.Datasource == nil || *p.Datasource != (dsRef{"prometheus", datasourceUID}) {
					t.Errorf("panel %d %q: datasource %+v, want prometheus %s", p.ID, p.Title, p.Datasource, datasourceUID)
				}
				if p.Type == "row" {
					continue
				}
				if strings.TrimSpace(p.Description) == "" {
					t.Errorf("panel %d %q has no description", p.ID, p.Title)
				}
				if len(p.Targets) == 0 {
					t.Errorf("panel %d %q has no query", p.ID, p.Title)
				}
				refIDs := map[string]bool{}
				for _, tg := range p.Targets {
					if tg.Datasource == nil || *tg.Datasource != (dsRef{"prometheus", datasourceUID}) {
						t.Errorf("panel %d %q query %s: datasource %+v", p.ID, p.Title, tg.RefID, tg.Datasource)
					}
					if tg.RefID == "" || refIDs[tg.RefID] {
						t.Errorf("panel %d %q: refId %q missing or repeated", p.ID, p.Title, tg.RefID)
					}
					refIDs[tg.RefID] = true
					if strings.TrimSpace(tg.Expr) == "" {
						t.Errorf("panel %d %q query %s is empty", p.ID, p.Title, tg.RefID)
					}
					checkDailyQuery(t, d, p, tg)
					checkCurrencyAggregation(t, fmt.Sprintf("panel %d %q", p.ID, p.Title), tg.Expr)
				}
			}
		})
	}
}

var (
	dailyMetricRE = regexp.MustCompile(`aliyun_billing_[a-z]+_daily_[a-z_]+`)
	// dailyRangeRE is a daily metric read through a range selector.
	dailyRangeRE = regexp.MustCompile(`aliyun_billing_[a-z]+_daily_[a-z_]+(\{[^}]*\})?\[([0-9a-z]+)\]`)
)

// checkDailyQuery: the timestamped daily series are invisible to instant
// selectors, so a query must read them through a range; bars need one
// point per billing day and a description of the billing delays.
func checkDailyQuery(t *testing.T, d gDashboard, p gPanel, tg gTarget) {
	t.Helper()
	uses := dailyMetricRE.FindAllString(tg.Expr, -1)
	if len(uses) == 0 {
		return
	}
	ranges := dailyRangeRE.FindAllStringSubmatch(tg.Expr, -1)
	if len(ranges) != len(uses) {
		t.Errorf("panel %d %q: every daily series must be read through a range selector: %s", p.ID, p.Title, tg.Expr)
	}
	if !strings.Contains(p.Description, "UTC+8") {
		t.Errorf("panel %d %q reads daily series; its description must explain the UTC+8 billing days and delays", p.ID, p.Title)
	}
	if p.Type != "timeseries" || tg.Instant {
		return
	}
	for _, r := range ranges {
		// Just under a day: a step that sits exactly on a 00:00 UTC+8
		// timestamp must not see the previous day too.
		if r[2] != "23h59m59s" {
			t.Errorf("panel %d %q: a per-day bar reads [%s], want [23h59m59s]: %s", p.ID, p.Title, r[2], tg.Expr)
		}
	}
	if p.Interval != "1d" && tg.Interval != "1d" {
		t.Errorf("panel %d %q: per-day bars need interval 1d, got %q", p.ID, p.Title, p.Interval)
	}
	if d.Timezone != "Asia/Shanghai" {
		t.Errorf("dashboard %s has per-day bars and time zone %q; want Asia/Shanghai so steps start billing days", d.file, d.Timezone)
	}
}

var (
	aggregationRE = regexp.MustCompile(`\b(sum|max|min|avg|count)\s+by\s*\(([^)]*)\)`)
	moneyMetricRE = regexp.MustCompile(`_(payable|list_price|discount|coupon_deduction|cash_paid|outstanding|balance_available|balance_available_cash|balance_credit|budget_monthly)\b|:aliyun_billing_(payable|budget_spend|daily_payable|budget_monthly)`)
)

// checkCurrencyAggregation: money is never added across currencies.
// countsNotMoney are rules that read money families only to count their
// series or samples; no amount is aggregated.
var countsNotMoney = map[string]bool{
	"AliyunBillingDailySamplesDropped": true,
}

func checkCurrencyAggregation(t *testing.T, where, expr string) {
	t.Helper()
	if !moneyMetricRE.MatchString(expr) {
		return
	}
	for _, m := range aggregationRE.FindAllStringSubmatch(expr, -1) {
		labels := strings.Split(m[2], ",")
		for i := range labels {
			labels[i] = strings.TrimSpace(labels[i])
		}
		if !slices.Contains(labels, "currency") {
			t.Errorf("%s: %q drops the currency label from money: %s", where, m[0], expr)
		}
	}
}

var (
	recordingRefRE = regexp.MustCompile(`[a-z_]+:aliyun_billing_[a-z0-9_]+:[a-z0-9_]+`)
	metricRefRE    = regexp.MustCompile(`aliyun_billing_[a-z0-9_]+`)
)

// metricRefs splits the names an expression reads into recording rules and
// exporter metrics. Recording-rule names are removed first because they
// contain aliyun_billing_ too.
func metricRefs(expr string) (recorded, exported []string) {
	recorded = recordingRefRE.FindAllString(expr, -1)
	rest := recordingRefRE.ReplaceAllString(expr, " ")
	exported = metricRefRE.FindAllString(rest, -1)
	return recorded, exported
}

// seriesAfterEvent are counter vectors the demo may not show: a vector has
// no series until its first increment. The demo's refreshes never fail, and
// whether its simulated quota throttles (and the client retries) depends on
// timing. Each must be in the metrics table of docs/metrics.md, which
// cmd/aliyun-billing-exporter's readme test keeps in step with the code, so
// a rename still breaks this test.
var seriesAfterEvent = []string{
	"aliyun_billing_refresh_failures_total",
	"aliyun_billing_bss_throttled_total",
	"aliyun_billing_bss_retries_total",
	"aliyun_billing_late_restatement_payable_total", // one per currency, from the first restated day
	// Only with --remote-write.url, which the demo does not push with:
	// TestRemoteWritePush checks them on an exporter that does.
	"aliyun_billing_remote_write_oldest_pending_day_age_seconds",
	"aliyun_billing_remote_write_failures_total",
}

// TestQueriesUseRealMetrics: every metric name in a dashboard query, a
// variable or a rule is one the exporter exposes (read from the built
// binary running in demo mode with every optional family on) or a recording
// rule of recording.yml. A renamed metric breaks this test.
var readmeColumnsRE = regexp.MustCompile("\\| `(aliyun_billing_[a-z0-9_]+_)\\{([a-z_,]+)\\}` \\|")

func TestQueriesUseRealMetrics(t *testing.T) {
	exposed := sampleNames(sharedExporter(t).exposition(t))
	var mainReadme string // every metrics table under docs/
	docs, _ := filepath.Glob("../docs/*.md")
	for _, f := range docs {
		mainReadme += string(mustRead(t, f))
	}
	for _, name := range seriesAfterEvent {
		if exposed[name] {
			continue
		}
		if !strings.Contains(mainReadme, "| `"+name+"` |") {
			t.Errorf("%s is neither exposed by the demo nor in a metrics table under ../docs/", name)
			continue
		}
		exposed[name] = true
	}
	// Money columns the demo does not turn on (--collector.<name>.amounts)
	// are real if the README's metrics table lists them, in its
	// "prefix_{a,b,…}" form; its readme test keeps that table true.
	for _, m := range readmeColumnsRE.FindAllStringSubmatch(mainReadme, -1) {
		for _, col := range strings.Split(m[2], ",") {
			exposed[m[1]+col] = true
		}
	}
	recorded := map[string]bool{}
	for _, r := range loadRules(t, recordingRulesFile) {
		recorded[r.Record] = true
	}
	used := map[string]bool{}
	check := func(where, expr string) {
		rec, exp := metricRefs(expr)
		for _, name := range rec {
			used[name] = true
			if !recorded[name] {
				t.Errorf("%s uses %s, which %s does not record", where, name, recordingRulesFile)
			}
		}
		for _, name := range exp {
			used[name] = true
			if !exposed[name] {
				t.Errorf("%s uses %s, which the exporter does not expose", where, name)
			}
		}
	}
	for _, d := range loadDashboards(t) {
		for _, v := range d.Templating.List {
			if v.Type == "query" {
				check(fmt.Sprintf("%s variable $%s", d.file, v.Name), v.queryText())
			}
		}
		for _, p := range d.allPanels() {
			for _, tg := range p.Targets {
				for _, expr := range choices(tg.Expr) {
					check(fmt.Sprintf("%s panel %d %q", d.file, p.ID, p.Title), expr)
				}
			}
		}
	}
	for _, f := range []string{recordingRulesFile, alertRulesFile} {
		for _, r := range loadRules(t, f) {
			check(fmt.Sprintf("%s rule %s%s", f, r.Record, r.Alert), r.Expr)
			if !countsNotMoney[r.Alert] {
				checkCurrencyAggregation(t, fmt.Sprintf("%s rule %s%s", f, r.Record, r.Alert), r.Expr)
			}
		}
	}
	// The daily-series checks of TestDashboardStructure rely on names like
	// these; make sure the exporter still has them.
	var missing []string
	for _, name := range []string{"aliyun_billing_account_daily_payable", "aliyun_billing_instance_daily_by_instance_payable", "aliyun_billing_budget_monthly"} {
		if !exposed[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("the demo exporter does not expose %v", missing)
	}
	if len(used) < 20 {
		t.Errorf("found only %d metric names in the queries; the name extraction is broken", len(used))
	}
}

func TestMetricRefs(t *testing.T) {
	tests := []struct {
		expr               string
		recorded, exported []string
	}{
		{
			expr:     `sum by (account, currency) (aliyun_billing_account_cycle_payable{cycle="current"})`,
			exported: []string{"aliyun_billing_account_cycle_payable"},
		},
		{
			expr:     `account_currency:aliyun_billing_payable:cycle_to_date / on (account) aliyun_billing_budget_monthly`,
			recorded: []string{"account_currency:aliyun_billing_payable:cycle_to_date"},
			exported: []string{"aliyun_billing_budget_monthly"},
		},
		{
			expr:     `histogram_quantile(0.95, sum by (le) (rate(aliyun_billing_bss_request_duration_seconds_bucket[5m]))) > on () group_left threshold:aliyun_billing_bss_throttled:ratio`,
			recorded: []string{"threshold:aliyun_billing_bss_throttled:ratio"},
			exported: []string{"aliyun_billing_bss_request_duration_seconds_bucket"},
		},
		{expr: `up{job="aliyun-billing"} == 0`},
	}
	for _, tc := range tests {
		rec, exp := metricRefs(tc.expr)
		if !slices.Equal(rec, tc.recorded) || !slices.Equal(exp, tc.exported) {
			t.Errorf("metricRefs(%q) = %q, %q; want %q, %q", tc.expr, rec, exp, tc.recorded, tc.exported)
		}
	}
}
