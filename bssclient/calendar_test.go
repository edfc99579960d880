package bssclient

import (
	"strings"
	"testing"
	"time"
)

// calendarTime parses an RFC 3339 literal. Every expected instant below is
// written out this way rather than computed with the calendar under test;
// "+08:00" literals read as BSS's clock, "Z" literals as the wire's.
func calendarTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("bad literal %q: %v", s, err)
	}
	return v
}

func TestCalendarBillingZoneIsUTC8(t *testing.T) {
	// INFERRED from the "(UTC+8)" final-bill times of the DescribeSplitItemBill
	// page (see calendar.go); pinned so that a change is deliberate.
	if _, offset := time.Date(2024, 7, 1, 0, 0, 0, 0, BillingZone).Zone(); offset != 8*60*60 {
		t.Errorf("BillingZone offset = %d s, want 28800", offset)
	}
}

func TestDayOf(t *testing.T) {
	for _, tc := range []struct {
		at   string
		want Day
	}{
		// 16:00Z is midnight in UTC+8.
		{"2024-03-09T15:59:59Z", Day{2024, time.March, 9}},
		{"2024-03-09T15:59:59.999999999Z", Day{2024, time.March, 9}},
		{"2024-03-09T16:00:00Z", Day{2024, time.March, 10}},
		{"2024-03-10T00:00:00+08:00", Day{2024, time.March, 10}},
		{"2024-03-10T23:59:59+08:00", Day{2024, time.March, 10}},
		{"2024-03-10T01:00:00-05:00", Day{2024, time.March, 10}}, // 14:00 UTC+8
		{"2024-03-10T11:00:00-05:00", Day{2024, time.March, 11}}, // 00:00 UTC+8
		{"2023-12-31T15:59:59Z", Day{2023, time.December, 31}},
		{"2023-12-31T16:00:00Z", Day{2024, time.January, 1}},
		{"2024-02-28T16:00:00Z", Day{2024, time.February, 29}},
		{"2028-02-29T15:59:59Z", Day{2028, time.February, 29}},
	} {
		if got := DayOf(calendarTime(t, tc.at)); got != tc.want {
			t.Errorf("DayOf(%s) = %s, want %s", tc.at, got, tc.want)
		}
	}
}

func TestCycleOf(t *testing.T) {
	for _, tc := range []struct {
		at   string
		want Cycle
	}{
		{"2024-01-31T15:59:59Z", Cycle{2024, time.January}},
		{"2024-01-31T16:00:00Z", Cycle{2024, time.February}},
		{"2024-12-31T16:00:00Z", Cycle{2025, time.January}},
		{"2025-01-01T00:00:00Z", Cycle{2025, time.January}},
	} {
		if got := CycleOf(calendarTime(t, tc.at)); got != tc.want {
			t.Errorf("CycleOf(%s) = %s, want %s", tc.at, got, tc.want)
		}
	}
}

func TestDayStartEnd(t *testing.T) {
	for _, tc := range []struct {
		day        Day
		start, end string
	}{
		{Day{2024, time.March, 10}, "2024-03-09T16:00:00Z", "2024-03-10T16:00:00Z"},
		{Day{2024, time.January, 31}, "2024-01-31T00:00:00+08:00", "2024-02-01T00:00:00+08:00"},
		{Day{2024, time.February, 29}, "2024-02-29T00:00:00+08:00", "2024-03-01T00:00:00+08:00"},
		{Day{2023, time.February, 28}, "2023-02-28T00:00:00+08:00", "2023-03-01T00:00:00+08:00"},
		{Day{2024, time.December, 31}, "2024-12-30T16:00:00Z", "2024-12-31T16:00:00Z"},
	} {
		start, end := tc.day.Start(), tc.day.End()
		if want := calendarTime(t, tc.start); !start.Equal(want) {
			t.Errorf("%s.Start() = %s, want %s", tc.day, start, want)
		}
		if want := calendarTime(t, tc.end); !end.Equal(want) {
			t.Errorf("%s.End() = %s, want %s", tc.day, end, want)
		}
		// Samples are stamped with Start; it should print in BSS's clock.
		if _, offset := start.Zone(); offset != 8*60*60 {
			t.Errorf("%s.Start() zone offset = %d, want 28800", tc.day, offset)
		}
	}
}

