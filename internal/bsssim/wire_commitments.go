package bsssim

// Wire types of the commitment actions, field by field as the official Go
// SDK's response structs declare them (github.com/alibabacloud-go/bssopenapi-20171214,
// client/<action>_response_body_model.go): strings stay strings (amounts of
// resource plans, savings plans, vouchers and cards are decimal text),
// numbers are JSON numbers, and wrapped arrays keep their wrappers.
//   - QueryResourcePackageInstances: https://www.alibabacloud.com/help/en/user-center/developer-reference/api-bssopenapi-2017-12-14-queryresourcepackageinstances
//   - QuerySavingsPlansInstance: https://www.alibabacloud.com/help/en/user-center/developer-reference/api-bssopenapi-2017-12-14-querysavingsplansinstance
//   - DescribeSavingsPlansUsageTotal: https://www.alibabacloud.com/help/en/user-center/developer-reference/api-bssopenapi-2017-12-14-describesavingsplansusagetotal
//   - DescribeSavingsPlansCoverageTotal: https://www.alibabacloud.com/help/en/user-center/developer-reference/api-bssopenapi-2017-12-14-describesavingsplanscoveragetotal
//   - DescribeResourceUsageTotal: https://alibabacloud.com/help/en/boa/latest/api-bssopenapi-2017-12-14-describeresourceusagetotal
//   - DescribeResourceCoverageTotal: https://www.alibabacloud.com/help/en/user-center/developer-reference/api-bssopenapi-2017-12-14-describeresourcecoveragetotal
//   - QueryAvailableInstances: https://www.alibabacloud.com/help/en/boa/latest/api-bssopenapi-2017-12-14-queryavailableinstances
//   - QueryCashCoupons: https://www.alibabacloud.com/help/en/user-center/developer-reference/api-bssopenapi-2017-12-14-querycashcoupons
//   - QueryPrepaidCards: https://www.alibabacloud.com/help/en/user-center/developer-reference/api-queryprepaidcards

const (
	actionQueryResourcePackageInstances     = "QueryResourcePackageInstances"
	actionQuerySavingsPlansInstance         = "QuerySavingsPlansInstance"
	actionDescribeSavingsPlansUsageTotal    = "DescribeSavingsPlansUsageTotal"
	actionDescribeSavingsPlansCoverageTotal = "DescribeSavingsPlansCoverageTotal"
	actionDescribeResourceUsageTotal        = "DescribeResourceUsageTotal"
	actionDescribeResourceCoverageTotal     = "DescribeResourceCoverageTotal"
	actionQueryAvailableInstances           = "QueryAvailableInstances"
	actionQueryCashCoupons                  = "QueryCashCoupons"
	actionQueryPrepaidCards                 = "QueryPrepaidCards"
)

// CommitmentActions are the commitment actions the simulator serves, each of
// which a World can refuse as an account that cannot use it would
// (World.SetCommitmentAPIAvailable).
var CommitmentActions = []string{
	actionQueryResourcePackageInstances,
	actionQuerySavingsPlansInstance,
	actionDescribeSavingsPlansUsageTotal,
	actionDescribeSavingsPlansCoverageTotal,
	actionDescribeResourceUsageTotal,
	actionDescribeResourceCoverageTotal,
	actionQueryAvailableInstances,
	actionQueryCashCoupons,
	actionQueryPrepaidCards,
}

// codeCommitmentNotApplicable answers a commitment action on an account that
// cannot use it. NotApplicable is on the legacy error lists of
// QueryResourcePackageInstances and QueryCashCoupons; for the savings-plan
// actions the code is INFERRED.
const codeCommitmentNotApplicable = "NotApplicable"

// Time layouts: ISO 8601 UTC for plans, instances and credits; zone-less for
// the analysis actions (read in billingZone: INFERRED).
const (
	isoLayout      = "2006-01-02T15:04:05Z"
	analysisLayout = "2006-01-02 15:04:05"
	periodLayout   = "2006010215" // PeriodCoverage[].Period, yyyyMMddHH
)

