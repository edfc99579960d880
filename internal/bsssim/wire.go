package bsssim

// The simulator's own wire types: what BSS sends, field by field, with the
// JSON names and types of the API pages' response parameters and examples
// (checked against those examples in wire_test.go, testdata/seeds/README.md):
//   - QueryAccountBill: https://www.alibabacloud.com/help/en/boa/latest/api-bssopenapi-2017-12-14-queryaccountbill
//   - DescribeInstanceBill: https://www.alibabacloud.com/help/en/boa/latest/api-query-instance-billing-service
//   - QueryInstanceBill: https://alibabacloud.com/help/doc-detail/100400.htm
//   - DescribeSplitItemBill: https://www.alibabacloud.com/help/en/boa/latest/api-bssopenapi-2017-12-14-describesplititembill
//   - QueryBillToOSSSubscription: https://help.aliyun.com/zh/user-center/developer-reference/api-bssopenapi-2017-12-14-querybilltoosssubscription
//   - QueryAccountBalance: https://help.aliyun.com/zh/user-center/developer-reference/api-bssopenapi-2017-12-14-queryaccountbalance

// The actions the simulator serves, and the API version (BssOpenApi 2017-12-14).
const (
	actionQueryAccountBill           = "QueryAccountBill"
	actionDescribeInstanceBill       = "DescribeInstanceBill"
	actionQueryInstanceBill          = "QueryInstanceBill"
	actionDescribeSplitItemBill      = "DescribeSplitItemBill"
	actionQueryBillToOSSSubscription = "QueryBillToOSSSubscription"
	actionQueryAccountBalance        = "QueryAccountBalance"

	apiVersion = "2017-12-14"
)

// Paging limits: "Maximum value: 300" for PageSize and MaxResults, and
// QueryInstanceBill "no longer queries data beyond the 50,000th row".
const (
	maxPageSize             = 300
	queryInstanceBillRowCap = 50_000
)

// Error codes the simulator answers, as the gateway and BSS spell them
// (https://www.alibabacloud.com/help/en/openapi/user-guide/api-error-diagnosis).
const (
	codeThrottlingUser          = "Throttling.User"
	codeSignatureDoesNotMatch   = "SignatureDoesNotMatch"
	codeInvalidAccessKeyID      = "InvalidAccessKeyId.NotFound"
	codeInvalidTimeStampExpired = "InvalidTimeStamp.Expired"
	codeSignatureNonceUsed      = "SignatureNonceUsed"
	codeSecurityTokenExpired    = "InvalidSecurityToken.Expired"
	codeInvalidParameter        = "InvalidParameter"
	codeMissingParameter        = "MissingParameter"
	codeNoPermission            = "NoPermission"
	codeInternalError           = "InternalError"
	codeServiceUnavailable      = "ServiceUnavailable"
	// codeSplitBillNotEnabled answers DescribeSplitItemBill on an account
	// without Split Bill. INFERRED: the page documents the condition, not
	// the code.
	codeSplitBillNotEnabled = "NotApplicable"
)

// Granularity is MONTHLY or DAILY.
type Granularity string

const (
	Monthly Granularity = "MONTHLY"
	Daily   Granularity = "DAILY"
)

// AccountBillRequest is what the World is asked for QueryAccountBill.
type AccountBillRequest struct {
	BillingCycle     Cycle
	Granularity      Granularity
	BillingDate      Day
	IsGroupByProduct bool
	ProductCode      string
	BillOwnerID      int64 // 0: every owner
}

// InstanceBillRequest is what the World is asked for DescribeInstanceBill
// and QueryInstanceBill.
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

// SplitItemBillRequest is what the World is asked for DescribeSplitItemBill.
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

