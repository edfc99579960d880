package bsssim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestParseFaults(t *testing.T) {
	full := "latency=2s,throttle=5,5xx=3,drop=2,malformed=1,truncate=1,drift-total=1,repeat-token=1,sts-expired=2," +
		"no-permission=DescribeSplitItemBill,no-permission=QueryAccountBalance,clock-skew=-5m0s,action=DescribeInstanceBill"
	f, err := ParseFaults(full)
	if err != nil {
		t.Fatalf("ParseFaults(%q): %v", full, err)
	}
	if f.String() != full {
		t.Errorf("String() = %q, want %q", f.String(), full)
	}
	if empty, err := ParseFaults(" "); err != nil || empty.String() != "" {
		t.Errorf("empty spec: %v, %q", err, empty.String())
	}

	for _, tc := range []struct{ spec, want string }{
		{"throttle", `fault "throttle": want name=value`},
		{"throttle=", `fault "throttle=": want name=value`},
		{"throttle=x", `fault "throttle=x": want a non-negative count`},
		{"5xx=-1", `fault "5xx=-1": want a non-negative count`},
		{"latency=soon", `fault "latency=soon": latency must be a duration from 0 to 5m0s`},
		{"latency=6m", `fault "latency=6m": latency must be a duration from 0 to 5m0s`},
		{"clock-skew=soon", `fault "clock-skew=soon": clock-skew must be a duration such as -5m or 90s`},
		{"no-permission=DescribeRegions", `fault "no-permission=DescribeRegions": unknown action`},
		{"sts-expired=yes", `fault "sts-expired=yes": want a non-negative count`},
		{"drop=1,explode=2", `fault "explode=2": unknown fault "explode"`},
		{"action=DescribeRegions", `fault "action=DescribeRegions": unknown action`},
	} {
		if _, err := ParseFaults(tc.spec); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseFaults(%q) = %v, want an error containing %q", tc.spec, err, tc.want)
		}
	}
}

func TestFaultsReplaceAnswers(t *testing.T) {
	balance := actionQueryAccountBalance
	tests := []struct {
		name   string
		inject func(f *Faults)
		want   []string // per request: a Code, "Success", "dropped", "malformed" or "truncated"
		fault  string
		count  int64
	}{
		{"throttle", func(f *Faults) { f.ThrottleNext(2) }, []string{"Throttling.User", "Throttling.User", "Success"}, faultThrottle, 2},
		{"5xx alternates 503 and 500", func(f *Faults) { f.FailNext(3) }, []string{"ServiceUnavailable", "InternalError", "ServiceUnavailable", "Success"}, fault5xx, 3},
		{"drop", func(f *Faults) { f.DropNext(1) }, []string{"dropped", "Success"}, faultDrop, 1},
		{"malformed", func(f *Faults) { f.MalformNext(2) }, []string{"malformed", "malformed", "Success"}, faultMalformed, 2},
		{"truncate", func(f *Faults) { f.TruncateNext(1) }, []string{"truncated", "Success"}, faultTruncate, 1},
		{"only the chosen action", func(f *Faults) { f.OnlyAction(actionDescribeInstanceBill); f.ThrottleNext(1) }, []string{"Success", "Success"}, faultThrottle, 0},
		{"cleared", func(f *Faults) {
			f.ThrottleNext(3)
			f.FailNext(3)
			f.DropNext(3)
			f.SetLatency(time.Hour)
			f.ExpireTokenNext(1)
			f.DenyAction(actionQueryAccountBalance)
			f.SetClockSkew(time.Hour)
			f.Clear()
		}, []string{"Success"}, faultThrottle, 0},
		{"sts-expired", func(f *Faults) { f.ExpireTokenNext(1) }, []string{codeSecurityTokenExpired, "Success"}, faultSTSExpired, 1},
		{"sts-expired on another action", func(f *Faults) { f.OnlyAction(actionDescribeInstanceBill); f.ExpireTokenNext(1) }, []string{"Success"}, faultSTSExpired, 0},
		{"no-permission", func(f *Faults) { f.DenyAction(balance) }, []string{codeNoPermission, codeNoPermission}, faultNoPermission, 2},
		{"no-permission on another action", func(f *Faults) { f.DenyAction(actionDescribeInstanceBill) }, []string{"Success"}, faultNoPermission, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			tc.inject(e.faults)
			for i, want := range tc.want {
				got := outcome(t, e, e.v3Request(balance, nil, testCred, e.wall.Now(), newNonce()))
				if got != want {
					t.Errorf("request %d: %s, want %s", i+1, got, want)
				}
			}
			if n := e.server.Stats().Faults[tc.fault]; n != tc.count {
				t.Errorf("Stats.Faults[%s] = %d, want %d", tc.fault, n, tc.count)
			}
		})
	}
}

