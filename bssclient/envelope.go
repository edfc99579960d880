package bssclient

import "fmt"

// successFlag is an envelope's Success. BSS sends a JSON boolean, but the
// example of DescribeResourceUsageTotal quotes every value, "Success":"true"
// included (https://www.alibabacloud.com/help/en/bss-openapi/latest/describeresourceusagetotal),
// so the strings "true" and "false" are read as the booleans they spell.
// Anything else is refused: a Success nobody can read must not pass for
// either answer.
type successFlag bool

func (f *successFlag) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "true", `"true"`:
		*f = true
	case "false", `"false"`:
		*f = false
	default:
		shown := string(b) // valid JSON: encoding/json checked it first
		if len(b) > maxQuoted {
			shown = Quote(shown)
		}
		return fmt.Errorf("field Success is %s, want true or false (a JSON boolean, or the string \"true\" or \"false\")", shown)
	}
	return nil
}

// Actions this package calls, as BSS spells them.
const (
	ActionQueryAccountBill           = "QueryAccountBill"
	ActionDescribeInstanceBill       = "DescribeInstanceBill"
	ActionDescribeSplitItemBill      = "DescribeSplitItemBill"
	ActionQueryBillToOSSSubscription = "QueryBillToOSSSubscription"
	ActionQueryAccountBalance        = "QueryAccountBalance"
)

// APIVersion is the BssOpenApi version every action is called with.
const APIVersion = "2017-12-14"

// MaxPageSize is the largest PageSize and MaxResults BSS accepts. The client
// always asks for it: fewer requests cost less quota.
const MaxPageSize = 300

// Endpoints of the two sites. The endpoint follows the site the account was
// opened on, not where its resources run.
const (
	EndpointChina         = "business.aliyuncs.com"
	EndpointInternational = "business.ap-southeast-1.aliyuncs.com"
)
