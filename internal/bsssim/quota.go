package bsssim

import (
	"sync"
	"time"
)

// DefaultQuotaPerSecond is BSS's documented flow control: "Each account is
// limited to 10 queries per second" (QueryAccountBill, DescribeInstanceBill,
// DescribeSplitItemBill pages). The quota page also lists 600/60 s per API;
// the simulator keeps the stricter per-second figure, shared by all APIs.
const DefaultQuotaPerSecond = 10

// quotaWindow is the span a quota counts requests over.
const quotaWindow = time.Second

// quota is a sliding one-second window per account: a request is admitted
// when fewer than limit requests were admitted during the second before it.
// Rejected requests do not count. It reads the wall clock it is handed, so
// tests decide what "the same second" means without sleeping.
type quota struct {
	mu       sync.Mutex
	limit    int         // ≤ 0: unlimited
	admitted []time.Time // ring of the last limit admissions, oldest at next
	next     int
}

func newQuota(perSecond int) *quota {
	q := &quota{limit: perSecond}
	if perSecond > 0 {
		q.admitted = make([]time.Time, 0, perSecond)
	}
	return q
}

// admit records a request at now and reports whether it is within quota. When
// it is not, retryAfter is how long until the oldest admission leaves the window.
func (q *quota) admit(now time.Time) (ok bool, retryAfter time.Duration) {
	if q.limit <= 0 {
		return true, 0
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.admitted) < q.limit {
		q.admitted = append(q.admitted, now)
		return true, 0
	}
	oldest := q.admitted[q.next]
	if since := now.Sub(oldest); since < quotaWindow {
		return false, quotaWindow - since
	}
	q.admitted[q.next] = now
	q.next = (q.next + 1) % q.limit
	return true, 0
}
