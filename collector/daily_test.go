package collector

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim/bsssimtest"
)

// TestDailySettleBoundaries: a day enters each daily family exactly when its
// data of that kind settles (24 h after the day ends for amounts, 48 h for
// instance attributes, 72 h for split items), stamped 00:00 UTC+8 of the day,
// with the final values rather than what BSS showed a nanosecond earlier.
func TestDailySettleBoundaries(t *testing.T) {
	day := bssclient.Day{Year: 2025, Month: time.March, Day: 10}
	cases := []struct {
		collector string
		kind      bssclient.DataKind
		family    string
		settledAt time.Time // spelled out, to pin the delays
		// checkTruth compares the exposed day with the World's truth at
		// settled, and shows that just before it BSS showed something else.
		checkTruth func(t *testing.T, h *simHarness, got []gotSample, settled time.Time)
	}{
		{
			collector: "account", kind: bssclient.KindAmounts, family: "aliyun_billing_account_daily_payable",
			settledAt: at(2025, time.March, 12, 0),
			checkTruth: func(t *testing.T, h *simHarness, got []gotSample, settled time.Time) {
				for _, g := range got {
					q := groupTruth(day.Cycle(), g.labels)
					q.Day = day
					if truth := h.world.Truth(q, settled).PretaxAmount; moneyOf(t, g.value) != truth {
						t.Errorf("%v = %v, truth %s", g.labels, g.value, truth)
					}
				}
				total := bsssimtest.TruthQuery{Day: day, Kind: bssclient.KindAmounts}
				final := h.world.Truth(total, settled).PretaxAmount
				if sum, _ := sumWhere(t, got, day.Start().UnixMilli(), nil); sum != final {
					t.Errorf("day total %s, truth %s", sum, final)
				}
				if provisional := h.world.Truth(total, settled.Add(-time.Nanosecond)).PretaxAmount; provisional == final {
					t.Errorf("BSS showed the final %s before the day settled; the test proves nothing", final)
				}
			},
		},
		{
			collector: "instance", kind: bssclient.KindInstanceAttributes, family: "aliyun_billing_instance_daily_payable",
			settledAt: at(2025, time.March, 13, 0),
			checkTruth: func(t *testing.T, h *simHarness, got []gotSample, settled time.Time) {
				regions := map[string]bool{}
				for _, g := range got {
					regions[g.labels["region_id"]] = true
				}
				for r := range regions {
					q := bsssimtest.TruthQuery{Day: day, Region: r, Kind: bssclient.KindInstanceAttributes}
					sum, _ := sumWhere(t, got, day.Start().UnixMilli(), map[string]string{"region_id": r})
					if truth := h.world.Truth(q, settled).PretaxAmount; sum != truth {
						t.Errorf("region %s: %s, truth %s", r, sum, truth)
					}
					if before := h.world.Truth(q, settled.Add(-time.Nanosecond)); before != (bssclient.Amounts{}) {
						t.Errorf("region %s was known before instance attributes settled; the test proves nothing", r)
					}
				}
				if len(regions) < 2 {
					t.Errorf("only regions %v; the test needs a day spread over regions", regions)
				}
			},
		},
		{
			collector: "ossbucket", kind: bssclient.KindSplitItems, family: "aliyun_billing_ossbucket_daily_payable",
			settledAt: at(2025, time.March, 14, 0),
			checkTruth: func(t *testing.T, h *simHarness, got []gotSample, settled time.Time) {
				for _, g := range got {
					q := bsssimtest.TruthQuery{Day: day, SplitItemID: g.labels["bucket"], ProductCode: "oss", Kind: bssclient.KindSplitItems}
					if truth := h.world.Truth(q, settled).PretaxAmount; moneyOf(t, g.value) != truth {
						t.Errorf("bucket %s: %v, truth %s", g.labels["bucket"], g.value, truth)
					}
					if before := h.world.Truth(q, settled.Add(-time.Nanosecond)); before != (bssclient.Amounts{}) {
						t.Errorf("bucket %s was known before split items settled; the test proves nothing", g.labels["bucket"])
					}
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.collector, func(t *testing.T) {
			settled := day.SettledAt(tc.kind)
			if !settled.Equal(tc.settledAt) {
				t.Fatalf("SettledAt(%s) = %s, want %s", tc.kind, settled, tc.settledAt)
			}
			h := startSim(t, simOptions{start: settled.Add(-time.Nanosecond), collectors: []string{tc.collector}})
			ts := day.Start().UnixMilli()

			h.mustStep(settled.Add(-time.Nanosecond))
			h.assertModel()
			got := gatheredFamily(t, h.exp, tc.family)
			if slices.Contains(timestampsOf(got), ts) {
				t.Fatalf("day %s exposed 1ns before it settles", day)
			}
			if want := dayStarts(day.AddDays(-h.cfg.ExposureDays), day.AddDays(-1)); !slices.Equal(timestampsOf(got), want) {
				t.Errorf("days exposed before %s settles: %v, want %v", day, timestampsOf(got), want)
			}

			h.mustStep(settled)
			h.assertModel()
			got = gatheredFamily(t, h.exp, tc.family)
			if want := dayStarts(day.AddDays(-(h.cfg.ExposureDays - 1)), day); !slices.Equal(timestampsOf(got), want) {
				t.Fatalf("days exposed when %s settles: %v, want %v", day, timestampsOf(got), want)
			}
			var ofDay []gotSample
			for _, g := range got {
				if g.tsMs == ts {
					ofDay = append(ofDay, g)
				}
			}
			if len(ofDay) == 0 {
				t.Fatalf("day %s has no series", day)
			}
			tc.checkTruth(t, h, ofDay, settled)
		})
	}
}

// TestMonthRollover steps all bill collectors from the last day of March
// into April: the cycle labels move, March becomes the previous cycle and
// equals its ground truth once all its days settled, and the per-day cycle
// sums of instance and ossbucket restart with April.
func TestMonthRollover(t *testing.T) {
	h := startSim(t, simOptions{start: at(2025, time.March, 31, 12)})
	march := bssclient.Cycle{Year: 2025, Month: time.March}
	april := march.Next()

	cyclesOf := func(family string) map[string]string {
		out := map[string]string{}
		for _, g := range gatheredFamily(t, h.exp, family) {
			out[g.labels["cycle"]] = g.labels["billing_cycle"]
		}
		return out
	}
	steps := []struct {
		at                      time.Time
		account                 map[string]string // cycle label → billing_cycle of the account cycle gauges
		instanceCycle, ossCycle string            // billing_cycle of their gauges, "" for none
		marchSettled            bool              // every March day has settled for amounts
	}{
		{at: at(2025, time.March, 31, 12), account: map[string]string{"previous": "2025-02", "current": "2025-03"},
			instanceCycle: "2025-03", ossCycle: "2025-03"},
		// April 1st: nothing of April has settled, so the current cycle has
		// only its final flag, and the instance and ossbucket sums are empty.
		{at: at(2025, time.April, 1, 12), account: map[string]string{"previous": "2025-03"}},
		// March 31st settles for amounts: March is complete, April still empty.
		{at: at(2025, time.April, 2, 0), account: map[string]string{"previous": "2025-03"}, marchSettled: true},
		{at: at(2025, time.April, 4, 0), account: map[string]string{"previous": "2025-03", "current": "2025-04"}, marchSettled: true,
			instanceCycle: "2025-04"},
		{at: at(2025, time.April, 5, 0), account: map[string]string{"previous": "2025-03", "current": "2025-04"}, marchSettled: true,
			instanceCycle: "2025-04", ossCycle: "2025-04"},
	}
	for i, s := range steps {
		h.mustStep(s.at)
		h.assertModel()
		if got := cyclesOf("aliyun_billing_account_cycle_payable"); !mapsEqual(got, s.account) {
			t.Errorf("step %d at %s: account cycle gauges %v, want %v", i, s.at, got, s.account)
		}
		final := cyclesOf(cycleFinalFamily)
		if want := map[string]string{"previous": bssclient.CycleOf(s.at).Prev().String(), "current": bssclient.CycleOf(s.at).String()}; !mapsEqual(final, want) {
			t.Errorf("step %d: cycle_final for %v, want %v", i, final, want)
		}
		for family, want := range map[string]string{
			"aliyun_billing_instance_cycle_payable":  s.instanceCycle,
			"aliyun_billing_ossbucket_cycle_payable": s.ossCycle,
		} {
			got := cyclesOf(family)
			if want == "" && len(got) != 0 || want != "" && !mapsEqual(got, map[string]string{"current": want}) {
				t.Errorf("step %d at %s: %s for %v, want current=%q", i, s.at, family, got, want)
			}
		}
		if s.marchSettled {
			for _, g := range gatheredFamily(t, h.exp, "aliyun_billing_account_cycle_payable") {
				if g.labels["cycle"] != "previous" {
					continue
				}
				if truth := h.world.Truth(groupTruth(march, g.labels), s.at).PretaxAmount; moneyOf(t, g.value) != truth {
					t.Errorf("step %d: previous cycle %v = %v, truth of all March %s", i, g.labels, g.value, truth)
				}
			}
		}
	}
	// The April instance sum is exactly April's settled days as the instance
	// bill showed them when each settled (the steps fall on those moments).
	var truth bssclient.Money
	newest := bssclient.Calendar{}.NewestSettledDay(h.now(), bssclient.KindInstanceAttributes)
	for d := april.FirstDay(); !newest.Before(d); d = d.AddDays(1) {
		settled := d.SettledAt(bssclient.KindInstanceAttributes)
		truth, _ = truth.Add(h.world.Truth(bsssimtest.TruthQuery{Day: d, Kind: bssclient.KindInstanceAttributes}, settled).PretaxAmount)
	}
	if sum, _ := sumWhere(t, gatheredFamily(t, h.exp, "aliyun_billing_instance_cycle_payable"), 0, nil); sum != truth {
		t.Errorf("April instance cycle payable %s, truth of April 1st to %s %s", sum, newest, truth)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestRefreshFetchesOnlyWhatCanChange: a settled day is read once. A second
// refresh at the same moment reads no instance or split bill at all and only
// what can still change of the account bill; a day later each collector walks
// exactly the one newly settled day, page by page.
func TestRefreshFetchesOnlyWhatCanChange(t *testing.T) {
	// Early March with two exposed days keeps the multi-page walks few.
	start := at(2025, time.March, 4, 12)
	h := startSim(t, simOptions{world: &multiPageWorld, start: start, configure: func(c *Config) { c.ExposureDays = 2 }})
	h.mustStep(start)
	h.assertModel()

	day := func(n int) bssclient.Day { return bssclient.Day{Year: 2025, Month: time.March, Day: n} }
	march := day(1).Cycle()
	acct := func(g bssclient.Granularity, d bssclient.Day) string {
		return walkRecord{bssclient.ActionQueryAccountBill, g, march, d}.String()
	}

	// Same moment: February is final (read once at the first refresh), so
	// only March's MONTHLY total and its two unsettled days are read.
	h.bss.takeWalks()
	before := h.server.Server.Stats()
	h.mustStep(start)
	wantWalks := []string{acct(bssclient.Daily, day(3)), acct(bssclient.Daily, day(4)), acct(bssclient.Monthly, bssclient.Day{})}
	if got := h.bss.takeWalks(); !slices.Equal(got, wantWalks) {
		t.Errorf("walks at the same moment: %v, want %v", got, wantWalks)
	}
	if got, want := requestsDelta(before, h.server.Server.Stats()), map[string]int64{bssclient.ActionQueryAccountBill: 3}; !int64MapsEqual(got, want) {
		t.Errorf("requests at the same moment: %v, want %v", got, want)
	}
	h.assertModel()

	// A day later: one new settled day per collector, each read whole, and
	// the instance and ossbucket cycles again, because a day settled: their
	// MONTHLY bills and the DAILY bills of their unsettled days.
	next := start.Add(24 * time.Hour)
	instanceDay := bssclient.Calendar{}.NewestSettledDay(next, bssclient.KindInstanceAttributes)
	ossDay := bssclient.Calendar{}.NewestSettledDay(next, bssclient.KindSplitItems)
	if instanceDay != day(2) || ossDay != day(1) {
		t.Fatalf("newest settled days %s and %s, the test expects 2025-03-02 and 2025-03-01", instanceDay, ossDay)
	}
	instanceRows := h.world.InstanceBillCount(bssclient.InstanceBillRequest{BillingCycle: march, Granularity: bssclient.Daily, BillingDate: instanceDay}, next)
	ossRows := h.world.SplitItemBillCount(bssclient.SplitItemBillRequest{BillingCycle: march, Granularity: bssclient.Daily, BillingDate: ossDay, ProductCode: "oss"}, next)
	if instanceRows <= bssclient.MaxPageSize {
		t.Fatalf("day %s has %d instance rows; the test needs a multi-page day", instanceDay, instanceRows)
	}
	before = h.server.Server.Stats()
	h.mustStep(next)
	wantWalks = []string{
		walkRecord{bssclient.ActionDescribeInstanceBill, bssclient.Daily, march, instanceDay}.String(),
		walkRecord{bssclient.ActionDescribeSplitItemBill, bssclient.Daily, march, ossDay}.String(),
		acct(bssclient.Daily, day(3)), acct(bssclient.Daily, day(4)), acct(bssclient.Daily, day(5)),
		acct(bssclient.Monthly, bssclient.Day{}),
		walkRecord{bssclient.ActionDescribeInstanceBill, bssclient.Monthly, march, bssclient.Day{}}.String(),
	}
	var cycleRows int64
	for d := instanceDay.AddDays(1); !bssclient.DayOf(next).Before(d); d = d.AddDays(1) {
		wantWalks = append(wantWalks, walkRecord{bssclient.ActionDescribeInstanceBill, bssclient.Daily, march, d}.String())
		cycleRows += pages(h.world.InstanceBillCount(bssclient.InstanceBillRequest{BillingCycle: march, Granularity: bssclient.Daily, BillingDate: d}, next))
	}
	cycleRows += pages(h.world.InstanceBillCount(bssclient.InstanceBillRequest{BillingCycle: march, Granularity: bssclient.Monthly}, next))
	// The ossbucket cycle the same way, from the split bill.
	wantWalks = append(wantWalks, walkRecord{bssclient.ActionDescribeSplitItemBill, bssclient.Monthly, march, bssclient.Day{}}.String())
	ossCycleRows := pages(h.world.SplitItemBillCount(bssclient.SplitItemBillRequest{BillingCycle: march, Granularity: bssclient.Monthly, ProductCode: "oss"}, next))
	for d := ossDay.AddDays(1); !bssclient.DayOf(next).Before(d); d = d.AddDays(1) {
		wantWalks = append(wantWalks, walkRecord{bssclient.ActionDescribeSplitItemBill, bssclient.Daily, march, d}.String())
		ossCycleRows += pages(h.world.SplitItemBillCount(bssclient.SplitItemBillRequest{BillingCycle: march, Granularity: bssclient.Daily, BillingDate: d, ProductCode: "oss"}, next))
	}
	// And each day booked at start before its recheck moment is read once
	// more, to count late restatements.
	recheckRows := map[string]int64{}
	for _, c := range []struct {
		collector, action string
		rows              func(d bssclient.Day) int
	}{
		{"account", bssclient.ActionQueryAccountBill, func(d bssclient.Day) int { return len(h.world.AccountBill(dailyRequest(d), next)) }},
		{"instance", bssclient.ActionDescribeInstanceBill, func(d bssclient.Day) int {
			return h.world.InstanceBillCount(bssclient.InstanceBillRequest{BillingCycle: d.Cycle(), Granularity: bssclient.Daily, BillingDate: d}, next)
		}},
		{"ossbucket", bssclient.ActionDescribeSplitItemBill, func(d bssclient.Day) int {
			return h.world.SplitItemBillCount(bssclient.SplitItemBillRequest{BillingCycle: d.Cycle(), Granularity: bssclient.Daily, BillingDate: d, ProductCode: "oss"}, next)
		}},
	} {
		from, to := h.bookRange(c.collector, start)
		for d := from; !to.Before(d); d = d.AddDays(1) {
			due := d.SettledAt(kindOf(c.collector)).Add(recheckAfter)
			if start.Before(due) && !next.Before(due) {
				wantWalks = append(wantWalks, walkRecord{c.action, bssclient.Daily, d.Cycle(), d}.String())
				recheckRows[c.action] += pages(c.rows(d))
			}
		}
	}
	slices.Sort(wantWalks)
	if got := h.bss.takeWalks(); !slices.Equal(got, wantWalks) {
		t.Errorf("walks a day later: %v, want %v", got, wantWalks)
	}
	want := map[string]int64{
		bssclient.ActionQueryAccountBill:      4 + recheckRows[bssclient.ActionQueryAccountBill],
		bssclient.ActionDescribeInstanceBill:  pages(instanceRows) + cycleRows + recheckRows[bssclient.ActionDescribeInstanceBill],
		bssclient.ActionDescribeSplitItemBill: pages(ossRows) + ossCycleRows + recheckRows[bssclient.ActionDescribeSplitItemBill],
	}
	if got := requestsDelta(before, h.server.Server.Stats()); !int64MapsEqual(got, want) {
		t.Errorf("requests a day later: %v, want %v (%d instance rows, %d split rows)", got, want, instanceRows, ossRows)
	}
	h.assertModel()
}

func int64MapsEqual(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestDailySeriesOff: without the timestamped families the cycle gauges
// stay, exact.
func TestDailySeriesOff(t *testing.T) {
	h := startSim(t, simOptions{start: midMarch, configure: func(c *Config) { c.DailySeries = false }})
	h.mustStep(midMarch)
	h.assertModel()
	for _, mf := range gather(t, h.exp) {
		if strings.Contains(mf.GetName(), "_daily_") {
			t.Errorf("family %s exposed with DailySeries off", mf.GetName())
		}
	}
	for _, family := range []string{"aliyun_billing_account_cycle_payable", "aliyun_billing_instance_cycle_payable", "aliyun_billing_ossbucket_cycle_payable"} {
		if len(gatheredFamily(t, h.exp, family)) == 0 {
			t.Errorf("family %s missing with DailySeries off", family)
		}
	}
	// The account collector reads no settled day with the family off: only
	// totals and the unsettled days it subtracts from them.
	for _, w := range h.bss.takeWalks() {
		if strings.HasPrefix(w, bssclient.ActionQueryAccountBill+" DAILY") &&
			!strings.HasSuffix(w, "2025-03-14") && !strings.HasSuffix(w, "2025-03-15") {
			t.Errorf("walk %s with DailySeries off", w)
		}
	}
}

// TestExposureDays: each daily family shows exactly ExposureDays settled
// days, the newest last, and drops the oldest as a new one settles.
func TestExposureDays(t *testing.T) {
	const exposureDays = 5
	h := startSim(t, simOptions{start: midMarch, configure: func(c *Config) { c.ExposureDays = exposureDays }})
	for _, now := range []time.Time{midMarch, midMarch.Add(24 * time.Hour)} {
		h.mustStep(now)
		h.assertModel()
		for collector, family := range map[string]string{
			"account":   "aliyun_billing_account_daily_payable",
			"instance":  "aliyun_billing_instance_daily_payable",
			"ossbucket": "aliyun_billing_ossbucket_daily_payable",
		} {
			newest := bssclient.Calendar{}.NewestSettledDay(now, kindOf(collector))
			if got, want := timestampsOf(gatheredFamily(t, h.exp, family)), dayStarts(newest.AddDays(-(exposureDays-1)), newest); !slices.Equal(got, want) {
				t.Errorf("%s at %s: days %v, want %v", family, now, got, want)
			}
		}
	}
}

// TestDayBook covers the bookkeeping of settled days without a server.
func TestDayBook(t *testing.T) {
	d := func(n int) bssclient.Day { return bssclient.Day{Year: 2025, Month: time.March, Day: n} }
	book := newDayBook(bssclient.KindAmounts, bssclient.Calendar{})
	var mu sync.Mutex
	fetched := map[bssclient.Day]int{}
	failing := map[bssclient.Day]bool{d(12): true}
	fetch := func(_ context.Context, day bssclient.Day) (bookedDay, error) {
		mu.Lock()
		defer mu.Unlock()
		fetched[day]++
		if failing[day] {
			return bookedDay{}, fmt.Errorf("no data for %s", day)
		}
		return bookedDay{series: []series{{labels: []string{day.String()}}}}, nil
	}

	err := book.fill(t.Context(), d(10), d(14), 2, fetch)
	if err == nil || !strings.Contains(err.Error(), "billing day 2025-03-12: no data for 2025-03-12") {
		t.Fatalf("fill error %v, want one naming the failed day", err)
	}
	if got, want := book.sorted(d(1), d(31)), []bssclient.Day{d(10), d(11), d(13), d(14)}; !slices.Equal(got, want) {
		t.Errorf("booked %v, want %v", got, want)
	}
	if got := book.completeThrough(d(10), d(14)); got != d(11) {
		t.Errorf("complete through %s, want 2025-03-11", got)
	}
	if got := book.completeThrough(d(12), d(14)); !got.IsZero() {
		t.Errorf("complete through %s from a missing day, want none", got)
	}

	// The next fill reads only the failed day; prune drops days before from.
	delete(failing, d(12))
	book.prune(d(11))
	if err := book.fill(t.Context(), d(11), d(14), 2, fetch); err != nil {
		t.Fatal(err)
	}
	want := map[bssclient.Day]int{d(10): 1, d(11): 1, d(12): 2, d(13): 1, d(14): 1}
	for day, n := range want {
		if fetched[day] != n {
			t.Errorf("day %s fetched %d times, want %d", day, fetched[day], n)
		}
	}
	if got, want := book.sorted(d(1), d(31)), []bssclient.Day{d(11), d(12), d(13), d(14)}; !slices.Equal(got, want) {
		t.Errorf("booked %v, want %v", got, want)
	}
	if got := book.completeThrough(d(11), d(14)); got != d(14) {
		t.Errorf("complete through %s, want 2025-03-14", got)
	}

	// Filling a narrower range keeps what is booked before it.
	if err := book.fill(t.Context(), d(14), d(14), 2, fetch); err != nil {
		t.Fatal(err)
	}
	if got := len(book.sorted(d(1), d(31))); got != 4 {
		t.Errorf("%d days booked after a narrow fill, want 4", got)
	}

	// Several failing days are reported in one line that unwraps to the
	// earliest day's error.
	failing = map[bssclient.Day]bool{d(20): true, d(21): true, d(22): true}
	err = book.fill(t.Context(), d(20), d(22), 2, fetch)
	if err == nil || err.Error() != "3 of 3 billing days failed; the earliest: billing day 2025-03-20: no data for 2025-03-20" {
		t.Errorf("fill error %v", err)
	}
}

func TestRunParallel(t *testing.T) {
	var running, peak atomic.Int32
	errs := runParallel(t.Context(), 3, 20, func(_ context.Context, i int) error {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		if i%5 == 0 {
			return fmt.Errorf("job %d", i)
		}
		return nil
	})
	if len(errs) != 4 {
		t.Errorf("%d errors, want 4: %v", len(errs), errs)
	}
	if p := peak.Load(); p > 3 {
		t.Errorf("%d jobs ran at once, limit 3", p)
	}

}
