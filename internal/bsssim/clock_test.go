package bsssim

import (
	"testing"
	"time"
)

func TestManualClock(t *testing.T) {
	c := NewManualClock(testBillingNow)
	if !c.Now().Equal(testBillingNow) {
		t.Errorf("Now %v, want %v", c.Now(), testBillingNow)
	}
	c.Advance(36 * time.Hour)
	if want := testBillingNow.Add(36 * time.Hour); !c.Now().Equal(want) {
		t.Errorf("after Advance: %v, want %v", c.Now(), want)
	}
	earlier := testBillingNow.AddDate(0, -2, 0)
	c.Set(earlier)
	if !c.Now().Equal(earlier) {
		t.Errorf("after Set: %v, want %v", c.Now(), earlier)
	}
}

func TestOffsetClockStartsAtItsStart(t *testing.T) {
	c := NewOffsetClock(testBillingNow)
	first := c.Now()
	if first.Before(testBillingNow) || first.After(testBillingNow.Add(time.Hour)) {
		t.Errorf("Now %v, want about %v", first, testBillingNow)
	}
	if second := c.Now(); second.Before(first) {
		t.Errorf("clock went back from %v to %v", first, second)
	}
}

func TestSystemClockIsDefault(t *testing.T) {
	s, err := newServer(Config{}, newFakeWorld(1, 1, true))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.clock.(systemClock); !ok {
		t.Errorf("default billing clock %T", s.clock)
	}
	if s.wall == nil || s.quota.limit != DefaultQuotaPerSecond || s.faults == nil {
		t.Errorf("defaults not filled: wall %v, quota %d, faults %v", s.wall != nil, s.quota.limit, s.faults)
	}
}
