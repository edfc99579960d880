package bsssim

// QueryBillOverview's answer, with the JSON names of its reference page
// (https://www.alibabacloud.com/help/en/boa/latest/api-bssopenapi-2017-12-14-querybilloverview).
// Not paged: one answer holds the cycle.

const actionQueryBillOverview = "QueryBillOverview"

// BillOverviewItem is one item of QueryBillOverview: a product and billing
// method of one owner for the cycle to date.
type BillOverviewItem struct {
	BillAccountID    string `json:"BillAccountID"`
	BillAccountName  string `json:"BillAccountName"`
	OwnerID          string `json:"OwnerID"`
	ProductCode      string `json:"ProductCode"`
	ProductType      string `json:"ProductType"`
	ProductName      string `json:"ProductName"`
	ProductDetail    string `json:"ProductDetail"`
	PipCode          string `json:"PipCode"`
	CommodityCode    string `json:"CommodityCode"`
	SubscriptionType string `json:"SubscriptionType"`
	Item             string `json:"Item"` // SubscriptionOrder, PayAsYouGoBill, Refund or Adjustment
	BizType          string `json:"BizType"`
	Currency         string `json:"Currency"`
	PaymentCurrency  string `json:"PaymentCurrency"`
	Amounts
	Tax            Money `json:"Tax"`
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
