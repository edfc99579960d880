package bssclient

// QueryAccountBill: spend of an account within a billing cycle, optionally
// per day (Granularity=DAILY with BillingDate) and per product
// (IsGroupByProduct). Paged by PageNum/PageSize; Items is {"Item":[…]}.

// Granularity is MONTHLY or DAILY.
type Granularity string

const (
	Monthly Granularity = "MONTHLY"
	Daily   Granularity = "DAILY"
)

// AccountBillRequest is the QueryAccountBill request. BillingDate is sent only
// when set and requires Granularity=DAILY.
type AccountBillRequest struct {
	BillingCycle     Cycle
	Granularity      Granularity
	BillingDate      Day
	IsGroupByProduct bool
	ProductCode      string
	BillOwnerID      int64 // 0: the calling account
}

// AccountBillItem is one row of QueryAccountBill.
type AccountBillItem struct {
	BillingDate      string `json:"BillingDate"`
	BillAccountID    string `json:"BillAccountID"`
	BillAccountName  string `json:"BillAccountName"`
	OwnerID          string `json:"OwnerID"`
	OwnerName        string `json:"OwnerName"`
	ProductCode      string `json:"ProductCode"` // only with IsGroupByProduct
	ProductName      string `json:"ProductName"` // only with IsGroupByProduct
	PipCode          string `json:"PipCode"`
	SubscriptionType string `json:"SubscriptionType"` // only with IsGroupByProduct
	Currency         string `json:"Currency"`
	CostUnit         string `json:"CostUnit"`
	BizType          string `json:"BizType"`
	Amounts
}

// AccountBillData is the Data of one QueryAccountBill page.
type AccountBillData struct {
	AccountID    string `json:"AccountID"`
	AccountName  string `json:"AccountName"`
	BillingCycle string `json:"BillingCycle"`
	PageNum      int    `json:"PageNum"`
	PageSize     int    `json:"PageSize"`
	TotalCount   int    `json:"TotalCount"`
	Items        struct {
		Item []AccountBillItem `json:"Item"`
	} `json:"Items"`
}
