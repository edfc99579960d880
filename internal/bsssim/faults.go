package bsssim

import (
	"fmt"
	"iter"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Faults injects the failures a client of BSS must survive. Every setter is
// safe to call while the server is answering; counts are consumed one per
// matching answer, so a test can say "the next two pages are throttled" and
// observe exactly that.
//
// Faults hit only requests that passed authentication and the quota: they
// model BSS misbehaving, not the client. Of the faults that replace the answer
// at most one applies per request, in this order: drop, throttle, 5xx. The
// faults that corrupt a success answer (drift-total, repeat-token, malformed,
// truncate) apply to successful answers only.
//
// Three faults model the caller's side instead, and apply once the signature
// is verified: no-permission (a RAM policy lacking an action), sts-expired
// (the caller's STS token ran out) and clock-skew (the simulator's clocks and
// Date header run ahead of or behind the host's).
type Faults struct {
	mu         sync.Mutex
	latency    time.Duration
	counts     map[string]int // pending count of each of countedFaults
	failed     int            // 5xx answers given so far: odd ones are 503, even ones 500
	denied     []string       // actions answered NoPermission
	clockSkew  time.Duration
	onlyAction string
}

// NewFaults returns a Faults that injects nothing.
func NewFaults() *Faults { return &Faults{counts: map[string]int{}} }

// SetLatency adds d before every matching answer (on top of Config.Latency).
// It is capped at MaxLatency.
func (f *Faults) SetLatency(d time.Duration) {
	f.set(func() { f.latency = min(max(d, 0), MaxLatency) })
}

// ThrottleNext answers the next n matching requests with Throttling.User.
func (f *Faults) ThrottleNext(n int) { f.setCount(faultThrottle, n) }

// FailNext answers the next n matching requests with a server error,
// alternating HTTP 503 ServiceUnavailable and HTTP 500 InternalError.
func (f *Faults) FailNext(n int) { f.setCount(fault5xx, n) }

// DropNext closes the connection of the next n matching requests without
// answering them.
func (f *Faults) DropNext(n int) { f.setCount(faultDrop, n) }

// MalformNext answers the next n matching successful requests with an
// invalid JSON body and HTTP 200.
func (f *Faults) MalformNext(n int) { f.setCount(faultMalformed, n) }

// TruncateNext answers the next n matching successful requests with their
// JSON body cut in the middle (a complete HTTP exchange with a short body).
func (f *Faults) TruncateNext(n int) { f.setCount(faultTruncate, n) }

// DriftTotalCount makes the next n continuation pages (a walk's second page
// on) of the paged actions report one row more in TotalCount than the walk's
// first page did, as if the bill changed mid-walk.
func (f *Faults) DriftTotalCount(n int) { f.setCount(faultDriftTotal, n) }

// RepeatNextToken makes the next n NextToken pages that were asked for with a
// NextToken answer that same token again, which would loop a naive client.
func (f *Faults) RepeatNextToken(n int) { f.setCount(faultRepeatToken, n) }

// ExpireTokenNext answers the next n matching verified requests
// InvalidSecurityToken.Expired, as BSS answers a caller whose STS token
// expired.
func (f *Faults) ExpireTokenNext(n int) { f.setCount(faultSTSExpired, n) }

// DenyAction answers every verified request of action NoPermission, as if the
// caller's RAM policy lacked bssapi:<action>, until Clear.
func (f *Faults) DenyAction(action string) {
	f.set(func() {
		if !slices.Contains(f.denied, action) {
			f.denied = append(f.denied, action)
		}
	})
}

// SetClockSkew runs the simulator's clocks d ahead of the host's (behind for
// negative d): the billing clock, the clock signatures are checked against,
// and the Date header of every answer.
func (f *Faults) SetClockSkew(d time.Duration) { f.set(func() { f.clockSkew = d }) }

// OnlyAction restricts every fault to requests of one action; "" means all.
func (f *Faults) OnlyAction(action string) { f.set(func() { f.onlyAction = action }) }

// Clear removes every fault.
func (f *Faults) Clear() {
	f.set(func() {
		f.latency, f.onlyAction, f.failed, f.clockSkew, f.denied = 0, "", 0, 0, nil
		clear(f.counts)
	})
}

func (f *Faults) set(change func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change()
}

func (f *Faults) setCount(name string, n int) {
	f.set(func() {
		if f.counts == nil { // a Faults{} rather than NewFaults
			f.counts = map[string]int{}
		}
		f.counts[name] = max(n, 0)
	})
}

// String describes the pending faults in ParseFaults syntax.
func (f *Faults) String() string {
	if f == nil {
		return ""
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var parts []string
	if f.latency > 0 {
		parts = append(parts, "latency="+f.latency.String())
	}
	for _, name := range countedFaults {
		if n := f.counts[name]; n > 0 {
			parts = append(parts, name+"="+strconv.Itoa(n))
		}
	}
	for _, a := range f.denied {
		parts = append(parts, faultNoPermission+"="+a)
	}
	if f.clockSkew != 0 {
		parts = append(parts, faultClockSkew+"="+f.clockSkew.String())
	}
	if f.onlyAction != "" {
		parts = append(parts, "action="+f.onlyAction)
	}
	return strings.Join(parts, ",")
}

// Fault names, as ParseFaults spells them and as Stats.Faults counts them.
const (
	faultLatency      = "latency"
	faultThrottle     = "throttle"
	fault5xx          = "5xx"
	faultDrop         = "drop"
	faultMalformed    = "malformed"
	faultTruncate     = "truncate"
	faultDriftTotal   = "drift-total"
	faultRepeatToken  = "repeat-token"
	faultSTSExpired   = "sts-expired"
	faultNoPermission = "no-permission"
	faultClockSkew    = "clock-skew"
	faultAction       = "action"
)

// ParseFaults reads the command-line syntax: comma-separated name=value items,
// for example "latency=2s,throttle=5,5xx=3,drop=2,malformed=1,truncate=1,
// drift-total=1,repeat-token=1,sts-expired=1,no-permission=DescribeSplitItemBill,
// clock-skew=-5m,action=DescribeInstanceBill". Counts are non-negative
// integers; latency is a non-negative Go duration, clock-skew a signed one;
// no-permission (which may repeat) and action name a BSS action this simulator
// serves. An empty spec injects nothing. Errors name the bad item.
func ParseFaults(spec string) (*Faults, error) {
	f := NewFaults()
	for item := range specItems(spec) {
		name, value, ok := strings.Cut(item, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || value == "" {
			return nil, fmt.Errorf("fault %q: want name=value", shorten(item))
		}
		switch name {
		case faultLatency:
			d, err := time.ParseDuration(value)
			if err != nil || d < 0 || d > MaxLatency {
				return nil, fmt.Errorf("fault %q: latency must be a duration from 0 to %s, such as 2s", shorten(item), MaxLatency)
			}
			f.SetLatency(d)
		case faultClockSkew:
			d, err := time.ParseDuration(value)
			if err != nil {
				return nil, fmt.Errorf("fault %q: clock-skew must be a duration such as -5m or 90s", shorten(item))
			}
			f.SetClockSkew(d)
		case faultAction, faultNoPermission:
			if !slices.Contains(servedActions, value) {
				return nil, fmt.Errorf("fault %q: unknown action, want one of %s", shorten(item), strings.Join(servedActions, ", "))
			}
			if name == faultAction {
				f.OnlyAction(value)
			} else {
				f.DenyAction(value)
			}
		case faultThrottle, fault5xx, faultDrop, faultMalformed, faultTruncate, faultDriftTotal, faultRepeatToken, faultSTSExpired:
			n, err := strconv.Atoi(value)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("fault %q: want a non-negative count", shorten(item))
			}
			f.setCount(name, n)
		default:
			return nil, fmt.Errorf("fault %q: unknown fault %q, want one of %s", shorten(item), shorten(name), strings.Join(faultNames, ", "))
		}
	}
	return f, nil
}

// specItems are the items of a comma-separated spec, as ParseFaults and
// ParseOSSFaults read them: trimmed, and the empty ones left out.
func specItems(spec string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for item := range strings.SplitSeq(spec, ",") {
			if item = strings.TrimSpace(item); item != "" && !yield(item) {
				return
			}
		}
	}
}

// countedFaults are the faults that count down, in String's order.
var countedFaults = []string{faultThrottle, fault5xx, faultDrop, faultMalformed, faultTruncate,
	faultDriftTotal, faultRepeatToken, faultSTSExpired}

// faultNames are every name ParseFaults reads.
var faultNames = slices.Concat([]string{faultLatency}, countedFaults, []string{faultNoPermission, faultClockSkew, faultAction})

// skew is the clock-skew fault's offset.
func (f *Faults) skew() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.clockSkew
}

