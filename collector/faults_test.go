package collector

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/proctest"

	"github.com/go-kit/log"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
)

// faultCase is one failure BSS, the network or the account's setup can put
// the exporter through.
type faultCase struct {
	name        string
	world       *bsssim.WorldConfig
	credentials []bsssim.Credential
	inject      func(h *simHarness)
	clear       func(h *simHarness)
	// codes the failed refresh may be counted under, and the collectors
	// that must fail; the others must not.
	codes      []string
	collectors []string
}

const (
	stsKeyID    = "STS.ExpiredKey0001"
	memberKeyID = "LTAI5tMemberNoBilling"
)

// persistent makes a fault outlast every request of a refresh, so that no
// walk of the failing collectors can complete by luck.
const persistent = 1 << 20

func faultCases() []faultCase {
	all := []string{"account", "instance", "ossbucket"}
	faults := func(h *simHarness) *bsssim.Faults { return h.server.Server.Faults() }
	clearFaults := func(h *simHarness) { faults(h).Clear() }
	useKey := func(id, secret, token string) func(h *simHarness) {
		return func(h *simHarness) { h.creds.setTemporary(id, secret, token) }
	}
	testKey := useKey(bsssim.TestAccessKeyID, bsssim.TestAccessKeySecret, "")
	// withClient swaps the client for one built from cfg, and back.
	var original *bssclient.Client
	withClient := func(change func(*bssclient.Config)) func(h *simHarness) {
		return func(h *simHarness) {
			cfg := bssclient.Config{Endpoint: h.server.URL, Credentials: h.creds, RateLimit: 1e6, Burst: 100, MaxAttempts: 1}
			change(&cfg)
			c, err := bssclient.New(cfg)
			if err != nil {
				h.t.Fatal(err)
			}
			original, h.bss.Client = h.bss.Client, c
		}
	}
	restoreClient := func(h *simHarness) { h.bss.Client = original; faults(h).Clear() }

	return []faultCase{
		{name: "throttling storm", inject: func(h *simHarness) { faults(h).ThrottleNext(persistent) }, clear: clearFaults,
			codes: []string{"Throttling.User"}, collectors: all},
		{name: "5xx burst", inject: func(h *simHarness) { faults(h).FailNext(persistent) }, clear: clearFaults,
			codes: []string{"ServiceUnavailable", "InternalError"}, collectors: all},
		{name: "slow responses past the deadline",
			inject: func(h *simHarness) {
				withClient(func(c *bssclient.Config) { c.Timeout = 100 * time.Millisecond })(h)
				faults(h).SetLatency(time.Second)
			},
			clear: restoreClient, codes: []string{bssclient.CodeTimeout}, collectors: all},
		{name: "dropped connections", inject: func(h *simHarness) { faults(h).DropNext(persistent) }, clear: clearFaults,
			codes: []string{bssclient.CodeTransport}, collectors: all},
		{name: "malformed JSON", inject: func(h *simHarness) { faults(h).MalformNext(persistent) }, clear: clearFaults,
			codes: []string{bssclient.CodeInvalidResponse}, collectors: all},
		{name: "truncated JSON", inject: func(h *simHarness) { faults(h).TruncateNext(persistent) }, clear: clearFaults,
			codes: []string{bssclient.CodeInvalidResponse}, collectors: all},
		// Only multi-page walks can drift or repeat a token: the instance
		// and split bills of multiPageWorld; the account walks are one page.
		{name: "TotalCount drifts mid-walk", world: &multiPageWorld,
			inject: func(h *simHarness) { faults(h).DriftTotalCount(persistent) }, clear: clearFaults,
			codes: []string{bssclient.CodeTotalCountDrift}, collectors: []string{"instance", "ossbucket"}},
		{name: "repeated NextToken", world: &multiPageWorld,
			inject: func(h *simHarness) { faults(h).RepeatNextToken(persistent) }, clear: clearFaults,
			codes: []string{bssclient.CodeRepeatedToken}, collectors: []string{"instance", "ossbucket"}},
		{name: "wrong AccessKey secret", inject: useKey(bsssim.TestAccessKeyID, "not-the-secret", ""), clear: testKey,
			codes: []string{bssclient.CodeSignatureDoesNotMatch}, collectors: all},
		{name: "expired temporary credentials",
			credentials: []bsssim.Credential{{AccessKeyID: stsKeyID, AccessKeySecret: "sts-secret", SecurityToken: "sts-token", Expires: time.Now().Add(-time.Hour)}},
			inject:      useKey(stsKeyID, "sts-secret", "sts-token"), clear: testKey,
			codes: []string{bssclient.CodeSecurityTokenExpired}, collectors: all},
		{name: "clock skew", inject: withClient(func(c *bssclient.Config) {
			c.Now = func() time.Time { return time.Now().Add(20 * time.Minute) }
		}), clear: restoreClient, codes: []string{bssclient.CodeInvalidTimeStampExpired}, collectors: all},
		{name: "member account without permission",
			credentials: []bsssim.Credential{{AccessKeyID: memberKeyID, AccessKeySecret: "member-secret",
				DeniedActions: []string{bssclient.ActionDescribeInstanceBill, bssclient.ActionDescribeSplitItemBill}}},
			inject: useKey(memberKeyID, "member-secret", ""), clear: testKey,
			codes: []string{bssclient.CodeNoPermission}, collectors: []string{"instance", "ossbucket"}},
		{name: "split bill not enabled",
			inject: func(h *simHarness) { h.world.SetSplitBillEnabled(false) },
			clear:  func(h *simHarness) { h.world.SetSplitBillEnabled(true) },
			codes:  []string{bssclient.CodeSplitBillNotEnabled}, collectors: []string{"ossbucket"}},
	}
}

