package bssclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// pagedBSS serves n bill rows for both paging styles and records every
// request's query. tweak may rewrite a page's Data before it is sent.
type pagedBSS struct {
	*httptest.Server
	n     int
	tweak func(page int, data map[string]any)

	mu      sync.Mutex
	queries []url.Values
}

func newPagedBSS(t *testing.T, n int, tweak func(page int, data map[string]any)) *pagedBSS {
	t.Helper()
	p := &pagedBSS{n: n, tweak: tweak}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.Close)
	return p
}

// pageToken encodes an offset with the characters real tokens carry.
func pageToken(offset int) string { return fmt.Sprintf("CAES/%d+=", offset) }

func (p *pagedBSS) serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	p.queries = append(p.queries, q)
	page := len(p.queries)
	p.mu.Unlock()

	row := func(i int) map[string]any {
		return map[string]any{"InstanceID": fmt.Sprintf("i-%05d", i), "OwnerID": strconv.Itoa(i), "SplitItemID": fmt.Sprintf("s-%05d", i), "PretaxAmount": 0.01, "NickName": fmt.Sprintf("page-%d", page)}
	}
	rows := func(offset, size int) []map[string]any {
		out := []map[string]any{}
		for i := offset; i < min(offset+size, p.n); i++ {
			out = append(out, row(i))
		}
		return out
	}
	var data map[string]any
	switch action := r.Header.Get("x-acs-action"); action {
	case ActionQueryAccountBill:
		num, _ := strconv.Atoi(q.Get("PageNum"))
		size, _ := strconv.Atoi(q.Get("PageSize"))
		data = map[string]any{"PageNum": num, "PageSize": size, "TotalCount": p.n, "Items": map[string]any{"Item": rows((num-1)*size, size)}}
	case ActionDescribeInstanceBill, ActionDescribeSplitItemBill:
		size, _ := strconv.Atoi(q.Get("MaxResults"))
		offset := 0
		if tok := q.Get("NextToken"); tok != "" {
			offset, _ = strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(tok, "CAES/"), "+="))
		}
		next := ""
		if offset+size < p.n {
			next = pageToken(offset + size)
		}
		data = map[string]any{"MaxResults": size, "TotalCount": p.n, "NextToken": next, "Items": rows(offset, size)}
	case ActionQueryBillToOSSSubscription, ActionQueryAccountBalance:
		data = map[string]any{}
	default:
		w.WriteHeader(404)
		fmt.Fprintf(w, `{"Code":"InvalidAction.NotFound","Message":"%s"}`, action)
		return
	}
	if p.tweak != nil {
		p.tweak(page, data)
	}
	b, _ := json.Marshal(map[string]any{"Code": "Success", "Success": true, "RequestId": "R", "Data": data})
	w.Write(b)
}

func (p *pagedBSS) recorded() []url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.queries)
}

// walker runs one action's walk and returns the row IDs it yielded.
type walker struct {
	action    string
	tokenWalk bool
	walk      func(c *Client) iter.Seq2[[]string, error]
}

// ids maps a typed walk to the IDs of its rows, copying them out as a
// caller must (the page slice is valid only until the loop body returns).
func ids[T any](seq iter.Seq2[[]T, error], id func(T) string) iter.Seq2[[]string, error] {
	return func(yield func([]string, error) bool) {
		for rows, err := range seq {
			var out []string
			for _, r := range rows {
				out = append(out, id(r))
			}
			if !yield(out, err) {
				return
			}
		}
	}
}

var may = Cycle{2024, 5}

var walkers = []walker{
	{ActionQueryAccountBill, false, func(c *Client) iter.Seq2[[]string, error] {
		return ids(c.QueryAccountBill(context.Background(), AccountBillRequest{BillingCycle: may}), func(r AccountBillItem) string { return "i-" + fmt.Sprintf("%05s", r.OwnerID) })
	}},
	{ActionDescribeInstanceBill, true, func(c *Client) iter.Seq2[[]string, error] {
		return ids(c.DescribeInstanceBill(context.Background(), InstanceBillRequest{BillingCycle: may}), func(r InstanceBillItem) string { return r.InstanceID })
	}},
	{ActionDescribeSplitItemBill, true, func(c *Client) iter.Seq2[[]string, error] {
		return ids(c.DescribeSplitItemBill(context.Background(), SplitItemBillRequest{BillingCycle: may}), func(r SplitItemBillItem) string {
			return "i-" + strings.TrimPrefix(r.SplitItemID, "s-")
		})
	}},
}

