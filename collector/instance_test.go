package collector

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim/bsssimtest"
)

// TestInstancePerInstanceOverflow: with a cap below the instance count each
// day has MaxInstances per-instance series plus one overflow series, and they
// add up exactly to the day's total.
func TestInstancePerInstanceOverflow(t *testing.T) {
	const maxInstances = 5
	h := startSim(t, simOptions{start: midMarch, collectors: []string{"instance"}, configure: func(c *Config) {
		c.Instance.PerInstance = true
		c.Instance.MaxInstances = maxInstances
	}})
	h.mustStep(midMarch)
	h.assertModel()

	perInstance := gatheredFamily(t, h.exp, perInstanceFamily)
	daily := gatheredFamily(t, h.exp, "aliyun_billing_instance_daily_payable")
	from, to := h.exposureRange(bssclient.KindInstanceAttributes, midMarch)
	for d := from; !to.Before(d); d = d.AddDays(1) {
		ts := d.Start().UnixMilli()
		ids := map[string]bool{}
		for _, s := range perInstance {
			if s.tsMs == ts {
				ids[s.labels["instance_id"]] = true
			}
		}
		if len(ids) != maxInstances+1 || !ids["__overflow__"] {
			t.Errorf("day %s: per-instance series %v, want %d instances and __overflow__", d, ids, maxInstances)
		}
		byInstance, _ := sumWhere(t, perInstance, ts, nil)
		aggregated, _ := sumWhere(t, daily, ts, nil)
		truth := h.world.Truth(bsssimtest.TruthQuery{Day: d, Kind: bssclient.KindInstanceAttributes}, midMarch).PretaxAmount
		if byInstance != truth || aggregated != truth {
			t.Errorf("day %s: per-instance sum %s, aggregated sum %s, truth %s", d, byInstance, aggregated, truth)
		}
	}
}

// instanceSeriesWithLabels runs the instance collector under configure,
// checks it against the model, and returns its daily payable series after
// checking that they carry exactly the labels want.
func instanceSeriesWithLabels(t *testing.T, configure func(*Config), want ...string) (*simHarness, []gotSample) {
	t.Helper()
	h := startSim(t, simOptions{start: midMarch, collectors: []string{"instance"}, configure: configure})
	h.mustStep(midMarch)
	h.assertModel()
	got := gatheredFamily(t, h.exp, "aliyun_billing_instance_daily_payable")
	if len(got) == 0 {
		t.Fatal("no instance series")
	}
	names := slices.Sorted(maps.Keys(got[0].labels))
	if slices.Sort(want); !slices.Equal(names, want) {
		t.Errorf("labels %v, want %v", names, want)
	}
	return h, got
}

// TestInstanceZoneAndTagLabels: zone and the selected tag keys become labels
// of the aggregated series; an untagged instance gets empty tag labels.
func TestInstanceZoneAndTagLabels(t *testing.T) {
	_, got := instanceSeriesWithLabels(t, func(c *Config) {
		c.Instance.Zone = true
		c.Instance.TagKeys = []string{"team", "env"}
	}, "account", "currency", "owner_id", "product_code", "region_id", "subscription_type", "tag_env", "tag_team", "zone_id")
	zones := map[string]bool{}
	for _, s := range got {
		zones[s.labels["zone_id"]] = true
		if r := s.labels["region_id"]; s.labels["zone_id"] != "unknown" && !strings.HasPrefix(s.labels["zone_id"], r) {
			t.Errorf("zone %s outside region %s", s.labels["zone_id"], r)
		}
	}
	if len(zones) < 3 || !zones["unknown"] {
		t.Errorf("zones %v: the test needs several, and a product without zones", zones)
	}
}

