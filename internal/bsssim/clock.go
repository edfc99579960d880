package bsssim

import (
	"sync"
	"time"
)

// Clock is the simulated billing time: the moment the World is asked about,
// which decides what data has settled and which cycles are queryable.
// Wall-clock time, used for signature timestamps, nonces and the quota
// window, is separate and real (Config.WallClock).
type Clock interface {
	Now() time.Time
}

// systemClock is real time, the default billing clock.
type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// ManualClock is a billing clock that moves only when told to. Tests use it
// to stand at a chosen moment of the billing calendar: this package's, and
// those of bssclient, collector, backfill and the exporter, which is why it
// is exported although no program calls it (deadcode, which ignores tests,
// reports it and its methods; keep them).
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewManualClock returns a clock standing at t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{now: t} }

// Now returns the clock's current time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t, backwards if need be.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// Advance moves the clock forward by d (backwards for negative d).
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// OffsetClock starts at a chosen billing time and then advances with real
// time, so a demo can replay, say, the last days of a month at normal speed.
type OffsetClock struct {
	start   time.Time
	started time.Time // real time at construction; carries the monotonic reading
}

// NewOffsetClock returns a clock that reads start now and advances with real time.
func NewOffsetClock(start time.Time) *OffsetClock {
	return &OffsetClock{start: start, started: time.Now()}
}

// Now returns start plus the real time elapsed since the clock was made.
func (c *OffsetClock) Now() time.Time { return c.start.Add(time.Since(c.started)) }
