package bsssim

import (
	"strings"
	"testing"
)

// TestWorldInjectedSpend: the anomaly tests' knobs add exactly what they say
// on their day, in the account bill and the instance bill alike, and change
// nothing else.
func TestWorldInjectedSpend(t *testing.T) {
	base := WorldConfig{Seed: 7, Owners: 3, InstancesPerOwner: 12}
	cfg := base
	cfg.UsageSpike = ExtraSpend{Day: marchDay(10), ProductCode: "ecs", Amount: 900}
	cfg.Purchase = ExtraSpend{Day: marchDay(12), ProductCode: "ecs", Amount: 700}
	plain, injected := newTestWorld(t, base), newTestWorld(t, cfg)

	gross := func(w *World, d Day, subType string, kind DataKind) int64 {
		return w.Truth(TruthQuery{Day: d, ProductCode: "ecs", SubscriptionType: subType, Kind: kind}, worldSettled).PretaxGrossAmount.Units()
	}
	for _, kind := range []DataKind{KindAmounts, KindInstanceAttributes} {
		for _, c := range []struct {
			day     int
			subType string
			extra   int64
		}{
			{10, "PayAsYouGo", 900}, {10, "Subscription", 0},
			{12, "Subscription", 700}, {12, "PayAsYouGo", 0},
			{11, "PayAsYouGo", 0}, {11, "Subscription", 0},
		} {
			got := gross(injected, marchDay(c.day), c.subType, kind) - gross(plain, marchDay(c.day), c.subType, kind)
			if got != c.extra*100_000_000 {
				t.Errorf("kind %v, March %d, %s: the knobs add %s gross, want %d", kind, c.day, c.subType, Money(got), c.extra)
			}
		}
	}

	// A new region bills nothing before its first day and as usual from it.
	cfg = base
	cfg.NewRegion, cfg.NewRegionFrom = "cn-hangzhou", marchDay(10)
	late := newTestWorld(t, cfg)
	region := func(w *World, d int) Money {
		return w.Truth(TruthQuery{Day: marchDay(d), Region: "cn-hangzhou", Kind: KindAmounts}, worldSettled).PretaxAmount
	}
	if got := region(late, 9); !got.IsZero() {
		t.Errorf("the new region bills %s the day before it starts, want 0", got)
	}
	if got, want := region(late, 10), region(plain, 10); got != want || got.IsZero() {
		t.Errorf("the new region bills %s on its first day, want %s as without the knob (and not 0)", got, want)
	}
	if got, want := late.Truth(TruthQuery{Day: marchDay(9), Region: "cn-shanghai", Kind: KindAmounts}, worldSettled),
		plain.Truth(TruthQuery{Day: marchDay(9), Region: "cn-shanghai", Kind: KindAmounts}, worldSettled); got != want {
		t.Errorf("another region bills %v with the knob, %v without", got, want)
	}

	for _, bad := range []struct {
		cfg  WorldConfig
		want string
	}{
		{WorldConfig{UsageSpike: ExtraSpend{Day: marchDay(1), ProductCode: "ecs"}}, "WorldConfig.UsageSpike: Amount 0"},
		{WorldConfig{Purchase: ExtraSpend{Day: marchDay(1), ProductCode: "cdn", Amount: 1}}, `WorldConfig.Purchase: the world has no billing instance of product "cdn"`},
		{WorldConfig{NewRegion: "mars-1", NewRegionFrom: marchDay(1)}, `WorldConfig.NewRegion "mars-1"`},
		{WorldConfig{NewRegion: "cn-hangzhou"}, `WorldConfig.NewRegion "cn-hangzhou"`},
	} {
		if _, err := NewWorld(bad.cfg); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("NewWorld(%+v): %v, want an error with %q", bad.cfg, err, bad.want)
		}
	}
}