// AccountBillItem is one row of QueryAccountBill.
type AccountBillItem struct {
	BillingDate      string `json:"BillingDate"`
	BillAccountID    string `json:"BillAccountID"`
	BillAccountName  string `json:"BillAccountName"`
	OwnerID          string `json:"OwnerID"`
	OwnerName        string `json:"OwnerName"`
	ProductCode      string `json:"ProductCode"`
	ProductName      string `json:"ProductName"`
	PipCode          string `json:"PipCode"`
	SubscriptionType string `json:"SubscriptionType"`
	Currency         string `json:"Currency"`
	CostUnit         string `json:"CostUnit"`
	BizType          string `json:"BizType"`
	Amounts
}

// pagedBillData is the Data of one page of a bill action paged by PageNum
// and PageSize, its rows wrapped in Items.Item.
type pagedBillData[T any] struct {
	AccountID    string `json:"AccountID"`
	AccountName  string `json:"AccountName"`
	BillingCycle string `json:"BillingCycle"`
	PageNum      int    `json:"PageNum"`
	PageSize     int    `json:"PageSize"`
	TotalCount   int    `json:"TotalCount"`
	Items        struct {
		Item []T `json:"Item"`
	} `json:"Items"`
}

// tokenBillData is the Data of one page of a bill action paged by NextToken
// and MaxResults, its rows a bare Items array.
type tokenBillData[T any] struct {
	AccountID    string `json:"AccountID"`
	AccountName  string `json:"AccountName"`
	BillingCycle string `json:"BillingCycle"`
	MaxResults   int    `json:"MaxResults"`
	NextToken    string `json:"NextToken"`
	TotalCount   int    `json:"TotalCount"`
	Items        []T    `json:"Items"`
}

// AccountBillData is the Data of one QueryAccountBill page.
type AccountBillData = pagedBillData[AccountBillItem]

// InstanceBillItem is one row of DescribeInstanceBill or QueryInstanceBill.
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
	Item              string `json:"Item"`
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
	Tag               string `json:"Tag"`
	Currency          string `json:"Currency"`
	ServicePeriod     string `json:"ServicePeriod"`
	ServicePeriodUnit string `json:"ServicePeriodUnit"`
	// DeductedByResourcePackage is a string in the API ("NULL", "0.1"),
	// unlike the other amounts.
	DeductedByResourcePackage string `json:"DeductedByResourcePackage"`
	Amounts
}

// InstanceBillData is the Data of one DescribeInstanceBill page.
type InstanceBillData = tokenBillData[InstanceBillItem]

// QueryInstanceBillData is the Data of one QueryInstanceBill page.
type QueryInstanceBillData = pagedBillData[InstanceBillItem]

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
type SplitItemBillData = tokenBillData[SplitItemBillItem]

// BillSubscription is one row of QueryBillToOSSSubscription.
type BillSubscription struct {
	SubscribeBucket   string `json:"SubscribeBucket"`
	BucketOwnerID     int64  `json:"BucketOwnerId"`
	BucketPath        string `json:"BucketPath"`
	SubscribeType     string `json:"SubscribeType"`
	SubscribeLanguage string `json:"SubscribeLanguage"`
	SubscribeTime     string `json:"SubscribeTime"` // "YYYY-MM-DD hh:mm:ss"
	RowLimitPerFile   int64  `json:"RowLimitPerFile"`
}

// BillSubscriptionData is the Data of QueryBillToOSSSubscription.
type BillSubscriptionData struct {
	AccountID   string `json:"AccountID"`
	AccountName string `json:"AccountName"`
	Items       struct {
		Item []BillSubscription `json:"Item"`
	} `json:"Items"`
}

// AccountBalance is the account balance the World reports.
type AccountBalance struct {
	AvailableAmount, AvailableCashAmount, CreditAmount, MybankCreditAmount, QuotaLimit Money
	Currency                                                                           string
}

// balanceData is QueryAccountBalance's Data: unlike bills, its amounts are
// JSON strings ("10000.00").
type balanceData struct {
	AvailableAmount     string `json:"AvailableAmount"`
	AvailableCashAmount string `json:"AvailableCashAmount"`
	CreditAmount        string `json:"CreditAmount"`
	MybankCreditAmount  string `json:"MybankCreditAmount"`
	Currency            string `json:"Currency"`
	QuotaLimit          string `json:"QuotaLimit"`
}
