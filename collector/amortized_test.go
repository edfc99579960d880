package collector

import (
	"cmp"
	"context"
	"iter"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

const (
	effectiveCostFamily         = "aliyun_billing_account_cycle_effective_cost"
	effectiveCostInstanceFamily = "aliyun_billing_instance_cycle_by_instance_effective_cost"
)

var amortizedFamilies = []string{effectiveCostFamily, effectiveCostInstanceFamily, cycleFinalFamily, apiAvailableFamily}

// amortizedSum is one expected series: its labels after account and its
// exact amount.
type amortizedSum struct {
	labels []string
	value  bssclient.Money
}

// expectAmortized is what the amortized collector must show at t, built
// from the simulator's rows (not through the collector): per owner, product
// and subscription type, and with perInstance per instance, the top
// maxInstances kept and the rest in one overflow series per currency.
func (h *simHarness) expectAmortized(t time.Time, perInstance bool, maxInstances int) []sample {
	current := bssclient.CycleOf(t)
	currency := h.world.Currency()
	var out []sample
	for _, cyc := range []bssclient.Cycle{current.Prev(), current} {
		which := cycleName(cyc, current)
		products := map[string]bssclient.Money{}
		for _, r := range h.world.AmortizedCost(cyc, false, t) {
			k := strings.Join([]string{string(r.BillOwnerID), r.ProductCode, r.SubscriptionType}, "\x00")
			products[k], _ = products[k].Add(r.CurrentAmortizationPretaxAmount)
		}
		for k, v := range products {
			if v.IsZero() {
				continue
			}
			l := strings.Split(k, "\x00")
			out = append(out, sample{name: effectiveCostFamily, value: v.String(), labels: map[string]string{
				"account": testAccount, "owner_id": l[0], "product_code": l[1], "subscription_type": l[2],
				"currency": currency, "billing_cycle": cyc.String(), "cycle": which}})
		}
		if perInstance {
			out = append(out, h.expectAmortizedInstances(cyc, which, t, maxInstances)...)
		}
		final := "0"
		if h.cfg.Calendar().CycleFinal(cyc, t, bssclient.KindAmortized) {
			final = "1"
		}
		out = append(out, sample{name: cycleFinalFamily, value: final, labels: map[string]string{
			"account": testAccount, "collector": "amortized", "billing_cycle": cyc.String(), "cycle": which}})
	}
	return out
}

func (h *simHarness) expectAmortizedInstances(cyc bssclient.Cycle, which string, t time.Time, maxInstances int) []sample {
	currency := h.world.Currency()
	byInstance := map[string]bssclient.Money{}
	for _, r := range h.world.AmortizedCost(cyc, true, t) {
		k := strings.Join([]string{r.InstanceID, string(r.BillOwnerID), r.ProductCode, r.SubscriptionType}, "\x00")
		byInstance[k], _ = byInstance[k].Add(r.CurrentAmortizationPretaxAmount)
	}
	var sums []amortizedSum
	for k, v := range byInstance {
		if !v.IsZero() {
			sums = append(sums, amortizedSum{strings.Split(k, "\x00"), v})
		}
	}
	slices.SortFunc(sums, func(a, b amortizedSum) int {
		return cmp.Or(cmp.Compare(b.value.Units(), a.value.Units()), slices.Compare(a.labels, b.labels))
	})
	var out []sample
	var overflow bssclient.Money
	for i, s := range sums {
		if i >= maxInstances {
			overflow, _ = overflow.Add(s.value)
			continue
		}
		out = append(out, sample{name: effectiveCostInstanceFamily, value: s.value.String(), labels: map[string]string{
			"account": testAccount, "instance_id": s.labels[0], "owner_id": s.labels[1], "product_code": s.labels[2],
			"subscription_type": s.labels[3], "currency": currency, "billing_cycle": cyc.String(), "cycle": which}})
	}
	if len(sums) > maxInstances {
		out = append(out, sample{name: effectiveCostInstanceFamily, value: overflow.String(), labels: map[string]string{
			"account": testAccount, "instance_id": overflowInstanceID, "owner_id": "", "product_code": "",
			"subscription_type": "", "currency": currency, "billing_cycle": cyc.String(), "cycle": which}})
	}
	return out
}

// TestAmortizedEffectiveCostIsTheSimulatorsTruth: end to end through the
// client and the collector, the effective cost of the previous (final) and
// the current cycle is exactly what the simulator amortized into them; a
// month later both have moved on.
func TestAmortizedEffectiveCostIsTheSimulatorsTruth(t *testing.T) {
	h := startSim(t, simOptions{start: midMarch, collectors: []string{"amortized"}})
	h.mustStep(midMarch)
	want := append(h.expectAmortized(midMarch, false, 0), availableSample(bssclient.ActionDescribeProductAmortizedCost, true))
	if !slices.ContainsFunc(want, func(s sample) bool {
		return s.name == effectiveCostFamily && s.labels["subscription_type"] == "Subscription"
	}) {
		t.Fatal("the world amortizes no subscription: the test would not test amortization")
	}
	h.assertExposition(want, amortizedFamilies...)

	april := at(2025, time.April, 20, 12)
	h.mustStep(april)
	h.assertExposition(append(h.expectAmortized(april, false, 0), availableSample(bssclient.ActionDescribeProductAmortizedCost, true)), amortizedFamilies...)
}

// TestAmortizedPerInstanceIsCappedAndAddsUp: the largest instances get
// their own series, the rest one overflow series, and together they are
// the account's effective cost to the last decimal.
func TestAmortizedPerInstanceIsCappedAndAddsUp(t *testing.T) {
	const maxInstances = 5
	h := startSim(t, simOptions{start: midMarch, collectors: []string{"amortized"}, configure: func(c *Config) {
		c.Amortized = AmortizedConfig{PerInstance: true, MaxInstances: maxInstances}
	}})
	h.mustStep(midMarch)
	want := append(h.expectAmortized(midMarch, true, maxInstances),
		availableSample(bssclient.ActionDescribeProductAmortizedCost, true), availableSample(bssclient.ActionDescribeInstanceAmortizedCost, true))
	h.assertExposition(want, amortizedFamilies...)

	totals := map[string]bssclient.Money{}
	overflows := 0
	for _, s := range want {
		sign := map[string]string{effectiveCostFamily: "", effectiveCostInstanceFamily: "-"}
		p, ok := sign[s.name]
		if !ok {
			continue
		}
		if s.labels["instance_id"] == overflowInstanceID {
			overflows++
		}
		v := bssclient.MustParseMoney(p + s.value)
		if strings.HasPrefix(s.value, "-") && p == "-" {
			v = bssclient.MustParseMoney(strings.TrimPrefix(s.value, "-"))
		}
		totals[s.labels["cycle"]], _ = totals[s.labels["cycle"]].Add(v)
	}
	if overflows == 0 {
		t.Fatal("no overflow series: the cap was not reached, the test would not test it")
	}
	for cyc, diff := range totals {
		if !diff.IsZero() {
			t.Errorf("%s cycle: the instances and the products differ by %s", cyc, diff)
		}
	}
}

// TestAmortizedOffDisablesOnlyItself: without Amortized Cost enabled the
// collector shows its action unavailable and nothing else, its refresh
// succeeds, the account collector is untouched; enabling it needs no
// restart.
func TestAmortizedOffDisablesOnlyItself(t *testing.T) {
	world := testWorld
	world.AmortizedCostDisabled = true
	h := startSim(t, simOptions{world: &world, start: midMarch, collectors: []string{"account", "amortized"}})
	h.mustStep(midMarch)
	h.assertExposition([]sample{availableSample(bssclient.ActionDescribeProductAmortizedCost, false)}, effectiveCostFamily, apiAvailableFamily)
	h.assertExposition(h.expectAccountCycles(), concat(accountCycleFamilies, []string{cycleFinalFamily})...)
	for _, c := range []string{"account", "amortized"} {
		if _, ok := h.lastGood(c); !ok {
			t.Errorf("collector %s has no successful refresh", c)
		}
	}

	h.world.SetAmortizedCostEnabled(true)
	later := midMarch.Add(4 * time.Hour)
	h.mustStep(later)
	h.assertExposition(append(h.expectAmortized(later, false, 0), availableSample(bssclient.ActionDescribeProductAmortizedCost, true)),
		effectiveCostFamily, apiAvailableFamily)
}

// TestAmortizedPreviousCycleIsFinalAtNoonOnTheSixth: the previous cycle's
// effective cost turns final at 12:00 UTC+8 on the 6th (the bills' 3rd
// does not count), with the settle margin, as the calendar says; after
// that it is never read again.
func TestAmortizedPreviousCycleIsFinalAtNoonOnTheSixth(t *testing.T) {
	h := startSim(t, simOptions{start: at(2025, time.March, 4, 12), collectors: []string{"amortized"}, configure: func(c *Config) {
		c.SettleMargin = time.Hour
	}})
	finalOf := func() string {
		for _, s := range h.expectAmortized(h.now(), false, 0) {
			if s.name == cycleFinalFamily && s.labels["cycle"] == "previous" {
				return s.value
			}
		}
		return ""
	}
	for _, step := range []struct {
		at    time.Time
		final string
	}{
		{at(2025, time.March, 4, 12), "0"}, // the bills are final; amortized cost is not
		{at(2025, time.March, 6, 12), "0"}, // the documented moment, inside the margin
		{at(2025, time.March, 6, 13), "1"},
	} {
		h.mustStep(step.at)
		if got := finalOf(); got != step.final {
			t.Fatalf("at %s the model says final %s, want %s", step.at, got, step.final)
		}
		h.assertExposition(append(h.expectAmortized(step.at, false, 0), availableSample(bssclient.ActionDescribeProductAmortizedCost, true)), amortizedFamilies...)
	}
	reads := func() int {
		n := 0
		for _, w := range h.bss.takeWalks() {
			if strings.Contains(w, bssclient.ActionDescribeProductAmortizedCost) && strings.Contains(w, "2025-02") {
				n++
			}
		}
		return n
	}
	reads()
	h.mustStep(at(2025, time.March, 7, 13))
	if n := reads(); n != 0 {
		t.Errorf("the final previous cycle was read %d more times", n)
	}
}

func (r *recordingBSS) DescribeProductAmortizedCost(ctx context.Context, req bssclient.AmortizedCostRequest) iter.Seq2[[]bssclient.ProductAmortizedCostItem, error] {
	r.record(walkRecord{action: bssclient.ActionDescribeProductAmortizedCost, cycle: req.BillingCycle})
	return r.Client.DescribeProductAmortizedCost(ctx, req)
}

func (r *recordingBSS) DescribeInstanceAmortizedCost(ctx context.Context, req bssclient.AmortizedCostRequest) iter.Seq2[[]bssclient.InstanceAmortizedCostItem, error] {
	r.record(walkRecord{action: bssclient.ActionDescribeInstanceAmortizedCost, cycle: req.BillingCycle})
	return r.Client.DescribeInstanceAmortizedCost(ctx, req)
}
