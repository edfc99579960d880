package collector

import (
	"math/big"
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
