package bsssim

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	march2025 = Cycle{Year: 2025, Month: time.March}
	// worldSettled is after March 2025 is final for every kind.
	worldSettled = time.Date(2025, 4, 20, 12, 0, 0, 0, billingZone)
	// worldMidMarch leaves March 13–15 provisional and the 12th–14th without
	// attributes or split items.
	worldMidMarch = time.Date(2025, 3, 15, 9, 30, 0, 0, billingZone)
)

func marchDay(d int) Day { return Day{Year: 2025, Month: time.March, Day: d} }

func newTestWorld(t testing.TB, cfg WorldConfig) *World {
	t.Helper()
	w, err := NewWorld(cfg)
	if err != nil {
		t.Fatalf("NewWorld(%+v): %v", cfg, err)
	}
	return w
}

func dailyInstanceReq(d Day) InstanceBillRequest {
	return InstanceBillRequest{BillingCycle: d.Cycle(), Granularity: Daily, BillingDate: d}
}

func dailySplitReq(d Day) SplitItemBillRequest {
	return SplitItemBillRequest{BillingCycle: d.Cycle(), Granularity: Daily, BillingDate: d}
}

// allInstanceRows walks the instance bill in pages, checking the count.
func allInstanceRows(t testing.TB, w *World, req InstanceBillRequest, at time.Time) []InstanceBillItem {
	t.Helper()
	n := w.InstanceBillCount(req, at)
	var rows []InstanceBillItem
	for off := 0; off < n; off += maxPageSize {
		rows = append(rows, w.InstanceBillRows(req, at, off, maxPageSize)...)
	}
	if len(rows) != n {
		t.Fatalf("instance bill %+v: walked %d rows, count says %d", req, len(rows), n)
	}
	return rows
}

func allSplitRows(t testing.TB, w *World, req SplitItemBillRequest, at time.Time) []SplitItemBillItem {
	t.Helper()
	n := w.SplitItemBillCount(req, at)
	var rows []SplitItemBillItem
	for off := 0; off < n; off += maxPageSize {
		rows = append(rows, w.SplitItemBillRows(req, at, off, maxPageSize)...)
	}
	if len(rows) != n {
		t.Fatalf("split bill %+v: walked %d rows, count says %d", req, len(rows), n)
	}
	return rows
}

func addAmounts(t testing.TB, a, b Amounts) Amounts {
	t.Helper()
	pairs := []struct {
		dst *Money
		src Money
	}{
		{&a.PretaxGrossAmount, b.PretaxGrossAmount}, {&a.InvoiceDiscount, b.InvoiceDiscount},
		{&a.DeductedByCoupons, b.DeductedByCoupons}, {&a.DeductedByCashCoupons, b.DeductedByCashCoupons},
		{&a.DeductedByPrepaidCard, b.DeductedByPrepaidCard}, {&a.PretaxAmount, b.PretaxAmount},
		{&a.CashAmount, b.CashAmount}, {&a.PaymentAmount, b.PaymentAmount},
		{&a.OutstandingAmount, b.OutstandingAmount}, {&a.AdjustAmount, b.AdjustAmount},
	}
	for _, p := range pairs {
		*p.dst += p.src // test worlds stay far below the int64 range
	}
	return a
}

type worldGroupKey struct{ owner, product, subType string }

// instanceGroups sums instance rows per (owner, product, billing method).
func instanceGroups(t testing.TB, rows []InstanceBillItem) map[worldGroupKey]Amounts {
	m := map[worldGroupKey]Amounts{}
	for _, r := range rows {
		k := worldGroupKey{r.OwnerID, r.ProductCode, r.SubscriptionType}
		m[k] = addAmounts(t, m[k], r.Amounts)
	}
	return m
}

type worldRowKey struct{ instance, item, splitItem string }

func TestWorldConfigErrorsNameTheField(t *testing.T) {
	cases := []struct {
		cfg  WorldConfig
		want string
	}{
		{WorldConfig{Owners: -1}, "WorldConfig.Owners -1"},
		{WorldConfig{Owners: maxOwners + 1}, "WorldConfig.Owners 1001"},
		{WorldConfig{InstancesPerOwner: -5}, "WorldConfig.InstancesPerOwner -5"},
		{WorldConfig{InstancesPerOwner: maxInstances}, "WorldConfig.InstancesPerOwner 50000000"},
		{WorldConfig{BucketsPerOSSInstance: -2}, "WorldConfig.BucketsPerOSSInstance -2"},
		{WorldConfig{BucketsPerOSSInstance: 21}, "WorldConfig.BucketsPerOSSInstance 21"},
		{WorldConfig{Currency: "EUR"}, `WorldConfig.Currency "EUR" unknown`},
		{WorldConfig{Currency: strings.Repeat("X", 100)}, "…"},
	}
	for _, c := range cases {
		_, err := NewWorld(c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewWorld(%+v) = %v, want an error containing %q", c.cfg, err, c.want)
		}
	}
}

func TestWorldDefaultsAndAccounts(t *testing.T) {
	w := newTestWorld(t, WorldConfig{Seed: 7})
	got := w.Config()
	want := WorldConfig{Seed: 7, Owners: 3, InstancesPerOwner: 20, Currency: "CNY", BucketsPerOSSInstance: 3}
	if got != want {
		t.Errorf("Config() = %+v, want %+v", got, want)
	}
	isAccountID := func(id string) bool {
		return len(id) == 16 && id[0] == '1' && strings.Trim(id, "0123456789") == ""
	}
	if !isAccountID(w.AccountID()) {
		t.Errorf("AccountID() = %q, want 16 digits starting with 1", w.AccountID())
	}
	if w.AccountName() != "finance@example-corp.aliyunid.com" {
		t.Errorf("AccountName() = %q", w.AccountName())
	}
	members := w.OwnerIDs()
	if len(members) != 3 || !slices.IsSorted(members) || slices.Contains(members, w.AccountID()) {
		t.Errorf("OwnerIDs() = %v, want 3 sorted member IDs without the payer %s", members, w.AccountID())
	}
	all := w.ResourceOwnerIDs()
	if len(all) != 4 || !slices.IsSorted(all) || !slices.Contains(all, w.AccountID()) {
		t.Errorf("ResourceOwnerIDs() = %v, want the members and the payer, sorted", all)
	}
	for _, id := range all {
		if !isAccountID(id) {
			t.Errorf("owner ID %q is not 16 digits starting with 1", id)
		}
		if !strings.HasSuffix(w.OwnerName(id), "@example-corp.aliyunid.com") {
			t.Errorf("OwnerName(%s) = %q", id, w.OwnerName(id))
		}
	}
	if w.SplitBillEnabled() {
		t.Error("SplitBillEnabled() = true by default")
	}
	// Every owner bills on a settled day, the payer included.
	owners := map[string]bool{}
	for _, r := range allInstanceRows(t, w, dailyInstanceReq(marchDay(10)), worldSettled) {
		owners[r.OwnerID] = true
	}
	if len(owners) != 4 {
		t.Errorf("owners billing on %s: %v, want all 4", marchDay(10), owners)
	}
}

