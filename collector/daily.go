package collector

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-kit/log"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

// dayBookParts is what the day-book collectors (account, instance,
// ossbucket) share: the book of settled days, its state file, the count of
// late restatements, and the publishing of the days read so far while a
// refresh is still reading. Each collector embeds it and its day reader
// (dayReader: its walks, labels and daily families, which the backfill
// uses alone), and keeps only what differs: its cycle gauges.
type dayBookParts struct {
	book     *dayBook
	state    *stateStore
	restated restatements
	publish  func(Snapshot) // publishes the days read so far during a refresh; nil: no one listens
}

func newDayBookParts(name string, kind bssclient.DataKind, acct Account, cfg Config, width, extra int, logger log.Logger) dayBookParts {
	return dayBookParts{
		book:  newDayBook(kind, cfg.Calendar()),
		state: newStateStore(cfg, acct, name, width, extra, logger),
	}
}

func (p *dayBookParts) setPublisher(publish func(Snapshot)) { p.publish = publish }

// startReading readies the book for a refresh at now: the days before from
// go, and each day read publishes snapshot(). The returned func ends the
// publishing; call it when the refresh stops reading days.
func (p *dayBookParts) startReading(now time.Time, from bssclient.Day, snapshot func() Snapshot) (done func()) {
	p.book.prune(from)
	p.book.now = now
	if p.publish != nil {
		p.book.onDay = func() { p.publish(snapshot()) }
	}
	return func() { p.book.onDay = nil }
}

// daySnapshot starts the collector's snapshot with what the book holds:
// when the collector exposes daily series, the views' samples of the booked
// days in the exposure window and how far they are complete; the days held;
// and the late restatements.
func (p *dayBookParts) daySnapshot(cfg Config, account, collector string, now time.Time, newest bssclient.Day, views ...historyView) Snapshot {
	snap := Snapshot{Days: len(p.book.days)}
	if cfg.DailySeries {
		from := exposureStart(now, newest, cfg.ExposureDays, p.book.kind)
		snap.Metrics = p.book.appendViews(snap.Metrics, views, account, from, newest)
		snap.NewestCompleteDay = p.book.completeThrough(from, newest)
	}
	p.restated.appendTo(&snap, account, collector)
	return snap
}

// dayBook keeps the aggregated series of settled days. A day enters the book
// only when its whole walk succeeded, and is never fetched again while it is
// kept: a settled day's timestamped samples must never change value, and
// re-reading it would only spend quota.
type dayBook struct {
	kind bssclient.DataKind
	days map[bssclient.Day]bookedDay
	// rechecked holds the days read a second time (or first read late
	// enough to count as that), to detect late restatements.
	rechecked map[bssclient.Day]bool
	// now is the billing time of the current refresh, set before fill.
	now time.Time
	// cal is the calendar the book's days were read with.
	cal bssclient.Calendar
	// onDay, when set, runs after each day fill books, with no other day
	// being booked meanwhile: collectors publish the days read so far.
	onDay func()
}

// bookedDay is one settled day, frozen.
type bookedDay struct {
	series []series
	extra  []series // a second view of the same day, such as per-instance series
}

func newDayBook(kind bssclient.DataKind, cal bssclient.Calendar) *dayBook {
	return &dayBook{kind: kind, days: map[bssclient.Day]bookedDay{}, rechecked: map[bssclient.Day]bool{}, cal: cal}
}

// recheckAfter is how long after a day is first due it is read once more,
// to see whether BSS restated it after it was published. A day long
// enough for BSS's daily jobs to have run again; well before most days'
// month is final (12:00 on the 3rd).
const recheckAfter = 24 * time.Hour

// recheckDue is when day d is read again.
func (b *dayBook) recheckDue(d bssclient.Day) time.Time {
	return b.cal.SettledAt(d, b.kind).Add(recheckAfter)
}

// restatements counts what rechecks found: series whose amounts differ
// from the published (frozen) values, and the absolute change of their
// payable amount, per currency.
type restatements struct {
	series int
	change map[string]bssclient.Money // currency → sum of |Δ payable|
}

