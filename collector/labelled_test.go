package collector

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

// TestLabelledDays: with LabelledDays, the account collector exposes each
// settled day of the window as gauges labelled billing_day, without a
// timestamp, with exactly the amounts of the timestamped daily family for
// the days both show; a restart on the state directory reads none of them
// from BSS again.
func TestLabelledDays(t *testing.T) {
	const days = 30
	dir := t.TempDir()
	configure := func(c *Config) { c.LabelledDays = days; c.StateDir = dir }
	h := startSim(t, simOptions{start: midMarch, collectors: []string{"account"}, configure: configure})
	h.mustStep(midMarch)
	h.assertModel()

	labelled := gatheredFamily(t, h.exp, "aliyun_billing_account_day_payable")
	daily := gatheredFamily(t, h.exp, "aliyun_billing_account_daily_payable")
	byDay := map[string]map[string]float64{} // billing_day → series → value
	for _, s := range labelled {
		if s.tsMs != 0 {
			t.Fatalf("a day-labelled sample carries a timestamp: %+v", s)
		}
		day := s.labels["billing_day"]
		l := maps.Clone(s.labels)
		delete(l, "billing_day")
		if byDay[day] == nil {
			byDay[day] = map[string]float64{}
		}
		byDay[day][labelString(l)] = s.value
	}
	newest := DefaultConfig().Calendar().NewestSettledDay(midMarch, bssclient.KindAmounts)
	if len(byDay) != days {
		t.Fatalf("%d billing days labelled, want %d", len(byDay), days)
	}
	for d := range days {
		if day := newest.AddDays(-d).String(); byDay[day] == nil {
			t.Errorf("settled day %s is not labelled", day)
		}
	}
	compared := 0
	for _, s := range daily {
		day := bssclient.DayOf(time.UnixMilli(s.tsMs)).String()
		got, ok := byDay[day][labelString(s.labels)]
		if !ok || got != s.value {
			t.Errorf("%s %v: labelled %v (%t), timestamped %v", day, s.labels, got, ok, s.value)
		}
		compared++
	}
	if compared == 0 {
		t.Fatal("no timestamped daily sample to compare with")
	}

	restarted := startSim(t, simOptions{start: midMarch, collectors: []string{"account"}, configure: configure})
	restarted.bss.takeWalks()
	restarted.mustStep(midMarch)
	settled := map[string]bool{}
	for d := range days {
		day := newest.AddDays(-d)
		settled[walkRecord{bssclient.ActionQueryAccountBill, bssclient.Daily, day.Cycle(), day}.String()] = true
	}
	for _, w := range restarted.bss.takeWalks() {
		if settled[w] {
			t.Errorf("the restart read a settled day again: %s", w)
		}
	}
	if got := gatheredFamily(t, restarted.exp, "aliyun_billing_account_day_payable"); len(got) != len(labelled) {
		t.Errorf("after the restart %d day-labelled samples, before %d", len(got), len(labelled))
	}
}

func labelString(l map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(l)) {
		b.WriteString(k + "=" + l[k] + ",")
	}
	return b.String()
}