func TestWorldRegions(t *testing.T) {
	if got := RegionDisplayName("cn-hangzhou"); got != "China (Hangzhou)" {
		t.Errorf(`RegionDisplayName("cn-hangzhou") = %q, want "China (Hangzhou)"`, got)
	}
	if got := RegionDisplayName("mars-north-1"); got != "" {
		t.Errorf("RegionDisplayName of an unknown region = %q, want empty", got)
	}
	display := map[string]string{}
	for _, id := range RegionIDs() {
		name := RegionDisplayName(id)
		if name == "" || display[name] != "" {
			t.Errorf("region %s: display name %q empty or not unique", id, name)
		}
		display[name] = id
	}
	for _, want := range []string{"cn-hangzhou", "cn-shanghai", "cn-beijing", "cn-shenzhen", "ap-southeast-1"} {
		if !slices.Contains(RegionIDs(), want) {
			t.Errorf("RegionIDs() lacks %s", want)
		}
	}
	w := newTestWorld(t, WorldConfig{Seed: 3, InstancesPerOwner: 60})
	for _, r := range allInstanceRows(t, w, dailyInstanceReq(marchDay(3)), worldSettled) {
		id, ok := display[r.Region]
		if !ok {
			t.Fatalf("row %s shows Region %q, not a display name of RegionIDs()", r.InstanceID, r.Region)
		}
		if r.Zone != "" && !strings.HasPrefix(r.Zone, id) {
			t.Errorf("row %s: zone %q is not in region %s", r.InstanceID, r.Zone, id)
		}
	}
}

func TestWorldIsDeterministic(t *testing.T) {
	cfg := WorldConfig{Seed: 42, Owners: 2, InstancesPerOwner: 30, SplitBillEnabled: true}
	a, b := newTestWorld(t, cfg), newTestWorld(t, cfg)
	cfg.Seed = 43
	other := newTestWorld(t, cfg)

	snapshot := func(w *World, at time.Time) []any {
		d := marchDay(12)
		monthlyItems := InstanceBillRequest{BillingCycle: march2025, Granularity: Monthly, IsBillingItem: true}
		return []any{
			w.AccountID(), w.OwnerIDs(),
			w.AccountBill(AccountBillRequest{BillingCycle: march2025, Granularity: Monthly, IsGroupByProduct: true}, at),
			allInstanceRows(t, w, dailyInstanceReq(d), at),
			allInstanceRows(t, w, monthlyItems, at),
			allSplitRows(t, w, dailySplitReq(d), at),
			w.Subscriptions(), w.Balance(at),
		}
	}
	for _, at := range []time.Time{worldMidMarch, worldSettled} {
		sa, sb, so := snapshot(a, at), snapshot(b, at), snapshot(other, at)
		for i := range sa {
			if !reflect.DeepEqual(sa[i], sb[i]) {
				t.Errorf("at %s, part %d differs between two worlds of the same seed", at, i)
			}
			if reflect.DeepEqual(sa[i], so[i]) {
				t.Errorf("at %s, part %d is the same for seeds 42 and 43", at, i)
			}
		}
	}
}

func TestWorldRowsSatisfyAmountIdentities(t *testing.T) {
	w := newTestWorld(t, WorldConfig{Seed: 5, InstancesPerOwner: 40})
	check := func(where string, a Amounts, wantSign int64) {
		t.Helper()
		u := func(m Money) int64 { return m.Units() }
		if u(a.PretaxAmount) != u(a.PretaxGrossAmount)-u(a.InvoiceDiscount)-u(a.DeductedByCoupons) {
			t.Errorf("%s: PretaxAmount != PretaxGrossAmount − InvoiceDiscount − DeductedByCoupons: %+v", where, a)
		}
		if u(a.PretaxAmount) != u(a.DeductedByCashCoupons)+u(a.DeductedByPrepaidCard)+u(a.CashAmount)+u(a.OutstandingAmount) {
			t.Errorf("%s: PretaxAmount != vouchers + prepaid cards + cash + outstanding: %+v", where, a)
		}
		if u(a.PaymentAmount) != u(a.CashAmount)+u(a.AdjustAmount) {
			t.Errorf("%s: PaymentAmount != CashAmount + AdjustAmount: %+v", where, a)
		}
		for _, m := range []Money{a.PretaxGrossAmount, a.InvoiceDiscount, a.DeductedByCoupons,
			a.DeductedByCashCoupons, a.DeductedByPrepaidCard, a.PretaxAmount, a.CashAmount, a.OutstandingAmount, a.AdjustAmount} {
			if wantSign*m.Units() < 0 {
				t.Errorf("%s: column %s has the wrong sign in %+v", where, m, a)
			}
		}
	}
	signOf := func(item string) int64 {
		if item == itemRefund || item == itemAdjustment {
			return -1
		}
		return 1
	}
	var negative, fourDecimals, twoDecimals int
	for _, at := range []time.Time{worldMidMarch, worldSettled} {
		for _, d := range []int{1, 9, 14, 15} {
			for _, items := range []bool{false, true} {
				req := dailyInstanceReq(marchDay(d))
				req.IsBillingItem = items
				for _, r := range allInstanceRows(t, w, req, at) {
					check(fmt.Sprintf("instance row %s %s %s", r.BillingDate, r.InstanceID, r.Item), r.Amounts, signOf(r.Item))
					if signOf(r.Item) < 0 {
						negative++
						if r.PretaxAmount.Units() >= 0 {
							t.Errorf("%s row of %s is not negative: %s", r.Item, r.InstanceID, r.PretaxAmount)
						}
					}
					if !items && at == worldSettled {
						switch units := r.PretaxGrossAmount.Units(); {
						case units%1_000_000 == 0:
							twoDecimals++
						case units%10_000 == 0:
							fourDecimals++
						default:
							t.Errorf("settled row of %s has more than 4 decimals: %s", r.InstanceID, r.PretaxGrossAmount)
						}
					}
				}
			}
			for _, r := range allSplitRows(t, w, dailySplitReq(marchDay(d)), at) {
				check("split row "+r.SplitItemID, r.Amounts, signOf(r.Item))
			}
		}
		for _, r := range w.AccountBill(AccountBillRequest{BillingCycle: march2025, IsGroupByProduct: true}, at) {
			check("account row "+r.OwnerID+" "+r.ProductCode, r.Amounts, 0)
		}
	}
	if negative == 0 || twoDecimals == 0 || fourDecimals == 0 {
		t.Errorf("rows seen: %d negative, %d with 2 decimals, %d with 4; want some of each", negative, twoDecimals, fourDecimals)
	}
}