// recheck reads once more every booked day whose recheck is due, compares
// it with what was published, and counts the differences in r. The
// published values stay: a timestamped sample cannot change in
// Prometheus, so the difference is made visible instead.
func (b *dayBook) recheck(ctx context.Context, concurrency int, fetch fetchDayFunc, r *restatements) error {
	due := b.dueAgain()
	var mu sync.Mutex
	errs := runParallel(ctx, concurrency, len(due), func(ctx context.Context, i int) error {
		again, err := fetch(ctx, due[i])
		if err != nil {
			return fmt.Errorf("billing day %s, read again: %w", due[i], err)
		}
		mu.Lock()
		defer mu.Unlock()
		r.add(b.days[due[i]].series, again.series)
		b.rechecked[due[i]] = true
		return nil
	})
	return cmp.Or(errs...)
}

// add counts the series of again that differ from published.
func (r *restatements) add(published, again []series) {
	key := func(s series) string { return strings.Join(s.labels, "\xff") }
	before := map[string]bssclient.Amounts{}
	for _, s := range published {
		before[key(s)] = s.amounts
	}
	currencyOf := func(s series) string { return s.labels[len(s.labels)-1] }
	count := func(s series, was, now bssclient.Amounts) {
		if was == now {
			return
		}
		r.series++
		d, err := now.PretaxAmount.Add(was.PretaxAmount.Neg())
		if err != nil {
			return
		}
		if d.Units() < 0 {
			d = d.Neg()
		}
		if r.change == nil {
			r.change = map[string]bssclient.Money{}
		}
		if sum, err := r.change[currencyOf(s)].Add(d); err == nil {
			r.change[currencyOf(s)] = sum
		}
	}
	for _, s := range again {
		was := before[key(s)]
		delete(before, key(s))
		count(s, was, s.amounts)
	}
	for _, s := range published { // series that disappeared
		if was, ok := before[key(s)]; ok {
			count(s, was, bssclient.Amounts{})
		}
	}
}

// fetchDayFunc walks one day and returns its series (and optional extra view).
type fetchDayFunc func(ctx context.Context, day bssclient.Day) (bookedDay, error)

// wanted lists the days fill and recheck would read now: those of [from,
// to] not booked, and the booked ones due to be read again.
func (b *dayBook) wanted(from, to bssclient.Day) []bssclient.Day {
	return append(b.missing(from, to), b.dueAgain()...)
}

// missing lists the days of [from, to] not booked, oldest first.
func (b *dayBook) missing(from, to bssclient.Day) []bssclient.Day {
	var out []bssclient.Day
	for d := from; !to.Before(d); d = d.AddDays(1) {
		if _, ok := b.days[d]; !ok {
			out = append(out, d)
		}
	}
	return out
}

// dueAgain lists the booked days whose recheck is due and not done.
func (b *dayBook) dueAgain() []bssclient.Day {
	var out []bssclient.Day
	for d := range b.days {
		if !b.rechecked[d] && !b.now.Before(b.recheckDue(d)) {
			out = append(out, d)
		}
	}
	return out
}

// prune drops the booked days before from: they left the window for good.
func (b *dayBook) prune(from bssclient.Day) {
	for d := range b.days {
		if d.Before(from) {
			delete(b.days, d)
			delete(b.rechecked, d)
		}
	}
}

// fill fetches every day in [from, to] that is not yet booked, running at
// most concurrency walks at once. Days that fail stay out of the book and
// are tried again next time; the error reports them in one line.
func (b *dayBook) fill(ctx context.Context, from, to bssclient.Day, concurrency int, fetch fetchDayFunc) error {
	missing := b.missing(from, to)
	var mu sync.Mutex
	failed := make([]error, len(missing))
	stopped := runParallel(ctx, concurrency, len(missing), func(ctx context.Context, i int) error {
		day, err := fetch(ctx, missing[i])
		if err != nil {
			failed[i] = fmt.Errorf("billing day %s: %w", missing[i], err)
			return failed[i]
		}
		mu.Lock()
		b.days[missing[i]] = day
		// Read at or after its recheck moment: this read is the later one.
		if !b.now.Before(b.recheckDue(missing[i])) {
			b.rechecked[missing[i]] = true
		}
		if b.onDay != nil {
			b.onDay()
		}
		mu.Unlock()
		return nil
	})
	failed = slices.DeleteFunc(failed, func(err error) bool { return err == nil }) // the earliest day's first
	switch {
	case len(failed) > 0:
		return &daysError{failed: len(failed), total: len(missing), first: failed[0]}
	case len(stopped) > 0:
		return stopped[0] // the context ended before every day was tried
	}
	return nil
}

