package bssclient

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestAmortizedCostRequestsAreValidatedBeforeAnyCall(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		req      AmortizedCostRequest
		wantCode string
		wantText string
	}{
		{"missing BillingCycle", AmortizedCostRequest{}, CodeMissingParameter, "BillingCycle is required"},
		{"bad SubscriptionType", AmortizedCostRequest{BillingCycle: may, SubscriptionType: "Prepaid"}, CodeInvalidParameter, "SubscriptionType"},
		{"month 13", AmortizedCostRequest{BillingCycle: Cycle{2024, 13}}, CodeInvalidParameter, "not a valid YYYY-MM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeBSS(t, okReply(`{"Items":[]}`))
			c := newTestClient(t, srv)
			for _, err := range []error{
				firstErr(c.DescribeProductAmortizedCost(ctx, tt.req)),
				firstErr(c.DescribeInstanceAmortizedCost(ctx, tt.req)),
			} {
				if ErrorCode(err) != tt.wantCode || !strings.Contains(err.Error(), tt.wantText) {
					t.Errorf("err = %v, want %s mentioning %q", err, tt.wantCode, tt.wantText)
				}
				if IsUnavailable(err) {
					t.Errorf("a request refused locally reads as an unavailable action: %v", err)
				}
			}
			if n := srv.count(); n != 0 {
				t.Errorf("%d requests sent, want none", n)
			}
		})
	}
}

func TestAmortizedCostAsksForFullPages(t *testing.T) {
	for _, cyc := range []Cycle{{2023, 7}, {2024, 6}} {
		srv := newPagedBSS(t, 0, nil)
		c := newTestClient(t, &fakeBSS{Server: srv.Server})
		// pagedBSS does not serve the action: only the request matters here.
		_ = firstErr(c.DescribeProductAmortizedCost(context.Background(), AmortizedCostRequest{BillingCycle: cyc, ProductCode: "ecs", SubscriptionType: SubscriptionTypeSubscription}))
		queries := srv.recorded()
		if len(queries) == 0 {
			t.Fatalf("%s: no request sent", cyc)
		}
		want := url.Values{"BillingCycle": {cyc.String()}, "ProductCode": {"ecs"}, "SubscriptionType": {"Subscription"}, "MaxResults": {"300"}}
		if got := queries[0]; got.Encode() != want.Encode() {
			t.Errorf("query\n got %s\nwant %s", got.Encode(), want.Encode())
		}
	}
}

// Two pages by NextToken, amounts decoded to the last decimal, masked and
// numeric owner ids kept as text.
func TestAmortizedCostWalksPagesExactly(t *testing.T) {
	srv := newFakeBSS(t,
		okReply(`{"TotalCount":2,"MaxResults":300,"NextToken":"CAES/1+=","Items":[{"ProductCode":"ecs","SubscriptionType":"Subscription","BillOwnerID":1234567890123456,"AmortizationPeriod":"202405","ConsumePeriod":"202404","PretaxAmount":100.00000001,"PreviouslyAmortizedPretaxAmount":33.33333334,"CurrentAmortizationPretaxAmount":66.66666667,"RemainingAmortizationPretaxAmount":0}]}`),
		okReply(`{"TotalCount":2,"MaxResults":300,"NextToken":"","Items":[{"ProductCode":"rds","SubscriptionType":"PayAsYouGo","BillOwnerID":"185xxxxx489","AmortizationPeriod":"202405","ConsumePeriod":"202405","CurrentAmortizationPretaxAmount":"-0.01"}]}`))
	c := newTestClient(t, srv)
	var rows []ProductAmortizedCostItem
	for page, err := range c.DescribeProductAmortizedCost(context.Background(), AmortizedCostRequest{BillingCycle: may}) {
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, page...)
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
	if got := srv.request(1).URL.Query().Get("NextToken"); got != "CAES/1+=" {
		t.Errorf("second page asked with NextToken %q", got)
	}
	first := rows[0]
	if first.BillOwnerID != "1234567890123456" || rows[1].BillOwnerID != "185xxxxx489" {
		t.Errorf("owners %q, %q", first.BillOwnerID, rows[1].BillOwnerID)
	}
	if got := first.CurrentAmortizationPretaxAmount.String(); got != "66.66666667" {
		t.Errorf("current = %s", got)
	}
	sum, _ := first.PreviouslyAmortizedPretaxAmount.Add(first.CurrentAmortizationPretaxAmount)
	if sum != first.PretaxAmount {
		t.Errorf("previously + current = %s, want the row's PretaxAmount %s", sum, first.PretaxAmount)
	}
	if got := rows[1].CurrentAmortizationPretaxAmount.String(); got != "-0.01" {
		t.Errorf("refund = %s", got)
	}
}

// A page whose amount cannot be read exactly fails, naming the field.
func TestAmortizedCostBadAmountNamesTheField(t *testing.T) {
	srv := newFakeBSS(t, okReply(`{"TotalCount":1,"NextToken":"","Items":[{"ProductCode":"ecs","CurrentAmortizationPretaxAmount":"12,3x"}]}`))
	c := newTestClient(t, srv, func(cfg *Config) { cfg.MaxAttempts = 1 })
	err := firstErr(c.DescribeProductAmortizedCost(context.Background(), AmortizedCostRequest{BillingCycle: may}))
	if err == nil || !strings.Contains(err.Error(), "CurrentAmortizationPretaxAmount") {
		t.Errorf("err = %v, want it to name CurrentAmortizationPretaxAmount", err)
	}
}

func TestAmortizedCostNotEnabledIsUnavailable(t *testing.T) {
	srv := newFakeBSS(t, errorReply(400, CodeAmortizedCostNotEnabled))
	c := newTestClient(t, srv)
	err := firstErr(c.DescribeInstanceAmortizedCost(context.Background(), AmortizedCostRequest{BillingCycle: may}))
	if !IsUnavailable(err) {
		t.Errorf("err = %v, want an unavailable action", err)
	}
}

func TestAmortizedCycleIsFinalAtNoonOnTheSixth(t *testing.T) {
	dec := Cycle{2024, 12}
	got := dec.FinalAt(KindAmortized)
	want := time.Date(2025, 1, 6, 12, 0, 0, 0, BillingZone)
	if !got.Equal(want) {
		t.Errorf("FinalAt = %s, want %s", got, want)
	}
	if dec.isFinal(want.Add(-time.Nanosecond), KindAmortized) || !dec.isFinal(want, KindAmortized) {
		t.Error("final one nanosecond early, or not at the moment")
	}
	if got := OldestQueryable(time.Date(2024, 6, 1, 0, 0, 0, 0, BillingZone), KindAmortized); got != (Cycle{2023, 7}) {
		t.Errorf("oldest = %s, want 2023-07", got)
	}
}
