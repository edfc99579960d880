package bsssim

import (
	"reflect"
	"slices"
	"testing"
	"time"
)

// splitKey is what a client groups split rows by to compare a MONTHLY split
// bill with the DAILY split bills of its days.
type splitKey struct{ instance, item, splitItem, billingItem string }

func keyOf(r *SplitItemBillItem) splitKey {
	return splitKey{r.InstanceID, r.Item, r.SplitItemID, r.BillingItemCode}
}

// dailySplitSums sums the DAILY split rows of every started day of March
// 2025 per key.
func dailySplitSums(t *testing.T, w *World, hideZero bool, at time.Time) map[splitKey]Amounts {
	t.Helper()
	sums := map[splitKey]Amounts{}
	for d := 1; d <= 31; d++ {
		req := dailySplitReq(marchDay(d))
		req.IsHideZeroCharge = hideZero
		for _, r := range allSplitRows(t, w, req, at) {
			sums[keyOf(&r)] = addAmounts(t, sums[keyOf(&r)], r.Amounts)
		}
	}
	return sums
}

func monthlySplitReq(hideZero bool) SplitItemBillRequest {
	return SplitItemBillRequest{BillingCycle: march2025, Granularity: Monthly, IsHideZeroCharge: hideZero}
}

// marchSplitState reports whether some started day of March 2025 is split
// at at, and whether some is not split yet, from the documented 72 h delay.
func marchSplitState(at time.Time) (someSplit, someUnsplit bool) {
	for d := 1; d <= 31; d++ {
		day := marchDay(d)
		if at.Before(day.Start()) {
			break
		}
		if at.Before(day.SettledAt(KindSplitItems)) {
			someUnsplit = true
		} else {
			someSplit = true
		}
	}
	return someSplit, someUnsplit
}

// A MONTHLY split bill is the DAILY split bills of its started days grouped
// by (InstanceID, Item, SplitItemID, BillingItemCode): every money column of
// every key agrees, and the amounts of days not split yet are in unnamed
// rows, one per key, which exist exactly while some started day is not split.
func TestMonthlySplitBillGroupsDailySplitBills(t *testing.T) {
	day1Split := marchDay(1).SettledAt(KindSplitItems)
	moments := []struct {
		name string
		at   time.Time
	}{
		{"day 2, nothing split", time.Date(2025, 3, 2, 10, 0, 0, 0, billingZone)},
		{"just before day 1 splits", day1Split.Add(-time.Nanosecond)},
		{"day 1 just split", day1Split},
		{"mid-month", worldMidMarch},
		{"the 29th", time.Date(2025, 3, 29, 18, 0, 0, 0, billingZone)},
		{"April 2, March 29–31 not split", time.Date(2025, 4, 2, 9, 0, 0, 0, billingZone)},
		{"all split", worldSettled},
	}
	restatements := map[bool]int{} // MONTHLY restatement rows seen, by unnamed
	for _, items := range []bool{false, true} {
		w := newTestWorld(t, WorldConfig{Seed: 21, Owners: 2, InstancesPerOwner: 40, SplitRowPerBucket: !items})
		for _, m := range moments {
			someSplit, someUnsplit := marchSplitState(m.at)
			for _, hideZero := range []bool{false, true} {
				daily := dailySplitSums(t, w, hideZero, m.at)
				rows := allSplitRows(t, w, monthlySplitReq(hideZero), m.at)
				monthly := map[splitKey]Amounts{}
				named, unnamed := 0, 0
				for _, r := range rows {
					k := keyOf(&r)
					if _, dup := monthly[k]; dup {
						t.Errorf("items=%v, %s: two MONTHLY rows with key %+v", items, m.name, k)
					}
					monthly[k] = r.Amounts
					if (r.SplitItemID == "") != (r.SplitItemName == "") {
						t.Errorf("items=%v, %s: SplitItemID %q with SplitItemName %q", items, m.name, r.SplitItemID, r.SplitItemName)
					}
					if r.SplitItemID == "" {
						unnamed++
					} else {
						named++
					}
					if items && r.ProductCode == "oss" && r.BillingItemCode == "" {
						t.Errorf("items=%v, %s: OSS split row without a billing item: %+v", items, m.name, r)
					}
					if r.Item == itemRefund || r.Item == itemAdjustment {
						restatements[r.SplitItemID == ""]++
					}
				}
				if len(monthly) == 0 || !reflect.DeepEqual(monthly, daily) {
					for k, a := range daily {
						if monthly[k] != a {
							t.Errorf("items=%v, hideZero=%v, %s: key %+v: MONTHLY %+v, DAILY sum %+v",
								items, hideZero, m.name, k, monthly[k], a)
						}
					}
					t.Fatalf("items=%v, hideZero=%v, %s: %d MONTHLY keys, %d DAILY keys",
						items, hideZero, m.name, len(monthly), len(daily))
				}
				if (unnamed > 0) != someUnsplit || (named > 0) != someSplit {
					t.Errorf("items=%v, hideZero=%v, %s: %d named and %d unnamed MONTHLY rows; some day split: %v, some not: %v",
						items, hideZero, m.name, named, unnamed, someSplit, someUnsplit)
				}
			}
		}
	}
	if restatements[false] == 0 || restatements[true] == 0 {
		t.Errorf("the moments show %d named and %d unnamed MONTHLY restatement rows; pick a seed with both",
			restatements[false], restatements[true])
	}
}

