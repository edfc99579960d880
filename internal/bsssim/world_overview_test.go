package bsssim

import (
	"strings"
	"testing"
	"time"
)

// TestBillOverviewMatchesAccountBill: the overview is the account bill
// regrouped, to the last decimal, with each item's tax rounded to cents,
// and the skew lands on exactly one item.
func TestBillOverviewMatchesAccountBill(t *testing.T) {
	at := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	cyc := Cycle{Year: 2026, Month: 2}
	for _, skew := range []string{"", "-0.01", "250"} {
		w, err := NewWorld(WorldConfig{Seed: 7, TaxRate: "0.06", OverviewPayableSkew: skew})
		if err != nil {
			t.Fatal(err)
		}
		var bill, overview, tax, afterTax Money
		for _, r := range w.AccountBill(AccountBillRequest{BillingCycle: cyc, IsGroupByProduct: true}, at) {
			bill += r.PretaxAmount
		}
		items := w.BillOverview(BillOverviewRequest{BillingCycle: cyc}, at)
		if len(items) == 0 {
			t.Fatal("no overview items")
		}
		for _, it := range items {
			overview += it.PretaxAmount
			tax += it.Tax
			afterTax += it.AfterTaxAmount
			if it.Tax%overviewTaxUnit != 0 {
				t.Errorf("tax %s is not in cents", it.Tax)
			}
			if want := taxOf(it.PretaxAmount, w.taxRate); it.Tax != want {
				t.Errorf("tax of %s is %s, want %s", it.PretaxAmount, it.Tax, want)
			}
			if it.Item != overviewItemPayAsYouGo && it.Item != overviewItemSubscription {
				t.Errorf("Item %q", it.Item)
			}
		}
		want := Money(0)
		if skew != "" {
			want = mustParseMoney(skew)
		}
		if overview-bill != want {
			t.Errorf("skew %q: overview %s − bill %s = %s, want %s", skew, overview, bill, overview-bill, want)
		}
		if afterTax != overview-tax {
			t.Errorf("after-tax %s, want %s − %s", afterTax, overview, tax)
		}
		if tax == 0 {
			t.Error("no tax at 6 %")
		}
	}
}

func TestTaxOfRoundsHalfAwayFromZero(t *testing.T) {
	rate := mustParseMoney("0.06")
	for amount, want := range map[string]string{
		"0.25":  "0.02", // 0.015
		"0.24":  "0.01", // 0.0144
		"-0.25": "-0.02",
		"100":   "6", "0": "0",
		"92233720366": "5534023221.96", // the product overflows int64
	} {
		if got := taxOf(mustParseMoney(amount), rate); got != mustParseMoney(want) {
			t.Errorf("tax of %s = %s, want %s", amount, got, want)
		}
	}
}

func TestOverviewConfigErrorsNameTheField(t *testing.T) {
	for cfg, want := range map[WorldConfig]string{
		{TaxRate: "6%"}:              "WorldConfig.TaxRate",
		{TaxRate: "1.5"}:             "WorldConfig.TaxRate",
		{TaxRate: "-0.1"}:            "WorldConfig.TaxRate",
		{OverviewPayableSkew: "abc"}: "WorldConfig.OverviewPayableSkew",
	} {
		if _, err := NewWorld(cfg); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: error %v, want one naming %s", cfg, err, want)
		}
	}
}
