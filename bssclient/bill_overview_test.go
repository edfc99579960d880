package bssclient_test

import (
	"context"
	"testing"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

// TestSimBillOverview: the overview read through the client sums, to the
// last decimal, to the account bill of the same cycle, and carries the
// simulator's tax; a skewed simulator shows exactly its skew.
func TestSimBillOverview(t *testing.T) {
	cyc := bssclient.Cycle{Year: 2024, Month: 5}
	for _, skew := range []string{"", "-0.01"} {
		wcfg := smallWorld
		wcfg.TaxRate, wcfg.OverviewPayableSkew = "0.06", skew
		s := startSim(t, wcfg, nil)
		c, _ := newSimClient(t, s)
		items, err := c.QueryBillOverview(context.Background(), bssclient.BillOverviewRequest{BillingCycle: cyc})
		if err != nil {
			t.Fatal(err)
		}
		var overview, tax, afterTax, bill bssclient.Money
		for _, it := range items {
			overview, tax, afterTax = mustAdd(t, overview, it.PretaxAmount), mustAdd(t, tax, it.Tax), mustAdd(t, afterTax, it.AfterTaxAmount)
			if it.ProductCode == "" || it.Currency != "CNY" || it.OwnerID == "" {
				t.Errorf("item without its labels: %+v", it)
			}
		}
		for rows, err := range c.QueryAccountBill(context.Background(), bssclient.AccountBillRequest{BillingCycle: cyc, IsGroupByProduct: true}) {
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				bill = mustAdd(t, bill, r.PretaxAmount)
			}
		}
		want := bssclient.Money{}
		if skew != "" {
			want = bssclient.MustParseMoney(skew)
		}
		diff, err := overview.Add(bill.Neg())
		if err != nil || diff != want {
			t.Errorf("skew %q: overview %s − account bill %s = %s, want %s", skew, overview, bill, diff, want)
		}
		if tax.IsZero() || mustAdd(t, afterTax, tax) != overview {
			t.Errorf("tax %s, after tax %s, payable %s", tax, afterTax, overview)
		}
	}
}

func TestBillOverviewRequestIsCheckedLocally(t *testing.T) {
	s := startSim(t, smallWorld, nil)
	c, _ := newSimClient(t, s)
	for name, req := range map[string]bssclient.BillOverviewRequest{
		"no cycle":       {},
		"negative owner": {BillingCycle: bssclient.Cycle{Year: 2024, Month: 5}, BillOwnerID: -1},
	} {
		if _, err := c.QueryBillOverview(context.Background(), req); bssclient.Classify(err) != bssclient.ClassBadRequest {
			t.Errorf("%s: error %v, want a bad request", name, err)
		}
	}
	if got := s.run.Server.Stats().Requests[bssclient.ActionQueryBillOverview]; got != 0 {
		t.Errorf("%d requests sent for invalid requests", got)
	}
}

func mustAdd(t *testing.T, a, b bssclient.Money) bssclient.Money {
	t.Helper()
	sum, err := a.Add(b)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}
