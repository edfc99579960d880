package bssclient

import (
	"context"
	"fmt"
	"net/url"
)

// BillRows returns how many rows a bill request would walk, from the
// TotalCount of one one-row page: one request, whatever the size. req is
// an AccountBillRequest, an InstanceBillRequest or a SplitItemBillRequest.
// The first-run checks use it to tell an account's size before reading it.
func (c *Client) BillRows(ctx context.Context, req any) (int, error) {
	switch r := req.(type) {
	case AccountBillRequest:
		p, err := r.params()
		if err != nil {
			return 0, err
		}
		p.Set("PageNum", "1")
		p.Set("PageSize", "1")
		return totalOf[AccountBillData](ctx, c, ActionQueryAccountBill, p)
	case InstanceBillRequest:
		p, err := r.params()
		if err != nil {
			return 0, err
		}
		p.Set("MaxResults", "1")
		return totalOf[InstanceBillData](ctx, c, ActionDescribeInstanceBill, p)
	case SplitItemBillRequest:
		p, err := r.params()
		if err != nil {
			return 0, err
		}
		p.Set("MaxResults", "1")
		return totalOf[SplitItemBillData](ctx, c, ActionDescribeSplitItemBill, p)
	}
	return 0, fmt.Errorf("bssclient: BillRows of %T", req)
}

// totalOf is the TotalCount of one page of action.
func totalOf[D any, PD interface {
	*D
	totalCount() int
}](ctx context.Context, c *Client, action string, p url.Values) (int, error) {
	d, err := call[D](ctx, c, action, p)
	if err != nil {
		return 0, err
	}
	return PD(d).totalCount(), nil
}
