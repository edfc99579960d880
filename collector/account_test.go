package collector

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim/bsssimtest"
)

// fakeAccountBill answers QueryAccountBill from literal rows keyed by
// "MONTHLY 2025-03" or "DAILY 2025-03-13", and fails anything else, so a
// literal test sees every request the collector makes.
type fakeAccountBill struct {
	rows map[string][]bssclient.AccountBillItem
	mu   sync.Mutex
	seen []string
}

func (f *fakeAccountBill) QueryAccountBill(_ context.Context, req bssclient.AccountBillRequest) iter.Seq2[[]bssclient.AccountBillItem, error] {
	key := string(req.Granularity) + " " + req.BillingCycle.String()
	if req.Granularity == bssclient.Daily {
		key = string(req.Granularity) + " " + req.BillingDate.String()
	}
	f.mu.Lock()
	f.seen = append(f.seen, key)
	f.mu.Unlock()
	return func(yield func([]bssclient.AccountBillItem, error) bool) {
		rows, ok := f.rows[key]
		if !ok || !req.IsGroupByProduct || req.BillingCycle.IsZero() {
			yield(nil, fmt.Errorf("fake BSS: unexpected request %s (grouped by product: %v)", key, req.IsGroupByProduct))
			return
		}
		yield(slices.Clone(rows), nil)
	}
}

var errNotInThisTest = errors.New("fake BSS: not used in this test")

func (f *fakeAccountBill) DescribeInstanceBill(context.Context, bssclient.InstanceBillRequest) iter.Seq2[[]bssclient.InstanceBillItem, error] {
	return func(yield func([]bssclient.InstanceBillItem, error) bool) { yield(nil, errNotInThisTest) }
}

func (f *fakeAccountBill) DescribeSplitItemBill(context.Context, bssclient.SplitItemBillRequest) iter.Seq2[[]bssclient.SplitItemBillItem, error] {
	return func(yield func([]bssclient.SplitItemBillItem, error) bool) { yield(nil, errNotInThisTest) }
}

func (f *fakeAccountBill) QueryBillToOSSSubscription(context.Context) ([]bssclient.BillSubscription, error) {
	return nil, errNotInThisTest
}

func (f *fakeAccountBill) QueryAccountBalance(context.Context) (bssclient.AccountBalance, error) {
	return bssclient.AccountBalance{}, errNotInThisTest
}

func (f *fakeAccountBill) Payer(context.Context, bssclient.Cycle) (bssclient.Payer, error) {
	return bssclient.Payer{}, errNotInThisTest
}

// amounts builds the six columns the exporter shows; the others stay zero.
func amounts(gross, discount, coupons, payable, cash, outstanding string) bssclient.Amounts {
	m := bssclient.MustParseMoney
	return bssclient.Amounts{
		PretaxGrossAmount: m(gross), InvoiceDiscount: m(discount), DeductedByCoupons: m(coupons),
		PretaxAmount: m(payable), CashAmount: m(cash), OutstandingAmount: m(outstanding),
	}
}

func accountRow(product, pip, subscriptionType string, a bssclient.Amounts) bssclient.AccountBillItem {
	return bssclient.AccountBillItem{OwnerID: "1000000000000001", ProductCode: product, PipCode: pip,
		SubscriptionType: subscriptionType, Currency: "CNY", Amounts: a}
}

