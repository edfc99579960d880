// Package backfill reads an account's billing history from BSS and writes it
// as timestamped samples for a TSDB: OpenMetrics for
// `promtool tsdb create-blocks-from openmetrics`, or VictoriaMetrics' JSON
// line import format. The samples are the live exporter's own families
// (collector.DailyHistory, collector.ReadFinalCycle), so dashboards join the
// history without a seam.
//
// A run is a list of units (one family's day, or one final billing cycle).
// Each finished unit is appended to a journal next to the output, so an
// interrupted run resumes without reading a finished unit again; the output
// is written to a temporary file and renamed only when every unit is done.
package backfill

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/collector"
)

// The flags a plan's errors name; the command declares flags of these names.
const (
	FlagFrom     = "--from"
	FlagTo       = "--to"
	FlagFamilies = "--families"
	FlagRestart  = "--restart"
)

// cyclesUnit names the final monthly totals in plans, journals and progress.
const cyclesUnit = "cycle"

// Request is what the user asked for.
type Request struct {
	// From and To bound the billing days, both included. Zero From is the
	// oldest day BSS keeps; zero To is, per family, the day before the
	// oldest day the live exporter exposes, so history and live data join
	// without a gap or an overlap.
	From, To bssclient.Day
	// Families are collector names from collector.DayBookCollectors().
	// "account" also brings the final monthly totals.
	Families []string
}

// Plan is what a run reads.
type Plan struct {
	Now      time.Time
	Families []FamilyRange
	// Cycles are the final billing cycles whose monthly totals are read.
	Cycles []bssclient.Cycle
}

// FamilyRange is the days of one collector's daily families a run reads.
// Empty when To is before From.
type FamilyRange struct {
	Name     string
	Kind     bssclient.DataKind
	From, To bssclient.Day
	// Clipped says why the range is narrower than requested, for the user.
	Clipped string
}

// Days is the number of days in the range.
func (f FamilyRange) Days() int {
	if f.To.Before(f.From) {
		return 0
	}
	return int(f.To.Start().Sub(f.From.Start()).Hours()/24+0.5) + 1
}

// NewPlan checks req against the billing calendar at now and returns the
// plan. Errors name the flag: a range beyond retention, an inverted range, a
// day not settled yet, an unknown family.
func NewPlan(req Request, now time.Time, cfg collector.Config) (Plan, error) {
	seen, err := checkFamilies(req.Families)
	if err != nil {
		return Plan{}, err
	}
	if err := checkRange(req, now, cfg); err != nil {
		return Plan{}, err
	}
	p := Plan{Now: now}
	for _, name := range collector.DayBookCollectors() { // a fixed order, whatever the flag's
		if seen[name] {
			p.Families = append(p.Families, familyRange(name, req, now, cfg))
		}
	}
	if seen["account"] {
		acct := p.Families[0] // "account" comes first: the names are sorted
		for c := acct.From.Cycle(); !acct.To.Cycle().Before(c); c = c.Next() {
			if cfg.Calendar().CycleFinal(c, now, bssclient.KindAmounts) && !acct.To.Before(acct.From) {
				p.Cycles = append(p.Cycles, c)
			}
		}
	}
	if len(p.units()) == 0 {
		return Plan{}, fmt.Errorf("%s/%s: no family has a day to read in the range (%s from %s to %s); without %s, each family ends the day before the oldest day the live exporter exposes",
			FlagFrom, FlagTo, p.Families[0].Name, p.Families[0].From, p.Families[0].To, FlagTo)
	}
	return p, nil
}

// checkFamilies checks --families and returns the set it names.
func checkFamilies(families []string) (map[string]bool, error) {
	known := collector.DayBookCollectors()
	if len(families) == 0 {
		return nil, fmt.Errorf("%s: name at least one of %s", FlagFamilies, strings.Join(known, ", "))
	}
	seen := map[string]bool{}
	for _, f := range families {
		if !slices.Contains(known, f) {
			return nil, fmt.Errorf("%s: %q is not one of %s", FlagFamilies, f, strings.Join(known, ", "))
		}
		if seen[f] {
			return nil, fmt.Errorf("%s: %q is listed twice", FlagFamilies, f)
		}
		seen[f] = true
	}
	return seen, nil
}

