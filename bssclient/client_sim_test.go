package bssclient_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim/bsssimtest"
)

// The client against the simulator: every action end to end, sums against
// the World's ground truth, quota spent per walk, every error class and every
// fault.

// billingNow stands after May 2024 is final (12:00 UTC+8 on 3 June for bills,
// the 4th for split bills), so every day of the cycle is settled.
var (
	billingNow = time.Date(2024, 6, 10, 12, 0, 0, 0, bssclient.BillingZone)
	may2024    = bssclient.Cycle{Year: 2024, Month: time.May}
	may20      = bssclient.Day{Year: 2024, Month: time.May, Day: 20}
)

var smallWorld = bsssim.WorldConfig{Seed: 7, Owners: 3, InstancesPerOwner: 150, SplitBillEnabled: true}

type sim struct {
	run   *bsssim.Running
	world bsssimtest.World
	// faults are the running server's fault switches.
	faults *bsssim.Faults
}

// startSim serves world (built from wcfg) with an unlimited quota unless mod
// says otherwise.
func startSim(t *testing.T, wcfg bsssim.WorldConfig, mod func(*bsssim.Config)) sim {
	t.Helper()
	world, err := bsssim.NewWorld(wcfg)
	if err != nil {
		t.Fatalf("NewWorld: %v", err)
	}
	cfg := bsssim.Config{
		World:          world,
		Clock:          bsssim.NewManualClock(billingNow),
		QuotaPerSecond: -1,
		Faults:         bsssim.NewFaults(),
	}
	if mod != nil {
		mod(&cfg)
	}
	run, err := bsssim.Start(cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { run.Close() })
	return sim{run: run, world: bsssimtest.Wrap(world), faults: run.Server.Faults()}
}

// counter is an Observer that counts per event and outcome.
type counter struct {
	mu     sync.Mutex
	counts map[string]int
}

func (c *counter) inc(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts == nil {
		c.counts = map[string]int{}
	}
	c.counts[key]++
}

func (c *counter) RequestDone(action, outcome string, _ time.Duration) { c.inc("done " + outcome) }
func (c *counter) Retried(action, code string)                         { c.inc("retried " + code) }
func (c *counter) Throttled(action string)                             { c.inc("throttled") }

func (c *counter) get(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[key]
}

// newSimClient returns a client of s with a fast limiter and millisecond
// backoffs, so retries cost no test time.
func newSimClient(t *testing.T, s sim, mods ...func(*bssclient.Config)) (*bssclient.Client, *counter) {
	t.Helper()
	obs := &counter{}
	cfg := bssclient.Config{
		Endpoint:    s.run.URL,
		Credentials: bssclient.StaticCredentials(bsssim.TestAccessKeyID, bsssim.TestAccessKeySecret, ""),
		RateLimit:   1000,
		Burst:       100,
		BackoffBase: time.Millisecond,
		BackoffMax:  5 * time.Millisecond,
		Observer:    obs,
	}
	for _, m := range mods {
		m(&cfg)
	}
	c, err := bssclient.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, obs
}

var signatures = []struct {
	name string
	v    bssclient.SignatureVersion
}{{"V3", bssclient.SignatureV3}, {"V1", bssclient.SignatureV1}}

func withSignature(v bssclient.SignatureVersion) func(*bssclient.Config) {
	return func(c *bssclient.Config) { c.SignatureVersion = v }
}

// sum walks seq to the end, adding up the rows' amounts.
func sum[T any](seq iter.Seq2[[]T, error], amounts func(*T) bssclient.Amounts) (total bssclient.Amounts, rows int, err error) {
	for page, err := range seq {
		if err != nil {
			return total, rows, err
		}
		for i := range page {
			if total, err = total.Add(amounts(&page[i])); err != nil {
				return total, rows, err
			}
		}
		rows += len(page)
	}
	return total, rows, nil
}

func accountAmounts(r *bssclient.AccountBillItem) bssclient.Amounts   { return r.Amounts }
func instanceAmounts(r *bssclient.InstanceBillItem) bssclient.Amounts { return r.Amounts }
func splitAmounts(r *bssclient.SplitItemBillItem) bssclient.Amounts   { return r.Amounts }
func ceilPages(rows int) int64 {
	return int64(max(1, (rows+bssclient.MaxPageSize-1)/bssclient.MaxPageSize))
}