// TestAccountLiteralExposition pins the exposition format with a hand-checked
// case: one owner, one exposed day, at 2025-03-15 12:00 UTC+8.
//
//   - Day 2025-03-13 (settled at 03-15 00:00): two ecs rows (9.00 and an
//     adjustment of -0.50) sum to 8.50; an oss row without ProductCode is
//     labelled by its PipCode and its blank subscription type as "unknown".
//   - Cycle 2025-03 to date: MONTHLY 117.00 payable for ecs minus the
//     unsettled 03-14 (9.00) and 03-15 (4.50) is 103.50. cdn bills only on
//     03-15, so it nets to zero and has no series.
//   - Cycle 2025-02 has been final since 03-03 12:00.
func TestAccountLiteralExposition(t *testing.T) {
	fake := &fakeAccountBill{rows: map[string][]bssclient.AccountBillItem{
		"DAILY 2025-03-13": {
			accountRow("ecs", "ecs", "PayAsYouGo", amounts("10.00", "1.00", "0", "9.00", "9.00", "0")),
			accountRow("ecs", "ecs", "PayAsYouGo", amounts("-0.50", "0", "0", "-0.50", "-0.50", "0")),
			accountRow("rds", "rds", "Subscription", amounts("100.00", "20.00", "5.00", "75.00", "0", "75.00")),
			accountRow("", "oss", "", amounts("0.01", "0", "0", "0.01", "0.01", "0")),
		},
		"DAILY 2025-03-14": {
			accountRow("ecs", "ecs", "PayAsYouGo", amounts("10.00", "1.00", "0", "9.00", "9.00", "0")),
		},
		"DAILY 2025-03-15": {
			accountRow("ecs", "ecs", "PayAsYouGo", amounts("5.00", "0.50", "0", "4.50", "4.50", "0")),
			accountRow("cdn", "cdn", "PayAsYouGo", amounts("1.00", "0", "0", "1.00", "1.00", "0")),
		},
		"MONTHLY 2025-03": {
			accountRow("ecs", "ecs", "PayAsYouGo", amounts("130.00", "13.00", "0", "117.00", "117.00", "0")),
			accountRow("rds", "rds", "Subscription", amounts("100.00", "20.00", "5.00", "75.00", "0", "75.00")),
			accountRow("cdn", "cdn", "PayAsYouGo", amounts("1.00", "0", "0", "1.00", "1.00", "0")),
		},
		"MONTHLY 2025-02": {
			accountRow("ecs", "ecs", "PayAsYouGo", amounts("280.00", "28.00", "2.00", "250.00", "240.00", "10.00")),
		},
	}}
	cfg := DefaultConfig()
	cfg.Amounts = map[string][]string{"account": {"payable", "list_price"}} // two columns keep the literal short
	cfg.ExposureDays = 1
	cfg.Now = func() time.Time { return at(2025, time.March, 15, 12) }
	exp, err := New(Account{Name: "main", Client: fake}, []Enabled{{Name: "account", Interval: time.Hour}}, cfg, log.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	if err := exp.RefreshOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	slices.Sort(fake.seen)
	wantSeen := []string{"DAILY 2025-03-13", "DAILY 2025-03-14", "DAILY 2025-03-15", "MONTHLY 2025-02", "MONTHLY 2025-03"}
	if !slices.Equal(fake.seen, wantSeen) {
		t.Errorf("requests %v, want %v", fake.seen, wantSeen)
	}

	const want = `# HELP aliyun_billing_account_cycle_list_price List price before discounts (PretaxGrossAmount), of the billing cycle to date, as of the newest settled day, including later refunds and adjustments (QueryAccountBill MONTHLY). Cached; refreshed in the background.
# TYPE aliyun_billing_account_cycle_list_price gauge
aliyun_billing_account_cycle_list_price{account="main",billing_cycle="2025-02",currency="CNY",cycle="previous",owner_id="1000000000000001",product_code="ecs",subscription_type="PayAsYouGo"} 280
aliyun_billing_account_cycle_list_price{account="main",billing_cycle="2025-03",currency="CNY",cycle="current",owner_id="1000000000000001",product_code="ecs",subscription_type="PayAsYouGo"} 115
aliyun_billing_account_cycle_list_price{account="main",billing_cycle="2025-03",currency="CNY",cycle="current",owner_id="1000000000000001",product_code="rds",subscription_type="Subscription"} 100
# HELP aliyun_billing_account_cycle_payable Payable amount after discounts and coupons (PretaxAmount), of the billing cycle to date, as of the newest settled day, including later refunds and adjustments (QueryAccountBill MONTHLY). Cached; refreshed in the background.
# TYPE aliyun_billing_account_cycle_payable gauge
aliyun_billing_account_cycle_payable{account="main",billing_cycle="2025-02",currency="CNY",cycle="previous",owner_id="1000000000000001",product_code="ecs",subscription_type="PayAsYouGo"} 250
aliyun_billing_account_cycle_payable{account="main",billing_cycle="2025-03",currency="CNY",cycle="current",owner_id="1000000000000001",product_code="ecs",subscription_type="PayAsYouGo"} 103.5
aliyun_billing_account_cycle_payable{account="main",billing_cycle="2025-03",currency="CNY",cycle="current",owner_id="1000000000000001",product_code="rds",subscription_type="Subscription"} 75
# HELP aliyun_billing_account_daily_list_price List price before discounts (PretaxGrossAmount), per settled billing day (QueryAccountBill DAILY). Timestamped 00:00 UTC+8 of the day; exposed from 24 h after the day ends; a value never changes once exposed.
# TYPE aliyun_billing_account_daily_list_price gauge
aliyun_billing_account_daily_list_price{account="main",currency="CNY",owner_id="1000000000000001",product_code="ecs",subscription_type="PayAsYouGo"} 9.5 1741795200000
aliyun_billing_account_daily_list_price{account="main",currency="CNY",owner_id="1000000000000001",product_code="oss",subscription_type="unknown"} 0.01 1741795200000
aliyun_billing_account_daily_list_price{account="main",currency="CNY",owner_id="1000000000000001",product_code="rds",subscription_type="Subscription"} 100 1741795200000
# HELP aliyun_billing_account_daily_payable Payable amount after discounts and coupons (PretaxAmount), per settled billing day (QueryAccountBill DAILY). Timestamped 00:00 UTC+8 of the day; exposed from 24 h after the day ends; a value never changes once exposed.
# TYPE aliyun_billing_account_daily_payable gauge
aliyun_billing_account_daily_payable{account="main",currency="CNY",owner_id="1000000000000001",product_code="ecs",subscription_type="PayAsYouGo"} 8.5 1741795200000
aliyun_billing_account_daily_payable{account="main",currency="CNY",owner_id="1000000000000001",product_code="oss",subscription_type="unknown"} 0.01 1741795200000
aliyun_billing_account_daily_payable{account="main",currency="CNY",owner_id="1000000000000001",product_code="rds",subscription_type="Subscription"} 75 1741795200000
# HELP aliyun_billing_cycle_final 1 once the billing cycle's bill is final (after 12:00 UTC+8 on the 3rd of the next month; the 4th for split bills, the 6th for amortized cost) and will not be restated; 0 while it may still change.
# TYPE aliyun_billing_cycle_final gauge
aliyun_billing_cycle_final{account="main",billing_cycle="2025-02",collector="account",cycle="previous"} 1
aliyun_billing_cycle_final{account="main",billing_cycle="2025-03",collector="account",cycle="current"} 0
# HELP aliyun_billing_newest_complete_day_timestamp_seconds Start (00:00 UTC+8) of the newest billing day the collector's data is complete for.
# TYPE aliyun_billing_newest_complete_day_timestamp_seconds gauge
aliyun_billing_newest_complete_day_timestamp_seconds{account="main",collector="account"} 1.7417952e+09
# HELP aliyun_billing_refresh_success 1 if the collector's last background refresh succeeded, 0 if it failed and older data is being served.
# TYPE aliyun_billing_refresh_success gauge
aliyun_billing_refresh_success{account="main",collector="account"} 1
`
	names := concat(accountDailyFamilies, accountCycleFamilies,
		[]string{cycleFinalFamily, newestDayFamily, successFamily, failuresFamily})
	if err := testutil.CollectAndCompare(exp, strings.NewReader(want), names...); err != nil {
		t.Fatal(err)
	}
	// The literal is also what the text format writes, byte for byte.
	if got := formatText(t, exp, names...); got != want {
		t.Errorf("exposition text differs from the literal:\n%s", got)
	}
}

// TestAccountFinalBillMoment: the previous cycle is read until its bill is
// final at 12:00 UTC+8 on the 3rd, once more at that moment, and never after.
func TestAccountFinalBillMoment(t *testing.T) {
	march := bssclient.Cycle{Year: 2025, Month: time.March}
	finalAt := march.FinalAt(bssclient.KindAmounts)
	if want := at(2025, time.April, 3, 12); !finalAt.Equal(want) {
		t.Fatalf("FinalAt = %s, want %s", finalAt, want)
	}
	h := startSim(t, simOptions{start: finalAt.Add(-time.Nanosecond), collectors: []string{"account"}})
	monthlyMarch := walkRecord{bssclient.ActionQueryAccountBill, bssclient.Monthly, march, bssclient.Day{}}.String()
	april := march.Next()
	aprilWalks := []string{
		walkRecord{bssclient.ActionQueryAccountBill, bssclient.Daily, april, bssclient.Day{Year: 2025, Month: time.April, Day: 2}}.String(),
		walkRecord{bssclient.ActionQueryAccountBill, bssclient.Daily, april, bssclient.Day{Year: 2025, Month: time.April, Day: 3}}.String(),
		walkRecord{bssclient.ActionQueryAccountBill, bssclient.Monthly, april, bssclient.Day{}}.String(),
	}

	finalOf := func() map[string]float64 {
		out := map[string]float64{}
		for _, s := range gatheredFamily(t, h.exp, cycleFinalFamily) {
			out[s.labels["cycle"]+" "+s.labels["billing_cycle"]] = s.value
		}
		return out
	}

	steps := []struct {
		at        time.Time
		final     float64 // of the previous cycle, March
		readMarch bool
	}{
		{finalAt.Add(-time.Nanosecond), 0, true},
		{finalAt, 1, true},
		{finalAt.Add(time.Hour), 1, false},
		{finalAt.Add(24 * time.Hour), 1, false},
		{at(2025, time.April, 20, 9), 1, false},
	}
	for i, s := range steps {
		before := h.server.Server.Stats()
		h.mustStep(s.at)
		walks := h.bss.takeWalks()
		if got := slices.Contains(walks, monthlyMarch); got != s.readMarch {
			t.Errorf("step %d at %s: MONTHLY 2025-03 read = %v, want %v (walks %v)", i, s.at, got, s.readMarch, walks)
		}
		// Every walk is one page in this world, so requests equal walks.
		delta := requestsDelta(before, h.server.Server.Stats())
		if got := delta[bssclient.ActionQueryAccountBill]; got != int64(len(walks)) {
			t.Errorf("step %d: %d QueryAccountBill requests for %d walks", i, got, len(walks))
		}
		if i == 2 && !slices.Equal(walks, aprilWalks) {
			t.Errorf("step %d: walks %v, want only the current cycle %v", i, walks, aprilWalks)
		}
		final := finalOf()
		if got := final["previous 2025-03"]; got != s.final {
			t.Errorf("step %d at %s: cycle_final{previous,2025-03} = %v, want %v", i, s.at, got, s.final)
		}
		if got, ok := final["current 2025-04"]; !ok || got != 0 {
			t.Errorf("step %d: cycle_final{current,2025-04} = %v (present %v), want 0", i, got, ok)
		}
		h.assertModel()

		// March is fully settled by now: its gauges equal the truth of the
		// whole cycle, exactly, product by product.
		for _, g := range gatheredFamily(t, h.exp, "aliyun_billing_account_cycle_payable") {
			if g.labels["billing_cycle"] != "2025-03" {
				continue
			}
			truth := h.world.Truth(groupTruth(march, g.labels), s.at)
			if got := moneyOf(t, g.value); got != truth.PretaxAmount {
				t.Errorf("step %d: March payable %v = %s, truth %s", i, g.labels, got, truth.PretaxAmount)
			}
		}
	}
}

// TestAccountRestatement: a refund that BSS books on an already settled day
// shows in the cycle gauges within one refresh, while the day's timestamped
// series keeps the value it was first exposed with.
func TestAccountRestatement(t *testing.T) {
	// Find a March day whose bill changes after it settled: a late refund or
	// adjustment, on the hour, and not at midnight, so that the newest
	// settled day is the same just before and at that moment.
	h := startSim(t, simOptions{start: at(2025, time.March, 1, 0), collectors: []string{"account"},
		configure: func(c *Config) { c.ExposureDays = 10 }})
	march := bssclient.Cycle{Year: 2025, Month: time.March}
	var day bssclient.Day
	var appear time.Time
	for d := march.FirstDay(); d.Day <= 20 && appear.IsZero(); d = d.AddDays(1) {
		settled := d.SettledAt(bssclient.KindAmounts)
		base := h.world.Truth(dayTruth(d), settled)
		for t := settled.Add(time.Hour); t.Before(settled.Add(7 * 24 * time.Hour)); t = t.Add(time.Hour) {
			if h.world.Truth(dayTruth(d), t) != base {
				if t.In(bssclient.BillingZone).Hour() != 0 {
					day, appear = d, t
				}
				break
			}
		}
	}
	if appear.IsZero() {
		t.Fatal("the simulator restates no March day after it settles; the test needs one")
	}
	settled := day.SettledAt(bssclient.KindAmounts)
	t.Logf("day %s settles at %s and is restated at %s", day, settled, appear)

	dailyPayable := func() bssclient.Money {
		sum, n := sumWhere(t, gatheredFamily(t, h.exp, "aliyun_billing_account_daily_payable"), day.Start().UnixMilli(), nil)
		if n == 0 {
			t.Fatalf("day %s is not exposed", day)
		}
		return sum
	}
	cyclePayable := func() bssclient.Money {
		sum, _ := sumWhere(t, gatheredFamily(t, h.exp, "aliyun_billing_account_cycle_payable"), 0, map[string]string{"cycle": "current"})
		return sum
	}

	h.mustStep(settled)
	h.assertModel()
	first := dailyPayable()
	if truth := h.world.Truth(dayTruth(day), settled).PretaxAmount; first != truth {
		t.Fatalf("day %s first exposed as %s, truth %s", day, first, truth)
	}

	h.mustStep(appear.Add(-time.Nanosecond))
	h.assertModel()
	before := cyclePayable()

	h.mustStep(appear)
	h.assertModel()
	if got := dailyPayable(); got != first {
		t.Errorf("day %s changed from %s to %s after it was exposed", day, first, got)
	}
	restated := h.world.Truth(dayTruth(day), appear).PretaxAmount
	if restated == first {
		t.Fatal("the restatement does not change the day's payable amount; the test proves nothing")
	}
	// The cycle moved by exactly what BSS restated between the two refreshes
	// on every settled day of the cycle.
	var want bssclient.Money
	newest := bssclient.Calendar{}.NewestSettledDay(appear, bssclient.KindAmounts)
	for d := march.FirstDay(); !newest.Before(d); d = d.AddDays(1) {
		a := h.world.Truth(dayTruth(d), appear).PretaxAmount
		b := h.world.Truth(dayTruth(d), appear.Add(-time.Nanosecond)).PretaxAmount
		want, _ = want.Add(a)
		want, _ = want.Add(b.Neg())
	}
	after := cyclePayable()
	if got, _ := after.Add(before.Neg()); got != want || got.IsZero() {
		t.Errorf("cycle payable moved by %s (from %s to %s) in the refresh that saw the restatement, want %s", got, before, after, want)
	}
}

func dayTruth(d bssclient.Day) bsssimtest.TruthQuery {
	return bsssimtest.TruthQuery{Day: d, Kind: bssclient.KindAmounts}
}

// groupTruth selects the account bill of one series of a cycle.
func groupTruth(cyc bssclient.Cycle, labels map[string]string) bsssimtest.TruthQuery {
	return bsssimtest.TruthQuery{Cycle: cyc, OwnerID: labels["owner_id"], ProductCode: labels["product_code"],
		SubscriptionType: labels["subscription_type"], Kind: bssclient.KindAmounts}
}