// checkRange checks --from and --to against the account bill's calendar:
// within retention, settled, in order.
func checkRange(req Request, now time.Time, cfg collector.Config) error {
	oldest := bssclient.OldestQueryable(now, bssclient.KindAmounts).FirstDay()
	newestSettled := cfg.Calendar().NewestSettledDay(now, bssclient.KindAmounts)
	switch {
	case !req.From.IsZero() && req.From.Before(oldest):
		return fmt.Errorf("%s: %s is beyond BSS's retention of %d billing cycles; the oldest day it keeps is %s",
			FlagFrom, req.From, bssclient.KindAmounts.RetentionCycles(), oldest)
	case !req.To.IsZero() && newestSettled.Before(req.To):
		return fmt.Errorf("%s: %s has not settled yet; the newest settled day is %s (a day's amounts settle 24 h after it ends, UTC+8, plus the settle margin of %s)",
			FlagTo, req.To, newestSettled, cfg.SettleMargin)
	case !req.From.IsZero() && !req.To.IsZero() && req.To.Before(req.From):
		return fmt.Errorf("%s: %s is before %s %s", FlagTo, req.To, FlagFrom, req.From)
	}
	return nil
}

// familyRange is the days of one family the request reads: clipped to its
// retention and its settled days, and by default ending the day before the
// live exporter's oldest.
func familyRange(name string, req Request, now time.Time, cfg collector.Config) FamilyRange {
	r, _ := collector.Lookup(name) // a name of DayBookCollectors
	kind := r.Kind
	fr := FamilyRange{Name: name, Kind: kind, From: req.From, To: req.To}
	if famOldest := bssclient.OldestQueryable(now, kind).FirstDay(); fr.From.IsZero() || fr.From.Before(famOldest) {
		if !fr.From.IsZero() {
			fr.Clipped = fmt.Sprintf("BSS keeps %s for %d billing cycles: from %s", kind, kind.RetentionCycles(), famOldest)
		}
		fr.From = famOldest
	}
	switch settled := cfg.Calendar().NewestSettledDay(now, kind); {
	case fr.To.IsZero():
		fr.To = collector.LiveWindowStart(now, kind, cfg).AddDays(-1)
	case settled.Before(fr.To):
		fr.Clipped = fmt.Sprintf("%s settle %s after the day ends: up to %s", kind, kind.Delay(), settled)
		fr.To = settled
	}
	return fr
}

// unit is one piece of work: a family's day, or a final cycle's totals.
type unit struct {
	family string // a collector name, or cyclesUnit
	day    bssclient.Day
	cycle  bssclient.Cycle
}

// key names the unit in the journal: "account/2025-06-01", "cycle/2025-06".
func (u unit) key() string {
	if u.family == cyclesUnit {
		return cyclesUnit + "/" + u.cycle.String()
	}
	return u.family + "/" + u.day.String()
}

// units lists the plan's work, each family oldest first.
func (p Plan) units() []unit {
	var out []unit
	for _, f := range p.Families {
		for d := f.From; !f.To.Before(d); d = d.AddDays(1) {
			out = append(out, unit{family: f.Name, day: d})
		}
	}
	for _, c := range p.Cycles {
		out = append(out, unit{family: cyclesUnit, cycle: c})
	}
	return out
}

// Describe says what the plan reads, one line per family.
func (p Plan) Describe() string {
	var b strings.Builder
	for _, f := range p.Families {
		if f.Days() == 0 {
			fmt.Fprintf(&b, "  %-10s no day to read", f.Name)
		} else {
			fmt.Fprintf(&b, "  %-10s %s to %s (%d days)", f.Name, f.From, f.To, f.Days())
		}
		if f.Clipped != "" {
			fmt.Fprintf(&b, "; %s", f.Clipped)
		}
		b.WriteByte('\n')
	}
	if len(p.Cycles) > 0 {
		fmt.Fprintf(&b, "  %-10s final monthly totals of %s to %s (%d cycles)\n", "account", p.Cycles[0], p.Cycles[len(p.Cycles)-1], len(p.Cycles))
	}
	return b.String()
}
