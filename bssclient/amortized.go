package bssclient

import (
	"context"
	"iter"
	"net/url"
)

// Amortized (effective) cost: what a cycle costs when each subscription
// purchase is spread over the days it pays for, instead of counted on the
// day it was bought. Two actions, both by amortization month (the cycle the
// cost is spread into), both paged by NextToken/MaxResults:
//
//   - DescribeProductAmortizedCostByAmortizationPeriod, per product:
//     https://www.alibabacloud.com/help/en/user-center/developer-reference/api-bssopenapi-2017-12-14-describeproductamortizedcostbyamortizationperiod
//   - DescribeInstanceAmortizedCostByAmortizationPeriod, per instance:
//     https://www.alibabacloud.com/help/en/user-center/developer-reference/api-bssopenapi-2017-12-14-describeinstanceamortizedcostbyamortizationperiod
//
// Documented on both pages: "The final data for a month is available after
// 12:00 on the sixth day of the following month" (KindAmortized in
// calendar.go); "Amortized cost data for the past 12 months is available";
// MaxResults "Default value: 20. Maximum value: 300"; the data "is available
// 48 hours after you enable the Amortized Cost feature"; the RAM action is
// bssapi:DescribeCostBill. Each row is one consume period (the billing cycle
// the expense was billed in, ConsumePeriod) of one product or instance, with
// what was amortized before the month (PreviouslyAmortized*), into it
// (CurrentAmortization*) and what remains for later months
// (RemainingAmortization*). No row names a currency: it is the account's.
//
// A daily per-instance variant (DescribeInstanceAmortizedCostByAmortizationPeriodDate)
// exists in the official SDK, but no public API reference page for it was
// found, so the client does not call it.

// Amortized-cost actions, as BSS spells them.
const (
	ActionDescribeProductAmortizedCost  = "DescribeProductAmortizedCostByAmortizationPeriod"
	ActionDescribeInstanceAmortizedCost = "DescribeInstanceAmortizedCostByAmortizationPeriod"
)

// RAMActionAmortizedCost is the RAM action both amortized-cost actions need
// (the "RAM authorization" table of their pages).
const RAMActionAmortizedCost = "bssapi:DescribeCostBill"

// CodeAmortizedCostNotEnabled is what the amortized-cost actions answer on
// an account that has not enabled Amortized Cost in the Billing console.
// INFERRED: the pages say only that the data "is available only after you
// enable the Amortized Cost feature" and list no error code. NotApplicable
// is what other BSS actions answer for a feature an account cannot use;
// the client, the collector and the simulator all use this constant, so a
// live observation changes one line (and unavailableCodes must hold it).
const CodeAmortizedCostNotEnabled = "NotApplicable"

// AmortizedCostRequest asks for the amortized cost of one amortization
// month. The client manages NextToken and MaxResults.
type AmortizedCostRequest struct {
	// BillingCycle is the amortization month: required; BSS serves only
	// the last KindAmortized.RetentionCycles() cycles.
	BillingCycle     Cycle
	ProductCode      string
	SubscriptionType string
}

// AmortizedAmounts are the payable (pretax) amounts of one amortized-cost
// row. Previously + Current + Remaining is the row's whole payable,
// PretaxAmount, however the service period falls across months.
type AmortizedAmounts struct {
	PretaxAmount                      Money `json:"PretaxAmount"`
	PreviouslyAmortizedPretaxAmount   Money `json:"PreviouslyAmortizedPretaxAmount"`
	CurrentAmortizationPretaxAmount   Money `json:"CurrentAmortizationPretaxAmount"`
	RemainingAmortizationPretaxAmount Money `json:"RemainingAmortizationPretaxAmount"`
	// Gross (list) amounts, passed along for completeness.
	PretaxGrossAmount                    Money `json:"PretaxGrossAmount"`
	CurrentAmortizationPretaxGrossAmount Money `json:"CurrentAmortizationPretaxGrossAmount"`
}

