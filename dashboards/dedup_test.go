package dashboards

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// familyLabels are the exporter's own labels of each money family: what
// identifies a series apart from the target labels (job, instance, pod, …)
// that change when an exporter moves or runs twice.
var familyLabels = []struct {
	re     *regexp.Regexp
	labels []string
}{
	{regexp.MustCompile(`^aliyun_billing_account_cycle_`), []string{"account", "owner_id", "product_code", "subscription_type", "currency", "billing_cycle", "cycle"}},
	{regexp.MustCompile(`^aliyun_billing_account_daily_`), []string{"account", "owner_id", "product_code", "subscription_type", "currency"}},
	{regexp.MustCompile(`^aliyun_billing_instance_cycle_`), []string{"account", "owner_id", "product_code", "subscription_type", "region_id", "zone_id", "resource_group", "cost_unit", "currency", "billing_cycle", "cycle"}},
	{regexp.MustCompile(`^aliyun_billing_instance_daily_by_instance_`), []string{"account", "instance_id", "owner_id", "product_code", "subscription_type", "region_id", "currency"}},
	{regexp.MustCompile(`^aliyun_billing_instance_daily_`), []string{"account", "owner_id", "product_code", "subscription_type", "region_id", "zone_id", "resource_group", "cost_unit", "currency"}},
	{regexp.MustCompile(`^aliyun_billing_ossbucket_cycle_`), []string{"account", "owner_id", "bucket", "region_id", "currency", "billing_cycle", "cycle"}},
	{regexp.MustCompile(`^aliyun_billing_ossbucket_daily_`), []string{"account", "owner_id", "bucket", "region_id", "currency"}},
	{regexp.MustCompile(`^aliyun_billing_balance_`), []string{"account", "currency"}},
	{regexp.MustCompile(`^aliyun_billing_budget_monthly$`), []string{"account", "owner_id", "product_code", "currency"}},
}

var (
	aggregationRE2 = regexp.MustCompile(`\b(sum|max|min|avg|count|topk|bottomk|quantile|group)\s*(?:(by|without)\s*\(([^)]*)\))?\s*\(`)
	selectorRE     = regexp.MustCompile(`aliyun_billing_[a-z0-9_]+`)
	equalityRE     = regexp.MustCompile(`([a-z_]+)\s*=\s*"`)
)

// dedupProblem says why expr may count a series twice, or "" if every
// money family it reads is first collapsed by max by its own labels (the
// innermost aggregation around the selector), less those the selector pins
// to one value.
func dedupProblem(expr string) string {
	rest := recordingRefRE.ReplaceAllStringFunc(expr, func(s string) string { return strings.Repeat(" ", len(s)) })
	for _, loc := range selectorRE.FindAllStringIndex(rest, -1) {
		name := rest[loc[0]:loc[1]]
		var want []string
		for _, f := range familyLabels {
			if f.re.MatchString(name) {
				want = f.labels
				break
			}
		}
		if want == nil {
			continue
		}
		aggs := aggregationRE2.FindAllStringSubmatch(rest[:loc[0]], -1)
		if len(aggs) == 0 {
			return fmt.Sprintf("%s is not aggregated with max by (%s)", name, strings.Join(want, ", "))
		}
		inner := aggs[len(aggs)-1]
		var got []string
		for _, l := range strings.Split(inner[3], ",") {
			if l = strings.TrimSpace(l); l != "" {
				got = append(got, l)
			}
		}
		// A label pinned by an equality matcher (product_code="") has one
		// value, so the max need not keep it.
		pinned := map[string]bool{}
		if sel := rest[loc[1]:]; strings.HasPrefix(sel, "{") {
			for _, m := range equalityRE.FindAllStringSubmatch(sel[:strings.Index(sel, "}")+1], -1) {
				pinned[m[1]] = true
			}
		}
		ok := inner[1] == "max" && inner[2] == "by"
		for _, l := range got {
			ok = ok && slices.Contains(want, l)
		}
		for _, l := range want {
			ok = ok && (pinned[l] || slices.Contains(got, l))
		}
		if !ok {
			return fmt.Sprintf("%s: the innermost aggregation is %q, want max by (%s)", name, strings.TrimSpace(inner[0]), strings.Join(want, ", "))
		}
	}
	return ""
}

// TestQueriesDeduplicate: every dashboard query and rule reads each money
// family through max by its own labels, so two exporters of one account, a
// moved pod's leftover daily samples or a re-sent day count once. The
// end-to-end tests prove the totals against the simulator; this keeps new
// panels honest.
func TestQueriesDeduplicate(t *testing.T) {
	checked := 0
	for _, d := range loadDashboards(t) {
		for _, p := range d.allPanels() {
			for _, tg := range p.Targets {
				checked++
				if msg := dedupProblem(tg.Expr); msg != "" {
					t.Errorf("%s panel %d %q: %s\n%s", filepath.Base(d.file), p.ID, p.Title, msg, tg.Expr)
				}
			}
		}
	}
	for _, f := range []string{recordingRulesFile, alertRulesFile} {
		for _, r := range loadRules(t, f) {
			if countsNotMoney[r.Alert] {
				continue
			}
			checked++
			if msg := dedupProblem(r.Expr); msg != "" {
				t.Errorf("%s rule %s%s: %s\n%s", f, r.Record, r.Alert, msg, r.Expr)
			}
		}
	}
	if checked < 60 {
		t.Errorf("checked only %d queries", checked)
	}
	for expr, bad := range map[string]bool{
		`sum by (account, currency) (aliyun_billing_account_cycle_payable)`:                                                                                                    true,
		`sum by (account, currency) (max by (account, currency) (aliyun_billing_account_cycle_payable))`:                                                                       true,
		`sum by (account, currency) (max by (account, owner_id, product_code, subscription_type, currency, billing_cycle, cycle) (aliyun_billing_account_cycle_payable))`:      false,
		`max by (account, currency) (aliyun_billing_balance_available)`:                                                                                                        false,
		`sum(last_over_time(aliyun_billing_account_daily_payable[1d]))`:                                                                                                        true,
		`sum by (currency) (max by (account, owner_id, product_code, subscription_type, currency) (last_over_time(aliyun_billing_account_daily_payable{currency=~"$c"}[1d])))`: false,
	} {
		if got := dedupProblem(expr) != ""; got != bad {
			t.Errorf("dedupProblem(%q) reports a problem: %v, want %v", expr, got, bad)
		}
	}
}