// daysError reports the days a fill could not read in one line: an outage
// fails every day the same way, and one log line per day would bury it.
// It unwraps to the earliest day's error, whose code is the one counted.
type daysError struct {
	failed, total int
	first         error
}

func (e *daysError) Error() string {
	if e.failed == 1 {
		return e.first.Error()
	}
	return fmt.Sprintf("%d of %d billing days failed; the earliest: %v", e.failed, e.total, e.first)
}

func (e *daysError) Unwrap() error { return e.first }

// completeThrough returns the last day d in [from, to] such that every day
// from `from` to d is booked: how far the book is complete without gaps. It
// returns the zero Day when `from` itself is missing.
func (b *dayBook) completeThrough(from, to bssclient.Day) bssclient.Day {
	var last bssclient.Day
	for d := from; !to.Before(d); d = d.AddDays(1) {
		if _, ok := b.days[d]; !ok {
			break
		}
		last = d
	}
	return last
}

// sorted returns the booked days in [from, to], oldest first.
func (b *dayBook) sorted(from, to bssclient.Day) []bssclient.Day {
	var out []bssclient.Day
	for d := from; !to.Before(d); d = d.AddDays(1) {
		if _, ok := b.days[d]; ok {
			out = append(out, d)
		}
	}
	return out
}

// appendViews appends each view's booked days in [from, to] to its family,
// oldest first, each series stamped with its day's start, with the account
// label in front.
func (b *dayBook) appendViews(dst []prometheus.Metric, views []historyView, account string, from, to bssclient.Day) []prometheus.Metric {
	for _, v := range views {
		for _, d := range b.sorted(from, to) {
			for _, s := range v.view(b.days[d]) {
				dst = v.family.appendMetrics(dst, withLabels(s, account), d.Start())
			}
		}
	}
	return dst
}

func mainView(d bookedDay) []series  { return d.series }
func extraView(d bookedDay) []series { return d.extra }

// settledCycleSum is a current cycle's gauges as of its newest settled day:
// the instance collector's from the MONTHLY bill, the ossbucket collector's
// from its accumulated days. It is replaced only by a complete newer one,
// so a failed read never shows as a gap; until then the last one stays.
type settledCycleSum struct {
	cycle  bssclient.Cycle
	asOf   bssclient.Day // zero while no day of the cycle has settled
	series []series
}

// needsRead reports whether a day of current has settled since s was
// read, so that the cycle's gauges are read again. While no day of current
// has settled, s is current's empty sum, which is complete.
func (s *settledCycleSum) needsRead(current bssclient.Cycle, newest bssclient.Day) bool {
	switch {
	case newest.Before(current.FirstDay()):
		*s = settledCycleSum{cycle: current}
		return false
	case s.cycle == current && s.asOf == newest:
		return false // nothing settled since
	}
	return true
}

// appendTo appends the sum's gauges if it is of the current cycle, and
// raises snap's newest complete day to the sum's.
func (s *settledCycleSum) appendTo(snap *Snapshot, f amountFamily, account string, now time.Time) {
	current := bssclient.CycleOf(now)
	if s.cycle != current {
		return
	}
	for _, x := range s.series {
		snap.Metrics = f.appendMetrics(snap.Metrics, withLabels(x, account, current.String(), "current"), time.Time{})
	}
	if snap.NewestCompleteDay.Before(s.asOf) {
		snap.NewestCompleteDay = s.asOf
	}
}

// cycleAccumulator sums the settled days of the current cycle as they are
// read, for collectors whose booked days are capped: a capped day keeps
// only its largest series, so summing booked days would give a series the
// days it ranked high only. It holds one aggregate, not the days, so its
// size is that of one cycle's series whatever the day of the month.
type cycleAccumulator struct {
	mu    sync.Mutex
	cycle bssclient.Cycle
	days  map[bssclient.Day]bool
	sum   *aggregate
}

// reset starts the accumulator over for cyc.
func (a *cycleAccumulator) reset(cyc bssclient.Cycle) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.cycle, a.days, a.sum = cyc, map[bssclient.Day]bool{}, newAggregate()
}

// clear empties the accumulator: it sums no cycle and is not saved.
func (a *cycleAccumulator) clear() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.cycle, a.days, a.sum = bssclient.Cycle{}, nil, nil
}

