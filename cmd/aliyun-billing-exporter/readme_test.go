package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/collector"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/remotewrite"
)

// docTable returns the rows of the tables under docs/ whose first cell starts
// with prefix, as cells without backticks.
func docTable(t *testing.T, prefix string) [][]string {
	t.Helper()
	files, err := filepath.Glob("../../docs/*.md")
	if err != nil || len(files) == 0 {
		t.Fatalf("no docs: %v", err)
	}
	var rows [][]string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if !strings.HasPrefix(line, "| `"+prefix) {
				continue
			}
			var cells []string
			for _, c := range strings.Split(strings.Trim(line, "|"), "|") {
				cells = append(cells, strings.Trim(strings.TrimSpace(c), "`"))
			}
			rows = append(rows, cells)
		}
	}
	if len(rows) == 0 {
		t.Fatalf("docs/ has no table rows starting with %q", prefix)
	}
	return rows
}

func expandBraces(s string) []string {
	open, end := strings.Index(s, "{"), strings.Index(s, "}")
	if open < 0 || end < open {
		return []string{s}
	}
	var out []string
	for _, alt := range strings.Split(s[open+1:end], ",") {
		out = append(out, expandBraces(s[:open]+alt+s[end+1:])...)
	}
	return out
}

var fqNameRE = regexp.MustCompile(`fqName: "([^"]+)"`)

