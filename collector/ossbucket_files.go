package collector

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

// The ossbucket collector's bill-file source. SplitItemDetailDaily pushes
// one file per month, the month so far, rewritten daily until the 4th of
// the next month, holding the split bill's DAILY rows of every day it
// holds (SubscribeBillToOSS,
// https://www.alibabacloud.com/help/en/user-center/developer-reference/api-bssopenapi-2017-12-14-subscribebilltooss).
// Reading a month's file once per day would read each row some thirty
// times, so a refresh reads each month's file once, before the day book
// asks: every day the book will ask for (missing, or due to be read again)
// and, from the current month's file, the cycle's settled days.

// splitFileRead is what a refresh read from the month files: the days it
// booked, why it could not book the others, and the current cycle.
type splitFileRead struct {
	days   map[bssclient.Day]bookedDay
	failed map[bssclient.Day]error
	// cycle sums the current cycle's days through newest, when asked and
	// the file could serve; cycleErr is why it could not.
	cycle    *keyedSums
	cycleErr error
}

// readSplitFilesHeld is readSplitFiles in the account's turn to read a
// month (Account.holdMonth) when it has days to read.
func (r *ossBucketReader) readSplitFilesHeld(ctx context.Context, now time.Time, newest bssclient.Day, wanted []bssclient.Day, wantCycle bool) (*splitFileRead, error) {
	if len(wanted) == 0 && !wantCycle {
		return &splitFileRead{}, nil
	}
	release, err := r.acct.holdMonth(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	return r.readSplitFiles(ctx, now, newest, wanted, wantCycle)
}

// readSplitFiles reads the month files of the days wanted and, when
// wantCycle, the current cycle's settled days. A failure of a file is
// recorded for the days it should have served, for the API to stand in; an
// error is returned only when BSS fails to list the subscriptions.
func (r *ossBucketReader) readSplitFiles(ctx context.Context, now time.Time, newest bssclient.Day, wanted []bssclient.Day, wantCycle bool) (*splitFileRead, error) {
	read := &splitFileRead{days: map[bssclient.Day]bookedDay{}, failed: map[bssclient.Day]error{}}
	current := bssclient.CycleOf(now)
	byCycle := map[bssclient.Cycle][]bssclient.Day{}
	for _, d := range wanted {
		byCycle[d.Cycle()] = append(byCycle[d.Cycle()], d)
	}
	if _, ok := byCycle[current]; wantCycle && !ok {
		byCycle[current] = nil
	}
	cycles := slices.SortedFunc(maps.Keys(byCycle), func(a, b bssclient.Cycle) int { return compareDays(a.FirstDay(), b.FirstDay()) })
	for _, cyc := range cycles { // one month file at a time: memory holds one
		sumCycle := wantCycle && cyc == current
		err := r.readSplitMonth(ctx, cyc, byCycle[cyc], sumCycle, newest, read)
		if err == nil {
			continue
		}
		if !fallsBack(ctx, err) {
			return nil, err
		}
		for _, d := range byCycle[cyc] {
			if _, ok := read.days[d]; !ok && read.failed[d] == nil {
				read.failed[d] = err
			}
		}
		if sumCycle {
			read.cycle, read.cycleErr = nil, err
		}
	}
	return read, nil
}

// readSplitMonth reads one month file into read. Its rows come day after
// day (INFERRED: the page does not say; a file whose days are not in order
// fails, and its days are read from the API), so a day is summed, capped
// and booked when the next one starts, and one day's amounts are held.
func (r *ossBucketReader) readSplitMonth(ctx context.Context, cyc bssclient.Cycle, days []bssclient.Day, sumCycle bool, newest bssclient.Day, read *splitFileRead) error {
	files, err := r.files.of(ctx, splitItemFiles, cyc)
	if err != nil {
		return err
	}
	f, err := files.OpenMonth(ctx, cyc)
	if err != nil {
		return &billFileError{err}
	}
	defer r.files.close(f)
	width := len(ossBucketLabelsOf(r.cfg)) - 1
	p := &monthPass{r: r, file: f, cyc: cyc, wanted: map[bssclient.Day]bool{}, keys: newKeyedSums(width, ossBucketLabel),
		labels: make([]string, width), booked: map[bssclient.Day]bookedDay{}}
	// A day is in the file once BSS wrote it after the day's split items
	// settled; the others wait for a later file, or the API.
	for _, d := range days {
		if settled := d.SettledAt(bssclient.KindSplitItems); f.LastModified.Before(settled) {
			read.failed[d] = staleFile(f, settled)
		} else {
			p.wanted[d] = true
		}
	}
	if sumCycle && f.LastModified.Before(newest.SettledAt(bssclient.KindSplitItems)) {
		read.cycleErr = staleFile(f, newest.SettledAt(bssclient.KindSplitItems))
		sumCycle = false
	}
	if sumCycle {
		p.cycleThrough = newest
	}
	if len(p.wanted) == 0 && !sumCycle {
		return nil
	}
	if err := eachRow(fileRows(f.SplitItemBill()), p.add); err != nil {
		return err
	}
	if err := p.finishDay(); err != nil {
		return err
	}
	// A wanted day without a row had no OSS spend.
	for d := range p.wanted {
		read.days[d] = p.booked[d]
	}
	if sumCycle {
		read.cycle = p.keys
	}
	return nil
}

// monthPass is one pass over a month file. Every bucket of the file gets
// one key, in keys: the cycle's sums when the cycle is summed, else a
// registry of keys. A day's amounts are kept by key position, so a
// bucket's key is held once, however many days and the cycle sum it.
type monthPass struct {
	r      *ossBucketReader
	file   *bssclient.BillFile
	cyc    bssclient.Cycle
	wanted map[bssclient.Day]bool // the days to book
	// cycleThrough is the newest day the cycle sums; zero: the cycle is
	// not summed.
	cycleThrough bssclient.Day
	keys         *keyedSums
	labels       []string
	booked       map[bssclient.Day]bookedDay
	day          bssclient.Day // the day being summed into dayAmounts
	dayAmounts   *amountTable  // by position in keys; nil before the first day
}

// add sums one row into the cycle and its day, as they are wanted.
func (p *monthPass) add(it *bssclient.SplitItemBillItem) error {
	if !p.r.labelsOf(it, p.labels) {
		return nil
	}
	d, err := bssclient.ParseDay(it.BillingDate)
	if err != nil || d.Cycle() != p.cyc {
		return &billFileError{fmt.Errorf("bill file oss://%s/%s: a row of billing date %q, not a day of %s", p.file.Bucket, p.file.Key, it.BillingDate, p.cyc)}
	}
	if it.Amounts == (bssclient.Amounts{}) {
		// Adds nothing, and a bucket of zero rows only is no series; 40 %
		// of the simulated account's buckets are such a day.
		return nil
	}
	inCycle := !p.cycleThrough.IsZero() && !p.cycleThrough.Before(d)
	if !inCycle && !p.wanted[d] {
		return nil
	}
	var toCycle bssclient.Amounts
	if inCycle {
		toCycle = it.Amounts
	}
	at, err := p.keys.add(p.labels, toCycle)
	if err != nil || !p.wanted[d] {
		return err
	}
	if d != p.day || p.dayAmounts == nil {
		if err := p.startDay(d); err != nil {
			return err
		}
	}
	return p.dayAmounts.add(at, it.Amounts)
}

// startDay books the day summed so far and starts d.
func (p *monthPass) startDay(d bssclient.Day) error {
	if _, done := p.booked[d]; done {
		return &billFileError{fmt.Errorf("bill file oss://%s/%s: rows of %s after those of %s; its days are not in order", p.file.Bucket, p.file.Key, d, p.day)}
	}
	if err := p.finishDay(); err != nil {
		return err
	}
	p.day = d
	if p.dayAmounts == nil {
		p.dayAmounts = &amountTable{}
	}
	return nil
}

// finishDay caps and books the day being summed, if any.
func (p *monthPass) finishDay() error {
	if p.dayAmounts == nil {
		return nil
	}
	view := p.keys.over(p.dayAmounts)
	p.r.dayBuckets.Store(int64(len(view.nonZero())))
	capped, err := p.r.capBuckets(view)
	if err != nil {
		return err
	}
	p.booked[p.day] = bookedDay{series: capped}
	p.dayAmounts.clear()
	return nil
}
