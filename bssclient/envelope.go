package bssclient

import "encoding/json"

// Envelope is the JSON body of every BSS answer. Success answers carry Data;
// error answers (HTTP 4xx/5xx, or HTTP 200 with Success:false) carry Code and
// Message, and from the gateway HostId and Recommend.
type Envelope struct {
	RequestID string          `json:"RequestId"`
	HostID    string          `json:"HostId,omitempty"`
	Code      string          `json:"Code"`
	Message   string          `json:"Message"`
	Recommend string          `json:"Recommend,omitempty"`
	Success   *bool           `json:"Success,omitempty"`
	Data      json.RawMessage `json:"Data,omitempty"`
}

// Actions this package calls, as BSS spells them.
const (
	ActionQueryAccountBill           = "QueryAccountBill"
	ActionDescribeInstanceBill       = "DescribeInstanceBill"
	ActionQueryInstanceBill          = "QueryInstanceBill"
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
