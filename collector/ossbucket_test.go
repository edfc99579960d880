package collector

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/proctest"

	"github.com/go-kit/log"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim/bsssimtest"
)

// TestOSSBucketSplitBillDisabled: without Split Bill the ossbucket collector
// says so in a gauge and in one warning, counts the error, and leaves the
// other collectors alone.
func TestOSSBucketSplitBillDisabled(t *testing.T) {
	world := testWorld
	world.SplitBillEnabled = false
	logs := &proctest.Buffer{}
	h := startSim(t, simOptions{world: &world, start: midMarch, logger: log.NewLogfmtLogger(logs)})

	for i, now := range []time.Time{midMarch, midMarch.Add(time.Hour), midMarch.Add(24 * time.Hour)} {
		before := h.server.Server.Stats()
		h.failedStep(now, bssclient.CodeSplitBillNotEnabled, "ossbucket")
		// Once BSS said Split Bill is off, a refresh probes one day only.
		if n := requestsDelta(before, h.server.Server.Stats())[bssclient.ActionDescribeSplitItemBill]; i > 0 && n != 1 {
			t.Errorf("refresh %d sent %d DescribeSplitItemBill requests while Split Bill is off, want 1", i+1, n)
		}
		h.assertModel() // account and instance as if nothing happened; no bucket series
		h.assertExposition([]sample{{name: splitBillFamily, labels: map[string]string{"account": testAccount}, value: "0"}}, splitBillFamily)
		warnings := 0
		for _, line := range strings.Split(logs.String(), "\n") {
			if strings.HasPrefix(line, "level=warn ") && strings.Contains(line, "Split Bill is not enabled") {
				warnings++
			}
		}
		if warnings != 1 {
			t.Errorf("after %d refreshes: %d warnings about Split Bill, want 1:\n%s", i+1, warnings, logs.String())
		}
	}
}

// TestOSSBucketSplitBillEnabledGauge: with Split Bill the gauge is 1.
func TestOSSBucketSplitBillEnabledGauge(t *testing.T) {
	h := startSim(t, simOptions{start: midMarch, collectors: []string{"ossbucket"}})
	h.mustStep(midMarch)
	h.assertModel()
	h.assertExposition([]sample{{name: splitBillFamily, labels: map[string]string{"account": testAccount}, value: "1"}}, splitBillFamily)
	// Buckets are named as the split bill names them, and each bucket's
	// cycle gauge is exactly its truth over the settled days.
	newest := bssclient.Calendar{}.NewestSettledDay(midMarch, bssclient.KindSplitItems)
	for _, g := range gatheredFamily(t, h.exp, "aliyun_billing_ossbucket_cycle_payable") {
		var truth bssclient.Money
		for d := newest.Cycle().FirstDay(); !newest.Before(d); d = d.AddDays(1) {
			q := bsssimtest.TruthQuery{Day: d, SplitItemID: g.labels["bucket"], ProductCode: "oss", Kind: bssclient.KindSplitItems}
			truth, _ = truth.Add(h.world.Truth(q, midMarch).PretaxAmount)
		}
		if got := moneyOf(t, g.value); got != truth {
			t.Errorf("bucket %s: cycle payable %s, truth %s", g.labels["bucket"], got, truth)
		}
	}
}

const fromMonthlyFamily = "aliyun_billing_ossbucket_cycle_from_monthly_bill"

// splitWalks counts a refresh's DescribeSplitItemBill walks: DAILY and MONTHLY.
func splitWalks(t *testing.T, walks []string) (daily, monthly int) {
	t.Helper()
	for _, w := range walks {
		switch {
		case strings.HasPrefix(w, bssclient.ActionDescribeSplitItemBill+" DAILY "):
			daily++
		case strings.HasPrefix(w, bssclient.ActionDescribeSplitItemBill+" MONTHLY "):
			monthly++
		}
	}
	return daily, monthly
}