func TestWorldAccountBillEqualsInstanceBill(t *testing.T) {
	w := newTestWorld(t, WorldConfig{Seed: 11})
	times := []time.Time{worldMidMarch, time.Date(2025, 4, 2, 18, 0, 0, 0, billingZone), worldSettled}
	for _, at := range times {
		for d := 1; d <= 31; d++ {
			day := marchDay(d)
			instances := instanceGroups(t, allInstanceRows(t, w, dailyInstanceReq(day), at))
			accountReq := AccountBillRequest{BillingCycle: march2025, Granularity: Daily, BillingDate: day, IsGroupByProduct: true}
			account := map[worldGroupKey]Amounts{}
			for _, r := range w.AccountBill(accountReq, at) {
				if r.BillingDate != day.String() || r.Currency != "CNY" || r.ProductName == "" {
					t.Errorf("account row %+v: want BillingDate %s, CNY and a product name", r, day)
				}
				account[worldGroupKey{r.OwnerID, r.ProductCode, r.SubscriptionType}] = r.Amounts
			}
			if !reflect.DeepEqual(account, instances) {
				t.Errorf("at %s, %s: account bill by product\n%v\n!= instance bill sums\n%v", at, day, account, instances)
			}
			// Without grouping: one row per owner, the sum of its groups.
			accountReq.IsGroupByProduct = false
			perOwner := map[string]Amounts{}
			for k, a := range instances {
				perOwner[k.owner] = addAmounts(t, perOwner[k.owner], a)
			}
			for _, r := range w.AccountBill(accountReq, at) {
				if r.ProductCode != "" || r.SubscriptionType != "" {
					t.Errorf("ungrouped account row names a product: %+v", r)
				}
				if r.Amounts != perOwner[r.OwnerID] {
					t.Errorf("at %s, %s, owner %s: account %+v != instance sum %+v", at, day, r.OwnerID, r.Amounts, perOwner[r.OwnerID])
				}
				delete(perOwner, r.OwnerID)
			}
			if len(perOwner) != 0 {
				t.Errorf("at %s, %s: owners with instance rows but no account row: %v", at, day, perOwner)
			}
		}
		// MONTHLY: the cycle to date.
		monthly := instanceGroups(t, allInstanceRows(t, w, InstanceBillRequest{BillingCycle: march2025, Granularity: Monthly}, at))
		account := map[worldGroupKey]Amounts{}
		for _, r := range w.AccountBill(AccountBillRequest{BillingCycle: march2025, Granularity: Monthly, IsGroupByProduct: true}, at) {
			if r.BillingDate != "" {
				t.Errorf("MONTHLY account row has BillingDate %q", r.BillingDate)
			}
			account[worldGroupKey{r.OwnerID, r.ProductCode, r.SubscriptionType}] = r.Amounts
		}
		if !reflect.DeepEqual(account, monthly) {
			t.Errorf("at %s: MONTHLY account bill != MONTHLY instance bill sums", at)
		}
	}
}

// TestWorldMonthlyRowsSumDailyRows: a MONTHLY row is its instance's DAILY
// rows of the cycle to date, parts included.
func TestWorldMonthlyRowsSumDailyRows(t *testing.T) {
	w := newTestWorld(t, WorldConfig{Seed: 12, Owners: 2})
	for _, at := range []time.Time{worldMidMarch, worldSettled} {
		for _, items := range []bool{false, true} {
			daily := map[worldRowKey]Amounts{}
			for d := 1; d <= 31; d++ {
				req := dailyInstanceReq(marchDay(d))
				req.IsBillingItem = items
				for _, r := range allInstanceRows(t, w, req, at) {
					k := worldRowKey{r.InstanceID, r.Item, r.BillingItemCode}
					daily[k] = addAmounts(t, daily[k], r.Amounts)
				}
			}
			monthly := map[worldRowKey]Amounts{}
			req := InstanceBillRequest{BillingCycle: march2025, Granularity: Monthly, IsBillingItem: items}
			for _, r := range allInstanceRows(t, w, req, at) {
				k := worldRowKey{r.InstanceID, r.Item, r.BillingItemCode}
				if r.BillingDate != "" {
					t.Errorf("MONTHLY row has BillingDate %q", r.BillingDate)
				}
				monthly[k] = addAmounts(t, monthly[k], r.Amounts)
			}
			if len(monthly) == 0 || !reflect.DeepEqual(daily, monthly) {
				t.Errorf("at %s, IsBillingItem=%v: %d MONTHLY rows != sums of %d DAILY rows", at, items, len(monthly), len(daily))
			}
		}
		// The split bill likewise, once split items show.
		if at == worldSettled {
			daily := map[worldRowKey]Amounts{}
			for d := 1; d <= 31; d++ {
				for _, r := range allSplitRows(t, w, dailySplitReq(marchDay(d)), at) {
					k := worldRowKey{r.InstanceID, r.Item, r.SplitItemID}
					daily[k] = addAmounts(t, daily[k], r.Amounts)
				}
			}
			monthly := map[worldRowKey]Amounts{}
			for _, r := range allSplitRows(t, w, SplitItemBillRequest{BillingCycle: march2025}, at) {
				k := worldRowKey{r.InstanceID, r.Item, r.SplitItemID}
				monthly[k] = addAmounts(t, monthly[k], r.Amounts)
			}
			if !reflect.DeepEqual(daily, monthly) {
				t.Errorf("MONTHLY split rows != sums of DAILY split rows")
			}
		}
	}
}

