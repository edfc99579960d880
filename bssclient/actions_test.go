package bssclient

import (
	"context"
	"errors"
	"iter"
	"net/url"
	"strings"
	"testing"
)

// firstErr ranges over seq and returns the first error.
func firstErr[T any](seq iter.Seq2[[]T, error]) error {
	for _, err := range seq {
		if err != nil {
			return err
		}
	}
	return nil
}

func TestActionParamsUseTheAPINames(t *testing.T) {
	day := Day{2024, 5, 31}
	tests := []struct {
		name string
		run  func(c *Client) error
		want url.Values
	}{
		{
			name: "QueryAccountBill full",
			run: func(c *Client) error {
				return firstErr(c.QueryAccountBill(context.Background(), AccountBillRequest{
					BillingCycle: may, Granularity: Daily, BillingDate: day, IsGroupByProduct: true, ProductCode: "rds", BillOwnerID: 1234567890123,
				}))
			},
			want: url.Values{"BillingCycle": {"2024-05"}, "Granularity": {"DAILY"}, "BillingDate": {"2024-05-31"}, "IsGroupByProduct": {"true"},
				"ProductCode": {"rds"}, "BillOwnerId": {"1234567890123"}, "PageNum": {"1"}, "PageSize": {"300"}},
		},
		{
			name: "QueryAccountBill minimal",
			run: func(c *Client) error {
				return firstErr(c.QueryAccountBill(context.Background(), AccountBillRequest{BillingCycle: may}))
			},
			want: url.Values{"BillingCycle": {"2024-05"}, "PageNum": {"1"}, "PageSize": {"300"}},
		},
		{
			name: "DescribeInstanceBill full",
			run: func(c *Client) error {
				return firstErr(c.DescribeInstanceBill(context.Background(), InstanceBillRequest{
					BillingCycle: may, Granularity: Monthly, IsBillingItem: true, IsHideZeroCharge: true, ProductCode: "ecs",
					SubscriptionType: "PayAsYouGo", InstanceID: "i-abc", BillOwnerID: 42,
				}))
			},
			want: url.Values{"BillingCycle": {"2024-05"}, "Granularity": {"MONTHLY"}, "IsBillingItem": {"true"}, "IsHideZeroCharge": {"true"},
				"ProductCode": {"ecs"}, "SubscriptionType": {"PayAsYouGo"}, "InstanceID": {"i-abc"}, "BillOwnerId": {"42"}, "MaxResults": {"300"}},
		},
		{
			name: "DescribeInstanceBill SubscriptionType without ProductCode",
			run: func(c *Client) error {
				return firstErr(c.DescribeInstanceBill(context.Background(), InstanceBillRequest{
					BillingCycle: may, Granularity: Daily, BillingDate: day, SubscriptionType: "Subscription",
				}))
			},
			want: url.Values{"BillingCycle": {"2024-05"}, "Granularity": {"DAILY"}, "BillingDate": {"2024-05-31"},
				"SubscriptionType": {"Subscription"}, "MaxResults": {"300"}},
		},
		{
			name: "DescribeSplitItemBill full",
			run: func(c *Client) error {
				return firstErr(c.DescribeSplitItemBill(context.Background(), SplitItemBillRequest{
					BillingCycle: may, Granularity: Daily, BillingDate: day, IsHideZeroCharge: true, ProductCode: "oss",
					SubscriptionType: "PayAsYouGo", InstanceID: "oss-1", SplitItemID: "bucket-a", BillOwnerID: 7,
				}))
			},
			want: url.Values{"BillingCycle": {"2024-05"}, "Granularity": {"DAILY"}, "BillingDate": {"2024-05-31"}, "IsHideZeroCharge": {"true"},
				"ProductCode": {"oss"}, "SubscriptionType": {"PayAsYouGo"}, "InstanceID": {"oss-1"}, "SplitItemID": {"bucket-a"},
				"BillOwnerId": {"7"}, "MaxResults": {"300"}},
		},
		{
			name: "QueryBillToOSSSubscription",
			run:  func(c *Client) error { _, err := c.QueryBillToOSSSubscription(context.Background()); return err },
			want: url.Values{},
		},
		{
			name: "QueryAccountBalance",
			run:  func(c *Client) error { _, err := c.QueryAccountBalance(context.Background()); return err },
			want: url.Values{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newPagedBSS(t, 0, nil)
			c := newTestClient(t, &fakeBSS{Server: srv.Server})
			if err := tt.run(c.Client); err != nil {
				t.Fatal(err)
			}
			queries := srv.recorded()
			if len(queries) != 1 {
				t.Fatalf("%d requests, want 1", len(queries))
			}
			if got := queries[0]; got.Encode() != tt.want.Encode() {
				t.Errorf("query\n got %s\nwant %s", got.Encode(), tt.want.Encode())
			}
		})
	}
}

