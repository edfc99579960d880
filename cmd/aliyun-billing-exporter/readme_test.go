package main

import (
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/collector"
)

// readmeTable returns the rows of the README table whose first cell starts
// with prefix, as cells without backticks.
func readmeTable(t *testing.T, prefix string) [][]string {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]string
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
	if len(rows) == 0 {
		t.Fatalf("README has no table rows starting with %q", prefix)
	}
	return rows
}

// expandBraces turns "a_{x,y}" into "a_x", "a_y".
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
	cfg := collector.DefaultConfig()
	cfg.Instance.PerInstance = true
	cfg.Renewal.PerInstance = true
	cfg.Amounts = map[string][]string{"account": collector.AmountNames(), "instance": collector.AmountNames(), "ossbucket": collector.AmountNames()}
	var enabled []collector.Enabled
	for _, r := range collector.Registrations() {
		enabled = append(enabled, collector.Enabled{Name: r.Name, Interval: r.DefaultInterval})
	}
	exp, err := collector.New([]collector.Account{{Name: "a"}}, enabled, cfg, log.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan *prometheus.Desc, 1000)
	reloads := newReloader(nil, nil, nil, nil, nil, prometheus.NewRegistry())
	for _, c := range []prometheus.Collector{exp, collector.NewBSSMetrics(), collector.NewBudgetCollector(nil), versioncollector.NewCollector(exporterName), reloads.successful, reloads.successTime} {
		c.Describe(ch)
	}
	close(ch)
	var names []string
	for d := range ch {
		m := fqNameRE.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("cannot read the name of %s", d)
		}
		names = append(names, m[1])
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func TestREADMEMetricsTableMatchesCode(t *testing.T) {
	var documented []string
	for _, row := range readmeTable(t, "aliyun_billing_") {
		documented = append(documented, expandBraces(row[0])...)
	}
	slices.Sort(documented)
	code := exporterMetricNames(t)
	for _, n := range code {
		if !slices.Contains(documented, n) {
			t.Errorf("metric %s is not in the README's metrics table", n)
		}
	}
	for _, n := range documented {
		if !slices.Contains(code, n) {
			t.Errorf("README documents %s, which the exporter does not expose", n)
		}
	}
}

func TestREADMEFlagsTableMatchesCode(t *testing.T) {
	documented := map[string]string{} // flag -> default
	for _, row := range readmeTable(t, "--") {
		documented[strings.TrimPrefix(row[0], "--")] = row[1]
	}
	app := newApp(&options{}, io.Discard, io.Discard)
	seen := map[string]bool{}
	for _, f := range app.Model().Flags {
		if f.Hidden || f.Name == "help" {
			continue
		}
		seen[f.Name] = true
		def, ok := documented[f.Name]
		if !ok {
			t.Errorf("flag --%s is not in the README's flags table", f.Name)
			continue
		}
		want := strings.Join(f.Default, ",")
		if want == "" && f.IsBoolFlag() {
			want = "false"
		}
		if def != want {
			t.Errorf("README says --%s defaults to %q; the code says %q", f.Name, def, want)
		}
	}
	for name := range documented {
		if !seen[name] {
			t.Errorf("README documents --%s, which the exporter does not have", name)
		}
	}
}
