package bssclient

import "encoding/json"

// Envelope is the JSON body of a BSS answer with Data left undecoded (nil
// when absent or null).
type Envelope = response[json.RawMessage]

// Actions this package calls, as BSS spells them.
const (
	ActionQueryAccountBill           = "QueryAccountBill"
	ActionDescribeInstanceBill       = "DescribeInstanceBill"
	ActionQueryInstanceBill          = "QueryInstanceBill" // not called: see InstanceBillItem
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
