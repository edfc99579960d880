package bssclient

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestPooledBodiesAreNotKept: answers are read into pooled buffers that the
// next page reuses, so nothing decoded may point into one. Rows kept from
// the first page must still read the same after later pages (and a failed
// answer) went through the same buffers.
func TestPooledBodiesAreNotKept(t *testing.T) {
	const pages = 4
	page := func(n int) string {
		var rows []string
		for i := range 3 {
			rows = append(rows, fmt.Sprintf(`{"InstanceID":"i-%d-%d","Region":"region-%d","Tag":"key:k value:v%d","PretaxAmount":"%d.5"}`, n, i, n, n, n))
		}
		next := ""
		if n < pages {
			next = fmt.Sprintf("token-%d", n+1)
		}
		return fmt.Sprintf(`{"Code":"Success","Success":true,"RequestId":"R%d","Data":{"TotalCount":%d,"NextToken":%q,"Items":[%s]}}`,
			n, 3*pages, next, strings.Join(rows, ","))
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := 1
		if tok := r.URL.Query().Get("NextToken"); tok != "" {
			if _, err := fmt.Sscanf(tok, "token-%d", &n); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(page(n)))
	}))
	defer srv.Close()
	c, err := New(Config{Endpoint: srv.URL, Credentials: StaticCredentials("id", "secret", ""), RateLimit: 1e6, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}

	var kept []InstanceBillItem
	req := InstanceBillRequest{BillingCycle: Cycle{2025, 3}, Granularity: Daily, BillingDate: Day{2025, 3, 1}}
	for rows, err := range c.DescribeInstanceBill(context.Background(), req) {
		if err != nil {
			t.Fatal(err)
		}
		kept = append(kept, rows...) // copies the structs; their strings are the decoder's
	}
	// A failing answer through the same pool, to overwrite it once more.
	var out InstanceBillData
	_ = c.Call(context.Background(), ActionDescribeInstanceBill, map[string][]string{"NextToken": {"bad"}}, &out)

	if len(kept) != 3*pages {
		t.Fatalf("kept %d rows, want %d", len(kept), 3*pages)
	}
	for k, row := range kept {
		n, i := k/3+1, k%3
		want := InstanceBillItem{InstanceID: fmt.Sprintf("i-%d-%d", n, i), Region: fmt.Sprintf("region-%d", n), Tag: fmt.Sprintf("key:k value:v%d", n)}
		want.PretaxAmount = MustParseMoney(fmt.Sprintf("%d.5", n))
		if row != want {
			t.Fatalf("row %d reads %+v after later pages, want %+v", k, row, want)
		}
	}
}
