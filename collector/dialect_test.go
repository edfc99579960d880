package collector

import (
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
)

// TestEveryDialectGivesTheSameNumbers: whatever representation the
// simulator's answers take (numbers as strings, times without a zone,
// informational fields empty, null or absent, masked ids, or a mix per
// answer), every collector publishes exactly what it publishes from the
// documented representation, and the model's truth, through a month's end.
func TestEveryDialectGivesTheSameNumbers(t *testing.T) {
	moments := []time.Time{at(2025, time.March, 31, 12), at(2025, time.April, 2, 0), at(2025, time.April, 5, 0)}
	var every []string // every registered collector
	for _, r := range Registrations() {
		every = append(every, r.Name)
	}
	run := func(d bsssim.Dialect) []string {
		bills := startSim(t, simOptions{start: moments[0], dialect: d, configure: everything})
		all := startSim(t, simOptions{start: moments[0], dialect: d, collectors: every, configure: everything})
		var out []string
		for _, m := range moments {
			bills.mustStep(m)
			bills.assertModel()
			all.mustStep(m)
			out = append(out, formatText(t, all.exp))
		}
		// The dialect was spoken: the client had to tolerate values, or, for
		// masked ids (informational strings), read them as they came.
		tolerated := len(gatheredFamily(t, all.metrics, "aliyun_billing_bss_unexpected_values_total"))
		if (d == bsssim.DialectDocumented || d == bsssim.DialectMasked) != (tolerated == 0) {
			t.Errorf("dialect %s: the client tolerated values in %d series", d, tolerated)
		}
		return out
	}
	want := run(bsssim.DialectDocumented)
	for _, d := range bsssim.Dialects[1:] {
		t.Run(string(d), func(t *testing.T) {
			got := run(d)
			for i := range moments {
				if got[i] != want[i] {
					t.Errorf("at %s the exposition differs from the documented dialect's:\n%s\nwant:\n%s", moments[i], got[i], want[i])
				}
			}
		})
	}
}
