package bssclient

// DescribeInstanceBill: spend per instance (or per billing item with
// IsBillingItem) within a cycle or a day. Paged by NextToken/MaxResults;
// Items is a plain array. The client does not call QueryInstanceBill, which
// returns the same rows paged by PageNum/PageSize under {"Item":[…]} but
// stops at 50,000 rows
// (https://alibabacloud.com/help/doc-detail/100400.htm).

// InstanceBillRequest is the DescribeInstanceBill request. The client
// manages NextToken and MaxResults.
type InstanceBillRequest struct {
	BillingCycle     Cycle
	Granularity      Granularity
	BillingDate      Day
	IsBillingItem    bool
	IsHideZeroCharge bool
	ProductCode      string
	SubscriptionType string
	InstanceID       string
	BillOwnerID      int64
}

// InstanceBillItem is one row of DescribeInstanceBill (and of QueryInstanceBill).
// Region, Zone and the other instance attributes are complete only 48 h after
// the billing day ends.
type InstanceBillItem struct {
	BillingDate       string `json:"BillingDate"`
	BillAccountID     string `json:"BillAccountID"`
	BillAccountName   string `json:"BillAccountName"`
	OwnerID           string `json:"OwnerID"`
	InstanceID        string `json:"InstanceID"`
	NickName          string `json:"NickName"`
	ProductCode       string `json:"ProductCode"`
	ProductName       string `json:"ProductName"`
	ProductType       string `json:"ProductType"`
	ProductDetail     string `json:"ProductDetail"`
	PipCode           string `json:"PipCode"`
	CommodityCode     string `json:"CommodityCode"`
	SubscriptionType  string `json:"SubscriptionType"`
	Item              string `json:"Item"` // SubscriptionOrder, PayAsYouGoBill, Refund, Adjustment
	BillingItem       string `json:"BillingItem"`
	BillingItemCode   string `json:"BillingItemCode"`
	BillingType       string `json:"BillingType"`
	Region            string `json:"Region"`
	Zone              string `json:"Zone"`
	InstanceSpec      string `json:"InstanceSpec"`
	InstanceConfig    string `json:"InstanceConfig"`
	InternetIP        string `json:"InternetIP"`
	IntranetIP        string `json:"IntranetIP"`
	ResourceGroup     string `json:"ResourceGroup"`
	CostUnit          string `json:"CostUnit"`
	Tag               string `json:"Tag"` // "key:k value:v; key:k2 value:v2"
	Currency          string `json:"Currency"`
	ServicePeriod     string `json:"ServicePeriod"`
	ServicePeriodUnit string `json:"ServicePeriodUnit"`
	// DeductedByResourcePackage is a string in the API ("NULL", "0.1").
	DeductedByResourcePackage Money `json:"DeductedByResourcePackage"`
	Amounts
}

// InstanceBillData is the Data of one DescribeInstanceBill page.
type InstanceBillData struct {
	AccountID    string `json:"AccountID"`
	AccountName  string `json:"AccountName"`
	BillingCycle string `json:"BillingCycle"`
	tokenPaging
	Items []InstanceBillItem `json:"Items"`
}