func TestDayAddDays(t *testing.T) {
	for _, tc := range []struct {
		day  Day
		n    int
		want Day
	}{
		{Day{2024, time.March, 10}, 0, Day{2024, time.March, 10}},
		{Day{2024, time.January, 31}, 1, Day{2024, time.February, 1}},
		{Day{2024, time.February, 1}, -1, Day{2024, time.January, 31}},
		{Day{2024, time.April, 30}, 1, Day{2024, time.May, 1}},
		{Day{2024, time.December, 31}, 1, Day{2025, time.January, 1}},
		{Day{2025, time.January, 1}, -1, Day{2024, time.December, 31}},
		{Day{2023, time.February, 28}, 1, Day{2023, time.March, 1}},
		{Day{2027, time.March, 1}, -1, Day{2027, time.February, 28}},
		{Day{2028, time.February, 28}, 1, Day{2028, time.February, 29}},
		{Day{2028, time.February, 29}, 1, Day{2028, time.March, 1}},
		{Day{2028, time.March, 1}, -1, Day{2028, time.February, 29}},
		{Day{2028, time.January, 1}, 365, Day{2028, time.December, 31}}, // leap year
		{Day{2027, time.January, 1}, 365, Day{2028, time.January, 1}},
		{Day{2029, time.January, 1}, -366, Day{2028, time.January, 1}},
		{Day{2024, time.March, 10}, -70, Day{2023, time.December, 31}},
	} {
		if got := tc.day.AddDays(tc.n); got != tc.want {
			t.Errorf("%s.AddDays(%d) = %s, want %s", tc.day, tc.n, got, tc.want)
		}
	}
}

