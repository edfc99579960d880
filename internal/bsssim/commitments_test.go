package bsssim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"
)

func commitmentWorldForTest(t *testing.T, seed int64) *World {
	t.Helper()
	w, err := NewWorld(WorldConfig{Seed: seed, Owners: 3, InstancesPerOwner: 12})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestResourcePlansRunDownAndExpire: a plan's remaining amount never grows,
// and at its expiry it turns Expired and a new generation takes over.
func TestResourcePlansRunDownAndExpire(t *testing.T) {
	w := commitmentWorldForTest(t, 7)
	at := time.Date(2025, 3, 15, 12, 0, 0, 0, billingZone)
	byID := func(at time.Time) map[string]ResourcePackageInstance {
		m := map[string]ResourcePackageInstance{}
		for _, p := range w.ResourcePackages(at) {
			m[p.InstanceID] = p
		}
		return m
	}
	before := byID(at)
	sawExpiry, sawRunDown := false, false
	for step := 1; step <= 40; step++ {
		later := at.Add(time.Duration(step) * 24 * time.Hour)
		after := byID(later)
		for id, p := range before {
			q, ok := after[id]
			if !ok {
				expiry, _ := time.Parse(isoLayout, p.ExpiryTime)
				if later.Sub(expiry) < resourcePlanHistory {
					t.Fatalf("plan %s vanished at %s, within a year of expiry", id, later)
				}
				continue
			}
			r0, _ := strconv.ParseFloat(p.RemainingAmount, 64)
			r1, _ := strconv.ParseFloat(q.RemainingAmount, 64)
			if r1 > r0 {
				t.Fatalf("plan %s grew from %s to %s", id, p.RemainingAmount, q.RemainingAmount)
			}
			sawRunDown = sawRunDown || r1 < r0
			if p.Status == "Available" && q.Status == "Expired" {
				sawExpiry = true
			}
		}
		before = after
	}
	if !sawExpiry || !sawRunDown {
		t.Errorf("in 40 days: a plan expired %v, a plan ran down %v; want both", sawExpiry, sawRunDown)
	}
}

// TestCommitmentDemoGuarantees: at any moment the demo shows a plan nearly
// used up, an instance expiring within 7 days without auto-renew, and an
// under-used savings plan.
func TestCommitmentDemoGuarantees(t *testing.T) {
	w := commitmentWorldForTest(t, 20171214)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, billingZone)
	for h := 0; h < 400*24; h += 7 {
		at := start.Add(time.Duration(h) * time.Hour)
		low := false
		for _, p := range w.ResourcePackages(at) {
			total, _ := strconv.ParseFloat(p.TotalAmount, 64)
			rem, _ := strconv.ParseFloat(p.RemainingAmount, 64)
			low = low || (p.Status == "Available" && rem < 0.2*total)
		}
		expiring := false
		for _, in := range w.AvailableInstances(at) {
			end, err := time.Parse(isoLayout, in.EndTime)
			expiring = expiring || (err == nil && in.RenewStatus != "AutoRenewal" && end.Sub(at) <= 7*24*time.Hour)
		}
		underUsed := false
		for _, sp := range w.SavingsPlans(at) {
			u, _ := strconv.ParseFloat(sp.Utilization, 64)
			underUsed = underUsed || u < 0.6
		}
		if !low || !expiring || !underUsed {
			t.Fatalf("at %s: plan below 20%% %v, instance expiring without auto-renew %v, savings plan under-used %v",
				at, low, expiring, underUsed)
		}
	}
}

// TestAnalysisTotalsAreWeightedPeriods: the total is the periods' weighted
// ratio; hours not yet passed have no data.
func TestAnalysisTotalsAreWeightedPeriods(t *testing.T) {
	w := commitmentWorldForTest(t, 7)
	day := time.Date(2025, 3, 14, 0, 0, 0, 0, billingZone)
	at := day.Add(36 * time.Hour)
	req := AnalysisRequest{Start: day, End: day.Add(72 * time.Hour), PeriodType: "DAY", ResourceType: "RI"}
	u := w.ResourceUsage(req, at)
	if len(u.PeriodCoverage) != 2 || u.PeriodCoverage[0].Period != "2025031400" || u.PeriodCoverage[1].Period != "2025031500" {
		t.Fatalf("periods %+v, want 2025-03-14 and the first half of 2025-03-15", u.PeriodCoverage)
	}
	hourly := w.ResourceUsage(AnalysisRequest{Start: day, End: day.Add(24 * time.Hour), PeriodType: "HOUR", ResourceType: "RI"}, at)
	if len(hourly.PeriodCoverage) != 24 || hourly.TotalUsage.UsagePercentage != u.PeriodCoverage[0].UsagePercentage {
		t.Errorf("24 hourly periods should total the daily one: %d periods, %s vs %s",
			len(hourly.PeriodCoverage), hourly.TotalUsage.UsagePercentage, u.PeriodCoverage[0].UsagePercentage)
	}
	sp := w.SavingsPlansUsage(AnalysisRequest{Start: day, End: day.Add(24 * time.Hour), PeriodType: "DAY"}, at)
	if r := sp.TotalUsage.UsagePercentage; r <= 0 || r > Money(moneyUnit) {
		t.Errorf("savings-plan usage %s is not a fraction", r)
	}
}

