package bssclient

import (
	"context"
	"sync/atomic"
)

// A request, as this package counts it, is one HTTP attempt: what BSS's
// quota counts, failed attempts and retries included. The Observer is told
// of each (RequestDone); a caller that wants the requests of one piece of
// work (a collector's refresh, a backfill's day) carries a counter in the
// context instead of wrapping the client. Work inside other work (doctor
// refreshing collectors) counts in both.

type requestCounterKey struct{}

// requestCounter is a counter and the counters of the work around it.
type requestCounter struct {
	n     *atomic.Int64
	outer *requestCounter
}

// WithRequestCounter returns ctx whose requests add to n, and to the
// counters ctx already carries.
func WithRequestCounter(ctx context.Context, n *atomic.Int64) context.Context {
	outer, _ := ctx.Value(requestCounterKey{}).(*requestCounter)
	return context.WithValue(ctx, requestCounterKey{}, &requestCounter{n: n, outer: outer})
}

// countRequest adds one request to each counter ctx carries.
func countRequest(ctx context.Context) {
	for c, _ := ctx.Value(requestCounterKey{}).(*requestCounter); c != nil; c = c.outer {
		c.n.Add(1)
	}
}