// TestInstanceResourceGroupAndCostUnitLabels: the opt-in resource_group and
// cost_unit labels come from each row's ResourceGroup and CostUnit, and the
// finer series still add up to the day's truth.
func TestInstanceResourceGroupAndCostUnitLabels(t *testing.T) {
	h, got := instanceSeriesWithLabels(t, func(c *Config) {
		c.Instance.ResourceGroup = true
		c.Instance.CostUnit = true
		c.Instance.TagKeys = []string{"team", "env"}
	}, "account", "cost_unit", "currency", "owner_id", "product_code", "region_id", "resource_group", "subscription_type", "tag_env", "tag_team")
	groups, units := map[string]bool{}, map[string]bool{}
	for _, s := range got {
		l := s.labels
		groups[l["resource_group"]], units[l["cost_unit"]] = true, true
		// The simulator puts an instance in the default group or in
		// "<team>-<env>", and its cost unit is "Not allocated" or its team,
		// as its tags say: a label read from another column, or from
		// another row, breaks these.
		if l["tag_team"] == "" {
			continue
		}
		if g := l["resource_group"]; g != "Default resource group" && g != l["tag_team"]+"-"+l["tag_env"] {
			t.Errorf("series %v: resource group %q does not match its tags", l, g)
		}
		if u := l["cost_unit"]; u != "Not allocated" && u != l["tag_team"] {
			t.Errorf("series %v: cost unit %q does not match its team tag", l, u)
		}
	}
	if len(groups) < 3 || !groups["Default resource group"] || len(units) < 3 || !units["Not allocated"] {
		t.Errorf("resource groups %v, cost units %v: the test needs several of each, and the defaults", groups, units)
	}
	from, to := h.exposureRange(bssclient.KindInstanceAttributes, midMarch)
	for d := from; !to.Before(d); d = d.AddDays(1) {
		sum, n := sumWhere(t, got, d.Start().UnixMilli(), nil)
		truth := h.world.Truth(bsssimtest.TruthQuery{Day: d, Kind: bssclient.KindInstanceAttributes}, midMarch).PretaxAmount
		if n == 0 || sum != truth {
			t.Errorf("day %s: %d series sum to %s, truth %s", d, n, sum, truth)
		}
	}
}

// TestInstanceFailedWalkIsNotPublished: a day whose walk fails in the middle
// (after its first page was read) is not exposed, not even in part, and the
// next good refresh exposes it whole.
func TestInstanceFailedWalkIsNotPublished(t *testing.T) {
	cases := []struct {
		name   string
		inject func(f *bsssim.Faults)
		code   string
	}{
		{"NextToken repeated on page 2", func(f *bsssim.Faults) { f.RepeatNextToken(1) }, bssclient.CodeRepeatedToken},
		{"TotalCount changes between pages", func(f *bsssim.Faults) { f.DriftTotalCount(1) }, bssclient.CodeTotalCountDrift},
		{"server error on page 2", nil, bssclient.CodeServiceUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Early March with two exposed days keeps the multi-page walks few.
			start := at(2025, time.March, 4, 12)
			h := startSim(t, simOptions{world: &multiPageWorld, start: start, collectors: []string{"instance"},
				configure: func(c *Config) { c.ExposureDays = 2 }})
			h.mustStep(start)
			h.assertModel()
			// Exposed days and the cycle sum before the failure.
			daily := gatheredFamily(t, h.exp, "aliyun_billing_instance_daily_payable")
			cycle := formatText(t, h.exp, instanceCycleFamilies...)

			next := start.Add(24 * time.Hour)
			newDay := bssclient.Calendar{}.NewestSettledDay(next, bssclient.KindInstanceAttributes)
			req := bssclient.InstanceBillRequest{BillingCycle: newDay.Cycle(), Granularity: bssclient.Daily, BillingDate: newDay}
			if n := h.world.InstanceBillCount(req, next); n <= bssclient.MaxPageSize {
				t.Fatalf("day %s has %d rows; the test needs a multi-page walk", newDay, n)
			}
			faults := h.server.Server.Faults()
			faults.OnlyAction(bssclient.ActionDescribeInstanceBill)
			if tc.inject != nil {
				tc.inject(faults)
			} else {
				// Let page 1 through by failing only a request that
				// carries a NextToken: the simulator counts faults per
				// answer, so arm it from inside the walk.
				h.bss.setAfterFirstPage(func() { faults.FailNext(1) })
			}
			before := h.server.Server.Stats()
			h.failedStep(next, tc.code, "instance")
			h.bss.setAfterFirstPage(nil)
			if got := requestsDelta(before, h.server.Server.Stats())[bssclient.ActionDescribeInstanceBill]; got != 2 {
				t.Errorf("%d requests, want the walk to fail on its second page", got)
			}
			h.assertModel()
			got := gatheredFamily(t, h.exp, "aliyun_billing_instance_daily_payable")
			if slices.Contains(timestampsOf(got), newDay.Start().UnixMilli()) {
				t.Fatalf("day %s exposed after its walk failed", newDay)
			}
			// The cycle sum is kept as it was: a sum with a missing day would
			// be wrong.
			if got := formatText(t, h.exp, instanceCycleFamilies...); got != cycle {
				t.Errorf("cycle gauges changed by a failed refresh:\n%s\nwas:\n%s", got, cycle)
			}
			// Every earlier day still shows what it showed.
			from, _ := h.exposureRange(bssclient.KindInstanceAttributes, next)
			if lost := keptSamples(daily, got, from); len(lost) > 0 {
				t.Errorf("earlier days changed by a failed refresh: %v", lost)
			}

			faults.Clear()
			h.mustStep(next)
			h.assertModel()
			got = gatheredFamily(t, h.exp, "aliyun_billing_instance_daily_payable")
			if !slices.Contains(timestampsOf(got), newDay.Start().UnixMilli()) {
				t.Fatalf("day %s not exposed after a good refresh", newDay)
			}
		})
	}
}

