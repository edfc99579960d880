package bsssim

import (
	"testing"
)

// By default each bucket's day is one row per billing item, with
// BillingItem and BillingItemCode set, and every bucket's total is the same
// as in the same World with SplitRowPerBucket.
func TestSplitBillingItemsKeepBucketTotals(t *testing.T) {
	cfg := WorldConfig{Seed: 7, Owners: 3, InstancesPerOwner: 8, Currency: "CNY", SplitBillEnabled: true, BucketsPerOSSInstance: 3}
	items, err := NewWorld(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.SplitRowPerBucket = true
	plain, err := NewWorld(cfg)
	if err != nil {
		t.Fatal(err)
	}
	req := SplitItemBillRequest{BillingCycle: Cycle{Year: 2024, Month: 6}, Granularity: Daily, BillingDate: Day{Year: 2024, Month: 6, Day: 10}, ProductCode: "oss"}
	perBucket := func(rows []SplitItemBillItem) map[string]Amounts {
		m := map[string]Amounts{}
		for _, r := range rows {
			m[r.SplitItemID] = addAmounts(t, m[r.SplitItemID], r.Amounts)
		}
		return m
	}
	plainRows := allSplitRows(t, plain, req, testBillingNow)
	itemRows := allSplitRows(t, items, req, testBillingNow)
	if len(plainRows) == 0 {
		t.Fatal("no OSS split rows on the day")
	}
	if len(itemRows) != 3*len(plainRows) {
		t.Fatalf("%d rows with billing items, want 3 × %d", len(itemRows), len(plainRows))
	}
	codes := map[string]map[string]bool{}
	for _, r := range itemRows {
		if r.BillingItem == "" || r.BillingItemCode == "" {
			t.Fatalf("split row without billing item: %+v", r)
		}
		if codes[r.SplitItemID] == nil {
			codes[r.SplitItemID] = map[string]bool{}
		}
		codes[r.SplitItemID][r.BillingItemCode] = true
	}
	for _, r := range plainRows {
		if r.BillingItem != "" || r.BillingItemCode != "" {
			t.Fatalf("split row with a billing item although SplitRowPerBucket is on: %+v", r)
		}
	}
	want, got := perBucket(plainRows), perBucket(itemRows)
	if len(got) != len(want) {
		t.Fatalf("%d buckets with billing items, %d without", len(got), len(want))
	}
	for b, a := range want {
		if got[b] != a {
			t.Errorf("bucket %s: %+v with billing items, %+v without", b, got[b], a)
		}
		if len(codes[b]) != 3 {
			t.Errorf("bucket %s has billing items %v, want storage, net_out, requests", b, codes[b])
		}
	}
}
