package bssclient

import (
	"context"
	"sync/atomic"
)

// A request, as this package counts it, is one HTTP attempt: what BSS's
// quota counts, failed attempts and retries included. The Observer is told
// of each (RequestDone); a caller that wants the requests of one piece of
// work (a collector's refresh, a backfill's day) carries a counter in the
// context instead of wrapping the client.

type requestCounterKey struct{}

// WithRequestCounter returns ctx whose requests add to n.
func WithRequestCounter(ctx context.Context, n *atomic.Int64) context.Context {
	return context.WithValue(ctx, requestCounterKey{}, n)
}

// countRequest adds one request to the counter ctx carries, if any.
func countRequest(ctx context.Context) {
	if n, ok := ctx.Value(requestCounterKey{}).(*atomic.Int64); ok {
		n.Add(1)
	}
}