// outcome sends a request and names what came back.
func outcome(t *testing.T, e *testEnv, req *http.Request) string {
	t.Helper()
	resp, err := e.client.Do(req)
	if err != nil {
		return "dropped"
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	if _, err := body.ReadFrom(resp.Body); err != nil {
		t.Fatalf("reading body: %v", err)
	}
	if !json.Valid(body.Bytes()) {
		if resp.StatusCode != http.StatusOK {
			t.Errorf("invalid JSON with HTTP %d", resp.StatusCode)
		}
		if bytes.HasPrefix(body.Bytes(), []byte(`{"Code":"200","Message":"success","RequestId":"`)) {
			return "truncated"
		}
		return "malformed"
	}
	r := response{status: resp.StatusCode, header: resp.Header, body: body.Bytes()}
	var env struct{ Code, Message string }
	if err := json.Unmarshal(r.body, &env); err != nil {
		t.Fatal(err)
	}
	switch env.Code {
	case "200", "Success":
		r.successEnvelope(t, env.Code, env.Message)
		return "Success"
	case codeServiceUnavailable:
		r.errorEnvelope(t, http.StatusServiceUnavailable, env.Code)
	case codeInternalError:
		r.errorEnvelope(t, http.StatusInternalServerError, env.Code)
	case codeNoPermission:
		r.errorEnvelope(t, http.StatusForbidden, env.Code)
	default:
		r.errorEnvelope(t, http.StatusBadRequest, env.Code)
	}
	return env.Code
}

func TestFaultsHitOnlyAuthenticatedRequests(t *testing.T) {
	e := newEnv(t, nil)
	e.faults.ThrottleNext(1)
	wrong := signingKey{AccessKeyID: TestAccessKeyID, AccessKeySecret: "wrong"}
	if got := outcome(t, e, e.v3Request(actionQueryAccountBalance, nil, wrong, e.wall.Now(), newNonce())); got != codeSignatureDoesNotMatch {
		t.Fatalf("bad signature answered %s", got)
	}
	if got := outcome(t, e, e.v3Request(actionQueryAccountBalance, nil, testCred, e.wall.Now(), newNonce())); got != codeThrottlingUser {
		t.Errorf("the pending fault was not kept for the first genuine request: %s", got)
	}
}

func TestPageFaults(t *testing.T) {
	action := actionDescribeInstanceBill
	page := func(e *testEnv, token string) InstanceBillData {
		t.Helper()
		p := vals("BillingCycle", "2024-05", "MaxResults", "10")
		if token != "" {
			p.Set("NextToken", token)
		}
		var d InstanceBillData
		decodeStrict(t, e.callV3(action, p).successEnvelope(t, "Success", "Successful!"), &d)
		return d
	}

	t.Run("drift-total", func(t *testing.T) {
		e := newEnv(t, newFakeWorld(45, 0, true))
		e.faults.DriftTotalCount(1)
		first := page(e, "") // a walk's first page never drifts: there is nothing to drift from
		second := page(e, first.NextToken)
		third := page(e, second.NextToken)
		if first.TotalCount != 45 || second.TotalCount != 46 || third.TotalCount != 45 {
			t.Errorf("TotalCount %d, %d, %d; want 45, 46 (drifted), 45", first.TotalCount, second.TotalCount, third.TotalCount)
		}
		if n := e.server.Stats().Faults[faultDriftTotal]; n != 1 {
			t.Errorf("Stats.Faults[drift-total] = %d", n)
		}
	})
	t.Run("repeat-token", func(t *testing.T) {
		e := newEnv(t, newFakeWorld(45, 0, true))
		e.faults.RepeatNextToken(1)
		first := page(e, "") // no token sent: nothing to repeat, fault kept
		second := page(e, first.NextToken)
		if second.NextToken != first.NextToken {
			t.Errorf("second page NextToken %q, want the repeated %q", second.NextToken, first.NextToken)
		}
		third := page(e, first.NextToken)
		if third.NextToken == first.NextToken || third.NextToken == "" {
			t.Errorf("fault did not end: third NextToken %q", third.NextToken)
		}
	})
	t.Run("page faults apply to paged actions only", func(t *testing.T) {
		e := newEnv(t, newFakeWorld(45, 0, true))
		e.faults.DriftTotalCount(1)
		e.callV3(actionQueryAccountBalance, nil).successEnvelope(t, "200", "success")
		first := page(e, "")
		if d := page(e, first.NextToken); d.TotalCount != 46 {
			t.Errorf("TotalCount %d, want the drift on the first continuation page", d.TotalCount)
		}
	})
}

func TestLatencyFault(t *testing.T) {
	e := newEnv(t, nil)
	e.faults.SetLatency(time.Hour)
	e.faults.OnlyAction(actionQueryAccountBalance)
	impatient := &http.Client{Timeout: 50 * time.Millisecond}
	defer impatient.CloseIdleConnections()
	if _, err := impatient.Do(e.v3Request(actionQueryAccountBalance, nil, testCred, e.wall.Now(), newNonce())); err == nil {
		t.Fatal("an answer delayed by an hour arrived")
	}
	// Other actions are not delayed.
	e.callV3(actionQueryBillToOSSSubscription, nil).successEnvelope(t, "Success", "Successful!")
	e.faults.SetLatency(0)
	e.callV3(actionQueryAccountBalance, nil).successEnvelope(t, "200", "success")

	// Config.Latency delays every answer, errors included.
	slow := newEnv(t, nil, func(c *Config) { c.Latency = time.Hour })
	if _, err := impatient.Do(slow.v3Request("NoSuchAction", nil, testCred, slow.wall.Now(), newNonce())); err == nil {
		t.Error("an error answer delayed by an hour arrived")
	}
}

func TestFaultsAreSafeConcurrently(t *testing.T) {
	f := NewFaults()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 1000 {
			f.ThrottleNext(1)
			f.SetLatency(time.Millisecond)
			f.OnlyAction("")
			_ = f.String()
		}
	}()
	for range 1000 {
		f.takeAnswerFault(actionQueryAccountBill)
		f.take(actionQueryAccountBill, faultMalformed)
		f.latencyFor(actionQueryAccountBill)
	}
	<-done
	f.Clear()
	if f.String() != "" {
		t.Errorf("after Clear: %q", f.String())
	}
}