// TestFaultMatrix puts the exporter through every fault, after a good
// refresh and on a day when new data is due, and checks each promise:
// it keeps serving; it publishes no partially fetched day or cycle; it keeps
// the last good values with their age visible; it counts the error by its
// code; it logs one line per failed refresh, not one per page or day; and
// it recovers on the first refresh after the fault clears.
func TestFaultMatrix(t *testing.T) {
	t0 := midMarch
	for _, tc := range faultCases() {
		t.Run(tc.name, func(t *testing.T) {
			logs := &proctest.Buffer{}
			h := startSim(t, simOptions{world: tc.world, start: t0, credentials: tc.credentials, logger: log.NewLogfmtLogger(logs)})
			h.mustStep(t0)
			h.assertModel()
			lastSuccess := map[string]float64{}
			for _, s := range gatheredFamily(t, h.exp, lastSuccessFamily) {
				lastSuccess[s.labels["collector"]] = s.value
			}
			logged := len(logs.String())

			tc.inject(h)
			t1 := t0.Add(24 * time.Hour) // a new settled day is due for every collector
			err := h.step(t1)
			if err == nil {
				t.Fatal("the refresh under the fault succeeded")
			}
			failed := h.steps[len(h.steps)-1].failed
			var failing []string
			for c := range failed {
				failing = append(failing, c)
			}
			slices.Sort(failing)
			if !slices.Equal(failing, tc.collectors) {
				t.Fatalf("collectors %v failed, want %v: %v", failing, tc.collectors, err)
			}

			// Counted by code: one failure per failing collector, under an expected code.
			counted := map[string]bool{}
			for _, s := range gatheredFamily(t, h.exp, failuresFamily) {
				c, code := s.labels["collector"], s.labels["code"]
				if !slices.Contains(tc.codes, code) {
					t.Errorf("%s: failure counted under %q, want one of %v", c, code, tc.codes)
				}
				if s.value != 1 {
					t.Errorf("%s: %v failures counted under %s, want 1", c, s.value, code)
				}
				counted[c] = true
				h.failures[[2]string{c, code}]++ // teach the model what was counted
			}
			for _, c := range tc.collectors {
				if !counted[c] {
					t.Errorf("%s failed but no failure was counted", c)
				}
			}

			// Still serving the last good data, nothing half-fetched: every
			// bill family equals the model, in which a failed collector's
			// refresh booked nothing, and refresh_success is 0 for it.
			h.assertModel()
			for _, s := range gatheredFamily(t, h.exp, lastSuccessFamily) {
				c := s.labels["collector"]
				if changed := s.value != lastSuccess[c]; changed == failed[c] {
					t.Errorf("%s: last success timestamp %v → %v; it must move only for collectors that succeeded", c, lastSuccess[c], s.value)
				}
			}

			// One log line per failed refresh.
			var errorLines []string
			for _, line := range strings.Split(logs.String()[logged:], "\n") {
				if strings.Contains(line, "level=error") {
					errorLines = append(errorLines, line)
				}
			}
			if len(errorLines) != len(tc.collectors) {
				t.Errorf("%d error lines for %d failed refreshes:\n%s", len(errorLines), len(tc.collectors), strings.Join(errorLines, "\n"))
			}
			for _, line := range errorLines {
				if !strings.Contains(line, "code=") || len(line) > 2000 {
					t.Errorf("error line without a code or too long (%d bytes): %.300s", len(line), line)
				}
			}

			// The first refresh after the fault clears recovers fully.
			tc.clear(h)
			h.mustStep(t1.Add(time.Hour))
			h.assertModel()
		})
	}
}

// The exporter keeps serving while BSS is down: a Gather during a failed
// refresh answers from the snapshot without calling BSS.
func TestScrapesDuringAnOutageCallNothing(t *testing.T) {
	h := startSim(t, simOptions{start: midMarch})
	h.mustStep(midMarch)
	h.server.Server.Faults().FailNext(persistent)
	_ = h.step(midMarch.Add(time.Hour))
	before := h.server.Server.Stats().TotalRequests()
	for range 3 {
		if n := len(gather(t, h.exp)); n == 0 {
			t.Fatal("nothing gathered during the outage")
		}
	}
	if after := h.server.Server.Stats().TotalRequests(); after != before {
		t.Errorf("scrapes sent %d requests to BSS", after-before)
	}
}
