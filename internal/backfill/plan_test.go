package backfill

import (
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/collector"
)

// planNow: February 2026 is not final yet (12:00 on 3 March).
var planNow = time.Date(2026, 3, 2, 10, 20, 0, 0, bssclient.BillingZone)

func day(s string) bssclient.Day {
	d, err := bssclient.ParseDay(s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestNewPlan(t *testing.T) {
	cfg := collector.DefaultConfig() // 7 exposure days
	type want struct{ family, from, to string }
	for _, tc := range []struct {
		name       string
		req        Request
		families   []want
		cycles     int
		firstCycle string
	}{
		{
			name: "defaults end the day before the live window of each family",
			req:  Request{Families: []string{"ossbucket", "account"}},
			// Amounts settle 24 h after the day: newest 28 Feb, the live
			// window 22-28 Feb. Split items take 72 h: newest 26 Feb.
			families: []want{{"account", "2024-10-01", "2026-02-21"}, {"ossbucket", "2025-04-01", "2026-02-19"}},
			// 2024-10 to 2026-01: February becomes final at 12:00 on 3 March.
			cycles: 16, firstCycle: "2024-10",
		},
		{
			name:     "an explicit range, clipped to each family's retention and delay",
			req:      Request{From: day("2025-01-15"), To: day("2026-02-28"), Families: []string{"account", "instance", "ossbucket"}},
			families: []want{{"account", "2025-01-15", "2026-02-28"}, {"instance", "2025-01-15", "2026-02-27"}, {"ossbucket", "2025-04-01", "2026-02-26"}},
			cycles:   13, firstCycle: "2025-01",
		},
		{
			name:     "no final cycle in a range inside the current month",
			req:      Request{From: day("2026-02-01"), To: day("2026-02-10"), Families: []string{"account"}},
			families: []want{{"account", "2026-02-01", "2026-02-10"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewPlan(tc.req, planNow, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Families) != len(tc.families) {
				t.Fatalf("families %+v, want %+v", p.Families, tc.families)
			}
			for i, w := range tc.families {
				f := p.Families[i]
				if f.Name != w.family || f.From.String() != w.from || f.To.String() != w.to {
					t.Errorf("family %d: %s %s to %s, want %s %s to %s", i, f.Name, f.From, f.To, w.family, w.from, w.to)
				}
			}
			if len(p.Cycles) != tc.cycles || (tc.cycles > 0 && p.Cycles[0].String() != tc.firstCycle) {
				t.Errorf("cycles %v, want %d from %s", p.Cycles, tc.cycles, tc.firstCycle)
			}
		})
	}
}

func TestNewPlanJoinsTheLiveWindow(t *testing.T) {
	cfg := collector.DefaultConfig()
	p, err := NewPlan(Request{Families: collector.DayBookCollectors()}, planNow, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range p.Families {
		if got, want := f.To.AddDays(1), collector.LiveWindowStart(planNow, f.Kind, cfg); got != want {
			t.Errorf("%s: the day after the backfill is %s, the live window starts %s", f.Name, got, want)
		}
	}
}

func TestNewPlanErrorsNameTheFlag(t *testing.T) {
	cfg := collector.DefaultConfig()
	for _, tc := range []struct {
		req  Request
		want string
	}{
		{Request{From: day("2024-09-30"), Families: []string{"account"}},
			"--from: 2024-09-30 is beyond BSS's retention of 18 billing cycles; the oldest day it keeps is 2024-10-01"},
		{Request{From: day("2025-05-02"), To: day("2025-05-01"), Families: []string{"account"}},
			"--to: 2025-05-01 is before --from 2025-05-02"},
		{Request{To: day("2026-03-01"), Families: []string{"account"}},
			"--to: 2026-03-01 has not settled yet; the newest settled day is 2026-02-28 (a day's amounts settle 24 h after it ends, UTC+8, plus the settle margin of 3h0m0s)"},
		{Request{Families: []string{"account", "vpc"}}, `--families: "vpc" is not one of account, instance, ossbucket`},
		{Request{Families: []string{"account", "account"}}, `--families: "account" is listed twice`},
		{Request{}, "--families: name at least one of account, instance, ossbucket"},
		{Request{From: day("2026-02-25"), Families: []string{"account"}},
			"--from/--to: no family has a day to read in the range (account from 2026-02-25 to 2026-02-21); without --to, each family ends the day before the oldest day the live exporter exposes"},
	} {
		_, err := NewPlan(tc.req, planNow, cfg)
		if err == nil || err.Error() != tc.want {
			t.Errorf("NewPlan(%+v):\n got %v\nwant %s", tc.req, err, tc.want)
		}
	}
}

// TestNewPlanWaitsForTheSettleMargin: the backfill settles days and cycles
// when the live exporter does, margin included, so it never writes a day
// or a final cycle the exporter still treats as open.
func TestNewPlanWaitsForTheSettleMargin(t *testing.T) {
	cfg := collector.DefaultConfig() // a 3 h margin
	// 28 Feb's amounts settle at 00:00 on 2 March, plus the margin: 03:00.
	early := time.Date(2026, 3, 2, 2, 0, 0, 0, bssclient.BillingZone)
	_, err := NewPlan(Request{To: day("2026-02-28"), Families: []string{"account"}}, early, cfg)
	if want := "--to: 2026-02-28 has not settled yet; the newest settled day is 2026-02-27 (a day's amounts settle 24 h after it ends, UTC+8, plus the settle margin of 3h0m0s)"; err == nil || err.Error() != want {
		t.Errorf("before the margin:\n got %v\nwant %s", err, want)
	}
	p, err := NewPlan(Request{To: day("2026-02-28"), Families: []string{"account", "ossbucket"}}, early.Add(time.Hour), cfg)
	if err != nil || p.Families[0].To != day("2026-02-28") {
		t.Errorf("after the margin: %+v, %v", p.Families, err)
	}
	if f := p.Families[1]; f.To != day("2026-02-26") { // split items: 72 h, plus the margin
		t.Errorf("ossbucket ends %s, want 2026-02-26", f.To)
	}

	// February is final at 12:00 on 3 March; with the margin, at 15:00.
	for _, tc := range []struct {
		at    time.Time
		final bool
	}{
		{time.Date(2026, 3, 3, 13, 0, 0, 0, bssclient.BillingZone), false},
		{time.Date(2026, 3, 3, 15, 0, 0, 0, bssclient.BillingZone), true},
	} {
		p, err := NewPlan(Request{From: day("2026-01-01"), To: day("2026-02-28"), Families: []string{"account"}}, tc.at, cfg)
		if err != nil {
			t.Fatal(err)
		}
		last := p.Cycles[len(p.Cycles)-1]
		if got := last.String() == "2026-02"; got != tc.final {
			t.Errorf("at %s: cycles %v; February listed as final: %t, want %t", tc.at, p.Cycles, got, tc.final)
		}
	}
}