// TestClockSkewFault: the simulator's clocks run ahead of or behind the
// host's: requests signed by the host's clock are judged by the skewed one,
// answers carry the skewed Date, and billing data is as of the skewed time.
func TestClockSkewFault(t *testing.T) {
	w, err := NewWorld(WorldConfig{Seed: 3, Owners: 1, InstancesPerOwner: 20})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, w)
	balance := actionQueryAccountBalance

	e.faults.SetClockSkew(20 * time.Minute)
	if got := outcome(t, e, e.v3Request(balance, nil, testCred, e.wall.Now(), newNonce())); got != codeInvalidTimeStampExpired {
		t.Errorf("signed by the host's clock, 20 min behind the simulator's: %s, want %s", got, codeInvalidTimeStampExpired)
	}
	r := e.do(e.v3Request(balance, nil, testCred, e.wall.Now().Add(20*time.Minute), newNonce()))
	r.successEnvelope(t, "200", "success")
	if date, err := http.ParseTime(r.header.Get("Date")); err != nil || !date.Equal(testWallNow.Add(20*time.Minute)) {
		t.Errorf("Date %q (%v), want the simulator's skewed clock %v", r.header.Get("Date"), err, testWallNow.Add(20*time.Minute))
	}

	// A day whose amounts settled 12 hours before the billing clock is
	// provisional again with the clocks 13 hours behind.
	day := dayOf(testBillingNow).AddDays(-2)
	if settled := day.SettledAt(KindAmounts); settled.After(testBillingNow) || testBillingNow.Sub(settled) >= 13*time.Hour {
		t.Fatalf("day %s settles at %v; the test needs it settled less than 13 h before %v", day, settled, testBillingNow)
	}
	// The test signs by the simulator's clock, as a client that follows
	// the Date header would.
	payable := func(skew time.Duration) string {
		t.Helper()
		e.faults.SetClockSkew(skew)
		var data AccountBillData
		raw := e.do(e.v3Request(actionQueryAccountBill, vals("BillingCycle", day.Cycle().String(), "Granularity", "DAILY",
			"BillingDate", day.String()), testCred, e.wall.Now().Add(skew), newNonce())).successEnvelope(t, "Success", "Successful!")
		if err := json.Unmarshal(raw, &data); err != nil {
			t.Fatal(err)
		}
		var sum Money
		for _, it := range data.Items.Item {
			sum += it.PretaxAmount
		}
		return sum.String()
	}
	sumAt := func(at time.Time) string {
		var sum Money
		for _, it := range w.AccountBill(AccountBillRequest{BillingCycle: day.Cycle(), Granularity: Daily, BillingDate: day}, at) {
			sum += it.PretaxAmount
		}
		return sum.String()
	}
	if got, want := payable(0), sumAt(testBillingNow); got != want {
		t.Errorf("without skew: payable %s, want %s", got, want)
	}
	got, want := payable(-13*time.Hour), sumAt(testBillingNow.Add(-13*time.Hour))
	if got != want || got == sumAt(testBillingNow) {
		t.Errorf("13 h behind: payable %s, want the provisional %s (final %s)", got, want, sumAt(testBillingNow))
	}
}

// TestDocsListEveryFault: docs/simulator.md documents every fault name
// ParseFaults reads, and no other.
func TestDocsListEveryFault(t *testing.T) {
	data, err := os.ReadFile("../../docs/simulator.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(data)
	documented := map[string]bool{}
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue // table rows only
		}
		for _, m := range regexp.MustCompile("`([a-z0-9-]+)=").FindAllStringSubmatch(line, -1) {
			documented[m[1]] = true
		}
	}
	for _, name := range faultNames {
		if !documented[name] {
			t.Errorf("docs/simulator.md does not document the fault %q", name)
		}
		delete(documented, name)
	}
	for name := range documented {
		t.Errorf("docs/simulator.md documents a fault %q that ParseFaults does not read", name)
	}
}
