package dashboards

import (
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/collector"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim/bsssimtest"
)

// demoWorldConfig is the world of --demo (cmd/aliyun-billing-exporter/demo.go,
// demoWorldConfig): rebuilt here, from the seed, as the independent judge
// of what the dashboards show. If the two drift apart, the totals differ
// and the tests below fail.
var demoWorldConfig = bsssim.WorldConfig{Seed: 20171214, Owners: 3, InstancesPerOwner: 12, SplitBillEnabled: true, TaxRate: "0.06"}

// demoTruth answers what BSS shows about the demo world at the billing time
// the exporters read it.
type demoTruth struct {
	world bsssimtest.World
	at    time.Time
}

func newDemoTruth(t *testing.T, exp *demoExporter) *demoTruth {
	t.Helper()
	w, err := bsssimtest.NewWorld(demoWorldConfig)
	if err != nil {
		t.Fatal(err)
	}
	// Every exporter starts at exp.clock and reads within minutes; nothing
	// changes before the next hour (demoClock).
	return &demoTruth{world: w, at: exp.clock.Add(time.Minute)}
}

func (d *demoTruth) currency() string { return d.world.Currency() }

// newestDay is the newest settled day of the account collector.
func (d *demoTruth) newestDay() bssclient.Day {
	// The demo runs with the default settle margin: from 00:00 to 03:00
	// UTC+8 the day before yesterday is due at BSS but not yet published.
	return bssclient.Calendar{}.NewestSettledDay(d.at.Add(-collector.DefaultSettleMargin), bssclient.KindAmounts)
}

// dayPayable is the account bill's payable (PretaxAmount) of one day.
func (d *demoTruth) dayPayable(day bssclient.Day) bssclient.Money {
	return d.world.Truth(bsssimtest.TruthQuery{Day: day, Kind: bssclient.KindAmounts}, d.at).PretaxAmount
}

// sameMoney: Prometheus adds float64 samples, so a total equals the exact
// sum to far below a BSS amount's last decimal, not bit for bit.
func sameMoney(v float64, m bssclient.Money) bool {
	return math.Abs(v-m.Float64()) < 1e-6
}

// testTotalsEqualTruth checks the totals the dashboards (and, with rules,
// the recording rules) show against the simulator, while copies exporters'
// worth of the same daily samples are stored (an HA pair, a moved pod).
func testTotalsEqualTruth(t *testing.T, api promClient, exp *demoExporter, truth *demoTruth, copies int, rules bool) {
	newest := truth.newestDay()
	cur := truth.currency()
	key := labelKey(map[string]string{"account": "demo", "currency": cur})

	// The "Daily spend" bars: one per exposed day (7), each the day's truth.
	expr := panelExpr(t, "daily-trend.json", "Daily spend (")
	now := time.Now()
	series, err := api.nonEmptyRange(expr, dailyStart(now.Add(-12*24*time.Hour-exp.shift)), now, 24*time.Hour)
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	var days []string
	for _, s := range series {
		if labelKey(s.Metric) != key {
			t.Errorf("daily spend bar series %v, want only %s", s.Metric, key)
			continue
		}
		for _, v := range s.Values {
			day := bssclient.DayOf(time.Unix(int64(v.time()), 0))
			days = append(days, day.String())
			if want := truth.dayPayable(day); !sameMoney(v.value(), want) {
				t.Errorf("daily spend bar of %s: %v, the simulator's truth is %s", day, v.value(), want)
			}
		}
	}
	var wantDays []string
	for i := 6; i >= 0; i-- {
		wantDays = append(wantDays, newest.AddDays(-i).String())
	}
	if !slices.Equal(days, wantDays) {
		t.Errorf("daily spend bars on %v, want the 7 exposed days %v", days, wantDays)
	}

	// Without max by, each copy would count: the duplicates are there.
	at := newest.Start()
	naive, err := api.nonEmpty(`sum(last_over_time(aliyun_billing_account_daily_payable[23h59m59s]))`, at)
	if err != nil {
		t.Fatal(err)
	}
	if want := float64(copies) * truth.dayPayable(newest).Float64(); math.Abs(naive[0].value()-want) > 1e-6 {
		t.Errorf("a plain sum of %s is %v, want %d copies of the day (%v): the test does not store the duplicates it claims to",
			newest, naive[0].value(), copies, want)
	}

	// The newest day's spend of the recording rules, and the month to date
	// (as of the newest complete day) of the rules and of the dashboard.
	if rules {
		got, err := api.nonEmpty(`account_currency:aliyun_billing_daily_payable:newest_day{account="demo"}`, now)
		if err != nil || len(got) != 1 || !sameMoney(got[0].value(), truth.dayPayable(newest)) {
			t.Errorf("newest_day: %v (%v), the simulator's truth for %s is %s", got, err, newest, truth.dayPayable(newest))
		}
	}
	testMonthToDate(t, api, truth)
	if rules {
		got, err := api.nonEmpty(`account_currency:aliyun_billing_payable:cycle_to_date{account="demo"}`, now)
		if mtd, ok := truth.monthToDate(); ok && (err != nil || len(got) != 1 || !sameMoney(got[0].value(), mtd)) {
			t.Errorf("cycle_to_date rule: %v (%v), the simulator's truth is %s", got, err, mtd)
		}
	}
}

// monthToDate is the payable of the current cycle's settled days, and
// false while none is settled.
func (d *demoTruth) monthToDate() (bssclient.Money, bool) {
	newest := d.newestDay()
	cycle := bssclient.CycleOf(d.at)
	if newest.Cycle() != cycle {
		return bssclient.Money{}, false
	}
	var mtd bssclient.Money
	for day := cycle.FirstDay(); !newest.Before(day); day = day.AddDays(1) {
		var err error
		if mtd, err = mtd.Add(d.dayPayable(day)); err != nil {
			panic(err) // a demo month is far inside Money's range
		}
	}
	return mtd, true
}

// testMonthToDate: the cost overview's "Month to date" equals the truth.
func testMonthToDate(t *testing.T, api promClient, truth *demoTruth) {
	t.Helper()
	mtd, ok := truth.monthToDate()
	if !ok {
		t.Logf("no complete day of %s yet: month to date not compared", bssclient.CycleOf(truth.at))
		return
	}
	expr := panelExpr(t, "cost-overview.json", "Month to date (")
	got, err := api.nonEmpty(expr, time.Now())
	if err != nil || len(got) != 1 || !sameMoney(got[0].value(), mtd) {
		t.Errorf("month to date: %v (%v), the simulator's truth is %s\n%s", got, err, mtd, expr)
	}
}

// panelExpr is the first query of the panel of dashboard file whose title
// starts with title, as Grafana sends it with every variable on All.
func panelExpr(t *testing.T, file, title string) string {
	t.Helper()
	for _, d := range loadDashboards(t) {
		if filepath.Base(d.file) != file {
			continue
		}
		for _, p := range d.allPanels() {
			if strings.HasPrefix(p.Title, title) && len(p.Targets) > 0 {
				return substitute(p.Targets[0].Expr)
			}
		}
	}
	t.Fatalf("%s has no panel %q", file, title+"...")
	return ""
}
