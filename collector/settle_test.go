package collector

import (
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

// TestSettleMarginAgainstClockSkew: the exporter reads a day at its own
// clock's idea of "settled + margin". With the simulator's clock (BSS's)
// behind the exporter's, a day read at the bare delay is still provisional,
// and its frozen value is wrong forever; the default margin absorbs that
// skew, and a clock behind BSS's is harmless either way.
func TestSettleMarginAgainstClockSkew(t *testing.T) {
	day := bssclient.Day{Year: 2025, Month: time.March, Day: 13}
	settled := day.SettledAt(bssclient.KindAmounts)
	for _, tc := range []struct {
		name      string
		skew      time.Duration // the exporter's clock minus BSS's
		margin    time.Duration
		wantFinal bool
	}{
		{"BSS behind the exporter, no margin: a provisional day is frozen", 10 * time.Minute, 0, false},
		{"BSS behind the exporter, default margin", 10 * time.Minute, DefaultSettleMargin, true},
		{"BSS ahead of the exporter, no margin", -10 * time.Minute, 0, true},
		{"BSS ahead of the exporter, default margin", -10 * time.Minute, DefaultSettleMargin, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := startSim(t, simOptions{start: settled.Add(-time.Hour), collectors: []string{"account"},
				configure: func(c *Config) { c.SettleMargin = tc.margin }})
			for _, w := range h.exp.workers {
				w.now = func() time.Time { return h.clock.Now().Add(tc.skew) }
			}
			// The first moment the exporter reads the day, by its own clock.
			exporterAt := settled.Add(tc.margin).Add(time.Minute)
			h.mustStep(exporterAt.Add(-tc.skew))
			shown := payableOn(t, h, day)
			if shown == nil {
				t.Fatalf("day %s not published at %s by the exporter's clock", day, exporterAt)
			}
			final := h.worldPayable(day, settled.Add(48*time.Hour))
			provisional := h.worldPayable(day, settled.Add(-9*time.Minute))
			if final.Cmp(provisional) == 0 {
				t.Fatal("the day's provisional and final amounts agree; the test proves nothing")
			}
			if got := shown.Cmp(final) == 0; got != tc.wantFinal {
				t.Errorf("published %s for %s; final %s, provisional %s; want final: %v",
					shown.FloatString(4), day, final.FloatString(4), provisional.FloatString(4), tc.wantFinal)
			}
			// One margin earlier, nothing of the day is out yet.
			if tc.margin > 0 {
				h2 := startSim(t, simOptions{start: settled, collectors: []string{"account"},
					configure: func(c *Config) { c.SettleMargin = tc.margin }})
				for _, w := range h2.exp.workers {
					w.now = func() time.Time { return h2.clock.Now().Add(tc.skew) }
				}
				h2.mustStep(settled.Add(tc.margin).Add(-time.Minute).Add(-tc.skew))
				if got := payableOn(t, h2, day); got != nil {
					t.Errorf("day %s published %s before its margin passed", day, got.FloatString(4))
				}
			}
		})
	}
}

// payableOn is the exact sum of the account daily payable samples of day,
// or nil when there are none.
func payableOn(t *testing.T, h *simHarness, day bssclient.Day) *big.Rat {
	var on []gotSample
	for _, s := range gatheredFamily(t, h.exp, "aliyun_billing_account_daily_payable") {
		if s.tsMs == day.Start().UnixMilli() {
			on = append(on, s)
		}
	}
	if len(on) == 0 {
		return nil
	}
	return exactSum(on)
}

// worldPayable is the exact payable of day as BSS shows it at t.
func (h *simHarness) worldPayable(day bssclient.Day, t time.Time) *big.Rat {
	sum := new(big.Rat)
	for _, it := range h.world.AccountBill(dailyRequest(day), t) {
		r, ok := new(big.Rat).SetString(it.Amounts.PretaxAmount.String())
		if !ok {
			h.t.Fatalf("amount %s", it.Amounts.PretaxAmount)
		}
		sum.Add(sum, r)
	}
	return sum
}

