package bssclient

import (
	"context"
	"fmt"
	"net/url"
	"strings"
)

// Payer is whose bills a Client reads: the BSS site and the payer account.
// Anything saved from those bills (the exporter's state files, a backfill's
// journal) belongs to one Payer and must not be read for another.
type Payer struct {
	// Site is "china" or "international" for BSS's documented endpoints,
	// and the endpoint's host for any other (a proxy, the simulator): a
	// port or scheme change there is the same service.
	Site string `json:"site"`
	// AccountID is the payer account's ID as BSS reports it: the AccountID
	// of a QueryAccountBill answer
	// (https://www.alibabacloud.com/help/en/boa/latest/api-bssopenapi-2017-12-14-queryaccountbill).
	AccountID string `json:"account_id"`
}

// siteOf names the site of an endpoint, as Payer.Site does.
func siteOf(u *url.URL) string {
	switch host := strings.ToLower(u.Hostname()); host {
	case EndpointChina:
		return "china"
	case EndpointInternational:
		return "international"
	default:
		return host
	}
}

// Payer returns whose bills c reads. The account ID costs one request, the
// first time it is asked for: a one-row page of cycle's QueryAccountBill
// (the caller's current cycle, which BSS always answers for; the host
// clock's may not be the billing clock's). It is kept after that, as it
// cannot change without a new Client. Concurrent callers share that one
// request.
func (c *Client) Payer(ctx context.Context, cycle Cycle) (Payer, error) {
	c.payerMu.Lock()
	defer c.payerMu.Unlock()
	if c.payer.AccountID != "" {
		return c.payer, nil
	}
	// One row: the answer's AccountID is all that is wanted.
	params := url.Values{"BillingCycle": {cycle.String()}, "Granularity": {string(Monthly)},
		"PageNum": {"1"}, "PageSize": {"1"}}
	data, err := call[AccountBillData](ctx, c, ActionQueryAccountBill, params)
	if err != nil {
		return Payer{}, fmt.Errorf("learning the payer account: %w", err)
	}
	id := strings.TrimSpace(data.AccountID)
	switch {
	case id == "":
		return Payer{}, &ResponseError{Action: ActionQueryAccountBill, Code: CodeInvalidResponse,
			Detail: "Data.AccountID is empty: the payer account cannot be told, so nothing read can be saved for it"}
	case strings.Contains(id, "*"):
		return Payer{}, &ResponseError{Action: ActionQueryAccountBill, Code: CodeInvalidResponse,
			Detail: "Data.AccountID is masked: the payer account cannot be told, so nothing read can be saved for it"}
	}
	c.payer = Payer{Site: siteOf(c.baseURL), AccountID: id}
	return c.payer, nil
}
