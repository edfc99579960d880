package collector

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

// This file lets the backfill (aliyun-billing-exporter backfill) read the
// past with the live collectors' own walks, aggregates and families, so that
// backfilled series have exactly the names, labels and values the live
// exporter publishes, and dashboards join across the boundary.

// DailyHistory reads settled days of one collector's daily families.
type DailyHistory struct {
	account string
	kind    bssclient.DataKind
	cal     bssclient.Calendar
	fetch   fetchDayFunc
	views   []historyView
	files   *billFiles // nil: the family reads the API
	now     func() time.Time
}

type historyView struct {
	family amountFamily
	view   func(bookedDay) []series
}

// NewDailyHistory builds the reader of a collector's daily families:
// "account", "instance" (with cfg.Instance's labels and per-instance
// series) or "ossbucket". It builds the collector's day reader alone: no
// collector, no book, no state.
func NewDailyHistory(name string, acct Account, cfg Config, logger log.Logger) (*DailyHistory, error) {
	reg, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	if reg.readDays == nil {
		return nil, fmt.Errorf("collector %s has no daily families to backfill", name)
	}
	r := reg.readDays(acct, cfg, logger)
	return &DailyHistory{account: acct.Name, cal: cfg.Calendar(), kind: reg.Kind, fetch: r.fetchDay, views: r.dailyViews(),
		files: r.billFiles(), now: cfg.Now}, nil
}

// Prepare asks, for a family read from bill files, which subscription
// pushes them: the one request reading files costs, made before the days
// so that a day's cost is its own. It does nothing for the API.
func (h *DailyHistory) Prepare(ctx context.Context) error {
	if h.files == nil {
		return nil
	}
	_, err := h.files.of(ctx, h.files.types[0], bssclient.CycleOf(h.now()))
	if _, ok := errors.AsType[*billFileError](err); ok {
		return nil // no such subscription: each day falls back, and says so
	}
	return err
}

// ReadDay walks one day, as the live collector does when the day settles,
// and returns its samples stamped 00:00 UTC+8 of the day. An error means
// nothing of the day is returned.
func (h *DailyHistory) ReadDay(ctx context.Context, day bssclient.Day) ([]prometheus.Metric, error) {
	book := newDayBook(h.kind, h.cal)
	if err := book.fill(ctx, day, day, 1, h.fetch); err != nil {
		return nil, err
	}
	return book.appendViews(nil, h.views, h.account, day, day), nil
}

// LiveWindowStart is the oldest day of kind k the live exporter exposes at
// now with cfg: a backfill that ends the day before joins it without a gap
// or an overlap.
func LiveWindowStart(now time.Time, k bssclient.DataKind, cfg Config) bssclient.Day {
	return exposureStart(now, cfg.Calendar().NewestSettledDay(now, k), cfg.ExposureDays, k)
}

// FinalCycleTime is the timestamp a final billing cycle's totals carry
// wherever they are written with one (the backfill, remote write): the
// moment the cycle became final, so that writing them twice writes the
// same samples.
func FinalCycleTime(cyc bssclient.Cycle) time.Time { return cyc.FinalAt(bssclient.KindAmounts) }

// FinalCycleOwner names the collector whose aliyun_billing_cycle_final says
// when a family's cycle="previous" gauges are final: "account" for the
// account bill's columns, "amortized" for effective cost. ok is false for
// the other families: their gauges are never final. Writers that send a
// final cycle once (remote write) ask it, so that a family is never sent
// before its own collector says it will not change.
func FinalCycleOwner(family string) (owner string, ok bool) {
	switch {
	case family == effectiveCostName || family == instanceEffectiveCostName:
		return "amortized", true
	case strings.HasPrefix(family, accountCyclePrefix+"_"):
		return "account", true
	}
	return "", false
}

// FinalCycleAt is the moment cyc becomes final for the collector owner, as
// FinalCycleTime is the account's: 12:00 UTC+8 on the 3rd of the next
// month for the account bill, the 6th for amortized cost. ok is false for a
// collector without final cycles.
func FinalCycleAt(owner string, cyc bssclient.Cycle) (at time.Time, ok bool) {
	switch owner {
	case "account":
		return FinalCycleTime(cyc), true
	case "amortized":
		return cyc.FinalAt(bssclient.KindAmortized), true
	}
	return time.Time{}, false
}

// ReadFinalCycle reads a final billing cycle's totals as the live account
// collector exposes them after the cycle became final: the
// aliyun_billing_account_cycle_* gauges with cycle="previous" and
// aliyun_billing_cycle_final 1, all stamped at the moment the cycle became
// final (12:00 UTC+8 on the 3rd of the next month).
func ReadFinalCycle(ctx context.Context, acct Account, cfg Config, cyc bssclient.Cycle, now time.Time) ([]prometheus.Metric, error) {
	cal := cfg.Calendar()
	if !cal.CycleFinal(cyc, now, bssclient.KindAmounts) {
		return nil, fmt.Errorf("billing cycle %s is not final until %s (BSS's moment plus the settle margin)", cyc, cal.FinalAt(cyc, bssclient.KindAmounts).Format(time.RFC3339))
	}
	r := newAccountReader(acct, cfg)
	total, err := r.fetchCycle(ctx, cyc, now, cal.NewestSettledDay(now, bssclient.KindAmounts))
	if err != nil {
		return nil, err
	}
	ts := FinalCycleTime(cyc)
	var out []prometheus.Metric
	for _, s := range total.series {
		out = r.cycle.appendMetrics(out, withLabels(s, acct.Name, cyc.String(), "previous"), ts)
	}
	final := prometheus.MustNewConstMetric(cycleFinalDesc, prometheus.GaugeValue, 1, acct.Name, "account", cyc.String(), "previous")
	return append(out, prometheus.NewMetricWithTimestamp(ts, final)), nil
}
