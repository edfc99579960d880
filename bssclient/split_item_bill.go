package bssclient

// DescribeSplitItemBill: split bills, where shared products are broken down
// into split items such as OSS buckets, CDN domains and EIPs. Needs Split Bill
// enabled in the console; 12 months of history; split items complete 72 h
// after the day; final at 12:00 UTC+8 on the 4th. Paged by
// NextToken/MaxResults; Items is a plain array.

// SplitItemBillRequest is the DescribeSplitItemBill request.
type SplitItemBillRequest struct {
	BillingCycle     Cycle
	Granularity      Granularity
	BillingDate      Day
	IsHideZeroCharge bool
	ProductCode      string
	SubscriptionType string
	InstanceID       string
	SplitItemID      string
	BillOwnerID      int64
}

// SplitItemBillItem is one row of DescribeSplitItemBill.
type SplitItemBillItem struct {
	BillingDate       string `json:"BillingDate"`
	SplitBillingDate  string `json:"SplitBillingDate"`
	SplitBillingCycle string `json:"SplitBillingCycle"`
	BillAccountID     string `json:"BillAccountID"`
	BillAccountName   string `json:"BillAccountName"`
	OwnerID           string `json:"OwnerID"`
	SplitAccountID    string `json:"SplitAccountID"`
	SplitAccountName  string `json:"SplitAccountName"`
	InstanceID        string `json:"InstanceID"`
	SplitItemID       string `json:"SplitItemID"`
	SplitItemName     string `json:"SplitItemName"`
	ProductCode       string `json:"ProductCode"`
	ProductName       string `json:"ProductName"`
	PipCode           string `json:"PipCode"`
	CommodityCode     string `json:"CommodityCode"`
	SubscriptionType  string `json:"SubscriptionType"`
	Item              string `json:"Item"`
	BillingItem       string `json:"BillingItem"`
	BillingItemCode   string `json:"BillingItemCode"`
	Region            string `json:"Region"`
	Zone              string `json:"Zone"`
	CostUnit          string `json:"CostUnit"`
	Tag               string `json:"Tag"`
	Currency          string `json:"Currency"`
	Amounts
}

// SplitItemBillData is the Data of one DescribeSplitItemBill page.
type SplitItemBillData struct {
	AccountID    string `json:"AccountID"`
	AccountName  string `json:"AccountName"`
	BillingCycle string `json:"BillingCycle"`
	tokenPaging
	Items []SplitItemBillItem `json:"Items"`
}
