package dashboards

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// Files under test, relative to this package.
const (
	rulesDir           = "rules"
	recordingRulesFile = "rules/recording.yml"
	alertRulesFile     = "rules/alerts.yml"
	examplePrometheus  = "examples/prometheus.yml"
	exampleAM          = "examples/alertmanager.yml"
	runbookFile        = "README.md"
)

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []rule `yaml:"rules"`
	} `yaml:"groups"`
}

type rule struct {
	Record      string            `yaml:"record"`
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

// ruleTestFile is the part of a promtool test file the coverage check reads.
type ruleTestFile struct {
	RuleFiles []string `yaml:"rule_files"`
	Tests     []struct {
		Name      string `yaml:"name"`
		ExprTests []struct {
			Expr string `yaml:"expr"`
		} `yaml:"promql_expr_test"`
		AlertTests []struct {
			Alertname string `yaml:"alertname"`
			ExpAlerts []any  `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

func readYAML(t *testing.T, path string, into any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func loadRules(t *testing.T, path string) []rule {
	t.Helper()
	var f ruleFile
	readYAML(t, path, &f)
	var out []rule
	for _, g := range f.Groups {
		out = append(out, g.Rules...)
	}
	if len(out) == 0 {
		t.Fatalf("%s has no rules", path)
	}
	return out
}

func ruleFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(rulesDir, "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		if !strings.HasSuffix(f, "_test.yml") {
			out = append(out, f)
		}
	}
	if !slices.Contains(out, recordingRulesFile) || !slices.Contains(out, alertRulesFile) {
		t.Fatalf("rule files %v lack %s or %s", out, recordingRulesFile, alertRulesFile)
	}
	return out
}

func ruleTestFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(rulesDir, "*_test.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no promtool test files in %s", rulesDir)
	}
	return files
}

func TestPromtoolCheckRules(t *testing.T) {
	for _, f := range ruleFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			out := runTool(t, ".", "promtool", "check", "rules", f)
			if !strings.Contains(out, "SUCCESS") {
				t.Errorf("promtool check rules %s:\n%s", f, out)
			}
		})
	}
}

func TestPromtoolTestRules(t *testing.T) {
	for _, f := range ruleTestFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			out := runTool(t, rulesDir, "promtool", "test", "rules", filepath.Base(f))
			if !strings.Contains(out, "SUCCESS") {
				t.Errorf("promtool test rules %s:\n%s", f, out)
			}
		})
	}
}

func TestExampleConfigs(t *testing.T) {
	out := runTool(t, ".", "promtool", "check", "config", examplePrometheus)
	// The example must load every shipped rule file, not some other copy.
	want := []string{fmt.Sprintf("SUCCESS: %d rule files found", len(ruleFiles(t)))}
	for _, f := range ruleFiles(t) {
		want = append(want, filepath.Base(f))
	}
	for _, want := range want {
		if !strings.Contains(out, want) {
			t.Errorf("promtool check config %s: output lacks %q:\n%s", examplePrometheus, want, out)
		}
	}
	out = runTool(t, ".", "amtool", "check-config", exampleAM)
	if !strings.Contains(out, "SUCCESS") {
		t.Errorf("amtool check-config %s:\n%s", exampleAM, out)
	}
}

var (
	alertNameRE     = regexp.MustCompile(`^AliyunBilling[A-Z][A-Za-z0-9]+$`)
	recordingNameRE = regexp.MustCompile(`^[a-z_]+:aliyun_billing_[a-z0-9_]+:[a-z0-9_]+$`)
)

// TestRuleConventions: names follow level:metric:operation and the shared
// CamelCase prefix; every alert is routable and documented.
func TestRuleConventions(t *testing.T) {
	readme, err := os.ReadFile(runbookFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range loadRules(t, recordingRulesFile) {
		if r.Alert != "" {
			t.Errorf("%s: alert %s belongs in %s", recordingRulesFile, r.Alert, alertRulesFile)
		}
		if !recordingNameRE.MatchString(r.Record) {
			t.Errorf("recording rule %q does not match %s", r.Record, recordingNameRE)
		}
	}
	seen := map[string]bool{}
	for _, r := range loadRules(t, alertRulesFile) {
		if r.Record != "" {
			t.Errorf("%s: recording rule %s belongs in %s", alertRulesFile, r.Record, recordingRulesFile)
			continue
		}
		if !alertNameRE.MatchString(r.Alert) {
			t.Errorf("alert %q does not match %s", r.Alert, alertNameRE)
		}
		if seen[r.Alert] {
			t.Errorf("alert %s is defined twice", r.Alert)
		}
		seen[r.Alert] = true
		if s := r.Labels["severity"]; s != "warning" && s != "critical" {
			t.Errorf("alert %s: severity %q, want warning or critical", r.Alert, s)
		}
		if c := r.Labels["category"]; c != "cost" && c != "exporter" {
			t.Errorf("alert %s: category %q, want cost or exporter (examples/alertmanager.yml routes on it)", r.Alert, c)
		}
		for _, a := range []string{"summary", "description", "runbook_url"} {
			if strings.TrimSpace(r.Annotations[a]) == "" {
				t.Errorf("alert %s has no %s annotation", r.Alert, a)
			}
		}
		anchor := "#" + strings.ToLower(r.Alert)
		if !strings.HasSuffix(r.Annotations["runbook_url"], "dashboards/README.md"+anchor) {
			t.Errorf("alert %s: runbook_url %q does not point to dashboards/README.md%s", r.Alert, r.Annotations["runbook_url"], anchor)
		}
		if !regexp.MustCompile(`(?m)^### ` + r.Alert + `$`).Match(readme) {
			t.Errorf("%s has no runbook heading \"### %s\"", runbookFile, r.Alert)
		}
		if r.For == "" {
			t.Errorf("alert %s has no for: duration", r.Alert)
		}
	}
}

// TestRuleTestCoverage: every alert has a promtool case where it fires and
// one where it does not, and every recording rule is evaluated by a case.
func TestRuleTestCoverage(t *testing.T) {
	firing, quiet := map[string]int{}, map[string]int{}
	var exprs []string
	for _, f := range ruleTestFiles(t) {
		var tf ruleTestFile
		readYAML(t, f, &tf)
		for _, tc := range tf.Tests {
			for _, e := range tc.ExprTests {
				exprs = append(exprs, e.Expr)
			}
			for _, a := range tc.AlertTests {
				if len(a.ExpAlerts) > 0 {
					firing[a.Alertname]++
				} else {
					quiet[a.Alertname]++
				}
			}
		}
	}
	alerts := map[string]bool{}
	for _, r := range slices.Concat(loadRules(t, alertRulesFile), commitmentRules(t, true)) {
		alerts[r.Alert] = true
		if firing[r.Alert] == 0 {
			t.Errorf("alert %s has no promtool case where it fires", r.Alert)
		}
		if quiet[r.Alert] == 0 {
			t.Errorf("alert %s has no promtool case where it does not fire", r.Alert)
		}
	}
	for name := range firing {
		if !alerts[name] {
			t.Errorf("promtool cases test alert %s, which %s does not define", name, alertRulesFile)
		}
	}
	for _, r := range slices.Concat(loadRules(t, recordingRulesFile), commitmentRules(t, false)) {
		re := regexp.MustCompile(`(^|[^a-z_:])` + regexp.QuoteMeta(r.Record) + `($|[^a-z0-9_:])`)
		if !slices.ContainsFunc(exprs, re.MatchString) {
			t.Errorf("recording rule %s is not evaluated by any promql_expr_test", r.Record)
		}
	}
}