func TestSimWalkSumsEqualTruth(t *testing.T) {
	ctx := context.Background()
	s := startSim(t, smallWorld, nil)
	owner := s.world.OwnerIDs()[0]
	type walk func(c *bssclient.Client) (bssclient.Amounts, int, error)
	tests := []struct {
		name  string
		walk  walk
		truth bsssimtest.TruthQuery
	}{
		{"QueryAccountBill monthly", func(c *bssclient.Client) (bssclient.Amounts, int, error) {
			return sum(c.QueryAccountBill(ctx, bssclient.AccountBillRequest{BillingCycle: may2024}), accountAmounts)
		}, bsssimtest.TruthQuery{Cycle: may2024, Kind: bssclient.KindAmounts}},
		{"QueryAccountBill daily by product", func(c *bssclient.Client) (bssclient.Amounts, int, error) {
			return sum(c.QueryAccountBill(ctx, bssclient.AccountBillRequest{BillingCycle: may2024, Granularity: bssclient.Daily, BillingDate: may20, IsGroupByProduct: true}), accountAmounts)
		}, bsssimtest.TruthQuery{Cycle: may2024, Day: may20, Kind: bssclient.KindAmounts}},
		{"QueryAccountBill one owner, one product", func(c *bssclient.Client) (bssclient.Amounts, int, error) {
			return sum(c.QueryAccountBill(ctx, bssclient.AccountBillRequest{BillingCycle: may2024, IsGroupByProduct: true, ProductCode: "ecs", BillOwnerID: mustAtoi(t, owner)}), accountAmounts)
		}, bsssimtest.TruthQuery{Cycle: may2024, OwnerID: owner, ProductCode: "ecs", Kind: bssclient.KindAmounts}},
		{"DescribeInstanceBill monthly", func(c *bssclient.Client) (bssclient.Amounts, int, error) {
			return sum(c.DescribeInstanceBill(ctx, bssclient.InstanceBillRequest{BillingCycle: may2024}), instanceAmounts)
		}, bsssimtest.TruthQuery{Cycle: may2024, Kind: bssclient.KindInstanceAttributes}},
		{"DescribeInstanceBill daily billing items", func(c *bssclient.Client) (bssclient.Amounts, int, error) {
			return sum(c.DescribeInstanceBill(ctx, bssclient.InstanceBillRequest{BillingCycle: may2024, Granularity: bssclient.Daily, BillingDate: may20, IsBillingItem: true}), instanceAmounts)
		}, bsssimtest.TruthQuery{Cycle: may2024, Day: may20, Kind: bssclient.KindInstanceAttributes}},
		{"DescribeInstanceBill daily pay-as-you-go RDS", func(c *bssclient.Client) (bssclient.Amounts, int, error) {
			return sum(c.DescribeInstanceBill(ctx, bssclient.InstanceBillRequest{BillingCycle: may2024, Granularity: bssclient.Daily, BillingDate: may20, ProductCode: "rds", SubscriptionType: "PayAsYouGo"}), instanceAmounts)
		}, bsssimtest.TruthQuery{Cycle: may2024, Day: may20, ProductCode: "rds", SubscriptionType: "PayAsYouGo", Kind: bssclient.KindInstanceAttributes}},
		{"DescribeSplitItemBill monthly", func(c *bssclient.Client) (bssclient.Amounts, int, error) {
			return sum(c.DescribeSplitItemBill(ctx, bssclient.SplitItemBillRequest{BillingCycle: may2024}), splitAmounts)
		}, bsssimtest.TruthQuery{Cycle: may2024, Kind: bssclient.KindSplitItems}},
		{"DescribeSplitItemBill daily OSS", func(c *bssclient.Client) (bssclient.Amounts, int, error) {
			return sum(c.DescribeSplitItemBill(ctx, bssclient.SplitItemBillRequest{BillingCycle: may2024, Granularity: bssclient.Daily, BillingDate: may20, ProductCode: "oss"}), splitAmounts)
		}, bsssimtest.TruthQuery{Cycle: may2024, Day: may20, ProductCode: "oss", Kind: bssclient.KindSplitItems}},
	}
	for _, sig := range signatures {
		for _, tt := range tests {
			t.Run(sig.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				c, _ := newSimClient(t, s, withSignature(sig.v))
				got, rows, err := tt.walk(c)
				if err != nil {
					t.Fatal(err)
				}
				want := s.world.Truth(tt.truth, billingNow)
				if got != want {
					t.Errorf("sum of %d rows:\n got %+v\nwant %+v", rows, got, want)
				}
				if rows == 0 || want.PretaxAmount.IsZero() {
					t.Errorf("%d rows summing to %v: the query should select some spend", rows, want.PretaxAmount)
				}
			})
		}
	}
}

