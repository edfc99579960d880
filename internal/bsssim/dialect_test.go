package bsssim

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

const dialectSample = `{"Code":"Success","Message":"Successful!","RequestId":"R","Success":true,"Data":{"TotalCount":2,"AccountName":"payer@example.com",` +
	`"Items":[{"OwnerID":"1234567890123456","BillAccountID":"1857000000000489","PretaxAmount":12.3456,"ProductDetail":"ECS",` +
	`"ExpiryTime":"2025-03-31T16:00:00Z","NickName":"web"}]}}` + "\n"

func TestDialectsRewriteOnlyTheRepresentation(t *testing.T) {
	for _, tc := range []struct {
		d         Dialect
		want, not []string
	}{
		{DialectDocumented, []string{`"PretaxAmount":12.3456`, `"ExpiryTime":"2025-03-31T16:00:00Z"`, `"BillAccountID":"1857000000000489"`}, nil},
		{DialectStrings, []string{`"PretaxAmount":"12.3456"`, `"TotalCount":"2"`}, nil},
		{DialectLocalTimes, []string{`"ExpiryTime":"2025-04-01 00:00:00"`}, nil},
		{DialectMasked, []string{`"BillAccountID":"185****489"`, `"OwnerID":"1234567890123456"`}, nil},
		{DialectSparse, []string{`"OwnerID":"1234567890123456"`, `"PretaxAmount":12.3456`}, []string{`"payer@example.com"`, `"ECS"`, `"web"`}},
	} {
		got, err := tc.d.rewrite([]byte(dialectSample), "R")
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(string(got), w) {
				t.Errorf("%s: %s lacks %s", tc.d, got, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(string(got), n) {
				t.Errorf("%s: %s still has %s", tc.d, got, n)
			}
		}
		var v map[string]any
		if err := json.Unmarshal(got, &v); err != nil || v["Code"] != "Success" || v["Success"] != true {
			t.Errorf("%s: the envelope changed: %s", tc.d, got)
		}
	}
	// One answer is written one way, however often it is asked for: a
	// failure seen in the mixed dialect can be replayed.
	sparse := dialectSample[:len(dialectSample)-4] + `,{"AccountName":"a","NickName":"b","ProductDetail":"c","Remark":"d","Description":"e","SubscribeTime":"f","HostId":"g"}]}}` + "\n"
	first, _ := DialectSparse.rewrite([]byte(sparse), "R")
	for range 20 {
		if again, _ := DialectSparse.rewrite([]byte(sparse), "R"); string(again) != string(first) {
			t.Fatalf("sparse wrote one answer two ways:\n%s\n%s", first, again)
		}
	}
	// mixed varies its choice with the answer.
	seen := map[string]bool{}
	for _, id := range []string{"A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L"} {
		got, _ := DialectMixed.rewrite([]byte(dialectSample), id)
		seen[string(got)] = true
	}
	if len(seen) < 4 {
		t.Errorf("mixed wrote %d forms over 12 answers, want several", len(seen))
	}
	if _, err := ParseDialect("klingon"); err == nil || !strings.Contains(err.Error(), `dialect "klingon" is not one of documented, strings`) {
		t.Errorf("ParseDialect: %v", err)
	}
}

// The account bill's informational BizType and CostUnit are filled, as the
// reference's example fills them, so a client that reads them reads them.
func TestAccountBillFillsBizTypeAndCostUnit(t *testing.T) {
	w := newTestWorld(t, WorldConfig{Seed: 3, Owners: 2, InstancesPerOwner: 10})
	at := time.Date(2025, 3, 15, 12, 0, 0, 0, billingZone)
	rows := w.AccountBill(AccountBillRequest{BillingCycle: cycleOf(at), Granularity: Monthly, IsGroupByProduct: true}, at)
	if len(rows) == 0 {
		t.Fatal("no rows")
	}
	for _, r := range rows {
		if r.BizType != accountBizType || r.CostUnit != notAllocated {
			t.Fatalf("row %+v: BizType %q, CostUnit %q", r, r.BizType, r.CostUnit)
		}
	}
}