// callerFault is the caller-side fault for a verified request of action, if
// any: codeNoPermission or codeSecurityTokenExpired. action restricts
// sts-expired as it does every counted fault; no-permission names its own.
func (f *Faults) callerFault(action string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case slices.Contains(f.denied, action):
		return codeNoPermission
	case f.counts[faultSTSExpired] > 0 && f.applies(action):
		f.counts[faultSTSExpired]--
		return codeSecurityTokenExpired
	}
	return ""
}

// answerFault is what replaces the answer to one request.
type answerFault int

const (
	noAnswerFault answerFault = iota
	dropConnection
	throttleAnswer
	unavailableAnswer // HTTP 503 ServiceUnavailable
	internalErrAnswer // HTTP 500 InternalError
)

func (f *Faults) applies(action string) bool {
	return f.onlyAction == "" || f.onlyAction == action
}

// latencyFor returns the injected latency for an action.
func (f *Faults) latencyFor(action string) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.applies(action) {
		return 0
	}
	return f.latency
}

// takeAnswerFault consumes at most one answer-replacing fault.
func (f *Faults) takeAnswerFault(action string) answerFault {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.applies(action) {
		return noAnswerFault
	}
	switch {
	case f.counts[faultDrop] > 0:
		f.counts[faultDrop]--
		return dropConnection
	case f.counts[faultThrottle] > 0:
		f.counts[faultThrottle]--
		return throttleAnswer
	case f.counts[fault5xx] > 0:
		f.counts[fault5xx]--
		f.failed++
		if f.failed%2 == 1 {
			return unavailableAnswer
		}
		return internalErrAnswer
	}
	return noAnswerFault
}

// take consumes one count of a success-corrupting fault if it is pending.
func (f *Faults) take(action, name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.applies(action) || f.counts[name] == 0 {
		return false
	}
	f.counts[name]--
	return true
}
