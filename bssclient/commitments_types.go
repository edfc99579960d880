package bssclient

// Wire types of the commitment actions (commitments.go). Field names and
// JSON types follow the official Go SDK's response structs
// (github.com/alibabacloud-go/bssopenapi-20171214, client/*_response_body_model.go).
// Amounts, quantities and ratios decode as Money: exact, and tolerant of
// numbers written as strings, which the SDKs also accept and one API page's
// example does (DescribeResourceUsageTotal quotes every number).

// ResourcePackageInstance is one resource plan. TotalAmount and
// RemainingAmount are in their *Unit ("GB", …).
type ResourcePackageInstance struct {
	InstanceID          string  `json:"InstanceId"`
	Region              string  `json:"Region"`
	PackageType         string  `json:"PackageType"`
	CommodityCode       string  `json:"CommodityCode"`
	DeductType          string  `json:"DeductType"`
	Status              string  `json:"Status"` // Available or Expired
	Remark              string  `json:"Remark"`
	EffectiveTime       ISOTime `json:"EffectiveTime"`
	ExpiryTime          ISOTime `json:"ExpiryTime"`
	TotalAmount         Money   `json:"TotalAmount"`
	TotalAmountUnit     string  `json:"TotalAmountUnit"`
	RemainingAmount     Money   `json:"RemainingAmount"`
	RemainingAmountUnit string  `json:"RemainingAmountUnit"`
	ApplicableProducts  struct {
		Product []string `json:"Product"`
	} `json:"ApplicableProducts"`
}

// Resource-plan statuses.
const (
	ResourcePackageAvailable = "Available"
	ResourcePackageExpired   = "Expired"
)

// flexPaging is the paging of the commitment walks' Data. It is FlexInt:
// QueryResourcePackageInstances writes these fields as strings.
type flexPaging struct {
	PageNum    FlexInt `json:"PageNum"`
	PageSize   FlexInt `json:"PageSize"`
	TotalCount FlexInt `json:"TotalCount"`
}

func (p *flexPaging) totalCount() int { return int(p.TotalCount) }

// ResourcePackageData is the Data of QueryResourcePackageInstances. Its
// paging fields are strings; the same values also come as integers outside
// Data (Page, PageSize, Total), which the walk does not need.
type ResourcePackageData struct {
	HostID string `json:"HostId"`
	flexPaging
	Instances struct {
		Instance []ResourcePackageInstance `json:"Instance"`
	} `json:"Instances"`
}

func (d *ResourcePackageData) rows() []ResourcePackageInstance { return d.Instances.Instance }

// SavingsPlanInstance is one savings plan.
type SavingsPlanInstance struct {
	InstanceID          string  `json:"InstanceId"`
	SavingsType         string  `json:"SavingsType"` // universal or ecs; compare case-insensitively
	InstanceFamily      string  `json:"InstanceFamily"`
	Region              string  `json:"Region"`
	Status              string  `json:"Status"` // NORMAL, LIMIT (overdue) or RELEASE
	AllocationStatus    string  `json:"AllocationStatus"`
	PayMode             string  `json:"PayMode"` // total, half or zero (upfront)
	Currency            string  `json:"Currency"`
	PoolValue           Money   `json:"PoolValue"` // the commitment per deduction cycle
	PrepayFee           Money   `json:"PrepayFee"`
	TotalSave           Money   `json:"TotalSave"`
	Utilization         Money   `json:"Utilization"`
	CurrentPoolValue    Money   `json:"CurrentPoolValue"`
	RestPoolValue       Money   `json:"RestPoolValue"`
	LastBillTotalUsage  Money   `json:"LastBillTotalUsage"`
	LastBillUtilization Money   `json:"LastBillUtilization"`
	Cycle               string  `json:"Cycle"`
	DeductCycleType     string  `json:"DeductCycleType"`
	CommodityCode       string  `json:"CommodityCode"`
	StartTime           string  `json:"StartTime"` // "yyyy-MM-dd HH:mm:ss"
	EndTime             string  `json:"EndTime"`
	StartTimestamp      FlexInt `json:"StartTimestamp"` // epoch milliseconds (INFERRED from the example's 13 digits)
	EndTimestamp        FlexInt `json:"EndTimestamp"`
	Tags                []struct {
		Key   string `json:"Key"`
		Value string `json:"Value"`
	} `json:"Tags"`
}

// SavingsPlanTimestampUnit is the unit of StartTimestamp and EndTimestamp.
// INFERRED from the example 1663135741039 (13 digits: milliseconds).
const SavingsPlanTimestampUnit = 1_000_000 // nanoseconds per unit

// SavingsPlansInstanceData is the Data of QuerySavingsPlansInstance.
type SavingsPlansInstanceData struct {
	flexPaging
	Items []SavingsPlanInstance `json:"Items"`
}

func (d *SavingsPlansInstanceData) rows() []SavingsPlanInstance { return d.Items }

// SavingsPlansUsageTotal is the Data of DescribeSavingsPlansUsageTotal.
// Percentages are fractions 0–1 (every example is; UNCONFIRMED by text).
type SavingsPlansUsageTotal struct {
	PeriodCoverage []struct {
		Period     string `json:"Period"` // yyyyMMddHH
		Percentage Money  `json:"Percentage"`
	} `json:"PeriodCoverage"`
	TotalUsage struct {
		PoolValue       Money `json:"PoolValue"`
		PostpaidCost    Money `json:"PostpaidCost"`
		SavedCost       Money `json:"SavedCost"`
		UsagePercentage Money `json:"UsagePercentage"`
	} `json:"TotalUsage"`
}