// ResourcePackageInstance is one resource plan. Amounts are strings with
// three decimals ("40.000").
type ResourcePackageInstance struct {
	InstanceID          string `json:"InstanceId"`
	Region              string `json:"Region"`
	PackageType         string `json:"PackageType"`
	CommodityCode       string `json:"CommodityCode"`
	DeductType          string `json:"DeductType"`
	Status              string `json:"Status"`
	Remark              string `json:"Remark"`
	EffectiveTime       string `json:"EffectiveTime"`
	ExpiryTime          string `json:"ExpiryTime"`
	TotalAmount         string `json:"TotalAmount"`
	TotalAmountUnit     string `json:"TotalAmountUnit"`
	RemainingAmount     string `json:"RemainingAmount"`
	RemainingAmountUnit string `json:"RemainingAmountUnit"`
	ApplicableProducts  struct {
		Product []string `json:"Product"`
	} `json:"ApplicableProducts"`
}

// resourcePackageData pages with strings; the same values as integers sit
// outside Data (Page, PageSize, Total), which this simulator does not send.
type resourcePackageData struct {
	HostID     string `json:"HostId"`
	PageNum    string `json:"PageNum"`
	PageSize   string `json:"PageSize"`
	TotalCount string `json:"TotalCount"`
	Instances  struct {
		Instance []ResourcePackageInstance `json:"Instance"`
	} `json:"Instances"`
}

// SavingsPlanTag is one tag of a savings plan.
type SavingsPlanTag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// SavingsPlanInstance is one savings plan of QuerySavingsPlansInstance.
type SavingsPlanInstance struct {
	InstanceID          string           `json:"InstanceId"`
	SavingsType         string           `json:"SavingsType"`
	InstanceFamily      string           `json:"InstanceFamily"`
	Region              string           `json:"Region"`
	Status              string           `json:"Status"`
	AllocationStatus    string           `json:"AllocationStatus"`
	PayMode             string           `json:"PayMode"`
	Currency            string           `json:"Currency"`
	PoolValue           string           `json:"PoolValue"`
	PrepayFee           string           `json:"PrepayFee"`
	TotalSave           string           `json:"TotalSave"`
	Utilization         string           `json:"Utilization"`
	CurrentPoolValue    string           `json:"CurrentPoolValue"`
	RestPoolValue       string           `json:"RestPoolValue"`
	LastBillTotalUsage  string           `json:"LastBillTotalUsage"`
	LastBillUtilization string           `json:"LastBillUtilization"`
	Cycle               string           `json:"Cycle"`
	DeductCycleType     string           `json:"DeductCycleType"`
	CommodityCode       string           `json:"CommodityCode"`
	StartTime           string           `json:"StartTime"`
	EndTime             string           `json:"EndTime"`
	StartTimestamp      int64            `json:"StartTimestamp"` // epoch ms
	EndTimestamp        int64            `json:"EndTimestamp"`
	Tags                []SavingsPlanTag `json:"Tags"`
}

type savingsPlansInstanceData struct {
	PageNum    int                   `json:"PageNum"`
	PageSize   int                   `json:"PageSize"`
	TotalCount int                   `json:"TotalCount"`
	Items      []SavingsPlanInstance `json:"Items"`
}

// PeriodPercentage is one period of a savings-plan total.
type PeriodPercentage struct {
	Period     string `json:"Period"`
	Percentage Money  `json:"Percentage"`
}

// SavingsPlansUsageTotal is the Data of DescribeSavingsPlansUsageTotal.
type SavingsPlansUsageTotal struct {
	PeriodCoverage []PeriodPercentage `json:"PeriodCoverage"`
	TotalUsage     struct {
		PoolValue       Money `json:"PoolValue"`
		PostpaidCost    Money `json:"PostpaidCost"`
		SavedCost       Money `json:"SavedCost"`
		UsagePercentage Money `json:"UsagePercentage"`
	} `json:"TotalUsage"`
}

// SavingsPlansCoverageTotal is the Data of DescribeSavingsPlansCoverageTotal.
type SavingsPlansCoverageTotal struct {
	PeriodCoverage []PeriodPercentage `json:"PeriodCoverage"`
	TotalCoverage  struct {
		CoveragePercentage Money `json:"CoveragePercentage"`
		DeductAmount       Money `json:"DeductAmount"`
	} `json:"TotalCoverage"`
}