func TestRequestsAreValidatedBeforeAnyCall(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		run      func(c *Client) error
		wantCode string
		wantText []string
	}{
		{"missing BillingCycle", func(c *Client) error {
			return firstErr(c.QueryAccountBill(ctx, AccountBillRequest{}))
		}, CodeMissingParameter, []string{"BillingCycle"}},
		{"BillingDate without DAILY", func(c *Client) error {
			return firstErr(c.DescribeInstanceBill(ctx, InstanceBillRequest{BillingCycle: may, BillingDate: Day{2024, 5, 3}}))
		}, CodeInvalidParameter, []string{"BillingDate", "2024-05-03", "DAILY"}},
		{"BillingDate with MONTHLY", func(c *Client) error {
			return firstErr(c.QueryAccountBill(ctx, AccountBillRequest{BillingCycle: may, Granularity: Monthly, BillingDate: Day{2024, 5, 3}}))
		}, CodeInvalidParameter, []string{"BillingDate", "MONTHLY"}},
		{"DAILY without BillingDate", func(c *Client) error {
			return firstErr(c.DescribeSplitItemBill(ctx, SplitItemBillRequest{BillingCycle: may, Granularity: Daily}))
		}, CodeMissingParameter, []string{"BillingDate", "DAILY"}},
		{"BillingDate outside the cycle", func(c *Client) error {
			return firstErr(c.DescribeInstanceBill(ctx, InstanceBillRequest{BillingCycle: may, Granularity: Daily, BillingDate: Day{2024, 6, 1}}))
		}, CodeInvalidParameter, []string{"2024-06-01", "2024-05"}},
		{"impossible BillingDate", func(c *Client) error {
			return firstErr(c.QueryAccountBill(ctx, AccountBillRequest{BillingCycle: Cycle{2024, 2}, Granularity: Daily, BillingDate: Day{2024, 2, 30}}))
		}, CodeInvalidParameter, []string{"2024-02-30"}},
		{"invalid cycle", func(c *Client) error {
			return firstErr(c.QueryAccountBill(ctx, AccountBillRequest{BillingCycle: Cycle{2024, 13}}))
		}, CodeInvalidParameter, []string{"BillingCycle", "2024-13"}},
		{"unknown Granularity", func(c *Client) error {
			return firstErr(c.DescribeInstanceBill(ctx, InstanceBillRequest{BillingCycle: may, Granularity: "Hourly"}))
		}, CodeInvalidParameter, []string{"Granularity", "Hourly"}},
		{"unknown SubscriptionType", func(c *Client) error {
			return firstErr(c.DescribeInstanceBill(ctx, InstanceBillRequest{BillingCycle: may, SubscriptionType: "Prepaid"}))
		}, CodeInvalidParameter, []string{"SubscriptionType", "Prepaid"}},
		{"SubscriptionType without ProductCode", func(c *Client) error {
			return firstErr(c.DescribeSplitItemBill(ctx, SplitItemBillRequest{BillingCycle: may, SubscriptionType: "PayAsYouGo"}))
		}, CodeMissingParameter, []string{"SubscriptionType", "ProductCode"}},
		{"negative BillOwnerId", func(c *Client) error {
			return firstErr(c.QueryAccountBill(ctx, AccountBillRequest{BillingCycle: may, BillOwnerID: -1}))
		}, CodeInvalidParameter, []string{"BillOwnerId", "-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeBSS(t, okReply(`{}`))
			c := newTestClient(t, srv)
			err := tt.run(c.Client)
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Code != tt.wantCode || apiErr.HTTPStatus != 0 {
				t.Fatalf("err = %v, want a local %s", err, tt.wantCode)
			}
			if Classify(err) != ClassBadRequest || IsRetryable(err) {
				t.Errorf("Classify = %s, IsRetryable = %v; want bad_request, not retryable", Classify(err), IsRetryable(err))
			}
			for _, s := range tt.wantText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not name %q", err, s)
				}
			}
			if srv.count() != 0 {
				t.Errorf("%d requests sent for an invalid request", srv.count())
			}
			if got := c.obs.list(); len(got) != 0 {
				t.Errorf("observer got %q", got)
			}
		})
	}
}

func TestQueryBillToOSSSubscriptionAndBalance(t *testing.T) {
	srv := newFakeBSS(t, rawReply(200, seedSubscription), rawReply(200, seedBalance))
	c := newTestClient(t, srv)
	subs, err := c.QueryBillToOSSSubscription(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(subs) != 1 || subs[0].SubscribeBucket != "billingtestbucket" || subs[0].BucketOwnerID != 1369168081849304 {
		t.Errorf("subscriptions = %+v", subs)
	}
	bal, err := c.QueryAccountBalance(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if bal.AvailableAmount != MustParseMoney("10000.00") || bal.QuotaLimit != MustParseMoney("10000") || bal.Currency != "CNY" {
		t.Errorf("balance = %+v", bal)
	}
	for i, action := range []string{ActionQueryBillToOSSSubscription, ActionQueryAccountBalance} {
		if got := srv.request(i).Header.Get("x-acs-action"); got != action {
			t.Errorf("request %d: x-acs-action %q, want %q", i, got, action)
		}
	}
}

func TestQueryAccountBalanceError(t *testing.T) {
	srv := newFakeBSS(t, errorReply(403, CodeForbiddenRAM))
	c := newTestClient(t, srv)
	bal, err := c.QueryAccountBalance(context.Background())
	if Classify(err) != ClassAuthorization || bal != (AccountBalance{}) {
		t.Errorf("balance %+v, err %v; want zero and an authorization error", bal, err)
	}
}