// add sums a day's series in, once; days of other cycles are ignored. On an
// overflow the accumulator starts over, so that no partial sum remains.
func (a *cycleAccumulator) add(day bssclient.Day, s []series) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.sum == nil || day.Cycle() != a.cycle || a.days[day] {
		return nil
	}
	if err := a.sum.addAll(s); err != nil {
		a.days, a.sum = map[bssclient.Day]bool{}, newAggregate()
		return err
	}
	a.days[day] = true
	return nil
}

// sums reports whether the accumulator sums cyc (it was reset for it).
func (a *cycleAccumulator) sums(cyc bssclient.Cycle) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sum != nil && a.cycle == cyc
}

// wants reports whether add would sum day in.
func (a *cycleAccumulator) wants(day bssclient.Day) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sum != nil && day.Cycle() == a.cycle && !a.days[day]
}

// has reports whether day is summed in.
func (a *cycleAccumulator) has(day bssclient.Day) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.days[day]
}

// unsettledDays are the days of cyc after newest, through now's day: the
// days a MONTHLY bill of cyc read at now holds that have not settled.
func unsettledDays(cyc bssclient.Cycle, now time.Time, newest bssclient.Day) []bssclient.Day {
	today := bssclient.DayOf(now)
	var days []bssclient.Day
	for d := cyc.FirstDay(); d.Cycle() == cyc && !today.Before(d); d = d.AddDays(1) {
		if newest.Before(d) {
			days = append(days, d)
		}
	}
	return days
}

// eachDayRow walks the DAILY bills of days, at most limit at once, and
// hands each row to take, one row at a time.
func eachDayRow[T any](ctx context.Context, limit int, days []bssclient.Day,
	walk func(ctx context.Context, day bssclient.Day) iter.Seq2[[]T, error], take func(row *T) error) error {
	var mu sync.Mutex
	errs := runParallel(ctx, limit, len(days), func(ctx context.Context, i int) error {
		for page, err := range walk(ctx, days[i]) {
			if err != nil {
				return err
			}
			mu.Lock()
			for j := range page {
				if err := take(&page[j]); err != nil {
					mu.Unlock()
					return err
				}
			}
			mu.Unlock()
		}
		return nil
	})
	return cmp.Or(errs...)
}

// eachRow hands every row of a walk to add, stopping at the first error.
func eachRow[T any](walk iter.Seq2[[]T, error], add func(*T) error) error {
	for page, err := range walk {
		if err != nil {
			return err
		}
		for i := range page {
			if err := add(&page[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// runParallel runs n jobs with at most limit at once and returns the errors
// of those that failed: one failed day does not stop the others, whose
// results are kept. It stops starting jobs once ctx is done.
func runParallel(ctx context.Context, limit, n int, job func(ctx context.Context, i int) error) []error {
	var (
		g    errgroup.Group
		mu   sync.Mutex
		errs []error
	)
	g.SetLimit(max(limit, 1))
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	for i := range n {
		if ctx.Err() != nil {
			fail(ctx.Err())
			break
		}
		g.Go(func() error {
			if err := job(ctx, i); err != nil {
				fail(err)
			}
			return nil
		})
	}
	_ = g.Wait() // the jobs' errors are in errs
	return errs
}

// Late restatements are the exporter's own counters, shared by the
// collectors that keep days: described once by the Exporter, emitted by
// each collector from its counts.
var (
	lateRestatementsDesc = prometheus.NewDesc(namespace+"_late_restatements_total",
		"Series of a published (frozen) day whose amounts differed when the day was read again a day later: BSS restated the day after it was published.",
		[]string{"account", "collector"}, nil)
	lateRestatementAmountDesc = prometheus.NewDesc(namespace+"_late_restatement_payable_total",
		"Absolute change of the payable amount found by those second reads, summed; the published daily values keep their first reading.",
		[]string{"account", "collector", "currency"}, nil)
)

// appendTo appends the counters to snap.
func (r *restatements) appendTo(snap *Snapshot, account, collector string) {
	snap.Metrics = append(snap.Metrics, prometheus.MustNewConstMetric(lateRestatementsDesc, prometheus.CounterValue, float64(r.series), account, collector))
	for currency, m := range r.change {
		snap.Metrics = append(snap.Metrics, prometheus.MustNewConstMetric(lateRestatementAmountDesc, prometheus.CounterValue, m.Float64(), account, collector, currency))
	}
}
