package bssclient

import (
	"context"
	"fmt"
	"iter"
	"net/url"
	"strconv"

	"github.com/go-kit/log/level"
)

// BSS pages its bills in two ways: PageNum/PageSize with a
// TotalCount (QueryAccountBill, QueryInstanceBill), and NextToken/MaxResults
// where an empty NextToken ends the walk (DescribeInstanceBill,
// DescribeSplitItemBill), 300 rows at most a page
// (https://alibabacloud.com/help/en/boa/latest/api-bssopenapi-2017-12-14-queryaccountbill,
// https://www.alibabacloud.com/help/en/boa/latest/api-bssopenapi-2017-12-14-describeinstancebill).
// Both walks always ask for MaxPageSize rows: fewer
// requests cost less quota. Neither trusts the server blindly: a walk that
// contradicts itself fails with a *ResponseError rather than yield a sum that
// silently misses or repeats rows. The caller restarts such a walk.

// pagedData adapts one paged API's Data type to the walks.
type pagedData[T any] interface {
	rows() []T
	totalCount() int
}

func (d *AccountBillData) rows() []AccountBillItem { return d.Items.Item }
func (d *AccountBillData) totalCount() int         { return d.TotalCount }

// tokenPage adapts one NextToken API's Data type to the walk.
type tokenPage[T any] interface {
	pagedData[T]
	nextToken() string
}

// tokenPaging is the paging of a NextToken API's Data, embedded in each.
type tokenPaging struct {
	MaxResults int    `json:"MaxResults"`
	NextToken  string `json:"NextToken"`
	TotalCount int    `json:"TotalCount"`
}

func (p *tokenPaging) totalCount() int   { return p.TotalCount }
func (p *tokenPaging) nextToken() string { return p.NextToken }

func (d *InstanceBillData) rows() []InstanceBillItem   { return d.Items }
func (d *SplitItemBillData) rows() []SplitItemBillItem { return d.Items }

// paging is how one walk asks for its pages and judges them: set writes the
// paging parameters of page pageNum, and judge checks the page against what
// the walk has seen and says whether it is the last.
type paging[PD any] struct {
	set   func(params url.Values, pageNum int)
	judge func(pageNum int, page PD) (last bool, err error)
}

// walk is the page loop both kinds of walk share. Each range over the
// iterator is its own walk: it builds its parameters with request, which
// validates them before any call, and its paging with newPaging.
func walk[T any, D any, PD interface {
	*D
	pagedData[T]
}](ctx context.Context, c *Client, action string, request func() (url.Values, error), newPaging func() paging[PD]) iter.Seq2[[]T, error] {
	return func(yield func([]T, error) bool) {
		params, err := request()
		if err != nil {
			yield(nil, err)
			return
		}
		paging := newPaging()
		var firstTotal, rowsRead int
		for pageNum := 1; ; pageNum++ {
			paging.set(params, pageNum)
			data, err := call[D](ctx, c, action, params)
			if err != nil {
				yield(nil, err)
				return
			}
			page := PD(data)
			if pageNum == 1 {
				firstTotal = page.totalCount()
			}
			last := false
			if total := page.totalCount(); total != firstTotal {
				// The bill was restated under us, and mixing pages of two
				// versions gives a wrong sum.
				err = &ResponseError{Action: action, Code: CodeTotalCountDrift, Detail: fmt.Sprintf(
					"TotalCount changed from %d to %d at page %d", firstTotal, total, pageNum)}
			} else {
				last, err = paging.judge(pageNum, page)
			}
			if err != nil {
				yield(nil, err)
				return
			}
			rows := page.rows()
			rowsRead += len(rows)
			// The period, not the whole request: nothing in a bill request
			// is secret, but a line per page should stay short.
			level.Debug(c.logger).Log("msg", "read a BSS page", "action", action,
				"billing_cycle", params.Get("BillingCycle"), "billing_date", params.Get("BillingDate"),
				"page", pageNum, "rows", len(rows), "rows_read", rowsRead, "last", last)
			if len(rows) > 0 && !yield(rows, nil) {
				return
			}
			if last {
				return
			}
		}
	}
}

// walkPageNum walks a PageNum/PageSize API.
func walkPageNum[T any, D any, PD interface {
	*D
	pagedData[T]
}](ctx context.Context, c *Client, action string, request func() (url.Values, error)) iter.Seq2[[]T, error] {
	return walk[T, D](ctx, c, action, request, func() paging[PD] {
		return paging[PD]{
			set: func(params url.Values, pageNum int) {
				params.Set("PageNum", strconv.Itoa(pageNum))
				params.Set("PageSize", strconv.Itoa(MaxPageSize))
			},
			judge: func(pageNum int, page PD) (bool, error) {
				rows, total := page.rows(), page.totalCount()
				// Every page but the last is full; the last holds the remainder.
				before := (pageNum - 1) * MaxPageSize
				want := min(MaxPageSize, max(total-before, 0))
				switch {
				case len(rows) == 0 && want > 0:
					return false, &ResponseError{Action: action, Code: CodeEmptyPage, Detail: fmt.Sprintf(
						"page %d has no rows, but TotalCount %d says %d rows follow row %d", pageNum, total, total-before, before)}
				case len(rows) != want:
					return false, &ResponseError{Action: action, Code: CodeTotalCountDrift, Detail: fmt.Sprintf(
						"page %d of size %d has %d rows, but TotalCount %d implies %d", pageNum, MaxPageSize, len(rows), total, want)}
				}
				return pageNum*MaxPageSize >= total, nil
			},
		}
	})
}

// walkToken walks a NextToken/MaxResults API until NextToken comes back
// empty. A token seen before would loop forever, so it fails the walk.
func walkToken[T any, D any, PD interface {
	*D
	tokenPage[T]
}](ctx context.Context, c *Client, action string, request func() (url.Values, error)) iter.Seq2[[]T, error] {
	return walk[T, D](ctx, c, action, request, func() paging[PD] {
		seen := map[string]bool{}
		token := ""
		return paging[PD]{
			set: func(params url.Values, _ int) {
				params.Set("MaxResults", strconv.Itoa(MaxPageSize))
				setIfNotEmpty(params, "NextToken", token) // "" on the first page only
			},
			judge: func(pageNum int, page PD) (bool, error) {
				next := page.nextToken()
				if next == "" {
					return true, nil
				}
				if next == token || seen[next] {
					return false, &ResponseError{Action: action, Code: CodeRepeatedToken, Detail: fmt.Sprintf(
						"page %d returned NextToken %q, already used in this walk", pageNum, truncateForError(next))}
				}
				seen[next] = true
				if len(page.rows()) == 0 {
					return false, &ResponseError{Action: action, Code: CodeEmptyPage, Detail: fmt.Sprintf(
						"page %d has no rows, but a NextToken says more follow", pageNum)}
				}
				token = next
				return false, nil
			},
		}
	})
}