// TestLateRestatementsAreCounted: a day read early (BSS's clock 10 minutes
// behind, no margin) is read once more a day later; its published values
// stay, and the restatement counters say how many series changed and by
// how much payable in all. A day read on time and not restated counts
// nothing.
func TestLateRestatementsAreCounted(t *testing.T) {
	day := bssclient.Day{Year: 2025, Month: time.March, Day: 13}
	settled := day.SettledAt(bssclient.KindAmounts)
	for _, tc := range []struct {
		name string
		skew time.Duration
	}{
		{"BSS behind: the early read is restated", 10 * time.Minute},
		{"BSS ahead: nothing to restate", -10 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := startSim(t, simOptions{start: settled, collectors: []string{"account"},
				configure: func(c *Config) { c.SettleMargin = 0 }})
			for _, w := range h.exp.workers {
				w.now = func() time.Time { return h.clock.Now().Add(tc.skew) }
			}
			first := settled.Add(time.Minute).Add(-tc.skew) // BSS's clock when the exporter reads the day
			h.mustStep(first)
			published := formatText(t, h.exp, "aliyun_billing_account_daily_payable")
			h.bss.takeWalks()
			// The day is due again a day after it settled, by the exporter's clock.
			again := settled.Add(recheckAfter).Add(time.Minute).Add(-tc.skew)
			h.mustStep(again)
			if !slices.Contains(h.bss.takeWalks(), walkRecord{bssclient.ActionQueryAccountBill, bssclient.Daily, day.Cycle(), day}.String()) {
				t.Fatalf("day %s was not read again", day)
			}
			// The day's published values stay as first read.
			for _, s := range gatheredFamily(t, h.exp, "aliyun_billing_account_daily_payable") {
				if s.tsMs == day.Start().UnixMilli() && !strings.Contains(published, strconv.FormatFloat(s.value, 'g', -1, 64)) {
					t.Errorf("day %s now shows %v, not as first published", day, s.value)
				}
			}

			wantSeries, wantChange := 0, new(big.Rat)
			was, now := h.accountDay(day, first), h.accountDay(day, again)
			for _, k := range unionKeys(was, now) {
				a, b := amountsOf(was, k), amountsOf(now, k)
				if a == b {
					continue
				}
				wantSeries++
				d := new(big.Rat).Sub(ratOf(b.PretaxAmount), ratOf(a.PretaxAmount))
				wantChange.Add(wantChange, d.Abs(d))
			}
			if tc.skew > 0 && wantSeries == 0 {
				t.Fatal("BSS restated nothing; the test proves nothing")
			}
			got := gatheredFamily(t, h.exp, "aliyun_billing_late_restatements_total")
			if len(got) != 1 || got[0].value != float64(wantSeries) {
				t.Errorf("late restatements %v, want %d", got, wantSeries)
			}
			change := gatheredFamily(t, h.exp, "aliyun_billing_late_restatement_payable_total")
			if gotChange := exactSum(change); gotChange.Cmp(wantChange) != 0 {
				t.Errorf("payable change %s, want %s", gotChange.FloatString(4), wantChange.FloatString(4))
			}
			// Read again once, not twice.
			h.mustStep(again.Add(time.Hour))
			for _, w := range h.bss.takeWalks() {
				if strings.HasSuffix(w, day.String()) {
					t.Errorf("day %s read a third time: %s", day, w)
				}
			}
		})
	}
}

func unionKeys(a, b *groupSums) []string {
	keys := slices.Clone(a.order)
	for _, k := range b.order {
		if a.m[k] == nil {
			keys = append(keys, k)
		}
	}
	return keys
}

func amountsOf(g *groupSums, k string) bssclient.Amounts {
	if s := g.m[k]; s != nil {
		return s.amounts
	}
	return bssclient.Amounts{}
}

func ratOf(m bssclient.Money) *big.Rat {
	r, _ := new(big.Rat).SetString(m.String())
	return r
}

// TestSettleMarginForEveryDailyCollector: the same skews for the instance
// (48 h, instance attributes) and ossbucket (72 h, split items)
// collectors: with BSS's clock behind and no margin, a day read at the bare
// delay differs from the final one (amounts, or labels BSS had not filled
// yet); with the default margin, or BSS's clock ahead, it is the final day.
func TestSettleMarginForEveryDailyCollector(t *testing.T) {
	for _, collector := range []string{"instance", "ossbucket"} {
		kind := kindOf(collector)
		day := bssclient.Day{Year: 2025, Month: time.March, Day: 10}
		settled := day.SettledAt(kind)
		prefix := "aliyun_billing_" + collector + "_daily"
		for _, tc := range []struct {
			skew      time.Duration
			margin    time.Duration
			wantFinal bool
		}{
			{10 * time.Minute, 0, false},
			{10 * time.Minute, DefaultSettleMargin, true},
			{-10 * time.Minute, 0, true},
			{-10 * time.Minute, DefaultSettleMargin, true},
		} {
			t.Run(fmt.Sprintf("%s skew %s margin %s", collector, tc.skew, tc.margin), func(t *testing.T) {
				h := startSim(t, simOptions{start: settled, collectors: []string{collector},
					configure: func(c *Config) { c.SettleMargin = tc.margin }})
				for _, w := range h.exp.workers {
					w.now = func() time.Time { return h.clock.Now().Add(tc.skew) }
				}
				h.mustStep(settled.Add(tc.margin).Add(time.Minute).Add(-tc.skew))
				ts := day.Start().UnixMilli()
				got := map[string]float64{}
				for _, s := range gatheredFamily(t, h.exp, prefix+"_payable") {
					if s.tsMs == ts {
						got[labelKey(s.labels)] = s.value
					}
				}
				if len(got) == 0 {
					t.Fatalf("day %s not published", day)
				}
				final := map[string]float64{}
				for _, s := range h.dayFuncOf(collector)(day, settled.Add(48*time.Hour)).amountSamples(prefix, nil, ts) {
					if s.name == prefix+"_payable" {
						v, _ := strconv.ParseFloat(s.value, 64)
						final[labelKey(s.labels)] = v
					}
				}
				if isFinal := maps.Equal(got, final); isFinal != tc.wantFinal {
					t.Errorf("published day %s equals the final day: %v, want %v (%d series published, %d final)",
						day, isFinal, tc.wantFinal, len(got), len(final))
				}
			})
		}
	}
}

func labelKey(labels map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		parts = append(parts, k+"="+labels[k])
	}
	return strings.Join(parts, ",")
}
