package bssclient

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// TestPayerIsAskedOnceAndNamesTheSite: concurrent callers share one
// request, whose answer's AccountID is the payer; the site of a
// non-Alibaba endpoint is its host, without the port.
func TestPayerIsAskedOnceAndNamesTheSite(t *testing.T) {
	srv := newFakeBSS(t, okReply(`{"AccountID":"1857000000000489","AccountName":"a@example.com","BillingCycle":"2024-06","PageNum":1,"PageSize":1,"TotalCount":40,"Items":{"Item":[]}}`))
	c := newTestClient(t, srv)
	var wg sync.WaitGroup
	got := make([]Payer, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := c.Payer(context.Background(), CycleOf(fixedNow))
			if err != nil {
				t.Error(err)
			}
			got[i] = p
		}()
	}
	wg.Wait()
	for _, p := range got {
		if p != (Payer{Site: "127.0.0.1", AccountID: "1857000000000489"}) {
			t.Errorf("Payer = %+v", p)
		}
	}
	if n := srv.count(); n != 1 {
		t.Errorf("%d requests for the payer, want 1", n)
	}
	r := srv.request(0)
	if q := r.URL.Query(); r.Header.Get("x-acs-action") != ActionQueryAccountBill || q.Get("BillingCycle") != "2024-06" || q.Get("PageSize") != "1" {
		t.Errorf("the payer request was %s %v", r.Header.Get("x-acs-action"), q)
	}
}

// TestPayerThatCannotBeToldFails: an empty or masked AccountID is not a
// payer; the error says why and quotes no ID, and nothing is kept.
func TestPayerThatCannotBeToldFails(t *testing.T) {
	for id, want := range map[string]string{
		`""`:           "Data.AccountID is empty",
		`"185****489"`: "Data.AccountID is masked",
		`null`:         "Data.AccountID is empty",
	} {
		srv := newFakeBSS(t, okReply(`{"AccountID":`+id+`,"PageNum":1,"PageSize":1,"TotalCount":0,"Items":{"Item":[]}}`),
			okReply(`{"AccountID":"1857000000000489","PageNum":1,"PageSize":1,"TotalCount":0,"Items":{"Item":[]}}`))
		c := newTestClient(t, srv)
		_, err := c.Payer(context.Background(), CycleOf(fixedNow))
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "185") {
			t.Errorf("AccountID %s: %v, want an error saying %q without the ID", id, err, want)
		}
		if p, err := c.Payer(context.Background(), CycleOf(fixedNow)); err != nil || p.AccountID != "1857000000000489" {
			t.Errorf("AccountID %s: the next call gave %+v, %v; want it asked again", id, p, err)
		}
	}
}

func TestSiteOfTheDocumentedEndpoints(t *testing.T) {
	for endpoint, want := range map[string]string{
		EndpointChina:                    "china",
		"https://BUSINESS.aliyuncs.com/": "china",
		EndpointInternational:            "international",
		"http://127.0.0.1:8417":          "127.0.0.1",
		"https://bss-proxy.example:443":  "bss-proxy.example",
	} {
		u, err := ParseEndpoint(endpoint)
		if err != nil {
			t.Fatal(err)
		}
		if got := siteOf(u); got != want {
			t.Errorf("siteOf(%s) = %q, want %q", endpoint, got, want)
		}
	}
}

// TestRequestCounterCountsAttempts: a counter carried in the context counts
// every HTTP attempt, retries included: what the quota counts.
func TestRequestCounterCountsAttempts(t *testing.T) {
	srv := newFakeBSS(t, errorReply(503, CodeServiceUnavailable), okReply(`{"AvailableAmount":"1.00","Currency":"CNY"}`))
	c := newTestClient(t, srv)
	var n atomic.Int64
	if _, err := c.QueryAccountBalance(WithRequestCounter(context.Background(), &n)); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 2 || srv.count() != 2 {
		t.Errorf("counted %d requests, the server saw %d; want 2 (a retry after the 503)", n.Load(), srv.count())
	}
	if _, err := c.QueryAccountBalance(context.Background()); err != nil || n.Load() != 2 {
		t.Errorf("a call without the counter in its context counted: %d, %v", n.Load(), err)
	}
	// Work inside other work counts in both; work beside it in neither.
	var inner, beside atomic.Int64
	outer := WithRequestCounter(context.Background(), &n)
	_ = WithRequestCounter(outer, &beside)
	if _, err := c.QueryAccountBalance(WithRequestCounter(outer, &inner)); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 3 || inner.Load() != 1 || beside.Load() != 0 {
		t.Errorf("counted %d around, %d inside and %d beside, want 3, 1 and 0", n.Load(), inner.Load(), beside.Load())
	}
}
