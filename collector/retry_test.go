package collector

import (
	"context"
	"fmt"
	"iter"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

func TestRetryDelay(t *testing.T) {
	brokenWalk := fmt.Errorf("billing day 2025-03-02: %w", &bssclient.ResponseError{Code: bssclient.CodeTotalCountDrift})
	throttled := &bssclient.APIError{Code: bssclient.CodeThrottlingUser, HTTPStatus: 429}
	server := &bssclient.APIError{Code: bssclient.CodeServiceUnavailable, HTTPStatus: 503}
	malformed := &bssclient.ResponseError{Code: bssclient.CodeInvalidResponse}
	auth := &bssclient.APIError{Code: bssclient.CodeSignatureDoesNotMatch, HTTPStatus: 400}
	denied := &bssclient.APIError{Code: bssclient.CodeNoPermission, HTTPStatus: 403}
	for _, tc := range []struct {
		name     string
		err      error
		failures int
		interval time.Duration
		want     time.Duration
	}{
		{"broken walk, first failure", brokenWalk, 1, time.Hour, 30 * time.Second},
		{"broken walk, second failure", brokenWalk, 2, time.Hour, time.Minute},
		{"broken walk, third failure", brokenWalk, 3, time.Hour, 2 * time.Minute},
		{"broken walk, many failures: the interval", brokenWalk, 40, time.Hour, time.Hour},
		{"throttled", throttled, 1, time.Hour, time.Minute},
		{"server error", server, 1, time.Hour, time.Minute},
		{"untrustworthy answer", malformed, 1, time.Hour, time.Minute},
		{"network error", context.DeadlineExceeded, 1, time.Hour, time.Minute},
		{"wrong secret: later than transient errors", auth, 1, time.Hour, 5 * time.Minute},
		{"no permission, twice", denied, 2, time.Hour, 10 * time.Minute},
		{"never later than the interval", auth, 1, 2 * time.Minute, 2 * time.Minute},
		{"several days failed: the earliest decides", &daysError{failed: 2, total: 5, first: brokenWalk}, 1, time.Hour, 30 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := retryDelay(tc.err, tc.failures, tc.interval); got != tc.want {
				t.Errorf("retryDelay(%v, %d, %s) = %s, want %s", tc.err, tc.failures, tc.interval, got, tc.want)
			}
		})
	}
}

// fakeTimer stands in for time.After: run asks it for each wait, and the
// test decides when the wait is over.
type fakeTimer struct {
	waits chan time.Duration
	fire  chan time.Time
}

func newFakeTimer() *fakeTimer {
	return &fakeTimer{waits: make(chan time.Duration), fire: make(chan time.Time)}
}

func (f *fakeTimer) after(d time.Duration) <-chan time.Time {
	f.waits <- d
	return f.fire
}

// TestBrokenWalkIsRetriedSoonAndOnlyItself: a late restatement breaks one
// day's walk on the cold start. Every other day is published at once, the
// cycle gauge (read once every day is) waits for the missing day, the
// exporter is not ready, and the retry comes 30 s later and walks that one
// day only, then the cycle.
func TestBrokenWalkIsRetriedSoonAndOnlyItself(t *testing.T) {
	world := multiPageWorld
	world.InstancesPerOwner, world.BucketsPerOSSInstance = 600, 8 // several pages of buckets a day
	h := startSim(t, simOptions{world: &world, start: midMarch, collectors: []string{"ossbucket"}})
	timer := newFakeTimer()
	for _, w := range h.exp.workers {
		w.after = timer.after
	}
	from, to := h.bookRange("ossbucket", midMarch)
	multiPage := 0
	for d := from; !to.Before(d); d = d.AddDays(1) {
		req := bssclient.SplitItemBillRequest{BillingCycle: d.Cycle(), Granularity: bssclient.Daily, BillingDate: d, ProductCode: ossProductCode}
		if h.world.SplitItemBillCount(req, midMarch) > bssclient.MaxPageSize {
			multiPage++
		}
	}
	if multiPage == 0 {
		t.Fatal("no multi-page bucket walk: the test proves nothing")
	}
	h.server.Server.Faults().DriftTotalCount(1) // one page of one walk
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); h.exp.Run(ctx) }()

	if got := <-timer.waits; got != retryAfterBrokenWalk {
		t.Fatalf("first retry after %s, want %s", got, retryAfterBrokenWalk)
	}
	w := h.exp.workers[0]
	st := w.state.Load()
	if st.ok {
		t.Fatal("the refresh with a broken walk succeeded; the test proves nothing")
	}
	wantDays := 0
	for d := from; !to.Before(d); d = d.AddDays(1) {
		wantDays++
	}
	if st.snapshot.Days != wantDays-1 {
		t.Errorf("%d days published after one broken walk of %d, want %d", st.snapshot.Days, wantDays, wantDays-1)
	}
	if h.exp.Ready() {
		t.Error("ready while the first refresh is retrying a transient failure")
	}
	if got := gatheredFamily(t, h.exp, "aliyun_billing_ossbucket_cycle_payable"); len(got) != 0 {
		t.Errorf("the cycle gauge is published while one of its days is missing: %d series", len(got))
	}
	var missing bssclient.Day
	for d := from; !to.Before(d); d = d.AddDays(1) {
		if _, ok := w.collector.(*ossBucketCollector).book.days[d]; !ok {
			missing = d
		}
	}
	exposedFrom, exposedTo := h.exposureRange(bssclient.KindSplitItems, midMarch)
	shown := len(timestampsOf(gatheredFamily(t, h.exp, "aliyun_billing_ossbucket_daily_payable")))
	wantShown := int(exposedTo.Start().Sub(exposedFrom.Start())/(24*time.Hour)) + 1
	if !missing.Before(exposedFrom) {
		wantShown--
	}
	if shown != wantShown {
		t.Errorf("%d days shown with %s missing, want %d", shown, missing, wantShown)
	}
	h.bss.takeWalks()

	timer.fire <- time.Time{}
	if got := <-timer.waits; got != time.Hour {
		t.Errorf("after the retry succeeded, next refresh in %s, want the interval", got)
	}
	// The retry reads the missing day, then the cycle, which waited for it:
	// the MONTHLY bill and the DAILY bills of the days after the newest
	// settled one. No other settled day.
	want := []string{walkRecord{bssclient.ActionDescribeSplitItemBill, bssclient.Daily, missing.Cycle(), missing}.String(),
		walkRecord{bssclient.ActionDescribeSplitItemBill, bssclient.Monthly, to.Cycle(), bssclient.Day{}}.String()}
	for d := to.AddDays(1); !bssclient.DayOf(midMarch).Before(d); d = d.AddDays(1) {
		want = append(want, walkRecord{bssclient.ActionDescribeSplitItemBill, bssclient.Daily, d.Cycle(), d}.String())
	}
	slices.Sort(want)
	if walks := h.bss.takeWalks(); !slices.Equal(walks, want) {
		t.Errorf("the retry walked %v, want %v", walks, want)
	}
	if !h.exp.Ready() {
		t.Error("not ready after a successful refresh")
	}
	if got := gatheredFamily(t, h.exp, "aliyun_billing_ossbucket_cycle_payable"); len(got) == 0 {
		t.Error("no cycle gauge once every day is read")
	}
	cancel()
	<-done
}

