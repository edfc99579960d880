package bssclient

import (
	"context"
	"fmt"
	"strconv"
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
		p.Set("PageSize", strconv.Itoa(1))
		d, err := call[AccountBillData](ctx, c, ActionQueryAccountBill, p)
		if err != nil {
			return 0, err
		}
		return d.TotalCount, nil
	case InstanceBillRequest:
		p, err := r.params()
		if err != nil {
			return 0, err
		}
		p.Set("MaxResults", "1")
		d, err := call[InstanceBillData](ctx, c, ActionDescribeInstanceBill, p)
		if err != nil {
			return 0, err
		}
		return d.TotalCount, nil
	case SplitItemBillRequest:
		p, err := r.params()
		if err != nil {
			return 0, err
		}
		p.Set("MaxResults", "1")
		d, err := call[SplitItemBillData](ctx, c, ActionDescribeSplitItemBill, p)
		if err != nil {
			return 0, err
		}
		return d.TotalCount, nil
	}
	return 0, fmt.Errorf("bssclient: BillRows of %T", req)
}
