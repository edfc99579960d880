package bsssim

import (
	"testing"
	"time"
)

// TestDelayTable states the documented delays as dates: amounts 24 h after
// the day ends (UTC+8), instance attributes 48 h, split items 72 h; a cycle
// final at 12:00 UTC+8 on the 3rd of the next month, the 4th for split
// bills; 18 cycles served, 12 for split bills.
func TestDelayTable(t *testing.T) {
	at := func(month time.Month, day, hour int) time.Time {
		return time.Date(2024, month, day, hour, 0, 0, 0, billingZone)
	}
	day := Day{2024, time.May, 31}
	for _, tc := range []struct {
		kind              DataKind
		settled, final    time.Time
		oldestAtMidJune24 Cycle
	}{
		{KindAmounts, at(time.June, 2, 0), at(time.June, 3, 12), Cycle{2023, time.January}},
		{KindInstanceAttributes, at(time.June, 3, 0), at(time.June, 3, 12), Cycle{2023, time.January}},
		{KindSplitItems, at(time.June, 4, 0), at(time.June, 4, 12), Cycle{2023, time.July}},
	} {
		t.Run(tc.kind.String(), func(t *testing.T) {
			if got := day.SettledAt(tc.kind); !got.Equal(tc.settled) {
				t.Errorf("%s settles at %v, want %v", day, got, tc.settled)
			}
			if got := day.Cycle().FinalAt(tc.kind); !got.Equal(tc.final) {
				t.Errorf("%s is final at %v, want %v", day.Cycle(), got, tc.final)
			}
			if got := oldestQueryable(at(time.June, 15, 12), tc.kind); got != tc.oldestAtMidJune24 {
				t.Errorf("oldest queryable cycle %s, want %s", got, tc.oldestAtMidJune24)
			}
		})
	}
	// A billing day is a UTC+8 calendar day: 16:00 UTC is the next day.
	if got := dayOf(time.Date(2024, time.May, 31, 16, 0, 0, 0, time.UTC)); got != (Day{2024, time.June, 1}) {
		t.Errorf("2024-05-31T16:00Z is billing day %s, want 2024-06-01", got)
	}
	for _, bad := range []string{"2024-5-31", "2024-05-32", "2024-05-31 ", ""} {
		if _, err := parseDay(bad); err == nil {
			t.Errorf("parseDay(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"2024-5", "2024-13", "2024-05-01"} {
		if _, err := parseCycle(bad); err == nil {
			t.Errorf("parseCycle(%q) accepted", bad)
		}
	}
}

// TestMoneyIsExact: amounts are written and read as decimal text, never
// through a float.
func TestMoneyIsExact(t *testing.T) {
	for _, tc := range []struct {
		units int64
		text  string
	}{
		{0, "0.00"}, {1, "0.00000001"}, {-1, "-0.00000001"}, {150_000_000, "1.50"},
		{123_456_789_012_345_678, "1234567890.12345678"}, {-9_007_199_254_740_993, "-90071992.54740993"},
	} {
		m := Money(tc.units)
		if got := m.String(); got != tc.text {
			t.Errorf("Money(%d) = %q, want %q", tc.units, got, tc.text)
		}
		var back Money
		if err := back.UnmarshalJSON([]byte(tc.text)); err != nil || back != m {
			t.Errorf("reading %q: %d, %v; want %d", tc.text, back, err, tc.units)
		}
	}
	for _, bad := range []string{"1e3", "1,000", "0.123456789", "abc", "1.2.3"} {
		if _, err := parseMoney(bad); err == nil {
			t.Errorf("parseMoney(%q) accepted", bad)
		}
	}
}