// ProductAmortizedCostItem is one row of
// DescribeProductAmortizedCostByAmortizationPeriod: one product, owner,
// subscription type and consume period. BillOwnerID is a long in the SDK,
// kept as text like every owner id.
type ProductAmortizedCostItem struct {
	AmortizationPeriod string `json:"AmortizationPeriod"` // YYYYMM
	ConsumePeriod      string `json:"ConsumePeriod"`      // YYYYMM
	AmortizationStatus string `json:"AmortizationStatus"` // amortized, unAmortized
	BillAccountID      IDText `json:"BillAccountID"`
	BillAccountName    string `json:"BillAccountName"`
	BillOwnerID        IDText `json:"BillOwnerID"`
	BillOwnerName      string `json:"BillOwnerName"`
	BizType            string `json:"BizType"`
	ProductCode        string `json:"ProductCode"`
	ProductName        string `json:"ProductName"`
	ProductDetail      string `json:"ProductDetail"`
	ProductDetailCode  string `json:"ProductDetailCode"`
	SubscriptionType   string `json:"SubscriptionType"`
	AmortizedAmounts
}

// InstanceAmortizedCostItem is one row of
// DescribeInstanceAmortizedCostByAmortizationPeriod: one instance (or split
// item) and consume period.
type InstanceAmortizedCostItem struct {
	ProductAmortizedCostItem
	InstanceID    string `json:"InstanceID"`
	Region        string `json:"Region"`
	Zone          string `json:"Zone"`
	ResourceGroup string `json:"ResourceGroup"`
	CostUnit      string `json:"CostUnit"`
	Tag           string `json:"Tag"`
	SplitItemID   string `json:"SplitItemID"`
	SplitItemName string `json:"SplitItemName"`
}

// ProductAmortizedCostData is the Data of one page of
// DescribeProductAmortizedCostByAmortizationPeriod.
type ProductAmortizedCostData struct {
	AccountID   string `json:"AccountID"`
	AccountName string `json:"AccountName"`
	tokenPaging
	Items []ProductAmortizedCostItem `json:"Items"`
}

// InstanceAmortizedCostData is the Data of one page of
// DescribeInstanceAmortizedCostByAmortizationPeriod.
type InstanceAmortizedCostData struct {
	AccountID   string `json:"AccountID"`
	AccountName string `json:"AccountName"`
	tokenPaging
	Items []InstanceAmortizedCostItem `json:"Items"`
}

func (d *ProductAmortizedCostData) rows() []ProductAmortizedCostItem   { return d.Items }
func (d *InstanceAmortizedCostData) rows() []InstanceAmortizedCostItem { return d.Items }

// DescribeProductAmortizedCost walks the amortized cost of one amortization
// month per product, MaxPageSize (300, the documented maximum) rows a page.
// An account without Amortized Cost enabled gets an *APIError with
// CodeAmortizedCostNotEnabled (IsUnavailable).
//
// Each yielded slice is valid only until the loop body returns. The request
// is validated before any call.
func (c *Client) DescribeProductAmortizedCost(ctx context.Context, req AmortizedCostRequest) iter.Seq2[[]ProductAmortizedCostItem, error] {
	const action = ActionDescribeProductAmortizedCost
	return walkToken[ProductAmortizedCostItem, ProductAmortizedCostData](ctx, c, action, func() (url.Values, error) {
		return req.params(action)
	})
}

// DescribeInstanceAmortizedCost walks the amortized cost of one
// amortization month per instance, as DescribeProductAmortizedCost does per
// product.
func (c *Client) DescribeInstanceAmortizedCost(ctx context.Context, req AmortizedCostRequest) iter.Seq2[[]InstanceAmortizedCostItem, error] {
	const action = ActionDescribeInstanceAmortizedCost
	return walkToken[InstanceAmortizedCostItem, InstanceAmortizedCostData](ctx, c, action, func() (url.Values, error) {
		return req.params(action)
	})
}

// params checks what the request can be checked for without a clock. The
// documented window (the past 12 months, KindAmortized.RetentionCycles)
// is BSS's to enforce against its own clock, as it does for the bills: the
// client's clock signs requests and need not be the collectors' billing
// clock, and the collectors ask only for the current and previous cycles.
func (r AmortizedCostRequest) params(action string) (url.Values, error) {
	p := url.Values{}
	setIfNotEmpty(p, "ProductCode", r.ProductCode)
	return checked(p,
		setPeriod(p, action, r.BillingCycle, "", Day{}),
		setSubscriptionType(p, action, r.SubscriptionType, r.ProductCode, false))
}