// TestReadinessWaitsForTransientFailures: a collector is ready once it has published data, or has
// failed in a way only a person can fix; not while it retries a transient
// failure of its first refresh.
func TestReadinessWaitsForTransientFailures(t *testing.T) {
	h := startSim(t, simOptions{start: midMarch, collectors: []string{"balance"}})
	h.server.Server.Faults().FailNext(persistent)
	if err := h.step(midMarch); err == nil {
		t.Fatal("refresh succeeded under a 5xx storm")
	}
	if h.exp.Ready() {
		t.Error("ready after a first refresh that failed with a 5xx")
	}
	h.server.Server.Faults().Clear()
	h.mustStep(midMarch)
	if !h.exp.Ready() {
		t.Error("not ready after a good refresh")
	}
	// Once it has data, a later transient failure does not make it unready.
	h.server.Server.Faults().FailNext(persistent)
	_ = h.step(midMarch)
	if !h.exp.Ready() {
		t.Error("unready after a failure, with data to serve")
	}
}

// blockingBSS holds the instance-bill walk of one day until released.
type blockingBSS struct {
	BSS
	day     bssclient.Day
	release chan struct{}
}

func (b *blockingBSS) DescribeInstanceBill(ctx context.Context, req bssclient.InstanceBillRequest) iter.Seq2[[]bssclient.InstanceBillItem, error] {
	if req.Granularity == bssclient.Daily && req.BillingDate == b.day {
		<-b.release
	}
	return b.BSS.DescribeInstanceBill(ctx, req)
}

// TestDaysArePublishedAsTheyFinish: while one day's walk is still running,
// the days already read are served, and the collector is not ready yet.
func TestDaysArePublishedAsTheyFinish(t *testing.T) {
	h := startSim(t, simOptions{start: midMarch, collectors: []string{"instance"}})
	from, to := h.bookRange("instance", midMarch)
	slow := &blockingBSS{BSS: h.bss, day: to, release: make(chan struct{})}
	exp, err := New(Account{Name: testAccount, Client: slow}, []Enabled{{Name: "instance", Interval: time.Hour}}, h.cfg, log.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	h.clock.Set(midMarch)
	done := make(chan error, 1)
	go func() { done <- exp.RefreshOnce(t.Context()) }()

	want := int(to.Start().Sub(from.Start()) / (24 * time.Hour)) // every day but the held one
	for {
		if st := exp.workers[0].state.Load(); st != nil && st.snapshot.Days == want {
			break
		}
		runtime.Gosched()
	}
	shown := timestampsOf(gatheredFamily(t, exp, "aliyun_billing_instance_daily_payable"))
	if len(shown) != want || slices.Contains(shown, to.Start().UnixMilli()) {
		t.Errorf("while %s is walked, days %v are shown; want the %d others", to, shown, want)
	}
	if got := gatheredFamily(t, exp, successFamily); len(got) != 0 {
		t.Errorf("refresh_success during the first refresh: %v", got)
	}
	if exp.Ready() {
		t.Error("ready before the first refresh completed")
	}
	close(slow.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := timestampsOf(gatheredFamily(t, exp, "aliyun_billing_instance_daily_payable")); len(got) != want+1 {
		t.Errorf("%d days after the refresh, want %d", len(got), want+1)
	}
	if !exp.Ready() {
		t.Error("not ready after the first refresh")
	}
}