// SavingsPlansCoverageTotal is the Data of DescribeSavingsPlansCoverageTotal.
type SavingsPlansCoverageTotal struct {
	PeriodCoverage []struct {
		Period     string `json:"Period"`
		Percentage Money  `json:"Percentage"`
	} `json:"PeriodCoverage"`
	TotalCoverage struct {
		CoveragePercentage Money `json:"CoveragePercentage"`
		DeductAmount       Money `json:"DeductAmount"`
	} `json:"TotalCoverage"`
}

// ResourceUsageTotal is the Data of DescribeResourceUsageTotal.
type ResourceUsageTotal struct {
	PeriodCoverage []struct {
		Period          string `json:"Period"`
		UsagePercentage Money  `json:"UsagePercentage"`
	} `json:"PeriodCoverage"`
	TotalUsage struct {
		PostpaidCost       Money `json:"PostpaidCost"`
		PotentialSavedCost Money `json:"PotentialSavedCost"`
		ReservationCost    Money `json:"ReservationCost"`
		SavedCost          Money `json:"SavedCost"`
		UsagePercentage    Money `json:"UsagePercentage"`
	} `json:"TotalUsage"`
}

// ResourceCoverageTotal is the Data of DescribeResourceCoverageTotal.
type ResourceCoverageTotal struct {
	PeriodCoverage []struct {
		Period             string `json:"Period"`
		CoveragePercentage Money  `json:"CoveragePercentage"`
	} `json:"PeriodCoverage"`
	TotalCoverage struct {
		CoveragePercentage Money  `json:"CoveragePercentage"`
		DeductQuantity     Money  `json:"DeductQuantity"`
		TotalQuantity      Money  `json:"TotalQuantity"`
		CapacityUnit       string `json:"CapacityUnit"`
	} `json:"TotalCoverage"`
}

// AvailableInstance is one instance of QueryAvailableInstances.
type AvailableInstance struct {
	InstanceID          string  `json:"InstanceID"` // "ID", unlike resource plans' "Id"
	ProductCode         string  `json:"ProductCode"`
	ProductType         string  `json:"ProductType"`
	Region              string  `json:"Region"`
	SubscriptionType    string  `json:"SubscriptionType"`
	Status              string  `json:"Status"`
	SubStatus           string  `json:"SubStatus"`
	RenewStatus         string  `json:"RenewStatus"`
	RenewalDuration     FlexInt `json:"RenewalDuration"`
	RenewalDurationUnit string  `json:"RenewalDurationUnit"`
	CreateTime          ISOTime `json:"CreateTime"`
	EndTime             ISOTime `json:"EndTime"`
	ExpectedReleaseTime ISOTime `json:"ExpectedReleaseTime"`
	ReleaseTime         ISOTime `json:"ReleaseTime"`
	StopTime            ISOTime `json:"StopTime"`
	OwnerID             IDText  `json:"OwnerId"`
	Seller              string  `json:"Seller"`
	SellerID            FlexInt `json:"SellerId"`
}

// AvailableInstancesData is the Data of QueryAvailableInstances.
type AvailableInstancesData struct {
	flexPaging
	InstanceList []AvailableInstance `json:"InstanceList"`
}

func (d *AvailableInstancesData) rows() []AvailableInstance { return d.InstanceList }

// Voucher and prepaid-card statuses.
const (
	CreditAvailable = "Available"
	CreditExpired   = "Expired"
	CreditCancelled = "Cancelled"
)

// Credit is what a voucher and a prepaid card both are: a balance that
// pays bills from one time until another. Its amounts carry no currency:
// the account's, INFERRED.
type Credit struct {
	Status              string  `json:"Status"`
	NominalValue        Money   `json:"NominalValue"`
	Balance             Money   `json:"Balance"`
	GrantedTime         ISOTime `json:"GrantedTime"`
	EffectiveTime       ISOTime `json:"EffectiveTime"`
	ExpiryTime          ISOTime `json:"ExpiryTime"`
	ApplicableProducts  string  `json:"ApplicableProducts"`
	ApplicableScenarios string  `json:"ApplicableScenarios"`
}

// CashCoupon is one voucher.
type CashCoupon struct {
	CashCouponID FlexInt `json:"CashCouponId"`
	CashCouponNo string  `json:"CashCouponNo"`
	Credit
	Description string `json:"Description"`
}

// CashCouponsData is the Data of QueryCashCoupons: {"CashCoupon":[…]}.
type CashCouponsData struct {
	CashCoupon []CashCoupon `json:"CashCoupon"`
}

// PrepaidCard is one prepaid card.
type PrepaidCard struct {
	PrepaidCardID FlexInt `json:"PrepaidCardId"` // once documented as a string
	PrepaidCardNo string  `json:"PrepaidCardNo"`
	Credit
}

// PrepaidCardsData is the Data of QueryPrepaidCards: {"PrepaidCard":[…]}.
type PrepaidCardsData struct {
	PrepaidCard []PrepaidCard `json:"PrepaidCard"`
}