// exporterMetricNames lists every metric the exporter can emit, with every
// optional family switched on.
func exporterMetricNames(t *testing.T) []string {
	t.Helper()
	var names []string
	for _, d := range exporterDescs(t) {
		m := fqNameRE.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("cannot read the name of %s", d)
		}
		names = append(names, m[1])
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// exporterDescs are the descriptors of every metric the exporter can emit,
// with every optional family switched on.
func exporterDescs(t *testing.T) []*prometheus.Desc {
	t.Helper()
	cfg := collector.DefaultConfig()
	cfg.Instance.PerInstance = true
	cfg.Renewal.PerInstance = true
	cfg.Amortized.PerInstance = true
	cfg.LabelledDays = 30
	cfg.Amounts = map[string][]string{"account": collector.AmountNames(), "instance": collector.AmountNames(), "ossbucket": collector.AmountNames()}
	var enabled []collector.Enabled
	for _, r := range collector.Registrations() {
		enabled = append(enabled, collector.Enabled{Name: r.Name, Interval: r.DefaultInterval})
	}
	// A client that is never called: the commitment collectors want one
	// that can read commitments when they are built.
	client, err := bssclient.New(bssclient.Config{Endpoint: "http://127.0.0.1:1", Credentials: bssclient.StaticCredentials("id", "secret", "")})
	if err != nil {
		t.Fatal(err)
	}
	exp, err := collector.New(collector.Account{Name: "a", Client: client}, enabled, cfg, log.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan *prometheus.Desc, 1000)
	reloads := newReloader(nil, nil, nil, nil, prometheus.NewRegistry())
	for _, c := range []prometheus.Collector{exp, collector.NewBSSMetrics(), collector.NewBudgetCollector(nil), versioncollector.NewCollector(exporterName), reloads.successful, reloads.successTime, remotewrite.NewMetrics()} {
		c.Describe(ch)
	}
	close(ch)
	var out []*prometheus.Desc
	for d := range ch {
		out = append(out, d)
	}
	return out
}

func TestDocsMetricsTableMatchesCode(t *testing.T) {
	var documented []string
	for _, row := range docTable(t, "aliyun_billing_") {
		documented = append(documented, expandBraces(row[0])...)
	}
	slices.Sort(documented)
	code := exporterMetricNames(t)
	for _, n := range code {
		if !slices.Contains(documented, n) {
			t.Errorf("metric %s is in no metrics table under docs/", n)
		}
	}
	for _, n := range documented {
		if !slices.Contains(code, n) {
			t.Errorf("docs/ documents %s, which the exporter does not expose", n)
		}
	}
}

func TestDocsFlagsTableMatchesCode(t *testing.T) {
	documented := map[string]string{} // flag -> default
	for _, row := range docTable(t, "--") {
		documented[strings.TrimPrefix(row[0], "--")] = row[1]
	}
	seen := map[string]bool{}
	for _, f := range commandFlags(t, serveCommand) {
		if f.Hidden || f.Name == "help" {
			continue
		}
		seen[f.Name] = true
		def, ok := documented[f.Name]
		if !ok {
			t.Errorf("flag --%s is in no flags table under docs/", f.Name)
			continue
		}
		want := strings.Join(f.Default, ",")
		if want == "" && f.IsBoolFlag() {
			want = "false"
		}
		if def != want {
			t.Errorf("docs/ says --%s defaults to %q; the code says %q", f.Name, def, want)
		}
	}
	for name := range documented {
		if !seen[name] {
			t.Errorf("docs/ documents --%s, which the exporter does not have", name)
		}
	}
}

// TestEachCollectorFlagAndMetricInOneTable: across the README and docs/,
// each metric family and each flag is a row of exactly one table, and the
// README's collectors table lists every registered collector once.
func TestEachCollectorFlagAndMetricInOneTable(t *testing.T) {
	files, err := filepath.Glob("../../docs/*.md")
	if err != nil || len(files) == 0 {
		t.Fatalf("no docs: %v", err)
	}
	files = append(files, "../../README.md")
	rows := map[string]int{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if !strings.HasPrefix(line, "| `") {
				continue
			}
			first := strings.Trim(strings.TrimSpace(strings.Split(strings.Trim(line, "|"), "|")[0]), "`")
			if strings.HasPrefix(first, "aliyun_billing_") || strings.HasPrefix(first, "--") {
				for _, name := range expandBraces(first) {
					rows[name]++
				}
			}
		}
	}
	for _, name := range exporterMetricNames(t) {
		if rows[name] != 1 {
			t.Errorf("metric %s is a row of %d tables, want 1", name, rows[name])
		}
	}
	for _, f := range commandFlags(t, serveCommand) {
		if !f.Hidden && f.Name != "help" && rows["--"+f.Name] != 1 {
			t.Errorf("flag --%s is a row of %d tables, want 1", f.Name, rows["--"+f.Name])
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range collector.Registrations() {
		if n := strings.Count(string(readme), "\n| "+r.Name+" |"); n != 1 {
			t.Errorf("collector %s is a row of the README's collectors table %d times, want 1", r.Name, n)
		}
	}
}

var (
	variableLabelsRE = regexp.MustCompile(`variableLabels: \{([^}]*)\}`)
	focusNameRE      = regexp.MustCompile("`([a-z_*{},]+)`")
)

// TestFOCUSTableNamesEveryMoneyFamily: every family with a currency label
// (money) has a row in the FOCUS table of docs/metrics.md, by its name, a
// `*_suffix` pattern, or a `prefix_{a,b}` form, so that a new money family
// cannot ship without saying what FOCUS column it is, or that it has none.
func TestFOCUSTableNamesEveryMoneyFamily(t *testing.T) {
	data, err := os.ReadFile("../../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "## FOCUS names")
	if !ok {
		t.Fatal("docs/metrics.md has no FOCUS names section")
	}
	var names, suffixes []string
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| ") {
			continue
		}
		first, _, _ := strings.Cut(strings.TrimPrefix(line, "| "), " | ")
		for _, m := range focusNameRE.FindAllStringSubmatch(first, -1) {
			for _, n := range expandBraces(m[1]) {
				if s, ok := strings.CutPrefix(n, "*"); ok {
					suffixes = append(suffixes, s)
				} else {
					names = append(names, n)
				}
			}
		}
	}
	money := moneyFamilies(t)
	if len(money) < 10 {
		t.Fatalf("found only %d money families; reading the descriptors is broken", len(money))
	}
	for _, f := range money {
		if slices.Contains(names, f) || slices.ContainsFunc(suffixes, func(s string) bool { return strings.HasSuffix(f, s) }) {
			continue
		}
		t.Errorf("money family %s has no row in the FOCUS table of docs/metrics.md", f)
	}
}

// moneyFamilies are the families the exporter can emit with a currency
// label, other than info metrics (value 1).
func moneyFamilies(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, d := range exporterDescs(t) {
		m := variableLabelsRE.FindStringSubmatch(d.String())
		if m != nil && slices.Contains(strings.Split(m[1], ","), "currency") && !strings.Contains(d.String(), `_info"`) {
			out = append(out, fqNameRE.FindStringSubmatch(d.String())[1])
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
