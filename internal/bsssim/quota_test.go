package bsssim

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

func TestQuotaSlidingWindow(t *testing.T) {
	t0 := testWallNow
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	tests := []struct {
		name  string
		limit int
		steps []struct {
			ms   int
			want bool
		}
	}{
		{"burst of three then refused", 3, []struct {
			ms   int
			want bool
		}{{0, true}, {0, true}, {0, true}, {0, false}, {999, false}, {1000, true}, {1000, true}, {1000, true}, {1000, false}}},
		{"window slides with each admission", 2, []struct {
			ms   int
			want bool
		}{{0, true}, {600, true}, {900, false}, {1000, true}, {1500, false}, {1600, true}}},
		{"refusals do not count", 1, []struct {
			ms   int
			want bool
		}{{0, true}, {500, false}, {999, false}, {1000, true}}},
		{"unlimited", -1, []struct {
			ms   int
			want bool
		}{{0, true}, {0, true}, {0, true}, {0, true}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := newQuota(tc.limit)
			for i, s := range tc.steps {
				ok, retry := q.admit(at(s.ms))
				if ok != s.want {
					t.Fatalf("step %d at %d ms: admitted %v, want %v", i, s.ms, ok, s.want)
				}
				if !ok && (retry <= 0 || retry > quotaWindow) {
					t.Errorf("step %d: retryAfter %v outside (0, 1s]", i, retry)
				}
			}
		})
	}
}

func TestQuotaIsPerAccount(t *testing.T) {
	second := Credential{AccessKeyID: "LTAI5tSecond", AccessKeySecret: "SecondSecret"}
	e := newEnv(t, nil, withQuota(10), withCredentials(Credential{AccessKeyID: TestAccessKeyID, AccessKeySecret: TestAccessKeySecret}, second))
	creds := []signingKey{testCred, {AccessKeyID: second.AccessKeyID, AccessKeySecret: second.AccessKeySecret}}

	// Eleven requests in the same wall-clock second, alternating keys and
	// actions: the account's quota is shared, so exactly one is refused.
	actions := []string{actionQueryAccountBalance, actionQueryBillToOSSSubscription}
	var throttled []response
	for i := range 11 {
		r := e.do(e.v3Request(actions[i%2], nil, creds[i%2], e.wall.Now(), newNonce()))
		if r.status != http.StatusOK {
			throttled = append(throttled, r)
		}
	}
	if len(throttled) != 1 {
		t.Fatalf("%d requests refused, want 1", len(throttled))
	}
	g := throttled[0].errorEnvelope(t, http.StatusBadRequest, codeThrottlingUser)
	if g.Message != "Request was denied due to user flow control." {
		t.Errorf("message %q", g.Message)
	}
	if h := throttled[0].header.Get("x-ratelimit-user"); h != "Limit:10,Remain:0,TimeLeft:1000,Reset:"+strconv.FormatInt(e.wall.Now().Add(time.Second).UnixMilli(), 10) {
		t.Errorf("x-ratelimit-user %q", h)
	}
	if st := e.server.Stats(); st.Throttled != 1 || st.Codes[codeThrottlingUser] != 1 {
		t.Errorf("stats %+v", st)
	}

	// A second later the window has room again.
	e.wall.Advance(time.Second)
	e.callV3(actionQueryAccountBalance, nil).successEnvelope(t, "200", "success")
}

func TestQuotaDefaultsToTenPerSecond(t *testing.T) {
	e := newEnv(t, nil, withQuota(0))
	ok := 0
	for range 12 {
		if e.callV3(actionQueryAccountBalance, nil).status == http.StatusOK {
			ok++
		}
	}
	if ok != DefaultQuotaPerSecond {
		t.Errorf("%d admitted, want %d", ok, DefaultQuotaPerSecond)
	}
}