// keptSamples reports the samples of before, from day from on, that after
// lacks or shows with another value.
func keptSamples(before, after []gotSample, from bssclient.Day) []string {
	key := func(s gotSample) string {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(s.labels)) {
			parts = append(parts, k+"="+s.labels[k])
		}
		return fmt.Sprintf("%s@%d", strings.Join(parts, ","), s.tsMs)
	}
	now := map[string]float64{}
	for _, s := range after {
		now[key(s)] = s.value
	}
	var lost []string
	for _, s := range before {
		if s.tsMs < from.Start().UnixMilli() {
			continue
		}
		if v, ok := now[key(s)]; !ok || v != s.value {
			lost = append(lost, key(s))
		}
	}
	return lost
}

// TestMonthReadsTakeTurns: an account's collectors read a month's bill one
// at a time. While another holds the turn, the instance and ossbucket
// collectors read their days and wait for it before their cycles; the
// wait ends with the refresh's context, and the next refresh reads them.
func TestMonthReadsTakeTurns(t *testing.T) {
	now := at(2026, 5, 20, 10)
	for _, name := range []string{"instance", "ossbucket"} {
		t.Run(name, func(t *testing.T) {
			h := startSim(t, simOptions{start: now, collectors: []string{name}})
			var turn chan struct{}
			switch c := h.exp.workers[0].collector.(type) {
			case *instanceCollector:
				turn = c.acct.monthReads
			case *ossBucketCollector:
				turn = c.acct.monthReads
			}
			turn <- struct{}{} // another collector's month read
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			defer cancel()
			h.clock.Set(now)
			if err := h.exp.RefreshOnce(ctx); !strings.Contains(fmt.Sprint(err), name+": billing cycle 2026-05: context deadline exceeded") {
				t.Errorf("the collector did not wait for its turn: %v", err)
			}
			walks := h.bss.takeWalks()
			if slices.ContainsFunc(walks, func(w string) bool { return strings.Contains(w, "MONTHLY") }) {
				t.Errorf("a month was read out of turn: %v", walks)
			}
			if !slices.ContainsFunc(walks, func(w string) bool { return strings.Contains(w, "DAILY") }) {
				t.Errorf("no day was read while waiting: %v", walks)
			}
			<-turn
			h.mustStep(now)
			h.assertModel()
		})
	}
}
