package collector

import (
	"maps"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim/bsssimtest"
)

var overviewFamilies = []string{
	"aliyun_billing_overview_cycle_payable", "aliyun_billing_overview_cycle_tax",
	"aliyun_billing_overview_cycle_after_tax", "aliyun_billing_overview_reconciliation_difference",
	apiAvailableFamily,
}

// overviewSamples is what the overview collector must show at at: the
// World's overview summed per product, billing method and currency, and
// for the previous cycle, final at at, the account bill's payable (the
// World's truth) minus the overview's.
func (h *simHarness) overviewSamples(at time.Time) []sample {
	current := bssclient.CycleOf(at)
	var out []sample
	for _, cyc := range []bssclient.Cycle{current.Prev(), current} {
		type key struct{ product, st, cur string }
		sums := map[key]*[3]bssclient.Money{}
		overview := map[string]bssclient.Money{}
		for _, it := range h.world.BillOverview(cyc, at) {
			k := key{it.ProductCode, it.SubscriptionType, it.Currency}
			if sums[k] == nil {
				sums[k] = new([3]bssclient.Money)
			}
			s := sums[k]
			s[0], s[1], s[2] = mustAddMoney(h.t, s[0], it.PretaxAmount), mustAddMoney(h.t, s[1], it.Tax), mustAddMoney(h.t, s[2], it.AfterTaxAmount)
			overview[it.Currency] = mustAddMoney(h.t, overview[it.Currency], it.PretaxAmount)
		}
		for k, s := range sums {
			labels := map[string]string{"account": testAccount, "product_code": k.product, "subscription_type": k.st,
				"currency": k.cur, "billing_cycle": cyc.String(), "cycle": cycleName(cyc, current)}
			for i, name := range []string{"payable", "tax", "after_tax"} {
				out = append(out, sample{name: "aliyun_billing_overview_cycle_" + name, labels: maps.Clone(labels), value: s[i].String()})
			}
		}
		if cyc == current {
			continue
		}
		bill := h.world.Truth(bsssimtest.TruthQuery{Cycle: cyc, Kind: bssclient.KindAmounts}, at).PretaxAmount
		for cur, v := range overview {
			out = append(out, sample{name: "aliyun_billing_overview_reconciliation_difference",
				labels: map[string]string{"account": testAccount, "currency": cur, "billing_cycle": cyc.String()},
				value:  mustAddMoney(h.t, bill, v.Neg()).String()})
		}
	}
	return append(out, availableSample(bssclient.ActionQueryBillOverview, true))
}

func mustAddMoney(t *testing.T, a, b bssclient.Money) bssclient.Money {
	t.Helper()
	sum, err := a.Add(b)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// TestOverviewTaxAndReconciliation: tax, after-tax and payable per product
// for both cycles, exactly as the World bills them; a final cycle that
// agrees with the account bill reads 0, one that does not reads the
// difference, to the cent; and a final cycle is never read again.
func TestOverviewTaxAndReconciliation(t *testing.T) {
	for _, tc := range []struct {
		skew, want string
	}{{"", "0"}, {"-0.01", "0.01"}, {"250", "-250"}} {
		t.Run("skew "+tc.skew, func(t *testing.T) {
			world := testWorld
			world.TaxRate, world.OverviewPayableSkew = "0.06", tc.skew
			h := startSim(t, simOptions{world: &world, start: midMarch, collectors: []string{"overview"}})
			h.mustStep(midMarch)
			want := h.overviewSamples(midMarch)
			h.assertExposition(want, overviewFamilies...)
			if got := valueOf(t, want, "aliyun_billing_overview_reconciliation_difference"); bssclient.MustParseMoney(got) != bssclient.MustParseMoney(tc.want) {
				t.Errorf("reconciliation difference %s, want %s", got, tc.want)
			}

			before := h.server.Server.Stats()
			later := midMarch.Add(6 * time.Hour)
			h.mustStep(later)
			// The final February is kept; only March is read again.
			if got := requestsDelta(before, h.server.Server.Stats()); !int64MapsEqual(got, map[string]int64{bssclient.ActionQueryBillOverview: 1}) {
				t.Errorf("requests of the second refresh: %v, want one QueryBillOverview", got)
			}
			h.assertExposition(h.overviewSamples(later), overviewFamilies...)
		})
	}
}

// TestOverviewBeforeFinal: before 12:00 UTC+8 on the 3rd (and the settle
// margin) the previous cycle is shown but not reconciled.
func TestOverviewBeforeFinal(t *testing.T) {
	world := testWorld
	world.TaxRate = "0.13"
	early := time.Date(2025, time.March, 3, 11, 0, 0, 0, bssclient.BillingZone) // final at 12:00 (and the margin)
	h := startSim(t, simOptions{world: &world, start: early, collectors: []string{"overview"}})
	h.mustStep(early)
	var want []sample
	for _, s := range h.overviewSamples(early) {
		if s.name != "aliyun_billing_overview_reconciliation_difference" {
			want = append(want, s)
		}
	}
	h.assertExposition(want, overviewFamilies...)
}

// TestOverviewDenied: an account whose RAM policy lacks the overview keeps
// the collector healthy, with the action shown unavailable.
func TestOverviewDenied(t *testing.T) {
	h := startSim(t, simOptions{world: &testWorld, start: midMarch, collectors: []string{"overview"}})
	h.server.Server.Faults().DenyAction(bssclient.ActionQueryBillOverview)
	h.mustStep(midMarch)
	h.assertExposition([]sample{availableSample(bssclient.ActionQueryBillOverview, false)}, overviewFamilies...)
	h.server.Server.Faults().Clear()
	h.mustStep(midMarch.Add(time.Hour))
	h.assertExposition(h.overviewSamples(midMarch.Add(time.Hour)), overviewFamilies...)
}

func valueOf(t *testing.T, samples []sample, name string) string {
	t.Helper()
	for _, s := range samples {
		if s.name == name {
			return s.value
		}
	}
	t.Fatalf("no %s sample", name)
	return ""
}
