package collector

import (
	"strings"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/proctest"

	"github.com/go-kit/log"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim/bsssimtest"
)

var savingsPlanFamilies = []string{
	"aliyun_billing_savings_plan_info", "aliyun_billing_savings_plan_utilization_ratio", "aliyun_billing_savings_plan_commitment",
	"aliyun_billing_savings_plan_expiry_timestamp_seconds", "aliyun_billing_savings_plans_utilization_ratio",
	"aliyun_billing_savings_plans_coverage_ratio", "aliyun_billing_reservation_utilization_ratio", "aliyun_billing_reservation_coverage_ratio",
	"aliyun_billing_savings_plan_saved", "aliyun_billing_savings_plans_saved", "aliyun_billing_savings_plans_payg_equivalent",
	"aliyun_billing_savings_plans_covered", "aliyun_billing_reservation_saved", "aliyun_billing_reservation_payg_equivalent",
	"aliyun_billing_reservation_cost",
	apiAvailableFamily,
}

var savingsPlanParts = []string{
	"QuerySavingsPlansInstance", "DescribeSavingsPlansUsageTotal", "DescribeSavingsPlansCoverageTotal",
	"DescribeResourceUsageTotal/RI", "DescribeResourceCoverageTotal/RI", "DescribeResourceUsageTotal/SCU", "DescribeResourceCoverageTotal/SCU",
}

// savingsPlanSamples is what the world shows at at, the analysis figures
// of the day settled at analysedAt; down lists the parts the account
// cannot use.
func savingsPlanSamples(w bsssimtest.World, at, analysedAt time.Time, down ...string) []sample {
	isDown := func(part string) bool {
		for _, d := range down {
			if d == part {
				return true
			}
		}
		return false
	}
	var out []sample
	acct := map[string]string{"account": testAccount}
	money := map[string]string{"account": testAccount, "currency": w.Currency()}
	if !isDown("QuerySavingsPlansInstance") {
		for _, p := range w.SavingsPlans(at) {
			id := map[string]string{"account": testAccount, "instance_id": p.InstanceID}
			out = append(out,
				sample{name: "aliyun_billing_savings_plan_info", value: "1", labels: map[string]string{"account": testAccount, "instance_id": p.InstanceID,
					"savings_type": strings.ToLower(p.SavingsType), "instance_family": p.InstanceFamily, "pay_mode": p.PayMode, "status": p.Status, "currency": p.Currency}},
				sample{name: "aliyun_billing_savings_plan_utilization_ratio", labels: id, value: p.Utilization.String()},
				sample{name: "aliyun_billing_savings_plan_commitment", value: p.PoolValue.String(),
					labels: map[string]string{"account": testAccount, "instance_id": p.InstanceID, "currency": p.Currency, "deduct_cycle": p.DeductCycleType}},
				sample{name: "aliyun_billing_savings_plan_expiry_timestamp_seconds", labels: id, value: fmtFloat(float64(p.EndTimestamp) / 1000)},
				sample{name: "aliyun_billing_savings_plan_saved", value: p.TotalSave.String(),
					labels: map[string]string{"account": testAccount, "instance_id": p.InstanceID, "currency": p.Currency}})
		}
	}
	day := bssclient.Calendar{}.NewestSettledDay(analysedAt, bssclient.KindAmounts)
	req := bssclient.AnalysisRequest{Start: day.Start(), End: day.End(), PeriodType: bssclient.PeriodDay}
	if !isDown("DescribeSavingsPlansUsageTotal") {
		u := w.SavingsPlansUsage(req, at).TotalUsage
		out = append(out, sample{name: "aliyun_billing_savings_plans_utilization_ratio", labels: acct, value: u.UsagePercentage.String()},
			sample{name: "aliyun_billing_savings_plans_saved", labels: money, value: u.SavedCost.String()},
			sample{name: "aliyun_billing_savings_plans_payg_equivalent", labels: money, value: u.PostpaidCost.String()})
	}
	if !isDown("DescribeSavingsPlansCoverageTotal") {
		c := w.SavingsPlansCoverage(req, at).TotalCoverage
		out = append(out, sample{name: "aliyun_billing_savings_plans_coverage_ratio", labels: acct, value: c.CoveragePercentage.String()},
			sample{name: "aliyun_billing_savings_plans_covered", labels: money, value: c.DeductAmount.String()})
	}
	for _, rt := range []bssclient.ResourceType{bssclient.ResourceTypeRI, bssclient.ResourceTypeSCU} {
		r := req
		r.ResourceType = rt
		labels := map[string]string{"account": testAccount, "resource_type": string(rt)}
		if !isDown("DescribeResourceUsageTotal/" + string(rt)) {
			u := w.ResourceUsage(r, at).TotalUsage
			m := map[string]string{"account": testAccount, "resource_type": string(rt), "currency": w.Currency()}
			out = append(out, sample{name: "aliyun_billing_reservation_utilization_ratio", labels: labels, value: u.UsagePercentage.String()},
				sample{name: "aliyun_billing_reservation_saved", labels: m, value: u.SavedCost.String()},
				sample{name: "aliyun_billing_reservation_payg_equivalent", labels: m, value: u.PostpaidCost.String()},
				sample{name: "aliyun_billing_reservation_cost", labels: m, value: u.ReservationCost.String()})
		}
		if !isDown("DescribeResourceCoverageTotal/" + string(rt)) {
			out = append(out, sample{name: "aliyun_billing_reservation_coverage_ratio", labels: labels, value: w.ResourceCoverage(r, at).TotalCoverage.CoveragePercentage.String()})
		}
	}
	for _, part := range savingsPlanParts {
		out = append(out, availableSample(part, !isDown(part)))
	}
	return out
}