// TestOSSBucketColdStartDoesNotGrowWithTheMonth: the cycle gauges come from
// the MONTHLY split bill minus the days not settled yet, so a cold start
// walks the exposed days, one MONTHLY bill and the unsettled days, whatever
// the day of the month; the gauges are the model's (restatements included).
func TestOSSBucketColdStartDoesNotGrowWithTheMonth(t *testing.T) {
	for _, dom := range []int{12, 29} {
		start := at(2025, time.March, dom, 12)
		h := startSim(t, simOptions{start: start, collectors: []string{"ossbucket"}})
		h.mustStep(start)
		h.assertModel()
		newest := bssclient.Calendar{}.NewestSettledDay(start, bssclient.KindSplitItems)
		unsettled := 0
		for d := newest.AddDays(1); !bssclient.DayOf(start).Before(d); d = d.AddDays(1) {
			unsettled++
		}
		daily, monthly := splitWalks(t, h.bss.takeWalks())
		if want := h.cfg.ExposureDays + unsettled; daily != want || monthly != 1 {
			t.Errorf("cold start on March %d: %d DAILY and %d MONTHLY split-bill walks, want %d (%d exposed, %d unsettled) and 1",
				dom, daily, monthly, want, h.cfg.ExposureDays, unsettled)
		}
		if len(gatheredFamily(t, h.exp, "aliyun_billing_ossbucket_cycle_payable")) == 0 {
			t.Errorf("March %d: no cycle gauge; the test proves nothing", dom)
		}
		h.assertExposition([]sample{{name: fromMonthlyFamily, labels: map[string]string{"account": testAccount}, value: "1"}}, fromMonthlyFamily)
	}
}

// TestOSSBucketViewsThatDisagreeAreSummed: where the MONTHLY split bill
// books the days not split yet under buckets (the other reading of BSS's
// documentation), subtracting their DAILY bills would be wrong per bucket.
// The collector sees it, says so once, and sums the cycle's settled days,
// which are then each read once; the gauges are the model's.
func TestOSSBucketViewsThatDisagreeAreSummed(t *testing.T) {
	world := testWorld
	world.MonthlySplitNamesFirstDay = true
	logs := &proctest.Buffer{}
	h := startSim(t, simOptions{world: &world, start: midMarch, collectors: []string{"ossbucket"}, logger: log.NewLogfmtLogger(logs)})
	h.mustStep(midMarch)
	h.assertModel()
	newest := bssclient.Calendar{}.NewestSettledDay(midMarch, bssclient.KindSplitItems)
	daily, monthly := splitWalks(t, h.bss.takeWalks())
	if monthly != 2 || daily < newest.Day {
		t.Errorf("%d MONTHLY walks and %d DAILY, want 2 (a second look) and at least the %d settled days", monthly, daily, newest.Day)
	}
	if n := strings.Count(logs.String(), "does not book the days not split yet"); n != 1 {
		t.Errorf("%d log lines about the disagreement, want 1:\n%s", n, logs)
	}
	h.assertExposition([]sample{{name: fromMonthlyFamily, labels: map[string]string{"account": testAccount}, value: "0"}}, fromMonthlyFamily)

	// A day later the cycle is summed on: one new day, no MONTHLY bill.
	next := midMarch.Add(24 * time.Hour)
	h.mustStep(next)
	h.assertModel()
	walks := h.bss.takeWalks()
	if daily, monthly := splitWalks(t, walks); monthly != 0 || daily == 0 {
		t.Errorf("a day later: walks %v, want the newly settled day (and rechecks), no MONTHLY bill", walks)
	}
	if n := strings.Count(logs.String(), "does not book the days not split yet"); n != 1 {
		t.Errorf("%d log lines about the disagreement after a second refresh, want 1", n)
	}
}

