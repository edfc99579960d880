package dashboards

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/proctest"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
)

// The anomaly alerts (recording.yml, aliyun-billing-anomalies) on real
// Prometheus over 97 days of simulator history, loaded with the backfill:
//
//   - an ordinary month: 30 newest days in a row, no alert;
//   - a pay-as-you-go spike of product ecs: AliyunBillingProductSpendAnomaly,
//     and AliyunBillingRegionSpendAnomaly for its region, with the bands
//     and impacts the simulator's own amounts give, and the Daily trend
//     panel's bar and band;
//   - a subscription purchase of ecs of the same gross: no alert, though
//     counted as spend it would clear the band by more than the impact floor;
//   - a region whose instances start billing: AliyunBillingRegionNewSpend.
//
// Prometheus evaluates rules only at now, so the test evaluates each alert's
// expression at a past time with /api/v1/query, every recording rule it
// reads written out in place (a rule at time T is its expression at T).
// The backfilled store holds every day, so at 12:00 UTC+8 of day D the
// newest day is D, and the band's window (offset 3d) is D-30 … D-3; live,
// two to three days later, it ends one or two days before D. Both leave D out.

const (
	productAnomaly = "AliyunBillingProductSpendAnomaly"
	regionAnomaly  = "AliyunBillingRegionSpendAnomaly"
	productNew     = "AliyunBillingProductNewSpend"
	regionNew      = "AliyunBillingRegionNewSpend"

	anomalySeed    = 11
	spikeProduct   = "ecs"
	anomalyHistory = 97 // days backfilled
)

var anomalyAlerts = []string{productAnomaly, regionAnomaly, productNew, regionNew}