// The divided layout pages like any other: small pages and single-instance
// queries find the same rows, and a SplitItemID query finds its named rows.
func TestMonthlySplitBillPagesAndFilters(t *testing.T) {
	w := newTestWorld(t, WorldConfig{Seed: 21, Owners: 2, InstancesPerOwner: 40})
	at := time.Date(2025, 3, 29, 18, 0, 0, 0, billingZone)
	req := monthlySplitReq(false)
	rows := allSplitRows(t, w, req, at)
	var paged []SplitItemBillItem
	for off := 0; off < len(rows); off += 7 {
		paged = append(paged, w.SplitItemBillRows(req, at, off, 7)...)
	}
	if !reflect.DeepEqual(paged, rows) {
		t.Fatalf("pages of 7 rows differ from pages of %d", maxPageSize)
	}
	byInstance := map[string][]SplitItemBillItem{}
	for _, r := range rows {
		byInstance[r.InstanceID] = append(byInstance[r.InstanceID], r)
	}
	for id, want := range byInstance {
		one := req
		one.InstanceID = id
		if got := allSplitRows(t, w, one, at); !reflect.DeepEqual(got, want) {
			t.Errorf("InstanceID %s: %d rows, want its %d rows of the whole bill", id, len(got), len(want))
		}
	}
	i := slices.IndexFunc(rows, func(r SplitItemBillItem) bool { return r.ProductCode == "oss" && r.SplitItemID != "" })
	if i < 0 {
		t.Fatal("no named OSS row on the 29th")
	}
	byID := req
	byID.SplitItemID = rows[i].SplitItemID
	var want []SplitItemBillItem
	for _, r := range rows {
		if r.SplitItemID == byID.SplitItemID {
			want = append(want, r)
		}
	}
	if got := allSplitRows(t, w, byID, at); !reflect.DeepEqual(got, want) {
		t.Errorf("SplitItemID %s: %d rows, want %d", byID.SplitItemID, len(got), len(want))
	}
}

// MonthlySplitNamesFirstDay keeps the opposite guess reachable: the MONTHLY
// bill names days not split yet under split items, so a DAILY row's key is
// missing from it and named keys carry more than their split days. Other
// views do not depend on the guess.
func TestMonthlySplitNamesFirstDayDisagreesWithDaily(t *testing.T) {
	cfg := WorldConfig{Seed: 21, Owners: 2, InstancesPerOwner: 40}
	grouped := newTestWorld(t, cfg)
	cfg.MonthlySplitNamesFirstDay = true
	firstDay := newTestWorld(t, cfg)
	at := time.Date(2025, 3, 29, 18, 0, 0, 0, billingZone)

	daily := dailySplitSums(t, firstDay, false, at)
	if want := dailySplitSums(t, grouped, false, at); !reflect.DeepEqual(daily, want) {
		t.Fatal("MonthlySplitNamesFirstDay changed the DAILY split bills")
	}
	monthly := map[splitKey]Amounts{}
	totals := map[string][2]Amounts{} // per instance: MONTHLY, DAILY
	for _, r := range allSplitRows(t, firstDay, monthlySplitReq(false), at) {
		monthly[keyOf(&r)] = addAmounts(t, monthly[keyOf(&r)], r.Amounts)
		tt := totals[r.InstanceID]
		tt[0] = addAmounts(t, tt[0], r.Amounts)
		totals[r.InstanceID] = tt
	}
	missing, larger := 0, 0
	for k, a := range daily {
		tt := totals[k.instance]
		tt[1] = addAmounts(t, tt[1], a)
		totals[k.instance] = tt
		m, ok := monthly[k]
		switch {
		case k.splitItem == "" && !ok:
			missing++
		case k.splitItem != "" && m.PretaxGrossAmount != a.PretaxGrossAmount:
			larger++
		}
	}
	if missing == 0 || larger == 0 {
		t.Errorf("first-day naming: %d unnamed DAILY keys missing from MONTHLY, %d named keys differing; want both > 0", missing, larger)
	}
	for id, tt := range totals {
		if tt[0] != tt[1] {
			t.Errorf("instance %s: MONTHLY total %+v, DAILY total %+v", id, tt[0], tt[1])
		}
	}

	for _, items := range []bool{false, true} {
		req := InstanceBillRequest{BillingCycle: march2025, Granularity: Monthly, IsBillingItem: items}
		if !reflect.DeepEqual(allInstanceRows(t, firstDay, req, at), allInstanceRows(t, grouped, req, at)) {
			t.Errorf("IsBillingItem=%v: MONTHLY instance bill depends on MonthlySplitNamesFirstDay", items)
		}
	}
}