// TestOSSBucketOneDisagreementIsLookedAtTwice: a row that appears between the
// MONTHLY read and a DAILY read (BSS restates on the hour) looks like a
// disagreement once. The collector reads again rather than fall back.
func TestOSSBucketOneDisagreementIsLookedAtTwice(t *testing.T) {
	logs := &proctest.Buffer{}
	h := startSim(t, simOptions{start: midMarch, collectors: []string{"ossbucket"}, logger: log.NewLogfmtLogger(logs)})
	dropped := false
	h.bss.editSplitPage = func(req bssclient.SplitItemBillRequest, page []bssclient.SplitItemBillItem) []bssclient.SplitItemBillItem {
		if req.Granularity != bssclient.Monthly || dropped {
			return page
		}
		// Drop an unnamed row: its key is then missing from the MONTHLY bill.
		for i := range page {
			if page[i].SplitItemID == "" {
				dropped = true
				return slices.Delete(slices.Clone(page), i, i+1)
			}
		}
		return page
	}
	h.mustStep(midMarch)
	if !dropped {
		t.Fatal("no unnamed MONTHLY row to drop: the test proves nothing")
	}
	h.assertModel()
	if _, monthly := splitWalks(t, h.bss.takeWalks()); monthly != 2 {
		t.Errorf("%d MONTHLY walks, want 2", monthly)
	}
	if strings.Contains(logs.String(), "does not book the days not split yet") {
		t.Errorf("fell back after one disagreement:\n%s", logs)
	}
}

// TestOSSBucketFallbackSurvivesARestart: a collector that sums the days of
// this cycle (the views disagree) saves its sum; after a restart on the
// state directory it goes on summing, reading only the newly settled day,
// not the MONTHLY bill and then every settled day again.
func TestOSSBucketFallbackSurvivesARestart(t *testing.T) {
	world := testWorld
	world.MonthlySplitNamesFirstDay = true
	dir := t.TempDir()
	opts := simOptions{world: &world, start: midMarch, collectors: []string{"ossbucket"}, configure: func(c *Config) { c.StateDir = dir }}
	h := startSim(t, opts)
	h.mustStep(midMarch)
	h.assertModel()

	next := midMarch.Add(24 * time.Hour)
	opts.start = next
	restarted := startSim(t, opts)
	restarted.mustStep(next)
	restarted.assertModel()
	walks := restarted.bss.takeWalks()
	newest := bssclient.Calendar{}.NewestSettledDay(next, bssclient.KindSplitItems)
	for _, w := range walks {
		if strings.Contains(w, "MONTHLY") || (strings.Contains(w, " DAILY ") && !strings.HasSuffix(w, newest.String()) && !isRecheck(w, midMarch, next)) {
			t.Errorf("after a restart the fallback walked %s; want the newly settled day %s and rechecks only (all: %v)", w, newest, walks)
		}
	}
}

// isRecheck reports a split-bill DAILY walk of a day read at first and due
// for its second read (late restatements) by now.
func isRecheck(walk string, first, now time.Time) bool {
	f := strings.Fields(walk)
	day, err := bssclient.ParseDay(f[len(f)-1])
	if err != nil {
		return false
	}
	due := day.SettledAt(bssclient.KindSplitItems).Add(recheckAfter)
	return first.Before(due) && !now.Before(due)
}

// The collector reads two days at once, and one once a day's buckets are
// many: what a walk holds until the cap ranks them grows with them.
func TestOSSBucketWalksOneDayAtATimeWhenDaysAreBig(t *testing.T) {
	c := &ossBucketCollector{ossBucketReader: &ossBucketReader{cfg: Config{ConcurrentWalks: 4}}}
	for _, tc := range []struct {
		buckets, concurrent int
		want                int
	}{
		{0, 4, 2},
		{manyBucketsADay, 4, 2},
		{manyBucketsADay + 1, 4, 1},
		{0, 1, 1},
	} {
		c.cfg.ConcurrentWalks = tc.concurrent
		c.dayBuckets.Store(int64(tc.buckets))
		if got := c.walks(); got != tc.want {
			t.Errorf("%d buckets a day, --billing.concurrent-walks=%d: %d walks, want %d", tc.buckets, tc.concurrent, got, tc.want)
		}
	}
}
