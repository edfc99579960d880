package bssclient

import (
	"context"
	"fmt"
	"maps"
	"net/url"
)

// BillRows returns how many rows a bill request would walk, from the
// TotalCount of one one-row page: one request, whatever the size. req is
// an AccountBillRequest, an InstanceBillRequest or a SplitItemBillRequest.
// The first-run checks use it to tell an account's size before reading it.
func (c *Client) BillRows(ctx context.Context, req any) (int, error) {
	onePage := url.Values{"MaxResults": {"1"}}
	switch r := req.(type) {
	case AccountBillRequest:
		return totalOf[AccountBillData](ctx, c, ActionQueryAccountBill, r.params, url.Values{"PageNum": {"1"}, "PageSize": {"1"}})
	case InstanceBillRequest:
		return totalOf[InstanceBillData](ctx, c, ActionDescribeInstanceBill, r.params, onePage)
	case SplitItemBillRequest:
		return totalOf[SplitItemBillData](ctx, c, ActionDescribeSplitItemBill, r.params, onePage)
	}
	return 0, fmt.Errorf("bssclient: BillRows of %T", req)
}

// totalOf is the TotalCount of one page of action: the request's
// parameters, checked by params, and page, which asks for one row.
func totalOf[D any, PD interface {
	*D
	totalCount() int
}](ctx context.Context, c *Client, action string, params func() (url.Values, error), page url.Values) (int, error) {
	request := func() (url.Values, error) {
		p, err := params()
		if err == nil {
			maps.Copy(p, page)
		}
		return p, err
	}
	return fetch(ctx, c, action, request, func(d *D) int { return PD(d).totalCount() })
}
