package bssclient

import (
	"context"
	"fmt"
	"iter"
	"maps"
	"net/url"
	"strconv"
)

// BSS pages its bills in two ways (reference §2.2): PageNum/PageSize with a
// TotalCount (QueryAccountBill, QueryInstanceBill), and NextToken/MaxResults
// where an empty NextToken ends the walk (DescribeInstanceBill,
// DescribeSplitItemBill). Both walks always ask for MaxPageSize rows: fewer
// requests cost less quota. Neither trusts the server blindly: a walk that
// contradicts itself fails with a *ResponseError rather than yield a sum that
// silently misses or repeats rows. The caller restarts such a walk.

// pageNumPage adapts one page-number API's Data type to the walk.
type pageNumPage[T any] interface {
	rows() *[]T
	totalCount() int
}

func (d *AccountBillData) rows() *[]AccountBillItem        { return &d.Items.Item }
func (d *AccountBillData) totalCount() int                 { return d.TotalCount }
func (d *QueryInstanceBillData) rows() *[]InstanceBillItem { return &d.Items.Item }
func (d *QueryInstanceBillData) totalCount() int           { return d.TotalCount }

// tokenPage adapts one NextToken API's Data type to the walk.
type tokenPage[T any] interface {
	rows() *[]T
	totalCount() int
	nextToken() string
}

func (d *InstanceBillData) rows() *[]InstanceBillItem   { return &d.Items }
func (d *InstanceBillData) totalCount() int             { return d.TotalCount }
func (d *InstanceBillData) nextToken() string           { return d.NextToken }
func (d *SplitItemBillData) rows() *[]SplitItemBillItem { return &d.Items }
func (d *SplitItemBillData) totalCount() int            { return d.TotalCount }
func (d *SplitItemBillData) nextToken() string          { return d.NextToken }

// walkPageNum walks a PageNum/PageSize API. rowCap > 0 refuses a result
// larger than the API can serve (QueryInstanceBill stops at 50,000 rows)
// before any row is yielded, so a caller never sums a truncated bill.
//
// The yielded slice is reused by the next page: it is valid only until the
// loop body returns.
func walkPageNum[T any, D any, PD interface {
	*D
	pageNumPage[T]
}](ctx context.Context, c *Client, action string, request url.Values, rowCap int) iter.Seq2[[]T, error] {
	return func(yield func([]T, error) bool) {
		params := maps.Clone(request) // each range over the iterator is its own walk
		if params == nil {
			params = url.Values{}
		}
		var buf []T
		firstTotal := -1
		for pageNum := 1; ; pageNum++ {
			params.Set("PageNum", strconv.Itoa(pageNum))
			params.Set("PageSize", strconv.Itoa(MaxPageSize))
			var data D
			page := PD(&data)
			*page.rows() = recycle(buf)
			if err := c.Call(ctx, action, params, page); err != nil {
				yield(nil, err)
				return
			}
			rows, total := *page.rows(), page.totalCount()
			buf = rows
			if err := checkTotal(action, pageNum, total, &firstTotal); err != nil {
				yield(nil, err)
				return
			}
			if rowCap > 0 && total > rowCap {
				yield(nil, &ResponseError{Action: action, Code: CodeRowCapExceeded, Detail: fmt.Sprintf(
					"TotalCount %d exceeds the %d-row cap of %s; use DescribeInstanceBill", total, rowCap, action)})
				return
			}
			// Every page but the last is full; the last holds the remainder.
			before := (pageNum - 1) * MaxPageSize
			want := min(MaxPageSize, max(total-before, 0))
			switch {
			case len(rows) == 0 && want > 0:
				yield(nil, &ResponseError{Action: action, Code: CodeEmptyPage, Detail: fmt.Sprintf(
					"page %d has no rows, but TotalCount %d says %d rows follow row %d", pageNum, total, total-before, before)})
				return
			case len(rows) != want:
				yield(nil, &ResponseError{Action: action, Code: CodeTotalCountDrift, Detail: fmt.Sprintf(
					"page %d of size %d has %d rows, but TotalCount %d implies %d", pageNum, MaxPageSize, len(rows), total, want)})
				return
			}
			if len(rows) > 0 && !yield(rows, nil) {
				return
			}
			if pageNum*MaxPageSize >= total {
				return
			}
		}
	}
}

// walkToken walks a NextToken/MaxResults API until NextToken comes back
// empty. A token seen before would loop forever, so it fails the walk.
//
// The yielded slice is reused by the next page: it is valid only until the
// loop body returns.
func walkToken[T any, D any, PD interface {
	*D
	tokenPage[T]
}](ctx context.Context, c *Client, action string, request url.Values) iter.Seq2[[]T, error] {
	return func(yield func([]T, error) bool) {
		params := maps.Clone(request) // each range over the iterator is its own walk
		if params == nil {
			params = url.Values{}
		}
		var buf []T
		firstTotal := -1
		seen := map[string]bool{}
		token := ""
		for pageNum := 1; ; pageNum++ {
			params.Set("MaxResults", strconv.Itoa(MaxPageSize))
			if token == "" {
				params.Del("NextToken")
			} else {
				params.Set("NextToken", token)
			}
			var data D
			page := PD(&data)
			*page.rows() = recycle(buf)
			if err := c.Call(ctx, action, params, page); err != nil {
				yield(nil, err)
				return
			}
			rows, next := *page.rows(), page.nextToken()
			buf = rows
			if err := checkTotal(action, pageNum, page.totalCount(), &firstTotal); err != nil {
				yield(nil, err)
				return
			}
			if next != "" {
				if next == token || seen[next] {
					yield(nil, &ResponseError{Action: action, Code: CodeRepeatedToken, Detail: fmt.Sprintf(
						"page %d returned NextToken %q, already used in this walk", pageNum, truncateForError(next))})
					return
				}
				seen[next] = true
				if len(rows) == 0 {
					yield(nil, &ResponseError{Action: action, Code: CodeEmptyPage, Detail: fmt.Sprintf(
						"page %d has no rows, but a NextToken says more follow", pageNum)})
					return
				}
			}
			if len(rows) > 0 && !yield(rows, nil) {
				return
			}
			if next == "" {
				return
			}
			token = next
		}
	}
}

// checkTotal fails the walk when TotalCount changes between pages: the bill
// was restated under us, and mixing pages of two versions gives a wrong sum.
func checkTotal(action string, pageNum, total int, first *int) error {
	if *first < 0 {
		*first = total
		return nil
	}
	if total != *first {
		return &ResponseError{Action: action, Code: CodeTotalCountDrift, Detail: fmt.Sprintf(
			"TotalCount changed from %d to %d at page %d", *first, total, pageNum)}
	}
	return nil
}

// recycle returns buf emptied for reuse. Elements are zeroed first because
// encoding/json decodes into existing elements in place, and a field absent
// from the new row would otherwise keep the previous page's value.
func recycle[T any](buf []T) []T {
	clear(buf[:cap(buf)])
	return buf[:0]
}