func mustAtoi(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatalf("owner ID %q: %v", s, err)
	}
	return n
}

func TestSimSubscriptionsAndBalance(t *testing.T) {
	s := startSim(t, smallWorld, nil)
	for _, sig := range signatures {
		t.Run(sig.name, func(t *testing.T) {
			c, _ := newSimClient(t, s, withSignature(sig.v))
			subs, err := c.QueryBillToOSSSubscription(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if want := s.world.Subscriptions(); !slices.Equal(subs, want) {
				t.Errorf("subscriptions\n got %+v\nwant %+v", subs, want)
			}
			bal, err := c.QueryAccountBalance(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if want := s.world.Balance(billingNow); bal != want {
				t.Errorf("balance\n got %+v\nwant %+v", bal, want)
			}
		})
	}
}

// findDay returns a day of May 2024 and a world whose count of rows is
// exactly want, searching world sizes: the World's row counts are a function
// of its seed and size, not something to set directly.
func findDay(t *testing.T, want int, count func(w bsssimtest.World, day bssclient.Day) int) (bsssim.WorldConfig, bssclient.Day) {
	t.Helper()
	// Two owners bill about 1.1 instance rows and 1.5 split rows per
	// InstancesPerOwner a day, so the answer lies between want/3 and want.
	for perOwner := max(1, want/3); perOwner <= want+1; perOwner++ {
		wcfg := bsssim.WorldConfig{Seed: 11, Owners: 1, InstancesPerOwner: perOwner, SplitBillEnabled: true}
		w, err := bsssimtest.NewWorld(wcfg)
		if err != nil {
			t.Fatal(err)
		}
		for d := 1; d <= 31; d++ {
			day := bssclient.Day{Year: 2024, Month: time.May, Day: d}
			if count(w, day) == want {
				return wcfg, day
			}
		}
	}
	t.Fatalf("no world of the searched sizes has a day with exactly %d rows", want)
	return bsssim.WorldConfig{}, bssclient.Day{}
}

func TestSimWalksSpendOneRequestPerPage(t *testing.T) {
	ctx := context.Background()
	instanceReq := func(day bssclient.Day) bssclient.InstanceBillRequest {
		return bssclient.InstanceBillRequest{BillingCycle: may2024, Granularity: bssclient.Daily, BillingDate: day}
	}
	splitReq := func(day bssclient.Day) bssclient.SplitItemBillRequest {
		return bssclient.SplitItemBillRequest{BillingCycle: may2024, Granularity: bssclient.Daily, BillingDate: day}
	}
	type walker struct {
		action string
		count  func(w bsssimtest.World, day bssclient.Day) int
		walk   func(c *bssclient.Client, day bssclient.Day) (int, error)
	}
	walkers := []walker{
		{bssclient.ActionDescribeInstanceBill,
			func(w bsssimtest.World, day bssclient.Day) int {
				return w.InstanceBillCount(instanceReq(day), billingNow)
			},
			func(c *bssclient.Client, day bssclient.Day) (int, error) {
				_, n, err := sum(c.DescribeInstanceBill(ctx, instanceReq(day)), instanceAmounts)
				return n, err
			}},
		{bssclient.ActionDescribeSplitItemBill,
			func(w bsssimtest.World, day bssclient.Day) int {
				return w.SplitItemBillCount(splitReq(day), billingNow)
			},
			func(c *bssclient.Client, day bssclient.Day) (int, error) {
				_, n, err := sum(c.DescribeSplitItemBill(ctx, splitReq(day)), splitAmounts)
				return n, err
			}},
	}
	for _, w := range walkers {
		for _, rows := range []int{1, 300, 301, 1000} {
			t.Run(fmt.Sprintf("%s/%d rows", w.action, rows), func(t *testing.T) {
				t.Parallel()
				wcfg, day := findDay(t, rows, w.count)
				s := startSim(t, wcfg, nil)
				c, _ := newSimClient(t, s)
				got, err := w.walk(c, day)
				if err != nil {
					t.Fatal(err)
				}
				if got != rows {
					t.Errorf("walked %d rows, want %d", got, rows)
				}
				st := s.run.Server.Stats()
				if st.TotalRequests() != ceilPages(rows) || st.Requests[w.action] != ceilPages(rows) {
					t.Errorf("%d requests (%v), want ceil(%d/300) = %d", st.TotalRequests(), st.Requests, rows, ceilPages(rows))
				}
			})
		}
	}
	t.Run("QueryAccountBill by product, many owners", func(t *testing.T) {
		t.Parallel()
		s := startSim(t, bsssim.WorldConfig{Seed: 3, Owners: 200, InstancesPerOwner: 20}, nil)
		c, _ := newSimClient(t, s)
		_, rows, err := sum(c.QueryAccountBill(ctx, bssclient.AccountBillRequest{BillingCycle: may2024, Granularity: bssclient.Daily, BillingDate: may20, IsGroupByProduct: true}), accountAmounts)
		if err != nil {
			t.Fatal(err)
		}
		if rows <= 2*bssclient.MaxPageSize {
			t.Fatalf("%d rows: want three pages or more", rows)
		}
		if got := s.run.Server.Stats().TotalRequests(); got != ceilPages(rows) {
			t.Errorf("%d requests for %d rows, want %d", got, rows, ceilPages(rows))
		}
	})
}

func TestSimErrorClasses(t *testing.T) {
	ctx := context.Background()
	const (
		deniedKey  = "LTAI5tDeniedMember0001"
		stsKey     = "STS.ExpiredToken0001"
		stsSecret  = "ExpiredSecret000000000000000001"
		stsToken   = "expired-security-token"
		deniedSecr = "DeniedSecret0000000000000000001"
	)
	s := startSim(t, smallWorld, func(cfg *bsssim.Config) {
		cfg.Credentials = []bsssim.Credential{
			{AccessKeyID: bsssim.TestAccessKeyID, AccessKeySecret: bsssim.TestAccessKeySecret},
			{AccessKeyID: deniedKey, AccessKeySecret: deniedSecr, DeniedActions: []string{bssclient.ActionDescribeInstanceBill}},
			{AccessKeyID: stsKey, AccessKeySecret: stsSecret, SecurityToken: stsToken, Expires: time.Now().Add(-time.Minute)},
		}
	})
	noSplit := startSim(t, bsssim.WorldConfig{Seed: 1, SplitBillEnabled: false}, nil)
	creds := func(id, secret, token string) func(*bssclient.Config) {
		return func(c *bssclient.Config) { c.Credentials = bssclient.StaticCredentials(id, secret, token) }
	}
	instanceWalk := func(c *bssclient.Client) error {
		_, _, err := sum(c.DescribeInstanceBill(ctx, bssclient.InstanceBillRequest{BillingCycle: may2024}), instanceAmounts)
		return err
	}
	tests := []struct {
		name      string
		sim       sim
		mod       func(*bssclient.Config)
		call      func(c *bssclient.Client) error
		wantClass bssclient.ErrorClass
		wantCode  string // "" to accept any code of the class
	}{
		{"wrong secret", s, creds(bsssim.TestAccessKeyID, "not-the-secret", ""), instanceWalk,
			bssclient.ClassAuthentication, bssclient.CodeSignatureDoesNotMatch},
		{"unknown key", s, creds("LTAI5tNobodyKnowsThis", "whatever", ""), instanceWalk,
			bssclient.ClassAuthentication, bssclient.CodeInvalidAccessKeyID},
		{"denied action", s, creds(deniedKey, deniedSecr, ""), instanceWalk,
			bssclient.ClassAuthorization, ""},
		{"expired STS token", s, creds(stsKey, stsSecret, stsToken), instanceWalk,
			bssclient.ClassAuthentication, bssclient.CodeSecurityTokenExpired},
		{"clock 20 minutes fast", s, func(c *bssclient.Config) { c.Now = func() time.Time { return time.Now().Add(20 * time.Minute) } }, instanceWalk,
			bssclient.ClassAuthentication, bssclient.CodeInvalidTimeStampExpired},
		{"cycle older than 18 months", s, nil, func(c *bssclient.Client) error {
			_, _, err := sum(c.DescribeInstanceBill(ctx, bssclient.InstanceBillRequest{BillingCycle: bssclient.Cycle{Year: 2022, Month: time.January}}), instanceAmounts)
			return err
		}, bssclient.ClassBadRequest, bssclient.CodeInvalidParameter},
		{"split bill not enabled", noSplit, nil, func(c *bssclient.Client) error {
			_, _, err := sum(c.DescribeSplitItemBill(ctx, bssclient.SplitItemBillRequest{BillingCycle: may2024}), splitAmounts)
			return err
		}, bssclient.ClassAuthorization, bssclient.CodeSplitBillNotEnabled},
	}
	for _, sig := range signatures {
		for _, tt := range tests {
			t.Run(sig.name+"/"+tt.name, func(t *testing.T) {
				mods := []func(*bssclient.Config){withSignature(sig.v)}
				if tt.mod != nil {
					mods = append(mods, tt.mod)
				}
				c, obs := newSimClient(t, tt.sim, mods...)
				tt.sim.run.Server.ResetStats()
				err := tt.call(c)
				var apiErr *bssclient.APIError
				if !errors.As(err, &apiErr) {
					t.Fatalf("err = %v (%T), want *APIError", err, err)
				}
				if got := bssclient.Classify(err); got != tt.wantClass {
					t.Errorf("Classify = %s, want %s (err %v)", got, tt.wantClass, err)
				}
				if tt.wantCode != "" && apiErr.Code != tt.wantCode {
					t.Errorf("Code = %s, want %s", apiErr.Code, tt.wantCode)
				}
				if apiErr.RequestID == "" || apiErr.HTTPStatus < 400 {
					t.Errorf("error lacks the gateway's RequestId or status: %#v", apiErr)
				}
				if got := tt.sim.run.Server.Stats().TotalRequests(); got != 1 {
					t.Errorf("%d requests, want 1: %s errors are not retried", got, tt.wantClass)
				}
				if got := obs.get("retried " + apiErr.Code); got != 0 {
					t.Errorf("observer saw %d retries", got)
				}
				for _, secret := range []string{bsssim.TestAccessKeySecret, stsSecret, deniedSecr, stsToken, "not-the-secret"} {
					if containsString(err.Error(), secret) {
						t.Errorf("error %q contains a secret", err)
					}
				}
			})
		}
	}
}

func containsString(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestSimFaultsAreSurvivedOrSurfaced(t *testing.T) {
	ctx := context.Background()
	// A day of about 700 rows: three pages.
	wcfg, day := findDay(t, 700, func(w bsssimtest.World, d bssclient.Day) int {
		return w.InstanceBillCount(bssclient.InstanceBillRequest{BillingCycle: may2024, Granularity: bssclient.Daily, BillingDate: d}, billingNow)
	})
	req := bssclient.InstanceBillRequest{BillingCycle: may2024, Granularity: bssclient.Daily, BillingDate: day}
	pageReq := bssclient.AccountBillRequest{BillingCycle: may2024, Granularity: bssclient.Daily, BillingDate: may20, IsGroupByProduct: true}
	tests := []struct {
		name        string
		inject      func(f *bsssim.Faults)
		pageNumWalk bool   // QueryAccountBill of a 200-owner world instead
		wantCode    string // "" means the walk succeeds with the true sum
		wantEvent   string // an observer key that must have been counted
	}{
		{"throttle burst", func(f *bsssim.Faults) { f.ThrottleNext(3) }, false, "", "throttled"},
		{"server errors", func(f *bsssim.Faults) { f.FailNext(3) }, false, "", "retried " + bssclient.CodeServiceUnavailable},
		{"dropped connection", func(f *bsssim.Faults) { f.DropNext(2) }, false, "", "retried " + bssclient.CodeTransport},
		{"malformed JSON", func(f *bsssim.Faults) { f.MalformNext(2) }, false, "", "retried " + bssclient.CodeInvalidResponse},
		{"truncated JSON", func(f *bsssim.Faults) { f.TruncateNext(3) }, false, "", "retried " + bssclient.CodeInvalidResponse},
		{"malformed past MaxAttempts", func(f *bsssim.Faults) { f.MalformNext(4) }, false, bssclient.CodeInvalidResponse, "done " + bssclient.CodeInvalidResponse},
		{"server errors past MaxAttempts", func(f *bsssim.Faults) { f.FailNext(4) }, false, bssclient.CodeInternalError, "done " + bssclient.CodeInternalError},
		{"total count drift", func(f *bsssim.Faults) { f.DriftTotalCount(1) }, false, bssclient.CodeTotalCountDrift, "done ok"},
		{"total count drift, page numbers", func(f *bsssim.Faults) { f.DriftTotalCount(1) }, true, bssclient.CodeTotalCountDrift, "done ok"},
		{"repeated token", func(f *bsssim.Faults) { f.RepeatNextToken(1) }, false, bssclient.CodeRepeatedToken, "done ok"},
		{"faults on another action", func(f *bsssim.Faults) { f.OnlyAction(bssclient.ActionQueryAccountBalance); f.FailNext(10) }, false, "", "done ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// A server per case: faults are the server's state.
			target := startSim(t, wcfg, nil)
			if tt.pageNumWalk {
				target = startSim(t, bsssim.WorldConfig{Seed: 3, Owners: 200, InstancesPerOwner: 20}, nil)
			}
			tt.inject(target.faults)
			c, obs := newSimClient(t, target)
			var got, want bssclient.Amounts
			var err error
			if tt.pageNumWalk {
				got, _, err = sum(c.QueryAccountBill(ctx, pageReq), accountAmounts)
				want = target.world.Truth(bsssimtest.TruthQuery{Cycle: may2024, Day: may20, Kind: bssclient.KindAmounts}, billingNow)
			} else {
				got, _, err = sum(c.DescribeInstanceBill(ctx, req), instanceAmounts)
				want = target.world.Truth(bsssimtest.TruthQuery{Cycle: may2024, Day: day, Kind: bssclient.KindInstanceAttributes}, billingNow)
			}
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("walk failed: %v", err)
				}
				if got != want {
					t.Errorf("sum after recovering\n got %+v\nwant %+v", got, want)
				}
			} else if code := bssclient.ErrorCode(err); code != tt.wantCode {
				t.Fatalf("ErrorCode = %q, want %q (err %v)", code, tt.wantCode, err)
			}
			if obs.get(tt.wantEvent) == 0 {
				t.Errorf("observer never saw %q: %v", tt.wantEvent, obs.counts)
			}
		})
	}
}