// collect ranges over seq, failing the test if it yields anything after an error.
func collect(t *testing.T, seq iter.Seq2[[]string, error]) (rows []string, pages int, err error) {
	t.Helper()
	for page, e := range seq {
		if err != nil {
			t.Fatalf("iterator yielded again after error %v", err)
		}
		if e != nil {
			if page != nil {
				t.Errorf("error yielded with %d rows, want nil", len(page))
			}
			err = e
			continue
		}
		if len(page) == 0 {
			t.Errorf("iterator yielded an empty page")
		}
		pages++
		rows = append(rows, page...)
	}
	return rows, pages, err
}

func TestWalksUseMaxPageSizeAndFewestRequests(t *testing.T) {
	for _, w := range walkers {
		for _, n := range []int{0, 1, 299, 300, 301, 1000} {
			t.Run(fmt.Sprintf("%s/%d rows", w.action, n), func(t *testing.T) {
				srv := newPagedBSS(t, n, nil)
				c := newTestClient(t, &fakeBSS{Server: srv.Server})
				rows, _, err := collect(t, w.walk(c.Client))
				if err != nil {
					t.Fatal(err)
				}
				want := make([]string, n)
				for i := range want {
					want[i] = fmt.Sprintf("i-%05d", i)
				}
				if !slices.Equal(rows, want) {
					t.Errorf("got %d rows (%.3v…), want %d in order", len(rows), rows, n)
				}
				queries := srv.recorded()
				wantRequests := max(1, (n+MaxPageSize-1)/MaxPageSize)
				if len(queries) != wantRequests {
					t.Errorf("%d requests, want ceil(%d/300) = %d", len(queries), n, wantRequests)
				}
				for i, q := range queries {
					if q.Get("BillingCycle") != "2024-05" {
						t.Errorf("request %d: BillingCycle %q", i, q.Get("BillingCycle"))
					}
					if w.tokenWalk {
						wantToken := ""
						if i > 0 {
							wantToken = pageToken(i * MaxPageSize)
						}
						if q.Get("MaxResults") != "300" || q.Get("NextToken") != wantToken || q.Has("PageSize") {
							t.Errorf("request %d: MaxResults %q NextToken %q, want 300 and %q", i, q.Get("MaxResults"), q.Get("NextToken"), wantToken)
						}
						if i == 0 && q.Has("NextToken") {
							t.Errorf("first request sends NextToken %q", q.Get("NextToken"))
						}
					} else if q.Get("PageSize") != "300" || q.Get("PageNum") != strconv.Itoa(i+1) || q.Has("MaxResults") {
						t.Errorf("request %d: PageNum %q PageSize %q, want %d and 300", i, q.Get("PageNum"), q.Get("PageSize"), i+1)
					}
				}
			})
		}
	}
}