func TestDayMethods(t *testing.T) {
	d := Day{2024, time.March, 5}
	if got := d.String(); got != "2024-03-05" {
		t.Errorf("String() = %q", got)
	}
	if got := (Day{987, time.January, 2}).String(); got != "0987-01-02" {
		t.Errorf("String() of year 987 = %q", got)
	}
	if got := d.Cycle(); got != (Cycle{2024, time.March}) {
		t.Errorf("Cycle() = %s", got)
	}
	if d.IsZero() || !(Day{}).IsZero() {
		t.Error("IsZero wrong")
	}
	for _, tc := range []struct {
		a, b Day
		want bool
	}{
		{Day{2024, time.March, 5}, Day{2024, time.March, 6}, true},
		{Day{2024, time.March, 6}, Day{2024, time.March, 5}, false},
		{Day{2024, time.March, 5}, Day{2024, time.March, 5}, false},
		{Day{2023, time.December, 31}, Day{2024, time.January, 1}, true},
		{Day{2024, time.February, 29}, Day{2024, time.March, 1}, true},
	} {
		if got := tc.a.Before(tc.b); got != tc.want {
			t.Errorf("%s.Before(%s) = %t, want %t", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestParseDay(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Day
		wantErr string
	}{
		{in: "2024-03-10", want: Day{2024, time.March, 10}},
		{in: "2021-03-01", want: Day{2021, time.March, 1}}, // QueryAccountBill example
		{in: "2028-02-29", want: Day{2028, time.February, 29}},
		{in: "2024-12-31", want: Day{2024, time.December, 31}},
		{in: "2023-02-29", wantErr: `invalid billing date "2023-02-29": want YYYY-MM-DD`},
		{in: "2024-02-30", wantErr: `invalid billing date "2024-02-30": want YYYY-MM-DD`},
		{in: "2024-04-31", wantErr: `invalid billing date "2024-04-31": want YYYY-MM-DD`},
		{in: "2024-13-01", wantErr: `invalid billing date "2024-13-01": want YYYY-MM-DD`},
		{in: "2024-00-10", wantErr: `invalid billing date "2024-00-10": want YYYY-MM-DD`},
		{in: "2024-01-00", wantErr: `invalid billing date "2024-01-00": want YYYY-MM-DD`},
		{in: "2024-01-32", wantErr: `invalid billing date "2024-01-32": want YYYY-MM-DD`},
		{in: "2024-1-5", wantErr: `invalid billing date "2024-1-5": want YYYY-MM-DD`},
		{in: "20240310", wantErr: `invalid billing date "20240310": want YYYY-MM-DD`},
		{in: "2024/03/10", wantErr: `invalid billing date "2024/03/10": want YYYY-MM-DD`},
		{in: "2024-03", wantErr: `invalid billing date "2024-03": want YYYY-MM-DD`}, // a cycle, as one doc example shows
		{in: " 2024-03-10", wantErr: `invalid billing date " 2024-03-10": want YYYY-MM-DD`},
		{in: "2024-03-10T00:00:00Z", wantErr: `invalid billing date "2024-03-10T00:00:00Z": want YYYY-MM-DD`},
		{in: "", wantErr: `invalid billing date "": want YYYY-MM-DD`},
		{in: strings.Repeat("2", 45), wantErr: `invalid billing date "` + strings.Repeat("2", 40) + `…": want YYYY-MM-DD`},
	} {
		got, err := ParseDay(tc.in)
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr || !got.IsZero() {
				t.Errorf("ParseDay(%q) = %s, %v; want error %s", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseDay(%q) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
		if got.String() != tc.in {
			t.Errorf("ParseDay(%q).String() = %q", tc.in, got.String())
		}
	}
}

func TestParseCycle(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Cycle
		wantErr string
	}{
		{in: "2024-03", want: Cycle{2024, time.March}},
		{in: "2018-07", want: Cycle{2018, time.July}}, // QueryAccountBill example
		{in: "2024-12", want: Cycle{2024, time.December}},
		{in: "2028-02", want: Cycle{2028, time.February}},
		{in: "2024-13", wantErr: `invalid billing cycle "2024-13": want YYYY-MM`},
		{in: "2024-00", wantErr: `invalid billing cycle "2024-00": want YYYY-MM`},
		{in: "2024-3", wantErr: `invalid billing cycle "2024-3": want YYYY-MM`},
		{in: "202403", wantErr: `invalid billing cycle "202403": want YYYY-MM`},
		{in: "2024-03-01", wantErr: `invalid billing cycle "2024-03-01": want YYYY-MM`},
		{in: "24-03", wantErr: `invalid billing cycle "24-03": want YYYY-MM`},
		{in: "March 2024", wantErr: `invalid billing cycle "March 2024": want YYYY-MM`},
		{in: "", wantErr: `invalid billing cycle "": want YYYY-MM`},
	} {
		got, err := ParseCycle(tc.in)
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr || !got.IsZero() {
				t.Errorf("ParseCycle(%q) = %s, %v; want error %s", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseCycle(%q) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
		if got.String() != tc.in {
			t.Errorf("ParseCycle(%q).String() = %q", tc.in, got.String())
		}
	}
}

func TestCycleArithmetic(t *testing.T) {
	for _, tc := range []struct {
		c                 Cycle
		next, prev        Cycle
		months            int
		plusMonths        Cycle
		firstDay, lastDay Day
		start             string
	}{
		{
			c: Cycle{2024, time.March}, next: Cycle{2024, time.April}, prev: Cycle{2024, time.February},
			months: -17, plusMonths: Cycle{2022, time.October},
			firstDay: Day{2024, time.March, 1}, lastDay: Day{2024, time.March, 31},
			start: "2024-02-29T16:00:00Z",
		},
		{
			c: Cycle{2024, time.December}, next: Cycle{2025, time.January}, prev: Cycle{2024, time.November},
			months: 1, plusMonths: Cycle{2025, time.January},
			firstDay: Day{2024, time.December, 1}, lastDay: Day{2024, time.December, 31},
			start: "2024-12-01T00:00:00+08:00",
		},
		{
			c: Cycle{2025, time.January}, next: Cycle{2025, time.February}, prev: Cycle{2024, time.December},
			months: -13, plusMonths: Cycle{2023, time.December},
			firstDay: Day{2025, time.January, 1}, lastDay: Day{2025, time.January, 31},
			start: "2024-12-31T16:00:00Z",
		},
		{
			c: Cycle{2024, time.November}, next: Cycle{2024, time.December}, prev: Cycle{2024, time.October},
			months: 14, plusMonths: Cycle{2026, time.January},
			firstDay: Day{2024, time.November, 1}, lastDay: Day{2024, time.November, 30},
			start: "2024-11-01T00:00:00+08:00",
		},
		{
			c: Cycle{2024, time.February}, next: Cycle{2024, time.March}, prev: Cycle{2024, time.January},
			months: 0, plusMonths: Cycle{2024, time.February},
			firstDay: Day{2024, time.February, 1}, lastDay: Day{2024, time.February, 29},
			start: "2024-02-01T00:00:00+08:00",
		},
		{
			c: Cycle{2023, time.February}, next: Cycle{2023, time.March}, prev: Cycle{2023, time.January},
			months: 48, plusMonths: Cycle{2027, time.February},
			firstDay: Day{2023, time.February, 1}, lastDay: Day{2023, time.February, 28},
			start: "2023-02-01T00:00:00+08:00",
		},
		{
			c: Cycle{2028, time.February}, next: Cycle{2028, time.March}, prev: Cycle{2028, time.January},
			months: -120, plusMonths: Cycle{2018, time.February},
			firstDay: Day{2028, time.February, 1}, lastDay: Day{2028, time.February, 29},
			start: "2028-02-01T00:00:00+08:00",
		},
		{ // centuries are not leap years unless divisible by 400
			c: Cycle{2100, time.February}, next: Cycle{2100, time.March}, prev: Cycle{2100, time.January},
			months: -1, plusMonths: Cycle{2100, time.January},
			firstDay: Day{2100, time.February, 1}, lastDay: Day{2100, time.February, 28},
			start: "2100-02-01T00:00:00+08:00",
		},
		{
			c: Cycle{2000, time.February}, next: Cycle{2000, time.March}, prev: Cycle{2000, time.January},
			months: 1, plusMonths: Cycle{2000, time.March},
			firstDay: Day{2000, time.February, 1}, lastDay: Day{2000, time.February, 29},
			start: "2000-02-01T00:00:00+08:00",
		},
	} {
		if got := tc.c.Next(); got != tc.next {
			t.Errorf("%s.Next() = %s, want %s", tc.c, got, tc.next)
		}
		if got := tc.c.Prev(); got != tc.prev {
			t.Errorf("%s.Prev() = %s, want %s", tc.c, got, tc.prev)
		}
		if got := tc.c.AddMonths(tc.months); got != tc.plusMonths {
			t.Errorf("%s.AddMonths(%d) = %s, want %s", tc.c, tc.months, got, tc.plusMonths)
		}
		if got := tc.c.FirstDay(); got != tc.firstDay {
			t.Errorf("%s.FirstDay() = %s, want %s", tc.c, got, tc.firstDay)
		}
		if got := tc.c.LastDay(); got != tc.lastDay {
			t.Errorf("%s.LastDay() = %s, want %s", tc.c, got, tc.lastDay)
		}
		if got, want := tc.c.Start(), calendarTime(t, tc.start); !got.Equal(want) {
			t.Errorf("%s.Start() = %s, want %s", tc.c, got, want)
		}
		if !tc.c.Before(tc.next) || tc.next.Before(tc.c) || tc.c.Before(tc.c) || !tc.prev.Before(tc.c) {
			t.Errorf("%s.Before disagrees with Next/Prev", tc.c)
		}
		if tc.c.IsZero() {
			t.Errorf("%s.IsZero() = true", tc.c)
		}
	}
	if !(Cycle{}).IsZero() {
		t.Error("Cycle{}.IsZero() = false")
	}
	if got := (Cycle{2024, time.March}).String(); got != "2024-03" {
		t.Errorf("String() = %q", got)
	}
}

func TestCalendarDataKind(t *testing.T) {
	for _, tc := range []struct {
		kind      DataKind
		name      string
		delay     time.Duration
		retention int
	}{
		{KindAmounts, "amounts", 24 * time.Hour, 18},
		{KindInstanceAttributes, "instance_attributes", 48 * time.Hour, 18},
		{KindSplitItems, "split_items", 72 * time.Hour, 12},
	} {
		if got := tc.kind.String(); got != tc.name {
			t.Errorf("DataKind(%d).String() = %q, want %q", int(tc.kind), got, tc.name)
		}
		if got := tc.kind.Delay(); got != tc.delay {
			t.Errorf("%s.Delay() = %s, want %s", tc.kind, got, tc.delay)
		}
		if got := tc.kind.RetentionCycles(); got != tc.retention {
			t.Errorf("%s.RetentionCycles() = %d, want %d", tc.kind, got, tc.retention)
		}
	}
	if got := DataKind(7).String(); got != "DataKind(7)" {
		t.Errorf("DataKind(7).String() = %q", got)
	}
}

// settleCases: a day's data of each kind settles 24/48/72 h after the day
// ends, i.e. at 00:00 UTC+8 of day+2/+3/+4.
var settleCases = []struct {
	day                         Day
	amounts, attributes, splits string // SettledAt per kind
}{
	{Day{2024, time.March, 10}, "2024-03-12T00:00:00+08:00", "2024-03-13T00:00:00+08:00", "2024-03-14T00:00:00+08:00"},
	{Day{2024, time.March, 10}, "2024-03-11T16:00:00Z", "2024-03-12T16:00:00Z", "2024-03-13T16:00:00Z"},
	{Day{2024, time.December, 31}, "2025-01-02T00:00:00+08:00", "2025-01-03T00:00:00+08:00", "2025-01-04T00:00:00+08:00"},
	{Day{2024, time.December, 29}, "2024-12-31T00:00:00+08:00", "2025-01-01T00:00:00+08:00", "2025-01-02T00:00:00+08:00"},
	{Day{2028, time.February, 27}, "2028-02-29T00:00:00+08:00", "2028-03-01T00:00:00+08:00", "2028-03-02T00:00:00+08:00"},
	{Day{2028, time.February, 28}, "2028-03-01T00:00:00+08:00", "2028-03-02T00:00:00+08:00", "2028-03-03T00:00:00+08:00"},
	{Day{2027, time.February, 28}, "2027-03-02T00:00:00+08:00", "2027-03-03T00:00:00+08:00", "2027-03-04T00:00:00+08:00"},
}

func TestSettledAt(t *testing.T) {
	for _, tc := range settleCases {
		for kind, want := range map[DataKind]string{
			KindAmounts:            tc.amounts,
			KindInstanceAttributes: tc.attributes,
			KindSplitItems:         tc.splits,
		} {
			if got := tc.day.SettledAt(kind); !got.Equal(calendarTime(t, want)) {
				t.Errorf("%s.SettledAt(%s) = %s, want %s", tc.day, kind, got, want)
			}
		}
	}
}

func TestNewestSettledDay(t *testing.T) {
	for _, tc := range settleCases {
		for kind, boundary := range map[DataKind]string{
			KindAmounts:            tc.amounts,
			KindInstanceAttributes: tc.attributes,
			KindSplitItems:         tc.splits,
		} {
			at := calendarTime(t, boundary)
			if got := newestSettledDay(at, kind); got != tc.day {
				t.Errorf("newestSettledDay(%s, %s) = %s, want %s", boundary, kind, got, tc.day)
			}
			before := at.Add(-time.Nanosecond)
			if got, want := newestSettledDay(before, kind), tc.day.AddDays(-1); got != want {
				t.Errorf("newestSettledDay(%s - 1ns, %s) = %s, want %s", boundary, kind, got, want)
			}
		}
	}
}

// TestNewestSettledDayAgreesWithSettledAt checks the two views of one rule
// hour by hour over a leap-year turn: the newest settled day has settled, and
// the day after it has not.
func TestNewestSettledDayAgreesWithSettledAt(t *testing.T) {
	from := calendarTime(t, "2027-12-25T00:30:00Z")
	to := calendarTime(t, "2028-03-05T00:00:00Z")
	for _, kind := range []DataKind{KindAmounts, KindInstanceAttributes, KindSplitItems} {
		for now := from; now.Before(to); now = now.Add(time.Hour + time.Minute) {
			d := newestSettledDay(now, kind)
			if d.SettledAt(kind).After(now) || !d.AddDays(1).SettledAt(kind).After(now) {
				t.Fatalf("newestSettledDay(%s, %s) = %s, which settles at %s", now, kind, d, d.SettledAt(kind))
			}
		}
	}
}

func TestFinalAt(t *testing.T) {
	for _, tc := range []struct {
		cycle             Cycle
		bills, splitBills string
	}{
		// 12:00 UTC+8 on the 3rd of the next month; the 4th for split bills.
		{Cycle{2024, time.March}, "2024-04-03T12:00:00+08:00", "2024-04-04T12:00:00+08:00"},
		{Cycle{2024, time.March}, "2024-04-03T04:00:00Z", "2024-04-04T04:00:00Z"},
		{Cycle{2024, time.December}, "2025-01-03T12:00:00+08:00", "2025-01-04T12:00:00+08:00"},
		{Cycle{2028, time.January}, "2028-02-03T12:00:00+08:00", "2028-02-04T12:00:00+08:00"},
		{Cycle{2028, time.February}, "2028-03-03T12:00:00+08:00", "2028-03-04T12:00:00+08:00"},
	} {
		for kind, want := range map[DataKind]string{
			KindAmounts:            tc.bills,
			KindInstanceAttributes: tc.bills,
			KindSplitItems:         tc.splitBills,
		} {
			final := calendarTime(t, want)
			if got := tc.cycle.FinalAt(kind); !got.Equal(final) {
				t.Errorf("%s.FinalAt(%s) = %s, want %s", tc.cycle, kind, got, want)
			}
			if !tc.cycle.isFinal(final, kind) {
				t.Errorf("%s.isFinal(%s, %s) = false, want true", tc.cycle, want, kind)
			}
			if tc.cycle.isFinal(final.Add(-time.Nanosecond), kind) {
				t.Errorf("%s.isFinal(%s - 1ns, %s) = true, want false", tc.cycle, want, kind)
			}
			if !tc.cycle.isFinal(final.Add(24*time.Hour), kind) {
				t.Errorf("%s.isFinal(a day after %s, %s) = false, want true", tc.cycle, want, kind)
			}
		}
	}
}

func TestOldestQueryable(t *testing.T) {
	for _, tc := range []struct {
		now           string
		bills, splits Cycle // 18 cycles for bills, 12 for split bills, counting the current one
	}{
		{"2024-03-10T12:00:00+08:00", Cycle{2022, time.October}, Cycle{2023, time.April}},
		// The current cycle turns at 00:00 UTC+8 on the 1st.
		{"2024-02-29T16:00:00Z", Cycle{2022, time.October}, Cycle{2023, time.April}},
		{"2024-02-29T15:59:59.999999999Z", Cycle{2022, time.September}, Cycle{2023, time.March}},
		{"2024-12-31T23:59:59+08:00", Cycle{2023, time.July}, Cycle{2024, time.January}},
		{"2025-01-01T00:00:00+08:00", Cycle{2023, time.August}, Cycle{2024, time.February}},
		{"2024-06-15T00:00:00+08:00", Cycle{2023, time.January}, Cycle{2023, time.July}},
	} {
		now := calendarTime(t, tc.now)
		for kind, want := range map[DataKind]Cycle{
			KindAmounts:            tc.bills,
			KindInstanceAttributes: tc.bills,
			KindSplitItems:         tc.splits,
		} {
			if got := OldestQueryable(now, kind); got != want {
				t.Errorf("OldestQueryable(%s, %s) = %s, want %s", tc.now, kind, got, want)
			}
		}
	}
}