func TestSimLimiterAvoidsThrottling(t *testing.T) {
	const calls = 12 // more than the quota admits in one second
	tests := []struct {
		name          string
		rate          float64
		wantThrottled bool
	}{
		// 9/s rather than exactly 10/s leaves room for scheduling jitter
		// against the simulator's sliding one-second window.
		{"client limiter below the quota", 9, false},
		// The control: without the limiter the same burst is throttled, so
		// the first case proves something.
		{"no effective limiter", 1000, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := startSim(t, smallWorld, func(cfg *bsssim.Config) { cfg.QuotaPerSecond = bsssim.DefaultQuotaPerSecond })
			limiter := bssclient.NewLimiter(tt.rate, 1)
			c, obs := newSimClient(t, s, func(cfg *bssclient.Config) {
				cfg.Limiter = limiter
				cfg.MaxAttempts = 1 // a throttled call fails instead of hiding behind a retry
			})
			// Two clients of the same account share the limiter, as the exporter's do.
			c2, obs2 := newSimClient(t, s, func(cfg *bssclient.Config) { cfg.Limiter = limiter; cfg.MaxAttempts = 1 })
			var wg sync.WaitGroup
			errs := make(chan error, calls)
			for i := range calls {
				client := c
				if i%2 == 1 {
					client = c2
				}
				wg.Go(func() {
					_, err := client.QueryAccountBalance(context.Background())
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			failures := 0
			for err := range errs {
				if err != nil {
					failures++
					if bssclient.Classify(err) != bssclient.ClassThrottled {
						t.Errorf("unexpected error: %v", err)
					}
				}
			}
			throttled := s.run.Server.Stats().Throttled
			if tt.wantThrottled {
				if throttled == 0 || failures == 0 {
					t.Errorf("%d throttled answers: the control burst should exceed the quota", throttled)
				}
				return
			}
			if throttled != 0 || failures != 0 || obs.get("throttled")+obs2.get("throttled") != 0 {
				t.Errorf("%d throttled answers, %d failed calls; want none", throttled, failures)
			}
		})
	}
}