func TestAnomalyAlertsOnBackfilledHistory(t *testing.T) {
	promBin := toolPath(t, "prometheus")
	toolPath(t, "promtool")
	dir := t.TempDir()

	// Days, UTC+8. The newest backfilled day is settled for the instance
	// family (48 h after it ends, plus the settle margin) at any hour.
	today := bssclient.DayOf(time.Now())
	to := today.AddDays(-4)
	from := to.AddDays(-(anomalyHistory - 1))
	ordinary := from.AddDays(31) // ... the 30 days from it
	spikeDay := to.AddDays(-26)
	purchaseDay := to.AddDays(-16)
	regionDay := to.AddDays(-6)

	// Sizes come from the world without the knobs: the spike adds twice
	// the product's median pay-as-you-go day, plus 300, so that it clears
	// the band's floors; the purchase is the same gross.
	base := bsssim.WorldConfig{Seed: anomalySeed, Owners: 3, InstancesPerOwner: 12}
	plain, err := bsssim.NewWorld(base)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	payable := func(w *bsssim.World, d bssclient.Day, q bsssim.TruthQuery) float64 {
		q.Day, q.Kind = simDay(d), bsssim.KindAmounts
		return float64(w.Truth(q, now).PretaxAmount.Units()) / 1e8
	}
	ecsPAYG := bsssim.TruthQuery{ProductCode: spikeProduct, SubscriptionType: "PayAsYouGo"}
	var usual []float64
	for d := spikeDay.AddDays(-30); d.Before(spikeDay.AddDays(-2)); d = d.AddDays(1) {
		usual = append(usual, payable(plain, d, ecsPAYG))
	}
	amount := int64(math.Ceil(2*promQuantile(0.5, usual))) + 300
	// The new region: the one with the least pay-as-you-go spend of those
	// that have some, so that it is a region's debut, not a product's jump.
	newRegion, least := "", math.Inf(1)
	for _, r := range bsssim.RegionIDs() {
		if v := payable(plain, regionDay, bsssim.TruthQuery{Region: r, SubscriptionType: "PayAsYouGo"}); v > 0 && v < least {
			newRegion, least = r, v
		}
	}
	cfg := base
	cfg.UsageSpike = bsssim.ExtraSpend{Day: simDay(spikeDay), ProductCode: spikeProduct, Amount: amount}
	cfg.Purchase = bsssim.ExtraSpend{Day: simDay(purchaseDay), ProductCode: spikeProduct, Amount: amount}
	cfg.NewRegion, cfg.NewRegionFrom = newRegion, simDay(regionDay)
	world, err := bsssim.NewWorld(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("days %s … %s; ecs pay-as-you-go spike of %d (gross) on %s, the same ecs subscription purchase on %s, region %s from %s",
		from, to, amount, spikeDay, purchaseDay, newRegion, regionDay)

	api := backfilledPrometheus(t, promBin, dir, world, from, to)
	eval := newRuleEvaluator(t)
	at := func(d bssclient.Day) time.Time { return d.Start().Add(12 * time.Hour) }
	fired := func(t *testing.T, alert string, d bssclient.Day) []promSample {
		t.Helper()
		got, err := api.query(eval.alert(alert), at(d))
		if err != nil {
			t.Fatalf("%s at %s: %v", alert, d, err)
		}
		return got
	}
	value := func(t *testing.T, record string, d bssclient.Day, label, is string) float64 {
		t.Helper()
		got, err := api.nonEmpty(eval.record(record), at(d))
		if err != nil {
			t.Fatalf("%s at %s: %v", record, d, err)
		}
		for _, s := range got {
			if s.Metric[label] == is {
				return s.value()
			}
		}
		t.Fatalf("%s at %s has no %s=%q: %v", record, d, label, is, got)
		return 0
	}
	// bandOf is the rules' band over window, the way PromQL's
	// quantile_over_time computes it, with k and m as the thresholds group
	// holds them: median + max(k × IQR, m × median).
	bandOf := func(t *testing.T, window []float64) (median, band float64) {
		t.Helper()
		k := value(t, "threshold:aliyun_billing_anomaly:iqr_factor", to, "", "")
		m := value(t, "threshold:aliyun_billing_anomaly:median_factor", to, "", "")
		median = promQuantile(0.5, window)
		return median, median + math.Max(k*(promQuantile(0.75, window)-promQuantile(0.25, window)), m*median)
	}
	const (
		band         = "account_product_currency:aliyun_billing_payg_daily_payable:band_28d"
		days28       = "account_product_currency:aliyun_billing_payg_daily_payable:days_28d"
		newest       = "account_product_currency:aliyun_billing_payg_daily_payable:newest_day"
		regionDays28 = "account_region_currency:aliyun_billing_payg_daily_payable:days_28d"
		regionBand   = "account_region_currency:aliyun_billing_payg_daily_payable:band_28d"
		floorID      = "threshold:aliyun_billing_anomaly:min_impact"
		histID       = "threshold:aliyun_billing_anomaly:min_history_days"
	)
	minImpact := value(t, floorID, to, "", "")
	minHistory := value(t, histID, to, "", "")

	t.Run("OrdinaryMonth", func(t *testing.T) {
		for d := ordinary; d.Before(ordinary.AddDays(30)); d = d.AddDays(1) {
			// Not quiet for want of a band: it has its history, per
			// product and per region.
			if h := value(t, days28, d, "product_code", spikeProduct); h < minHistory {
				t.Fatalf("%s: %s has %v days of history, fewer than the alert's %v", d, spikeProduct, h, minHistory)
			}
			if got, err := api.nonEmpty(eval.record(regionDays28)+" >= "+strconv.FormatFloat(minHistory, 'f', -1, 64), at(d)); err != nil {
				t.Fatalf("%s: no region has %v days of history: %v", d, minHistory, err)
			} else if len(got) < 3 {
				t.Fatalf("%s: only %d regions have %v days of history", d, len(got), minHistory)
			}
			for _, a := range anomalyAlerts {
				if got := fired(t, a, d); len(got) != 0 {
					t.Errorf("%s fires on the ordinary day %s: %v", a, d, got)
				}
			}
		}
	})

	t.Run("PayAsYouGoSpike", func(t *testing.T) {
		// The band from the simulator's own amounts, the way PromQL's
		// quantile_over_time computes it, on the days D-30 … D-3.
		var window []float64
		for d := spikeDay.AddDays(-30); d.Before(spikeDay.AddDays(-2)); d = d.AddDays(1) {
			window = append(window, payable(world, d, ecsPAYG))
		}
		median, wantBand := bandOf(t, window)
		spent := payable(world, spikeDay, ecsPAYG)
		if got := value(t, band, spikeDay, "product_code", spikeProduct); !near(got, wantBand) {
			t.Errorf("band of %s on %s: %v, the simulator's days give %v", spikeProduct, spikeDay, got, wantBand)
		}
		if got := value(t, newest, spikeDay, "product_code", spikeProduct); !near(got, spent) {
			t.Errorf("newest day of %s on %s: %v, the simulator says %v", spikeProduct, spikeDay, got, spent)
		}
		got := fired(t, productAnomaly, spikeDay)
		if len(got) != 1 || got[0].Metric["product_code"] != spikeProduct || got[0].Metric["currency"] != "CNY" {
			t.Fatalf("%s on the spike day %s: %v, want product_code=%q alone", productAnomaly, spikeDay, got, spikeProduct)
		}
		if impact := got[0].value(); !near(impact, spent-wantBand) || impact < minImpact {
			t.Errorf("impact %v, want %v (spent %v, band %v) and at least %v", impact, spent-wantBand, spent, wantBand, minImpact)
		}
		t.Logf("%s on %s: spent %.2f CNY pay-as-you-go, median %.2f, band %.2f, impact %.2f",
			spikeProduct, spikeDay, spent, median, wantBand, spent-wantBand)
	})

	t.Run("PayAsYouGoSpikeByRegion", func(t *testing.T) {
		// The spike's region: the one whose instance bills grew on the
		// spike day, against the same world without the spike.
		noSpikeCfg := cfg
		noSpikeCfg.UsageSpike = bsssim.ExtraSpend{}
		noSpike, err := bsssim.NewWorld(noSpikeCfg)
		if err != nil {
			t.Fatal(err)
		}
		regionPAYG := func(w *bsssim.World, d bssclient.Day, region string) float64 {
			q := bsssim.TruthQuery{Day: simDay(d), Region: region, SubscriptionType: "PayAsYouGo", Kind: bsssim.KindInstanceAttributes}
			return float64(w.Truth(q, now).PretaxAmount.Units()) / 1e8
		}
		spiked := ""
		for _, r := range bsssim.RegionIDs() {
			if regionPAYG(world, spikeDay, r) != regionPAYG(noSpike, spikeDay, r) {
				if spiked != "" {
					t.Fatalf("the spike changed regions %s and %s", spiked, r)
				}
				spiked = r
			}
		}
		// The instance family's band reads offset 4d: days D-31 … D-4 here.
		var window []float64
		for d := spikeDay.AddDays(-31); d.Before(spikeDay.AddDays(-3)); d = d.AddDays(1) {
			window = append(window, regionPAYG(world, d, spiked))
		}
		_, wantBand := bandOf(t, window)
		spent := regionPAYG(world, spikeDay, spiked)
		if got := value(t, regionBand, spikeDay, "region_id", spiked); !near(got, wantBand) {
			t.Errorf("band of %s on %s: %v, the simulator's instance bills give %v", spiked, spikeDay, got, wantBand)
		}
		if spent-wantBand < minImpact {
			t.Fatalf("the spike lifts %s to %v, band %v: less than the impact floor, the test shows nothing", spiked, spent, wantBand)
		}
		got := fired(t, regionAnomaly, spikeDay)
		if len(got) != 1 || got[0].Metric["region_id"] != spiked || !near(got[0].value(), spent-wantBand) {
			t.Fatalf("%s on %s: %v, want region_id=%q alone with impact %v", regionAnomaly, spikeDay, got, spiked, spent-wantBand)
		}
		t.Logf("%s on %s: spent %.2f CNY pay-as-you-go, band %.2f, impact %.2f", spiked, spikeDay, spent, wantBand, spent-wantBand)
	})

	t.Run("DashboardPanel", func(t *testing.T) {
		// The daily-trend panel draws, under the bar of each day D, the band
		// of the 28 days before it (D-28 … D-1) with today's k and m.
		var panel *gPanel
		for _, d := range loadDashboards(t) {
			for _, p := range d.allPanels() {
				if strings.HasPrefix(p.Title, "Pay-as-you-go band per product") {
					panel = &p
				}
			}
		}
		if panel == nil || len(panel.Targets) != 2 {
			t.Fatalf("no daily-trend panel \"Pay-as-you-go band per product\" with a bars and a band query: %+v", panel)
		}
		// The range ends where the thresholds are recorded: a whole second
		// (the query's end), at or after the rules' first evaluation.
		var end time.Time
		if err := eventually(time.Minute, time.Second, func() error {
			end = time.Now().Truncate(time.Second)
			_, err := api.nonEmpty("threshold:aliyun_billing_anomaly:iqr_factor", end)
			return err
		}); err != nil {
			t.Fatalf("the thresholds are not recorded: %v", err)
		}
		var window []float64
		for d := spikeDay.AddDays(-28); d.Before(spikeDay); d = d.AddDays(1) {
			window = append(window, payable(world, d, ecsPAYG))
		}
		k := value(t, "threshold:aliyun_billing_anomaly:iqr_factor", to, "", "")
		m := value(t, "threshold:aliyun_billing_anomaly:median_factor", to, "", "")
		median := promQuantile(0.5, window)
		want := map[string]float64{
			"A": payable(world, spikeDay, ecsPAYG),
			"B": median + math.Max(k*(promQuantile(0.75, window)-promQuantile(0.25, window)), m*median),
		}
		got := map[string]float64{}
		for _, tg := range panel.Targets {
			series, err := api.nonEmptyRange(substitute(tg.Expr), spikeDay.Start(), end, 24*time.Hour)
			if err != nil {
				t.Fatalf("query %s: %v\n%s", tg.RefID, err, tg.Expr)
			}
			for _, s := range series {
				if s.Metric["product_code"] == spikeProduct && len(s.Values) > 0 && s.Values[0].time() == float64(spikeDay.Start().Unix()) {
					got[tg.RefID] = s.Values[0].value()
				}
			}
		}
		for ref, w := range want {
			if g, ok := got[ref]; !ok || !near(g, w) {
				t.Errorf("query %s at the bar of %s: %v (found %v), the simulator's days give %v", ref, spikeDay, g, ok, w)
			}
		}
		if got["A"] <= got["B"] {
			t.Errorf("the spike's bar %v is not above its band %v", got["A"], got["B"])
		}
		t.Logf("panel at %s: bar %.2f, band %.2f (days %s … %s)", spikeDay, got["A"], got["B"], spikeDay.AddDays(-28), spikeDay.AddDays(-1))
	})

	t.Run("SubscriptionPurchaseQuiet", func(t *testing.T) {
		// The purchase would clear the band if it counted: the test could fail.
		all := payable(world, purchaseDay, bsssim.TruthQuery{ProductCode: spikeProduct})
		b := value(t, band, purchaseDay, "product_code", spikeProduct)
		if all-b < minImpact {
			t.Fatalf("ecs spent %v in all on %s, band %v: the purchase is too small to show anything", all, purchaseDay, b)
		}
		for _, a := range anomalyAlerts {
			if got := fired(t, a, purchaseDay); len(got) != 0 {
				t.Errorf("%s fires on the subscription purchase of %s: %v", a, purchaseDay, got)
			}
		}
		t.Logf("%s: %.2f CNY of ecs in all with the purchase, band %.2f", purchaseDay, all, b)
	})

	t.Run("FirstTimeRegion", func(t *testing.T) {
		if got := fired(t, regionNew, regionDay.AddDays(-1)); len(got) != 0 {
			t.Errorf("%s fires the day before the region's first day: %v", regionNew, got)
		}
		got := fired(t, regionNew, regionDay)
		if len(got) != 1 || got[0].Metric["region_id"] != newRegion {
			t.Fatalf("%s on %s: %v, want region_id=%q alone", regionNew, regionDay, got, newRegion)
		}
		want := 0.0
		for _, p := range []string{"PayAsYouGo"} {
			q := bsssim.TruthQuery{Day: simDay(regionDay), Region: newRegion, SubscriptionType: p, Kind: bsssim.KindInstanceAttributes}
			want += float64(world.Truth(q, now).PretaxAmount.Units()) / 1e8
		}
		if !near(got[0].value(), want) {
			t.Errorf("%s: %v, the simulator's instance bills say %v", regionNew, got[0].value(), want)
		}
		// The next day it is not new any more.
		if got := fired(t, regionNew, regionDay.AddDays(1)); len(got) != 0 {
			t.Errorf("%s still fires the day after: %v", regionNew, got)
		}
	})
}

// simDay is d in the simulator's own day type.
func simDay(d bssclient.Day) bsssim.Day {
	return bsssim.Day{Year: d.Year, Month: d.Month, Day: d.Day}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }

// promQuantile is PromQL's quantile_over_time: linear interpolation
// between the closest ranks of the sorted values.
func promQuantile(q float64, values []float64) float64 {
	v := slices.Clone(values)
	sort.Float64s(v)
	rank := q * float64(len(v)-1)
	lo := math.Floor(rank)
	hi := math.Min(lo+1, float64(len(v)-1))
	w := rank - lo
	return v[int(lo)]*(1-w) + v[int(hi)]*w
}

// backfilledPrometheus serves world, backfills its account and instance
// families from from to to with the exporter's backfill, turns the file
// into blocks with promtool and starts Prometheus on them.
func backfilledPrometheus(t *testing.T, promBin, dir string, world *bsssim.World, from, to bssclient.Day) promClient {
	t.Helper()
	sim, err := bsssim.Start(bsssim.Config{World: world, QuotaPerSecond: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	config := filepath.Join(dir, "config.yml")
	writeFile(t, config, fmt.Sprintf("accounts:\n  - name: sim\n    endpoint: %s\n    rate_limit: 1000\n    credentials:\n      type: access_key\n      access_key_id: %s\n      access_key_secret: %s\n",
		sim.URL, bsssim.TestAccessKeyID, bsssim.TestAccessKeySecret))
	bin := proctest.Build(t, "aliyun-billing-exporter")
	history := filepath.Join(dir, "history.om")
	runTool(t, dir, bin, "backfill", "--config.file="+config, "--families=account,instance",
		"--from="+from.String(), "--to="+to.String(), "--output="+history, "--log.level=warn")
	runTool(t, dir, "promtool", "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=1458h", "--quiet",
		history, filepath.Join(dir, "prometheus-data"))
	if err := os.Remove(history); err != nil {
		t.Fatal(err)
	}
	// The recording rules run too, for the thresholds the dashboard panel
	// reads at the end of its range (now).
	writeFile(t, filepath.Join(dir, "recording.yml"), string(mustRead(t, recordingRulesFile)))
	api, _ := startPrometheus(t, promBin, dir, "prometheus",
		"global:\n  scrape_interval: 1m\n  evaluation_interval: 1s\nrule_files:\n  - recording.yml\n", "--storage.tsdb.retention.time=1000d")
	return api
}

// ruleEvaluator writes an alert's or recording rule's expression with
// every recording rule it reads replaced by that rule's own expression.
type ruleEvaluator struct {
	records map[string]string
	alerts  map[string]string
}

func newRuleEvaluator(t *testing.T) *ruleEvaluator {
	e := &ruleEvaluator{records: map[string]string{}, alerts: map[string]string{}}
	for _, r := range loadRules(t, recordingRulesFile) {
		e.records[r.Record] = r.Expr
	}
	for _, r := range loadRules(t, alertRulesFile) {
		e.alerts[r.Alert] = r.Expr
	}
	return e
}

var (
	recordedNameRE = regexp.MustCompile(`[a-z_]+:aliyun_billing_[a-z0-9_]+:[a-z0-9_]+(\s*\{)?`)
	// A recording rule right after group_left/right would become its
	// label list once in parentheses: give it an empty one first.
	bareGroupRE = regexp.MustCompile(`\b(group_left|group_right)(\s+[a-z_]+:)`)
)

func (e *ruleEvaluator) alert(name string) string { return e.inline(e.alerts[name]) }

func (e *ruleEvaluator) record(name string) string { return e.inline(name) }

func (e *ruleEvaluator) inline(expr string) string {
	for range 10 {
		expr = bareGroupRE.ReplaceAllString(expr, "$1 ()$2")
		next := recordedNameRE.ReplaceAllStringFunc(expr, func(ref string) string {
			body, ok := e.records[ref]
			if !ok {
				// A selector with matchers, or an unknown name: left as it
				// is, and the query finds no data.
				return ref
			}
			return "(" + strings.TrimSpace(body) + ")"
		})
		if next == expr {
			return expr
		}
		expr = next
	}
	panic("recording rules nest more than 10 deep: " + strconv.Quote(expr))
}
