package bsssim

import (
	"testing"
	"time"
)

func TestAmortizedSharesSumExactlyWithTheRemainderOnTheLastDay(t *testing.T) {
	for _, tc := range []struct {
		payable Money
		days    int
	}{
		{100_000_000_00, 31}, {1, 30}, {-7, 28}, {299_99_999_999, 29}, {0, 1}, {123_456_789, 1},
	} {
		shares := AmortizedShares(tc.payable, tc.days)
		var sum Money
		for _, s := range shares {
			sum += s
		}
		if sum != tc.payable || len(shares) != tc.days {
			t.Errorf("%s over %d days: %d shares summing to %s", tc.payable, tc.days, len(shares), sum)
		}
		q := Money(int64(tc.payable) / int64(tc.days))
		for i, s := range shares[:tc.days-1] {
			if s != q {
				t.Errorf("%s over %d days: day %d gets %s, want the quotient %s", tc.payable, tc.days, i, s, q)
			}
		}
	}
}

// TestAmortizedTermSumsToThePayable: what March's rows amortize into March
// and April, per instance, is exactly what the instance bill charged in
// March, and every row is previously + current + remaining = payable.
func TestAmortizedTermSumsToThePayable(t *testing.T) {
	w := newTestWorld(t, WorldConfig{Seed: 11, Owners: 2, InstancesPerOwner: 40})
	at := time.Date(2025, 5, 10, 12, 0, 0, 0, billingZone)
	april := march2025.Next()

	billed := map[string]Money{}
	for d := march2025.FirstDay(); d.Cycle() == march2025; d = d.AddDays(1) {
		for _, it := range allInstanceRows(t, w, dailyInstanceReq(d), at) {
			billed[it.InstanceID] += it.PretaxAmount
		}
	}
	amortized := map[string]Money{}
	spilled := 0
	for _, cyc := range []Cycle{march2025, april} {
		for _, r := range w.AmortizedCost(cyc, true, at) {
			if r.PreviouslyAmortizedPretaxAmount+r.CurrentAmortizationPretaxAmount+r.RemainingAmortizationPretaxAmount != r.PretaxAmount {
				t.Errorf("%s %s in %s: %s + %s + %s != %s", r.InstanceID, r.ConsumePeriod, r.AmortizationPeriod,
					r.PreviouslyAmortizedPretaxAmount, r.CurrentAmortizationPretaxAmount, r.RemainingAmortizationPretaxAmount, r.PretaxAmount)
			}
			if r.ConsumePeriod != "202503" {
				continue
			}
			amortized[r.InstanceID] += r.CurrentAmortizationPretaxAmount
			if cyc == march2025 && !r.RemainingAmortizationPretaxAmount.IsZero() {
				spilled++
			}
		}
	}
	if spilled == 0 {
		t.Fatal("no March purchase spills into April: the test would not test the term")
	}
	for id, want := range billed {
		if got := amortized[id]; got != want {
			t.Errorf("%s: amortized over its terms %s, billed %s", id, got, want)
		}
	}
	for id := range amortized {
		if _, ok := billed[id]; !ok {
			t.Errorf("%s amortized but never billed in March", id)
		}
	}
}

// TestAmortizedProductRowsSumTheInstanceRows: the two actions agree.
func TestAmortizedProductRowsSumTheInstanceRows(t *testing.T) {
	w := newTestWorld(t, WorldConfig{Seed: 11, Owners: 2, InstancesPerOwner: 40})
	at := time.Date(2025, 4, 20, 12, 0, 0, 0, billingZone)
	byProduct := map[string]Money{}
	for _, r := range w.AmortizedCost(march2025, true, at) {
		byProduct[r.ConsumePeriod+"/"+r.ProductCode+"/"+r.SubscriptionType] += r.CurrentAmortizationPretaxAmount
	}
	for _, r := range w.AmortizedCost(march2025, false, at) {
		k := r.ConsumePeriod + "/" + r.ProductCode + "/" + r.SubscriptionType
		byProduct[k] -= r.CurrentAmortizationPretaxAmount
	}
	for k, diff := range byProduct {
		if diff != 0 {
			t.Errorf("%s: instance rows and product rows differ by %s", k, diff)
		}
	}
}

func TestAmortizedCostSwitch(t *testing.T) {
	w := newTestWorld(t, WorldConfig{Seed: 1, AmortizedCostDisabled: true})
	if w.AmortizedCostEnabled() {
		t.Fatal("enabled despite AmortizedCostDisabled")
	}
	w.SetAmortizedCostEnabled(true)
	if !w.AmortizedCostEnabled() {
		t.Fatal("still disabled after SetAmortizedCostEnabled(true)")
	}
}
