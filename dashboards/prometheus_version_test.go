package dashboards

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// prometheusMajor is the major version of the prometheus and promtool
// these tests run (the first on PATH). `make test` runs this package once
// with Debian's Prometheus 2 and once with Prometheus 3 first on PATH
// (WANT_PROMETHEUS_MAJOR=3), so that the rules, alerts and panels are
// checked on both.
//
// A release build says its version; one built with `go install` (as make
// builds Prometheus 3) does not, and its module version says it instead:
// Prometheus 3.x.y is the Go module version v0.3xx.y.
func prometheusMajor(t *testing.T, name string) int {
	t.Helper()
	out := runTool(t, t.TempDir(), name, "--version")
	if m := regexp.MustCompile(`(?m)^` + name + `, version ([0-9]+)\.`).FindStringSubmatch(out); m != nil {
		major, _ := strconv.Atoi(m[1])
		return major
	}
	info := runTool(t, t.TempDir(), "go", "version", "-m", toolPath(t, name))
	if m := regexp.MustCompile(`(?m)^\s+mod\s+github\.com/prometheus/prometheus\s+v0\.([1-9])[0-9]{2}\.`).FindStringSubmatch(info); m != nil {
		major, _ := strconv.Atoi(m[1])
		return major
	}
	t.Fatalf("%s tells no version, neither by --version nor by its module:\n%s\n%s", name, out, info)
	return 0
}

// TestPrometheusIsTheOneAskedFor: with WANT_PROMETHEUS_MAJOR set, the
// binaries on PATH are of that major version, so a broken PATH cannot run
// the same Prometheus twice and call it a matrix.
func TestPrometheusIsTheOneAskedFor(t *testing.T) {
	want := os.Getenv("WANT_PROMETHEUS_MAJOR")
	for _, name := range []string{"prometheus", "promtool"} {
		got := prometheusMajor(t, name)
		if want != "" && strconv.Itoa(got) != want {
			t.Errorf("%s on PATH is version %d.x, want %s.x", name, got, want)
		}
		t.Logf("%s %d.x", name, got)
	}
}

// TestRangeSelectorBoundsDifferByVersion states the one difference between
// Prometheus 2 and 3 that a cost query meets: a range selector includes a
// sample exactly at its left edge in 2.x (left-closed) and excludes it in
// 3.x (left-open). So a range or subquery whose left edge falls on a daily
// sample's timestamp, such as [28d] evaluated on a day boundary, counts 29
// days in 2.x and 28 in 3.x. The shipped rules and panels never put an
// edge on a daily timestamp (rules/recording.yml says how), so they give
// the same numbers on both; a query of one's own must do the same (README,
// Backends).
func TestRangeSelectorBoundsDifferByVersion(t *testing.T) {
	major := prometheusMajor(t, "promtool")
	days := 28
	if major < 3 {
		days = 29
	}
	dir := t.TempDir()
	test := fmt.Sprintf(`evaluation_interval: 1d
tests:
  - interval: 1d
    input_series:
      - series: daily{}
        values: 1x40
    promql_expr_test:
      - expr: count_over_time(daily[28d])
        eval_time: 35d
        exp_samples:
          - labels: "{}"
            value: %d
`, days)
	if err := os.WriteFile(filepath.Join(dir, "bounds.yml"), []byte(test), 0o644); err != nil {
		t.Fatal(err)
	}
	runTool(t, dir, "promtool", "test", "rules", "bounds.yml")
}