// TestSavingsPlans: per-plan state, and one day's utilisation and coverage
// read once per settled day; an account without savings plans keeps its RI
// figures.
func TestSavingsPlans(t *testing.T) {
	logs := &proctest.Buffer{}
	h := startSim(t, simOptions{start: midMarch, collectors: []string{"savingsplan"}, logger: log.NewLogfmtLogger(logs)})
	h.mustStep(midMarch)
	h.assertExposition(savingsPlanSamples(h.world, midMarch, midMarch), savingsPlanFamilies...)
	if r := h.world.SavingsPlans(midMarch); len(r) < 2 {
		t.Fatalf("%d savings plans; the test needs several", len(r))
	}

	// An hour later the settled day is the same: no analysis request.
	before := h.server.Server.Stats().Requests
	later := midMarch.Add(time.Hour)
	h.mustStep(later)
	after := h.server.Server.Stats().Requests
	for _, a := range []string{"DescribeSavingsPlansUsageTotal", "DescribeSavingsPlansCoverageTotal", "DescribeResourceUsageTotal", "DescribeResourceCoverageTotal"} {
		if after[a] != before[a] {
			t.Errorf("%s called %d times for a day already read", a, after[a]-before[a])
		}
	}
	if after["QuerySavingsPlansInstance"] != before["QuerySavingsPlansInstance"]+1 {
		t.Errorf("QuerySavingsPlansInstance not refreshed")
	}
	h.assertExposition(savingsPlanSamples(h.world, later, midMarch), savingsPlanFamilies...)

	// No savings plans on this account: those parts go, RI/SCU stay.
	for _, a := range []string{"QuerySavingsPlansInstance", "DescribeSavingsPlansUsageTotal", "DescribeSavingsPlansCoverageTotal"} {
		if err := h.world.SetCommitmentAPIAvailable(a, false); err != nil {
			t.Fatal(err)
		}
	}
	nextDay := midMarch.Add(24 * time.Hour)
	h.mustStep(nextDay)
	h.mustStep(nextDay.Add(time.Hour))
	h.assertExposition(savingsPlanSamples(h.world, nextDay, nextDay,
		"QuerySavingsPlansInstance", "DescribeSavingsPlansUsageTotal", "DescribeSavingsPlansCoverageTotal"), savingsPlanFamilies...)
	if n := strings.Count(logs.String(), "cannot use this BSS action"); n != 3 {
		t.Errorf("%d warnings, want one per unavailable action (3):\n%s", n, logs.String())
	}
}

// TestSavingsPlansWaitForTheSettleMargin: the day analysed is the newest
// settled one with the settle margin, as for the bills: an hour after a day
// settles by BSS's delay alone, the figures are still the day before's.
func TestSavingsPlansWaitForTheSettleMargin(t *testing.T) {
	justAfter := at(2025, time.March, 16, 1) // 14 March settled at 00:00 by the delay alone
	h := startSim(t, simOptions{start: justAfter, collectors: []string{"savingsplan"},
		configure: func(c *Config) { c.SettleMargin = 3 * time.Hour }})
	h.mustStep(justAfter)
	h.assertExposition(savingsPlanSamples(h.world, justAfter, justAfter.Add(-3*time.Hour)), savingsPlanFamilies...)
	if bare := (bssclient.Calendar{}); bare.NewestSettledDay(justAfter, bssclient.KindAmounts) == bare.NewestSettledDay(justAfter.Add(-3*time.Hour), bssclient.KindAmounts) {
		t.Fatal("the moment is not within the margin: the test proves nothing")
	}
}

// TestSavingsInMoneyCostNoRequest: the money figures come from the answers
// the ratios already read, and the account's currency is asked once for
// the credit and savingsplan collectors together: a first refresh of
// balance, credit and savingsplan makes exactly the requests it made before
// the money figures, one QueryAccountBalance for the balance and one for
// the shared currency.
func TestSavingsInMoneyCostNoRequest(t *testing.T) {
	h := startSim(t, simOptions{start: midMarch, collectors: []string{"balance", "credit", "savingsplan"}})
	h.mustStep(midMarch)
	got := h.server.Server.Stats().Requests
	want := map[string]int64{
		"QueryAccountBalance": 2, "QueryCashCoupons": 1, "QueryPrepaidCards": 1, "QuerySavingsPlansInstance": 1,
		"DescribeSavingsPlansUsageTotal": 1, "DescribeSavingsPlansCoverageTotal": 1, "DescribeResourceUsageTotal": 2, "DescribeResourceCoverageTotal": 2,
	}
	if !int64MapsEqual(got, want) {
		t.Errorf("requests %v, want %v", got, want)
	}
	for _, family := range []string{"aliyun_billing_savings_plans_saved", "aliyun_billing_reservation_saved", "aliyun_billing_savings_plan_saved"} {
		if len(gatheredFamily(t, h.exp, family)) == 0 {
			t.Errorf("%s is not exposed", family)
		}
	}
}