// TestCommitmentActionsServe: every commitment action answers over HTTP
// with its documented Data shape; paging walks every row once.
func TestCommitmentActionsServe(t *testing.T) {
	w := commitmentWorldForTest(t, 7)
	e := newEnv(t, w)
	at := e.billing.Now()

	// Paging: two rows a page until TotalCount.
	var got []ResourcePackageInstance
	for page := 1; ; page++ {
		data := e.callV3(actionQueryResourcePackageInstances, vals("PageNum", strconv.Itoa(page), "PageSize", "2")).successEnvelope(t, "Success", "Successful!")
		var d resourcePackageData
		decodeStrict(t, data, &d)
		if d.PageNum != strconv.Itoa(page) || d.PageSize != "2" {
			t.Fatalf("page %d answered PageNum %q PageSize %q", page, d.PageNum, d.PageSize)
		}
		got = append(got, d.Instances.Instance...)
		if total, _ := strconv.Atoi(d.TotalCount); len(got) >= total || len(d.Instances.Instance) == 0 {
			break
		}
	}
	want := w.ResourcePackages(at)
	if len(got) != len(want) {
		t.Fatalf("walked %d plans, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].InstanceID != want[i].InstanceID || got[i].RemainingAmount != want[i].RemainingAmount {
			t.Errorf("row %d: %+v, want %+v", i, got[i], want[i])
		}
	}

	for _, tc := range []struct {
		action string
		params url.Values
		keys   []string
	}{
		{actionQuerySavingsPlansInstance, nil, []string{"Items", "PageNum", "PageSize", "TotalCount"}},
		{actionDescribeSavingsPlansUsageTotal, vals("StartPeriod", "2024-06-13 00:00:00", "PeriodType", "DAY"), []string{"PeriodCoverage", "TotalUsage"}},
		{actionDescribeSavingsPlansCoverageTotal, vals("StartPeriod", "2024-06-13 00:00:00", "PeriodType", "DAY"), []string{"PeriodCoverage", "TotalCoverage"}},
		{actionDescribeResourceUsageTotal, vals("StartPeriod", "2024-06-13 00:00:00", "PeriodType", "DAY", "ResourceType", "RI"), []string{"PeriodCoverage", "TotalUsage"}},
		{actionDescribeResourceCoverageTotal, vals("StartPeriod", "2024-06-13 00:00:00", "PeriodType", "MONTH", "ResourceType", "SCU"), []string{"PeriodCoverage", "TotalCoverage"}},
		{actionQueryAvailableInstances, vals("SubscriptionType", "Subscription", "RenewStatus", "NotRenewal"), []string{"InstanceList", "PageNum", "PageSize", "TotalCount"}},
		{actionQueryCashCoupons, vals("EffectiveOrNot", "true"), []string{"CashCoupon"}},
		{actionQueryPrepaidCards, nil, []string{"PrepaidCard"}},
	} {
		data := e.callV3(tc.action, tc.params).successEnvelope(t, "Success", "Successful!")
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(data, &fields); err != nil {
			t.Fatal(err)
		}
		if keys := sortedKeys(fields); !equalStrings(keys, tc.keys) {
			t.Errorf("%s: Data keys %v, want %v", tc.action, keys, tc.keys)
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestCommitmentErrors: an account that cannot use an action gets
// NotApplicable for that action only; bad parameters are named.
func TestCommitmentErrors(t *testing.T) {
	w := commitmentWorldForTest(t, 7)
	e := newEnv(t, w)
	if err := w.SetCommitmentAPIAvailable(actionQuerySavingsPlansInstance, false); err != nil {
		t.Fatal(err)
	}
	e.callV3(actionQuerySavingsPlansInstance, nil).errorEnvelope(t, http.StatusBadRequest, codeCommitmentNotApplicable)
	e.callV3(actionQueryCashCoupons, nil).successEnvelope(t, "Success", "Successful!")
	if err := w.SetCommitmentAPIAvailable("QueryAccountBill", false); err == nil {
		t.Error("a bill action was accepted as a commitment action")
	}

	for _, tc := range []struct {
		action string
		params url.Values
		code   string
	}{
		{actionDescribeSavingsPlansUsageTotal, vals("PeriodType", "DAY"), "MissingStartPeriod"},
		{actionDescribeSavingsPlansUsageTotal, vals("StartPeriod", "2024-06-13", "PeriodType", "DAY"), codeInvalidParameter},
		{actionDescribeSavingsPlansUsageTotal, vals("StartPeriod", "2024-06-13 00:00:00", "PeriodType", "WEEK"), codeInvalidParameter},
		{actionDescribeResourceUsageTotal, vals("StartPeriod", "2024-06-13 00:00:00", "PeriodType", "DAY"), "MissingResourceType"},
		{actionDescribeResourceCoverageTotal, vals("StartPeriod", "2022-06-13 00:00:00", "PeriodType", "DAY", "ResourceType", "RI"), codeInvalidParameter},
		{actionQueryResourcePackageInstances, vals("ExpiryTimeStart", "2024-06-13 00:00:00"), codeInvalidParameter},
		{actionQueryResourcePackageInstances, vals("PageSize", "301"), codeInvalidParameter},
		{actionQueryAvailableInstances, vals("Region", "cn-hangzhou"), "MissingProductCode"},
		{actionQueryAvailableInstances, vals("RenewStatus", "Sometimes"), codeInvalidParameter},
		{actionQueryCashCoupons, vals("EffectiveOrNot", "yes"), codeInvalidParameter},
	} {
		e.callV3(tc.action, tc.params).errorEnvelope(t, http.StatusBadRequest, tc.code)
	}
}