func TestWorldPartsSumToInstanceRows(t *testing.T) {
	w := newTestWorld(t, WorldConfig{Seed: 13, BucketsPerOSSInstance: 4})
	for _, at := range []time.Time{worldMidMarch, worldSettled} {
		for _, d := range []int{2, 13, 14, 15} {
			day := marchDay(d)
			instance := map[worldRowKey]Amounts{}
			rowsOf := map[worldRowKey]int{}
			for _, r := range allInstanceRows(t, w, dailyInstanceReq(day), at) {
				k := worldRowKey{instance: r.InstanceID, item: r.Item}
				instance[k] = addAmounts(t, instance[k], r.Amounts)
				rowsOf[k]++
			}
			items := map[worldRowKey]Amounts{}
			itemReq := dailyInstanceReq(day)
			itemReq.IsBillingItem = true
			for _, r := range allInstanceRows(t, w, itemReq, at) {
				if r.BillingItem == "" || r.BillingItemCode == "" {
					t.Errorf("billing-item row of %s lacks BillingItem or BillingItemCode", r.InstanceID)
				}
				k := worldRowKey{instance: r.InstanceID, item: r.Item}
				items[k] = addAmounts(t, items[k], r.Amounts)
			}
			if !reflect.DeepEqual(items, instance) {
				t.Errorf("at %s, %s: billing items do not sum to their instance rows", at, day)
			}

			split := map[worldRowKey]Amounts{}
			buckets := map[worldRowKey]map[string]bool{}
			for _, r := range allSplitRows(t, w, dailySplitReq(day), at) {
				k := worldRowKey{instance: r.InstanceID, item: r.Item}
				split[k] = addAmounts(t, split[k], r.Amounts)
				if buckets[k] == nil {
					buckets[k] = map[string]bool{}
				}
				buckets[k][r.SplitItemID] = true
				if r.SplitBillingCycle != "2025-03" || r.SplitBillingDate != day.String() || r.SplitAccountID != r.OwnerID {
					t.Errorf("split row %+v: wrong split cycle, date or account", r)
				}
			}
			if !reflect.DeepEqual(split, instance) {
				t.Errorf("at %s, %s: split rows do not sum to their instance rows", at, day)
			}
			// Once split items show, an OSS instance has one row per bucket
			// and every other instance is its own split item.
			if !at.Before(day.SettledAt(KindSplitItems)) {
				for k, ids := range buckets {
					want := 1
					if strings.HasPrefix(k.instance, "oss-") {
						want = 4 * rowsOf[k]
					}
					if len(ids) != want || ids[""] {
						t.Errorf("%s: split items of %v: %v, want %d named", day, k, ids, want)
					}
					if want == 1 && !ids[k.instance] {
						t.Errorf("%s: split item of %s is %v, want the instance ID", day, k.instance, ids)
					}
				}
			}
		}
	}
}

func TestWorldTruthAgreesWithRows(t *testing.T) {
	w := newTestWorld(t, WorldConfig{Seed: 17, InstancesPerOwner: 30})
	owner := w.OwnerIDs()[1]
	var bucket string
	for _, r := range allSplitRows(t, w, dailySplitReq(marchDay(4)), worldSettled) {
		if r.ProductCode == "oss" {
			bucket = r.SplitItemID
			break
		}
	}
	if bucket == "" {
		t.Fatal("no OSS bucket in the world")
	}
	queries := []TruthQuery{
		{},
		{ProductCode: "ecs"},
		{ProductCode: "rds", SubscriptionType: "Subscription"},
		{OwnerID: owner},
		{OwnerID: w.AccountID(), SubscriptionType: "PayAsYouGo"},
		{Region: "cn-hangzhou"},
		{Region: "cn-shanghai", ProductCode: "ecs"},
		{SplitItemID: bucket},
	}
	for _, at := range []time.Time{worldMidMarch, worldSettled} {
		for _, kind := range []DataKind{KindAmounts, KindInstanceAttributes, KindSplitItems} {
			for _, q := range queries {
				if q.SplitItemID != "" && kind != KindSplitItems {
					continue
				}
				q.Kind, q.Cycle = kind, march2025
				var cycleSum Amounts
				for d := 1; d <= 31; d++ {
					q.Day = marchDay(d)
					var want Amounts
					match := func(owner, product, subType, region, instance string) bool {
						if q.Region != "" && kind == KindAmounts {
							// The account bill has no region: Truth uses the
							// instances' region, shown once attributes settle.
							region = ""
							for _, r := range allInstanceRows(t, w, InstanceBillRequest{BillingCycle: march2025, Granularity: Daily, BillingDate: q.Day, InstanceID: instance}, worldSettled) {
								region = r.Region
							}
						}
						return (q.OwnerID == "" || owner == q.OwnerID) && (q.ProductCode == "" || product == q.ProductCode) &&
							(q.SubscriptionType == "" || subType == q.SubscriptionType) &&
							(q.Region == "" || region == RegionDisplayName(q.Region))
					}
					if kind == KindSplitItems {
						for _, r := range allSplitRows(t, w, dailySplitReq(q.Day), at) {
							if match(r.OwnerID, r.ProductCode, r.SubscriptionType, r.Region, r.InstanceID) &&
								(q.SplitItemID == "" || r.SplitItemID == q.SplitItemID) {
								want = addAmounts(t, want, r.Amounts)
							}
						}
					} else {
						for _, r := range allInstanceRows(t, w, dailyInstanceReq(q.Day), at) {
							if match(r.OwnerID, r.ProductCode, r.SubscriptionType, r.Region, r.InstanceID) {
								want = addAmounts(t, want, r.Amounts)
							}
						}
					}
					if got := w.Truth(q, at); got != want {
						t.Errorf("at %s, Truth(%+v) = %s, rows sum to %s", at, q, got.PretaxAmount, want.PretaxAmount)
					}
					cycleSum = addAmounts(t, cycleSum, want)
				}
				q.Day = Day{}
				if got := w.Truth(q, at); got != cycleSum {
					t.Errorf("at %s, Truth(%+v) for the cycle = %s, days sum to %s", at, q, got.PretaxAmount, cycleSum.PretaxAmount)
				}
			}
		}
	}
	if got := w.Truth(TruthQuery{Cycle: march2025, OwnerID: "1999999999999999"}, worldSettled); got != (Amounts{}) {
		t.Errorf("Truth for an unknown owner = %+v, want zero", got)
	}
}

