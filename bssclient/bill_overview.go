package bssclient

import (
	"context"
	"net/url"
)

// QueryBillOverview: a billing cycle's bill per product and billing
// method, with the tax and after-tax amounts the account bill does not
// carry. One request per cycle: the answer is not paged.
// https://www.alibabacloud.com/help/en/boa/latest/api-bssopenapi-2017-12-14-querybilloverview

// ActionQueryBillOverview is the action, as BSS spells it.
const ActionQueryBillOverview = "QueryBillOverview"

// BillOverviewRequest is the QueryBillOverview request.
type BillOverviewRequest struct {
	BillingCycle Cycle
	BillOwnerID  int64 // 0: the calling account
}

// BillOverviewItem is one item of the overview: one product and billing
// method (and, by the field list, one owner) for the cycle to date.
type BillOverviewItem struct {
	BillAccountID    string `json:"BillAccountID"`
	OwnerID          IDText `json:"OwnerID"`
	ProductCode      string `json:"ProductCode"`
	ProductName      string `json:"ProductName"`
	PipCode          string `json:"PipCode"`
	SubscriptionType string `json:"SubscriptionType"`
	// Item is the bill type: SubscriptionOrder, PayAsYouGoBill, Refund
	// or Adjustment.
	Item     string `json:"Item"`
	Currency string `json:"Currency"`
	Amounts
	Tax Money `json:"Tax"`
	// AfterTaxAmount is "the amount paid after the tax is deducted". The
	// exporter publishes it as BSS writes it and derives nothing from it.
	AfterTaxAmount Money `json:"AfterTaxAmount"`
}

// BillOverviewData is QueryBillOverview's Data.
type BillOverviewData struct {
	AccountID    string `json:"AccountID"`
	AccountName  string `json:"AccountName"`
	BillingCycle string `json:"BillingCycle"`
	Items        struct {
		Item []BillOverviewItem `json:"Item"`
	} `json:"Items"`
}

// QueryBillOverview returns the overview of one billing cycle. The request
// is validated before any call.
func (c *Client) QueryBillOverview(ctx context.Context, req BillOverviewRequest) ([]BillOverviewItem, error) {
	return fetch(ctx, c, ActionQueryBillOverview, req.params,
		func(d *BillOverviewData) []BillOverviewItem { return d.Items.Item })
}

func (r BillOverviewRequest) params() (url.Values, error) {
	const action = ActionQueryBillOverview
	p := url.Values{}
	return checked(p,
		setPeriod(p, action, r.BillingCycle, "", Day{}),
		setBillOwner(p, action, r.BillOwnerID))
}