func TestWalkFailsOnInconsistentPages(t *testing.T) {
	setTotal := func(onPage, total int) func(int, map[string]any) {
		return func(page int, d map[string]any) {
			if page == onPage {
				d["TotalCount"] = total
			}
		}
	}
	setToken := func(onPage int, token string) func(int, map[string]any) {
		return func(page int, d map[string]any) {
			if page == onPage {
				d["NextToken"] = token
			}
		}
	}
	emptyItems := func(onPage int, tokenStyle bool) func(int, map[string]any) {
		return func(page int, d map[string]any) {
			if page != onPage {
				return
			}
			if tokenStyle {
				d["Items"] = []any{}
			} else {
				d["Items"] = map[string]any{"Item": []any{}}
			}
		}
	}
	dropRow := func(page int, d map[string]any) {
		if page == 1 {
			items := d["Items"].(map[string]any)
			items["Item"] = items["Item"].([]map[string]any)[1:]
		}
	}
	tests := []struct {
		name         string
		action       string
		rows         int
		tweak        func(int, map[string]any)
		wantCode     string
		wantRows     int // yielded before the error
		wantRequests int
	}{
		{"drift page-number", ActionQueryAccountBill, 1000, setTotal(2, 1001), CodeTotalCountDrift, 300, 2},
		{"drift token", ActionDescribeInstanceBill, 1000, setTotal(3, 999), CodeTotalCountDrift, 600, 3},
		{"token repeated at once", ActionDescribeSplitItemBill, 1000, setToken(2, pageToken(300)), CodeRepeatedToken, 300, 2},
		{"token cycle", ActionDescribeInstanceBill, 1000, setToken(3, pageToken(300)), CodeRepeatedToken, 600, 3},
		{"empty page with NextToken", ActionDescribeInstanceBill, 1000, emptyItems(2, true), CodeEmptyPage, 300, 2},
		{"empty page before TotalCount", ActionQueryAccountBill, 1000, emptyItems(2, false), CodeEmptyPage, 300, 2},
		{"short page before TotalCount", ActionQueryAccountBill, 1000, dropRow, CodeTotalCountDrift, 0, 1},
		{"rows beyond TotalCount", ActionQueryAccountBill, 10, setTotal(1, 5), CodeTotalCountDrift, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newPagedBSS(t, tt.rows, tt.tweak)
			c := newTestClient(t, &fakeBSS{Server: srv.Server})
			i := slices.IndexFunc(walkers, func(w walker) bool { return w.action == tt.action })
			rows, _, err := collect(t, walkers[i].walk(c.Client))
			var respErr *ResponseError
			if !errors.As(err, &respErr) || respErr.Code != tt.wantCode || respErr.Action != tt.action {
				t.Fatalf("err = %v, want a *ResponseError %s of %s", err, tt.wantCode, tt.action)
			}
			if IsRetryable(err) {
				t.Errorf("IsRetryable(%v) = true: a contradictory walk is restarted, not retried", err)
			}
			if len(rows) != tt.wantRows {
				t.Errorf("%d rows yielded before the error, want %d", len(rows), tt.wantRows)
			}
			if got := len(srv.recorded()); got != tt.wantRequests {
				t.Errorf("%d requests, want %d", got, tt.wantRequests)
			}
		})
	}
}

func TestWalkYieldsAPIErrorOnce(t *testing.T) {
	srv := newFakeBSS(t, errorReply(400, CodeInvalidParameter))
	c := newTestClient(t, srv)
	rows, _, err := collect(t, walkers[1].walk(c.Client))
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Code != CodeInvalidParameter || len(rows) != 0 {
		t.Fatalf("rows %v, err %v; want no rows and the InvalidParameter error", rows, err)
	}
}

func TestWalkStopsWhenTheCallerStops(t *testing.T) {
	srv := newPagedBSS(t, 1000, nil)
	c := newTestClient(t, &fakeBSS{Server: srv.Server})
	for rows, err := range c.DescribeInstanceBill(context.Background(), InstanceBillRequest{BillingCycle: may}) {
		if err != nil || len(rows) != 300 {
			t.Fatalf("first page: %d rows, err %v", len(rows), err)
		}
		break
	}
	if got := len(srv.recorded()); got != 1 {
		t.Errorf("%d requests after breaking on the first page, want 1", got)
	}
}

func TestWalkPagesDoNotInheritFields(t *testing.T) {
	// Page 1's rows carry NickName; page 2's do not, and must not inherit it.
	srv := newPagedBSS(t, 600, func(page int, d map[string]any) {
		if page == 2 {
			for _, r := range d["Items"].([]map[string]any) {
				delete(r, "NickName")
			}
		}
	})
	c := newTestClient(t, &fakeBSS{Server: srv.Server})
	page := 0
	for rows, err := range c.DescribeInstanceBill(context.Background(), InstanceBillRequest{BillingCycle: may}) {
		if err != nil {
			t.Fatal(err)
		}
		page++
		switch page {
		case 1:
			if rows[0].NickName != "page-1" {
				t.Fatalf("page 1 NickName %q", rows[0].NickName)
			}
		case 2:
			if rows[0].NickName != "" || rows[299].NickName != "" {
				t.Errorf("page 2 rows inherited NickName %q from page 1", rows[0].NickName)
			}
		}
	}
	if page != 2 {
		t.Errorf("%d pages, want 2", page)
	}
}

func TestWalkCanBeRangedTwice(t *testing.T) {
	srv := newPagedBSS(t, 301, nil)
	c := newTestClient(t, &fakeBSS{Server: srv.Server})
	seq := walkers[1].walk(c.Client)
	for run := 1; run <= 2; run++ {
		rows, _, err := collect(t, seq)
		if err != nil || len(rows) != 301 {
			t.Fatalf("run %d: %d rows, err %v", run, len(rows), err)
		}
	}
	if q := srv.recorded(); len(q) != 4 || q[2].Has("NextToken") {
		t.Errorf("second run: %d requests in all, third request %v; want 4 and a fresh start", len(q), q[2])
	}
}