// TestWorldVisibilityBoundaries checks each delay one second before and at
// the moment bssclient's calendar says the data settles.
func TestWorldVisibilityBoundaries(t *testing.T) {
	w := newTestWorld(t, WorldConfig{Seed: 19})
	day := marchDay(10)
	req := dailyInstanceReq(day)
	final := allInstanceRows(t, w, req, worldSettled)
	regularFinal := map[string]Amounts{}
	for _, r := range final {
		if r.Item == itemPayAsYouGo || r.Item == itemSubscriptionOrder {
			regularFinal[r.InstanceID] = r.Amounts
		}
	}

	// Midnights in UTC+8, straight from the calendar.
	if got, want := day.SettledAt(KindSplitItems), time.Date(2025, 3, 14, 0, 0, 0, 0, billingZone); !got.Equal(want) {
		t.Fatalf("calendar: split items of %s settle at %s, want %s", day, got, want)
	}

	cases := []struct {
		name   string
		moment time.Time
		check  func(t *testing.T, before bool)
	}{
		{"day start", day.Start(), func(t *testing.T, before bool) {
			n := w.InstanceBillCount(req, day.Start().Add(boundaryOffset(before)))
			ab := w.AccountBill(AccountBillRequest{BillingCycle: march2025, Granularity: Daily, BillingDate: day}, day.Start().Add(boundaryOffset(before)))
			if before != (n == 0) || before != (len(ab) == 0) {
				t.Errorf("before=%v: %d instance rows, %d account rows", before, n, len(ab))
			}
		}},
		{"amounts", day.SettledAt(KindAmounts), func(t *testing.T, before bool) {
			at := day.SettledAt(KindAmounts).Add(boundaryOffset(before))
			same := 0
			for _, r := range allInstanceRows(t, w, req, at) {
				if want, ok := regularFinal[r.InstanceID]; ok && r.Amounts == want && r.Item != itemRefund && r.Item != itemAdjustment {
					same++
				}
			}
			zero := 0
			for _, a := range regularFinal {
				if a.PretaxGrossAmount.IsZero() {
					zero++
				}
			}
			if before && same != zero {
				t.Errorf("a second before settling, %d regular rows already show final amounts (%d are zero)", same, zero)
			}
			if !before && same != len(regularFinal) {
				t.Errorf("at settling, %d of %d regular rows show final amounts", same, len(regularFinal))
			}
		}},
		{"instance attributes", day.SettledAt(KindInstanceAttributes), func(t *testing.T, before bool) {
			at := day.SettledAt(KindInstanceAttributes).Add(boundaryOffset(before))
			for _, r := range allInstanceRows(t, w, req, at) {
				blank := r.Region == "" && r.Zone == "" && r.InstanceSpec == "" && r.InstanceConfig == "" &&
					r.NickName == "" && r.ResourceGroup == "" && r.InternetIP == "" && r.IntranetIP == ""
				if before != blank || (!before && (r.Region == "" || r.NickName == "" || r.ResourceGroup == "")) {
					t.Fatalf("before=%v: row %s shows region %q nickname %q group %q", before, r.InstanceID, r.Region, r.NickName, r.ResourceGroup)
				}
				if r.InstanceID == "" || r.ProductCode == "" || r.OwnerID == "" {
					t.Fatalf("row lacks identity columns: %+v", r)
				}
			}
			for _, r := range allSplitRows(t, w, dailySplitReq(day), at) {
				if before != (r.Region == "") {
					t.Fatalf("before=%v: split row of %s shows region %q", before, r.InstanceID, r.Region)
				}
			}
		}},
		{"split items", day.SettledAt(KindSplitItems), func(t *testing.T, before bool) {
			at := day.SettledAt(KindSplitItems).Add(boundaryOffset(before))
			rows := allSplitRows(t, w, dailySplitReq(day), at)
			for _, r := range rows {
				if before != (r.SplitItemID == "" && r.SplitItemName == "") || (!before && r.SplitItemName == "") {
					t.Fatalf("before=%v: split row of %s shows item %q %q", before, r.InstanceID, r.SplitItemID, r.SplitItemName)
				}
			}
			if len(rows) == 0 {
				t.Fatal("no split rows")
			}
			filtered := dailySplitReq(day)
			for _, r := range final {
				if r.ProductCode != "oss" {
					filtered.SplitItemID = r.InstanceID
				}
			}
			if n := w.SplitItemBillCount(filtered, at); before != (n == 0) {
				t.Errorf("before=%v: SplitItemID filter finds %d rows", before, n)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.check(t, true)
			c.check(t, false)
		})
	}
}

// boundaryOffset is one second before a boundary, or the boundary itself.
func boundaryOffset(before bool) time.Duration {
	if before {
		return -time.Second
	}
	return 0
}

func TestWorldProvisionalAmountsGrowUntilSettled(t *testing.T) {
	w := newTestWorld(t, WorldConfig{Seed: 23})
	day := marchDay(20)
	gross := func(at time.Time) int64 {
		var sum int64
		for _, r := range allInstanceRows(t, w, dailyInstanceReq(day), at) {
			if r.Item == itemPayAsYouGo {
				sum += r.PretaxGrossAmount.Units()
			}
		}
		return sum
	}
	final := gross(day.SettledAt(KindAmounts))
	if final <= 0 {
		t.Fatalf("final pay-as-you-go gross of %s is %d", day, final)
	}
	prev := int64(0)
	for _, at := range []time.Time{
		day.Start(), day.Start().Add(5 * time.Hour), day.End().Add(-time.Second), day.End(),
		day.End().Add(12 * time.Hour), day.SettledAt(KindAmounts).Add(-time.Second),
	} {
		g := gross(at)
		if g <= prev || g >= final {
			t.Errorf("at %s: provisional gross %d, want above the previous %d and below the final %d", at, g, prev, final)
		}
		prev = g
		// The account bill shows the same provisional numbers.
		truth := w.Truth(TruthQuery{Cycle: march2025, Day: day}, at)
		settled := w.Truth(TruthQuery{Cycle: march2025, Day: day}, day.SettledAt(KindAmounts))
		if truth == settled {
			t.Errorf("at %s: the day's account bill already equals its settled value", at)
		}
	}
	// Within one step the share does not move.
	if a, b := gross(day.Start().Add(5*time.Hour)), gross(day.Start().Add(5*time.Hour+59*time.Minute)); a != b {
		t.Errorf("gross changed within one provisional step: %d then %d", a, b)
	}
}

func TestWorldRestatementsAppearLateAndStopAtFinal(t *testing.T) {
	w := newTestWorld(t, WorldConfig{Seed: 29})
	finalAt := march2025.FinalAt(KindAmounts)
	lateDays := 0
	for d := 1; d <= 31; d++ {
		day := marchDay(d)
		req := dailyInstanceReq(day)
		settled := day.SettledAt(KindAmounts)
		// Attributes fill in after the amounts settle; compare amounts only.
		type money struct {
			instance, item string
			amounts        Amounts
		}
		project := func(rows []InstanceBillItem) []money {
			var out []money
			for _, r := range rows {
				out = append(out, money{r.InstanceID, r.Item, r.Amounts})
			}
			return out
		}
		first := project(allInstanceRows(t, w, req, settled))
		all := allInstanceRows(t, w, req, finalAt)
		last := project(all)
		if len(last) == len(first) {
			if !reflect.DeepEqual(first, last) {
				t.Errorf("%s changed between settling and FinalAt without a late row", day)
			}
			continue
		}
		lateDays++
		// Late rows are appended negatives, and appear on the hour strictly
		// after settling and before FinalAt.
		if !reflect.DeepEqual(last[:len(first)], first) {
			t.Errorf("%s: rows seen at settling changed later", day)
		}
		for _, r := range all[len(first):] {
			if (r.Item != itemRefund && r.Item != itemAdjustment) || r.PretaxAmount.Units() >= 0 {
				t.Errorf("%s: late row %s %s %s, want a negative Refund or Adjustment", day, r.InstanceID, r.Item, r.PretaxAmount)
			}
		}
		var appeared time.Time
		for at := settled.Add(time.Hour); at.Before(finalAt); at = at.Add(time.Hour) {
			if w.InstanceBillCount(req, at) > len(first) {
				appeared = at
				break
			}
		}
		if appeared.IsZero() || w.InstanceBillCount(req, appeared.Add(-time.Second)) != len(first) {
			t.Errorf("%s: late rows appeared at %s, want on an hour between settling and FinalAt", day, appeared)
		}
		before, after := w.Truth(TruthQuery{Cycle: march2025, Day: day}, appeared.Add(-time.Second)), w.Truth(TruthQuery{Cycle: march2025, Day: day}, appeared)
		if before == after {
			t.Errorf("%s: the settled day's value did not change when its late row appeared", day)
		}
	}
	if lateDays == 0 {
		t.Fatal("no day of March 2025 got a late restatement; pick another seed")
	}

	// The monthly total changes after the cycle ended until FinalAt, never after.
	changedAfterEnd := false
	prev := w.Truth(TruthQuery{Cycle: march2025}, march2025.Next().Start())
	for at := march2025.Next().Start(); at.Before(finalAt); at = at.Add(time.Hour) {
		if got := w.Truth(TruthQuery{Cycle: march2025}, at); got != prev {
			changedAfterEnd, prev = true, got
		}
	}
	if !changedAfterEnd {
		t.Error("March's total never changed between the cycle's end and FinalAt")
	}
	for _, kind := range []DataKind{KindAmounts, KindInstanceAttributes, KindSplitItems} {
		fa := march2025.FinalAt(kind)
		at, later := w.Truth(TruthQuery{Cycle: march2025, Kind: kind}, fa), w.Truth(TruthQuery{Cycle: march2025, Kind: kind}, fa.Add(60*24*time.Hour))
		if at != later {
			t.Errorf("%s: March changed after FinalAt %s", kind, fa)
		}
	}
	splitFinal := march2025.FinalAt(KindSplitItems)
	monthlySplit := SplitItemBillRequest{BillingCycle: march2025, Granularity: Monthly}
	if !reflect.DeepEqual(allSplitRows(t, w, monthlySplit, splitFinal), allSplitRows(t, w, monthlySplit, splitFinal.Add(30*24*time.Hour))) {
		t.Error("March's split bill rows changed after the split FinalAt (4th 12:00 UTC+8)")
	}
	monthly := InstanceBillRequest{BillingCycle: march2025, Granularity: Monthly}
	if !reflect.DeepEqual(allInstanceRows(t, w, monthly, finalAt), allInstanceRows(t, w, monthly, finalAt.Add(30*24*time.Hour))) {
		t.Error("March's instance bill rows changed after FinalAt (3rd 12:00 UTC+8)")
	}
}

// TestWorldFilters: a filtered bill is the unfiltered bill's matching rows,
// in the same order.
func TestWorldFilters(t *testing.T) {
	w := newTestWorld(t, WorldConfig{Seed: 31, InstancesPerOwner: 50})
	member := w.OwnerIDs()[0]
	memberID := mustParseInt(t, member)
	payerID := mustParseInt(t, w.AccountID())
	base := allInstanceRows(t, w, dailyInstanceReq(marchDay(8)), worldSettled)
	var someInstance string
	var otherOwner int64
	for _, r := range base[len(base)/2:] {
		if r.ProductCode == "ecs" {
			someInstance = r.InstanceID
			if r.OwnerID == member {
				otherOwner = payerID
			} else {
				otherOwner = memberID
			}
			break
		}
	}
	zero := 0
	for _, r := range base {
		if r.PretaxGrossAmount.IsZero() && r.PretaxAmount.IsZero() {
			zero++
		}
	}
	if zero == 0 {
		t.Fatal("the test world has no zero-charge rows to hide")
	}

	type instanceCase struct {
		name  string
		edit  func(*InstanceBillRequest)
		match func(InstanceBillItem) bool
	}
	instanceCases := []instanceCase{
		{"product", func(r *InstanceBillRequest) { r.ProductCode = "ecs" },
			func(r InstanceBillItem) bool { return r.ProductCode == "ecs" }},
		{"product and subscription type", func(r *InstanceBillRequest) { r.ProductCode, r.SubscriptionType = "rds", "PayAsYouGo" },
			func(r InstanceBillItem) bool {
				return r.ProductCode == "rds" && r.SubscriptionType == "PayAsYouGo"
			}},
		{"subscription type", func(r *InstanceBillRequest) { r.SubscriptionType = "Subscription" },
			func(r InstanceBillItem) bool { return r.SubscriptionType == "Subscription" }},
		{"member owner", func(r *InstanceBillRequest) { r.BillOwnerID = memberID },
			func(r InstanceBillItem) bool { return r.OwnerID == member }},
		{"payer as owner", func(r *InstanceBillRequest) { r.BillOwnerID = payerID },
			func(r InstanceBillItem) bool { return r.OwnerID == w.AccountID() }},
		{"instance", func(r *InstanceBillRequest) { r.InstanceID = someInstance },
			func(r InstanceBillItem) bool { return r.InstanceID == someInstance }},
		{"hide zero charge", func(r *InstanceBillRequest) { r.IsHideZeroCharge = true },
			func(r InstanceBillItem) bool {
				return !r.PretaxGrossAmount.IsZero() || !r.PretaxAmount.IsZero()
			}},
		{"unknown owner", func(r *InstanceBillRequest) { r.BillOwnerID = 1234 }, nil},
		{"unknown instance", func(r *InstanceBillRequest) { r.InstanceID = "i-bp1doesnotexist0000" }, nil},
		{"instance of another owner", func(r *InstanceBillRequest) { r.InstanceID, r.BillOwnerID = someInstance, otherOwner }, nil},
		{"unknown product", func(r *InstanceBillRequest) { r.ProductCode = "nosuch" }, nil},
	}
	for _, granularity := range []Granularity{Daily, Monthly} {
		req := dailyInstanceReq(marchDay(8))
		req.Granularity = granularity
		all := allInstanceRows(t, w, req, worldSettled)
		for _, c := range instanceCases {
			r := req
			c.edit(&r)
			var want []InstanceBillItem
			for _, row := range all {
				if c.match != nil && c.match(row) {
					want = append(want, row)
				}
			}
			got := allInstanceRows(t, w, r, worldSettled)
			if !reflect.DeepEqual(got, want) || (c.match != nil && len(got) == 0) {
				t.Errorf("%s %s: %d rows, want the %d matching rows of %d", granularity, c.name, len(got), len(want), len(all))
			}
		}
	}

	// Split bill: SplitItemID finds a bucket or a non-split instance.
	splitAll := allSplitRows(t, w, dailySplitReq(marchDay(8)), worldSettled)
	var bucket string
	for _, r := range splitAll {
		if r.ProductCode == "oss" && !r.PretaxAmount.IsZero() {
			bucket = r.SplitItemID
		}
	}
	splitCases := []struct {
		name  string
		edit  func(*SplitItemBillRequest)
		match func(SplitItemBillItem) bool
	}{
		{"bucket", func(r *SplitItemBillRequest) { r.SplitItemID = bucket },
			func(r SplitItemBillItem) bool { return r.SplitItemID == bucket }},
		{"instance as split item", func(r *SplitItemBillRequest) { r.SplitItemID = someInstance },
			func(r SplitItemBillItem) bool { return r.SplitItemID == someInstance }},
		{"product", func(r *SplitItemBillRequest) { r.ProductCode = "oss" },
			func(r SplitItemBillItem) bool { return r.ProductCode == "oss" }},
		{"owner", func(r *SplitItemBillRequest) { r.BillOwnerID = memberID },
			func(r SplitItemBillItem) bool { return r.OwnerID == member }},
		{"hide zero charge", func(r *SplitItemBillRequest) { r.IsHideZeroCharge = true },
			func(r SplitItemBillItem) bool {
				return !r.PretaxGrossAmount.IsZero() || !r.PretaxAmount.IsZero()
			}},
		{"bucket of another owner", func(r *SplitItemBillRequest) { r.SplitItemID, r.BillOwnerID = bucket, 1 }, nil},
		{"bucket with a wrong suffix", func(r *SplitItemBillRequest) { r.SplitItemID = bucket[:len(bucket)-1] + "x" }, nil},
	}
	for _, c := range splitCases {
		r := dailySplitReq(marchDay(8))
		c.edit(&r)
		var want []SplitItemBillItem
		for _, row := range splitAll {
			if c.match != nil && c.match(row) {
				want = append(want, row)
			}
		}
		got := allSplitRows(t, w, r, worldSettled)
		if !reflect.DeepEqual(got, want) || (c.match != nil && len(got) == 0) {
			t.Errorf("split %s: %d rows, want the %d matching rows", c.name, len(got), len(want))
		}
	}

	// Account bill: ProductCode and BillOwnerID.
	accountAll := w.AccountBill(AccountBillRequest{BillingCycle: march2025, IsGroupByProduct: true}, worldSettled)
	var want []AccountBillItem
	for _, r := range accountAll {
		if r.ProductCode == "oss" && r.OwnerID == member {
			want = append(want, r)
		}
	}
	got := w.AccountBill(AccountBillRequest{BillingCycle: march2025, IsGroupByProduct: true, ProductCode: "oss", BillOwnerID: memberID}, worldSettled)
	if len(want) == 0 || !reflect.DeepEqual(got, want) {
		t.Errorf("account bill filtered by product and owner: %v, want %v", got, want)
	}
	if got := w.AccountBill(AccountBillRequest{BillingCycle: march2025, BillOwnerID: 77}, worldSettled); got != nil {
		t.Errorf("account bill of an unknown owner: %v, want none", got)
	}
}

func mustParseInt(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestWorldPaging(t *testing.T) {
	w := newTestWorld(t, WorldConfig{Seed: 37})
	for _, items := range []bool{false, true} {
		req := InstanceBillRequest{BillingCycle: march2025, Granularity: Monthly, IsBillingItem: items}
		n := w.InstanceBillCount(req, worldSettled)
		all := w.InstanceBillRows(req, worldSettled, 0, n+10)
		if len(all) != n || n == 0 {
			t.Fatalf("one big page: %d rows, count %d", len(all), n)
		}
		var paged []InstanceBillItem
		for off := 0; off < n; off += 7 {
			paged = append(paged, w.InstanceBillRows(req, worldSettled, off, 7)...)
		}
		if !reflect.DeepEqual(paged, all) {
			t.Errorf("IsBillingItem=%v: pages of 7 differ from one page", items)
		}
		for _, c := range []struct{ offset, limit int }{{n, 5}, {n + 3, 1}, {-1, 5}, {0, 0}, {0, -3}} {
			if got := w.InstanceBillRows(req, worldSettled, c.offset, c.limit); len(got) != 0 {
				t.Errorf("rows at offset %d limit %d: %d, want none", c.offset, c.limit, len(got))
			}
		}
	}
	// Requests that match nothing.
	for _, req := range []InstanceBillRequest{
		{BillingCycle: march2025, Granularity: Daily},                                                 // no date
		{BillingCycle: march2025, Granularity: Daily, BillingDate: Day{Year: 2025, Month: 4, Day: 1}}, // date outside the cycle
		{Granularity: Monthly}, // no cycle
		{BillingCycle: Cycle{Year: 2025, Month: 5}, Granularity: Monthly}, // not started at worldSettled
	} {
		if n := w.InstanceBillCount(req, worldSettled); n != 0 {
			t.Errorf("InstanceBillCount(%+v) = %d, want 0", req, n)
		}
	}
}

// TestWorldMillionRowDay pages deep into a day of over a million rows
// without building the day.
func TestWorldMillionRowDay(t *testing.T) {
	w := newTestWorld(t, WorldConfig{Seed: 41, Owners: 9, InstancesPerOwner: 175_000})
	req := dailyInstanceReq(marchDay(10))
	n := w.InstanceBillCount(req, worldSettled)
	if n < 1_000_000 {
		t.Fatalf("count %d, want at least a million rows", n)
	}
	perOwner := 0
	for _, id := range w.ResourceOwnerIDs() {
		r := req
		r.BillOwnerID = mustParseInt(t, id)
		perOwner += w.InstanceBillCount(r, worldSettled)
	}
	if perOwner != n {
		t.Errorf("owners' counts sum to %d, the whole day counts %d", perOwner, n)
	}
	page := w.InstanceBillRows(req, worldSettled, 999_700, 300)
	if len(page) != 300 {
		t.Fatalf("page at 999,700: %d rows, want 300", len(page))
	}
	again := newTestWorld(t, WorldConfig{Seed: 41, Owners: 9, InstancesPerOwner: 175_000}).InstanceBillRows(req, worldSettled, 999_700, 300)
	if !reflect.DeepEqual(page, again) {
		t.Error("the page at 999,700 differs between two worlds of the same seed")
	}
	if overlap := w.InstanceBillRows(req, worldSettled, 999_900, 100); !reflect.DeepEqual(overlap, page[200:]) {
		t.Error("rows 999,900… differ from the same rows fetched in the page at 999,700")
	}
	seen := map[string]bool{}
	for _, r := range page {
		if r.BillingDate != "2025-03-10" || r.InstanceID == "" || seen[r.InstanceID+r.Item] {
			t.Errorf("row %+v: wrong date, no ID or repeated", r)
		}
		seen[r.InstanceID+r.Item] = true
	}
	if last := w.InstanceBillRows(req, worldSettled, n-1, 300); len(last) != 1 {
		t.Errorf("last page: %d rows, want 1", len(last))
	}
	// The account bill of a big day (summed by parallel workers) still
	// equals the instance rows of a group, checked on a small one.
	owner := w.ResourceOwnerIDs()[0]
	group := req
	group.BillOwnerID, group.ProductCode, group.SubscriptionType = mustParseInt(t, owner), "polardb", "Subscription"
	rows := allInstanceRows(t, w, group, worldSettled)
	var want Amounts
	for _, r := range rows {
		want = addAmounts(t, want, r.Amounts)
	}
	account := w.AccountBill(AccountBillRequest{BillingCycle: march2025, Granularity: Daily,
		BillingDate: req.BillingDate, IsGroupByProduct: true, ProductCode: "polardb", BillOwnerID: group.BillOwnerID}, worldSettled)
	found := false
	for _, r := range account {
		if r.SubscriptionType == "Subscription" {
			found = true
			if r.Amounts != want {
				t.Errorf("big day, %s polardb Subscription: account %s, %d instance rows sum to %s", owner, r.PretaxAmount, len(rows), want.PretaxAmount)
			}
		}
	}
	if !found || len(rows) == 0 {
		t.Errorf("big day, %s polardb Subscription: %d instance rows, account rows %v", owner, len(rows), account)
	}
	// A deep page allocates about what the first page does: nothing is
	// built for the rows it skips.
	first := testing.AllocsPerRun(3, func() { w.InstanceBillRows(req, worldSettled, 0, 300) })
	deep := testing.AllocsPerRun(3, func() { w.InstanceBillRows(req, worldSettled, 999_700, 300) })
	if deep > 2*first+100 {
		t.Errorf("a page at 999,700 allocates %.0f times, the first page %.0f", deep, first)
	}
}

func TestWorldSubscriptionsAndBalance(t *testing.T) {
	w := newTestWorld(t, WorldConfig{Seed: 43, Currency: "USD"})
	subs := w.Subscriptions()
	if len(subs) < 2 || len(subs) > 3 {
		t.Fatalf("%d subscriptions, want 2 or 3", len(subs))
	}
	payer := mustParseInt(t, w.AccountID())
	types := map[string]bool{}
	for _, s := range subs {
		types[s.SubscribeType] = true
		if s.BucketOwnerID != payer || s.RowLimitPerFile != 300000 || s.SubscribeBucket == "" ||
			!strings.HasSuffix(s.BucketPath, "/") || s.SubscribeLanguage != "en" {
			t.Errorf("subscription %+v", s)
		}
		if _, err := time.Parse("2006-01-02 15:04:05", s.SubscribeTime); err != nil {
			t.Errorf("SubscribeTime %q: %v", s.SubscribeTime, err)
		}
	}
	if !types["BillingItemDetailForBillingPeriod"] || !types["InstanceDetailForBillingPeriod"] {
		t.Errorf("subscription types %v", types)
	}

	t1 := time.Date(2025, 3, 5, 10, 0, 0, 0, billingZone)
	b1, b2 := w.Balance(t1), w.Balance(t1.Add(30*time.Hour))
	if b1 != w.Balance(t1) {
		t.Error("Balance is not deterministic")
	}
	if b1.Currency != "USD" || b2.AvailableCashAmount.Units() >= b1.AvailableCashAmount.Units() || b2.AvailableCashAmount.Units() <= 0 {
		t.Errorf("balance %+v then %+v: want USD, drifting down, positive", b1, b2)
	}
	for _, b := range []AccountBalance{b1, b2} {
		if b.AvailableAmount.Units() != b.AvailableCashAmount.Units()+b.CreditAmount.Units() {
			t.Errorf("AvailableAmount != AvailableCashAmount + CreditAmount: %+v", b)
		}
	}
}

func TestWorldCurrency(t *testing.T) {
	cny := newTestWorld(t, WorldConfig{Seed: 47})
	usd := newTestWorld(t, WorldConfig{Seed: 47, Currency: "USD"})
	tc := TruthQuery{Cycle: march2025}
	a, b := cny.Truth(tc, worldSettled), usd.Truth(tc, worldSettled)
	if b.PretaxGrossAmount.Units()*3 > a.PretaxGrossAmount.Units() {
		t.Errorf("USD world spends %s, CNY world %s: want USD about a seventh", b.PretaxGrossAmount, a.PretaxGrossAmount)
	}
	for _, r := range usd.AccountBill(AccountBillRequest{BillingCycle: march2025}, worldSettled) {
		if r.Currency != "USD" {
			t.Errorf("USD world bills in %q", r.Currency)
		}
	}
}

// TestWorldConcurrentUse runs queries in parallel; -race checks the caches.
func TestWorldConcurrentUse(t *testing.T) {
	w := newTestWorld(t, WorldConfig{Seed: 53})
	want := w.AccountBill(AccountBillRequest{BillingCycle: march2025, IsGroupByProduct: true}, worldSettled)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := 1; d <= 31; d++ {
				w.InstanceBillRows(dailyInstanceReq(marchDay(d)), worldSettled, 0, 50)
				w.AccountBill(AccountBillRequest{BillingCycle: march2025, Granularity: Daily, BillingDate: marchDay(d)}, worldMidMarch)
			}
			if got := w.AccountBill(AccountBillRequest{BillingCycle: march2025, IsGroupByProduct: true}, worldSettled); !reflect.DeepEqual(got, want) {
				t.Error("concurrent account bill differs")
			}
		}()
	}
	wg.Wait()
}

func BenchmarkWorldInstanceBillPage(b *testing.B) {
	w := newTestWorld(b, WorldConfig{Seed: 41, Owners: 9, InstancesPerOwner: 175_000})
	req := dailyInstanceReq(marchDay(10))
	b.ReportAllocs()
	for b.Loop() {
		w.InstanceBillRows(req, worldSettled, 999_700, 300)
	}
}

func BenchmarkWorldMonthlyPage(b *testing.B) {
	w := newTestWorld(b, WorldConfig{Seed: 41, Owners: 9, InstancesPerOwner: 175_000})
	req := InstanceBillRequest{BillingCycle: march2025, Granularity: Monthly, IsBillingItem: true}
	b.ReportAllocs()
	for b.Loop() {
		w.InstanceBillRows(req, worldSettled, 999_700, 300)
	}
}
