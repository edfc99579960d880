package dashboards

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// commitmentRulesFile holds the commitment thresholds, recording rules and
// alerts together; it needs neither recording.yml nor alerts.yml.
const commitmentRulesFile = "rules/commitments.yml"

// commitmentRules returns the alerts (alerts true) or the recording rules
// of commitments.yml.
func commitmentRules(t *testing.T, alerts bool) []rule {
	t.Helper()
	var out []rule
	for _, r := range loadRules(t, commitmentRulesFile) {
		if (r.Alert != "") == alerts {
			out = append(out, r)
		}
	}
	return out
}

// TestCommitmentRuleConventions: commitments.yml follows the conventions
// TestRuleConventions checks for recording.yml and alerts.yml, and every
// metric its rules read is one the demo exporter exposes or one it records.
func TestCommitmentRuleConventions(t *testing.T) {
	readme, err := os.ReadFile(runbookFile)
	if err != nil {
		t.Fatal(err)
	}
	recorded := map[string]bool{}
	for _, r := range commitmentRules(t, false) {
		recorded[r.Record] = true
		if !recordingNameRE.MatchString(r.Record) {
			t.Errorf("recording rule %q does not match %s", r.Record, recordingNameRE)
		}
	}
	for _, r := range commitmentRules(t, true) {
		if !alertNameRE.MatchString(r.Alert) {
			t.Errorf("alert %q does not match %s", r.Alert, alertNameRE)
		}
		if r.Labels["severity"] != "warning" && r.Labels["severity"] != "critical" {
			t.Errorf("alert %s: severity %q", r.Alert, r.Labels["severity"])
		}
		if r.Labels["category"] != "cost" && r.Labels["category"] != "exporter" {
			t.Errorf("alert %s: category %q", r.Alert, r.Labels["category"])
		}
		for _, a := range []string{"summary", "description", "runbook_url"} {
			if strings.TrimSpace(r.Annotations[a]) == "" {
				t.Errorf("alert %s has no %s annotation", r.Alert, a)
			}
		}
		if !strings.HasSuffix(r.Annotations["runbook_url"], "dashboards/README.md#"+strings.ToLower(r.Alert)) {
			t.Errorf("alert %s: runbook_url %q", r.Alert, r.Annotations["runbook_url"])
		}
		if !regexp.MustCompile(`(?m)^### ` + r.Alert + `$`).Match(readme) {
			t.Errorf("%s has no runbook heading \"### %s\"", runbookFile, r.Alert)
		}
		if r.For == "" {
			t.Errorf("alert %s has no for: duration", r.Alert)
		}
	}

	exposed := sampleNames(sharedExporter(t).exposition(t))
	for _, r := range loadRules(t, commitmentRulesFile) {
		rec, exp := metricRefs(r.Expr)
		for _, name := range rec {
			if !recorded[name] {
				t.Errorf("rule %s%s uses %s, which %s does not record", r.Record, r.Alert, name, commitmentRulesFile)
			}
		}
		for _, name := range exp {
			if !exposed[name] {
				t.Errorf("rule %s%s uses %s, which the demo exporter does not expose", r.Record, r.Alert, name)
			}
		}
	}
}