// PeriodUsage is one period of an RI/SCU usage total.
type PeriodUsage struct {
	Period          string `json:"Period"`
	UsagePercentage Money  `json:"UsagePercentage"`
}

// ResourceUsageTotal is the Data of DescribeResourceUsageTotal.
type ResourceUsageTotal struct {
	PeriodCoverage []PeriodUsage `json:"PeriodCoverage"`
	TotalUsage     struct {
		PostpaidCost       Money `json:"PostpaidCost"`
		PotentialSavedCost Money `json:"PotentialSavedCost"`
		ReservationCost    Money `json:"ReservationCost"`
		SavedCost          Money `json:"SavedCost"`
		UsagePercentage    Money `json:"UsagePercentage"`
	} `json:"TotalUsage"`
}

// PeriodCoverage is one period of an RI/SCU coverage total.
type PeriodCoverage struct {
	Period             string `json:"Period"`
	CoveragePercentage Money  `json:"CoveragePercentage"`
}

// ResourceCoverageTotal is the Data of DescribeResourceCoverageTotal.
type ResourceCoverageTotal struct {
	PeriodCoverage []PeriodCoverage `json:"PeriodCoverage"`
	TotalCoverage  struct {
		CoveragePercentage Money  `json:"CoveragePercentage"`
		DeductQuantity     Money  `json:"DeductQuantity"`
		TotalQuantity      Money  `json:"TotalQuantity"`
		CapacityUnit       string `json:"CapacityUnit"`
	} `json:"TotalCoverage"`
}

// AvailableInstance is one instance of QueryAvailableInstances. Times the
// instance does not have are empty strings (INFERRED).
type AvailableInstance struct {
	InstanceID          string `json:"InstanceID"`
	ProductCode         string `json:"ProductCode"`
	ProductType         string `json:"ProductType"`
	Region              string `json:"Region"`
	SubscriptionType    string `json:"SubscriptionType"`
	Status              string `json:"Status"`
	SubStatus           string `json:"SubStatus"`
	RenewStatus         string `json:"RenewStatus"`
	RenewalDuration     int    `json:"RenewalDuration"`
	RenewalDurationUnit string `json:"RenewalDurationUnit"`
	CreateTime          string `json:"CreateTime"`
	EndTime             string `json:"EndTime"`
	ExpectedReleaseTime string `json:"ExpectedReleaseTime"`
	ReleaseTime         string `json:"ReleaseTime"`
	StopTime            string `json:"StopTime"`
	OwnerID             int64  `json:"OwnerId"`
	Seller              string `json:"Seller"`
	SellerID            int64  `json:"SellerId"`
}

type availableInstancesData struct {
	PageNum      int                 `json:"PageNum"`
	PageSize     int                 `json:"PageSize"`
	TotalCount   int                 `json:"TotalCount"`
	InstanceList []AvailableInstance `json:"InstanceList"`
}

// creditFields are the fields a voucher and a prepaid card share, in the
// place both declare them: after the ID and number. Amounts are strings
// ("100.00").
type creditFields struct {
	Status              string `json:"Status"`
	NominalValue        string `json:"NominalValue"`
	Balance             string `json:"Balance"`
	GrantedTime         string `json:"GrantedTime"`
	EffectiveTime       string `json:"EffectiveTime"`
	ExpiryTime          string `json:"ExpiryTime"`
	ApplicableProducts  string `json:"ApplicableProducts"`
	ApplicableScenarios string `json:"ApplicableScenarios"`
}

// CashCoupon is one voucher.
type CashCoupon struct {
	CashCouponID int64  `json:"CashCouponId"`
	CashCouponNo string `json:"CashCouponNo"`
	creditFields
	Description string `json:"Description"`
}

type cashCouponsData struct {
	CashCoupon []CashCoupon `json:"CashCoupon"`
}

// PrepaidCard is one prepaid card.
type PrepaidCard struct {
	PrepaidCardID int64  `json:"PrepaidCardId"`
	PrepaidCardNo string `json:"PrepaidCardNo"`
	creditFields
}

type prepaidCardsData struct {
	PrepaidCard []PrepaidCard `json:"PrepaidCard"`
}
