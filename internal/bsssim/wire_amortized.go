package bsssim

// Wire types of the amortized-cost actions, written from the API pages
// (https://www.alibabacloud.com/help/en/user-center/developer-reference/api-bssopenapi-2017-12-14-describeproductamortizedcostbyamortizationperiod,
// https://www.alibabacloud.com/help/en/user-center/developer-reference/api-bssopenapi-2017-12-14-describeinstanceamortizedcostbyamortizationperiod)
// and the official SDK's response models, not from the client. Only the
// payable (pretax) amounts are modelled: the other amount families of a
// row (vouchers, discounts, expenditure) are left out, as the pages allow
// fields to be absent.

const (
	actionDescribeProductAmortizedCost  = "DescribeProductAmortizedCostByAmortizationPeriod"
	actionDescribeInstanceAmortizedCost = "DescribeInstanceAmortizedCostByAmortizationPeriod"
)

// AmortizedActions are the amortized-cost actions the simulator serves,
// both refused while the world's Amortized Cost is off
// (World.SetAmortizedCostEnabled).
var AmortizedActions = []string{actionDescribeProductAmortizedCost, actionDescribeInstanceAmortizedCost}

// codeAmortizedCostNotEnabled answers an amortized-cost action on an
// account that has not enabled Amortized Cost. INFERRED: the pages list no
// error code; NotApplicable is what BSS answers for other features an
// account cannot use.
const codeAmortizedCostNotEnabled = "NotApplicable"

// AmortizedCostItem is one row of either action: one consume period of a
// product (or of an instance, with InstanceID and Region) as amortized into
// the month AmortizationPeriod. PreviouslyAmortized + CurrentAmortization +
// RemainingAmortization = PretaxAmount, exactly.
type AmortizedCostItem struct {
	AmortizationPeriod                string `json:"AmortizationPeriod"` // YYYYMM
	ConsumePeriod                     string `json:"ConsumePeriod"`      // YYYYMM
	AmortizationStatus                string `json:"AmortizationStatus"`
	BillAccountID                     int64  `json:"BillAccountID"`
	BillAccountName                   string `json:"BillAccountName"`
	BillOwnerID                       int64  `json:"BillOwnerID"`
	BillOwnerName                     string `json:"BillOwnerName"`
	ProductCode                       string `json:"ProductCode"`
	SubscriptionType                  string `json:"SubscriptionType"`
	InstanceID                        string `json:"InstanceID,omitempty"`
	Region                            string `json:"Region,omitempty"`
	PretaxAmount                      Money  `json:"PretaxAmount"`
	PreviouslyAmortizedPretaxAmount   Money  `json:"PreviouslyAmortizedPretaxAmount"`
	CurrentAmortizationPretaxAmount   Money  `json:"CurrentAmortizationPretaxAmount"`
	RemainingAmortizationPretaxAmount Money  `json:"RemainingAmortizationPretaxAmount"`
}

// AmortizedCostData is the Data of one page of either action.
type AmortizedCostData struct {
	AccountID   string              `json:"AccountID"`
	AccountName string              `json:"AccountName"`
	MaxResults  int                 `json:"MaxResults"`
	NextToken   string              `json:"NextToken"`
	TotalCount  int                 `json:"TotalCount"`
	Items       []AmortizedCostItem `json:"Items"`
}
