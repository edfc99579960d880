package bsssim

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The bill files BSS writes to a subscription's bucket, as the World
// implies them: which objects exist at a billing moment, what each holds,
// and when it last changed. File names follow SubscribeBillToOSS
// (https://www.alibabacloud.com/help/en/user-center/developer-reference/api-bssopenapi-2017-12-14-subscribebilltooss):
//
//	UID_BillingItemDetail_YYYYMMDD, UID_InstanceDetail_YYYYMMDD    one day, pushed daily
//	UID_BillingItemDetail_YYYYMM, UID_InstanceDetail_YYYYMM        the full month, at the start of the next
//	UID_InstanceDetailMonthly_YYYYMM, UID_BillingItemDetailMonthly_YYYYMM,
//	UID_SplitItemDetailDaily_YYYYMM                                 the month so far, rewritten daily until the 4th
//
// The timing, where the page is vague, is the simulator's (INFERRED):
//   - A day's file appears when the day's amounts settle (the delay
//     table's 24 h) and shows the World at the billing clock: it is
//     rewritten when the day's instance attributes fill in (48 h) and when
//     a late restatement of the day lands, and never after the cycle is
//     final, as the World restates nothing later.
//   - A month-so-far file appears when the month's first day settles and is
//     rewritten every day at 00:00 UTC+8, the last time at fullMonthAt
//     (12:00 UTC+8 on the 4th of the next month, the split bill's final
//     time), after which it never changes. The SubscribeBillToOSS page
//     (https://www.alibabacloud.com/help/en/user-center/developer-reference/api-bssopenapi-2017-12-14-subscribebilltooss)
//     says such a file "contains the full data generated from the beginning
//     of the month to the current day, and is updated every day", and that
//     BSS pushes the previous day's data daily. We read that (INFERRED) as:
//     it holds the days BSS has pushed by the rewrite, those whose amounts
//     have settled, each as the World shows it then, and no provisional day
//     (pushedDays). Day files appear as days settle too, so a month-so-far
//     file always holds the days the cycle's day files (of a
//     ...ForBillingPeriod subscription) exist for, as a reader subtracting
//     the one from the other needs.
//   - The full-month file of a ...ForBillingPeriod subscription appears at
//     fullMonthAt ("full previous-month data on the 4th") and never changes.
//   - A subscription's files stay in its bucket from the year before its
//     SubscribeTime (SubscribeBillToOSS pushes the last year's data when
//     subscribed), or at least the last 12 cycles (the current one
//     included): the bucket is the account's, and BSS deletes nothing
//     from it.
//
// A file's content is a pure function of the World at its snapshot, which
// is also its Last-Modified, so the ETag is a hash of the key and the
// snapshot rather than of the bytes: HEAD and List never generate a file.

// billFileType is one SubscribeType's files.
type billFileType struct {
	subscribeType string
	name          string // the name's middle part: UID_<name>_YYYYMMDD
	dayKind       fileKind
	monthKind     fileKind
	perDay        bool // daily _YYYYMMDD files plus the full month at fullMonthAt
	dailyRows     bool // the _YYYYMM file holds the month's DAILY rows (split)
}

var billFileTypes = []billFileType{
	{"BillingItemDetailForBillingPeriod", "BillingItemDetail", kindBillingItemDaily, kindBillingItemMonthly, true, false},
	{"InstanceDetailForBillingPeriod", "InstanceDetail", kindInstanceDaily, kindInstanceMonthly, true, false},
	{"BillingItemDetailMonthly", "BillingItemDetailMonthly", kindBillingItemDaily, kindBillingItemMonthly, false, false},
	{"InstanceDetailMonthly", "InstanceDetailMonthly", kindInstanceDaily, kindInstanceMonthly, false, false},
	{"SplitItemDetailDaily", "SplitItemDetailDaily", kindSplitDaily, kindSplitDaily, false, true},
}

func fileTypeOf(subscribeType string) *billFileType {
	if i := slices.IndexFunc(billFileTypes, func(t billFileType) bool { return t.subscribeType == subscribeType }); i >= 0 {
		return &billFileTypes[i]
	}
	return nil
}

// INFERRED: the page says a large bill "is automatically split into
// multiple CSV files ... merged and compressed into a ZIP file that has the
// same name format as the original file", but names neither the
// extensions nor the parts. These three are the one place to change.
const (
	fileExtCSV = ".csv"
	fileExtZip = ".zip"
)

// zipPartName names part n (from 1) of a split file inside its zip.
func zipPartName(base string, n int) string { return base + "_" + strconv.Itoa(n) + fileExtCSV }

// fileRetentionCycles is how many cycles of files a subscription pushes
// when it starts, and the fewest a bucket holds (INFERRED).
const fileRetentionCycles = 12

// firstFileCycle is the oldest cycle whose files sub's bucket holds when
// current is the current cycle.
func firstFileCycle(sub *BillSubscription, current Cycle) Cycle {
	first := current.AddMonths(1 - fileRetentionCycles)
	if t, err := time.ParseInLocation(time.DateTime, sub.SubscribeTime, billingZone); err == nil {
		if c := cycleOf(t).AddMonths(1 - fileRetentionCycles); c.Before(first) {
			first = c
		}
	}
	return first
}

// fullMonthAt is when a cycle's full-month file appears and its month-so-far
// files are written for the last time: 12:00 UTC+8 on the 4th of the next
// month (INFERRED from "updated every day until the fourth day of the next
// month"; the hour is the split bill's final hour).
func fullMonthAt(c Cycle) time.Time { return c.FinalAt(KindSplitItems) }

// billFile is one object of a subscription's bucket at a billing moment.
type billFile struct {
	sub      *BillSubscription
	uid      string // the subscribing account: the payer
	typ      *billFileType
	cycle    Cycle
	day      Day       // a _YYYYMMDD file; zero for a _YYYYMM file
	snapshot time.Time // the billing moment the content shows, and Last-Modified
	rows     int
	limit    int    // rows per CSV part
	drop     string // a column left out (OSSFaults.DropColumn)
}

func (f *billFile) kind() fileKind {
	if !f.day.IsZero() || f.typ.dailyRows {
		return f.typ.dayKind
	}
	return f.typ.monthKind
}

// base is the key without its extension: path, UID, type and period.
func (f *billFile) base() string {
	period := strings.ReplaceAll(f.cycle.String(), "-", "")
	if !f.day.IsZero() {
		period = strings.ReplaceAll(f.day.String(), "-", "")
	}
	return f.sub.BucketPath + f.uid + "_" + f.typ.name + "_" + period
}

// zipped reports whether the rows exceed the limit, so the object is a
// zip of several CSV parts.
func (f *billFile) zipped() bool { return f.rows > f.limit }

func (f *billFile) key() string {
	if f.zipped() {
		return f.base() + fileExtZip
	}
	return f.base() + fileExtCSV
}

func (f *billFile) contentType() string {
	if f.zipped() {
		return "application/zip"
	}
	return "text/csv"
}

// etag changes whenever the content may: the key, the snapshot, the row
// count and the injected column fault decide the bytes.
func (f *billFile) etag() string {
	sum := sha256.Sum256([]byte(f.key() + "\x00" + strconv.FormatInt(f.snapshot.UnixNano(), 10) + "\x00" +
		strconv.Itoa(f.rows) + "\x00" + strconv.Itoa(f.limit) + "\x00" + f.drop))
	return `"` + strings.ToUpper(hex.EncodeToString(sum[:16])) + `"`
}

// filesAt lists the bucket's objects at the billing moment at, sorted by
// key, without their row counts (countRows fills those in for the few
// that are answered).
func (s *OSSServer) filesAt(bucket string, at time.Time) []billFile {
	var out []billFile
	subs := s.world.Subscriptions()
	for i := range subs {
		sub := &subs[i]
		t := fileTypeOf(sub.SubscribeType)
		if sub.SubscribeBucket != bucket || t == nil {
			continue
		}
		limit := int(sub.RowLimitPerFile)
		if s.rowLimit > 0 {
			limit = s.rowLimit
		}
		current := cycleOf(at)
		for c := firstFileCycle(sub, current); !current.Before(c); c = c.Next() {
			out = append(out, s.cycleFiles(sub, t, c, at, limit)...)
		}
	}
	out = slices.DeleteFunc(out, func(f billFile) bool { return s.faults.missing(&f) })
	slices.SortFunc(out, func(a, b billFile) int { return strings.Compare(a.base(), b.base()) })
	return out
}

// cycleFiles are one subscription's files of one cycle that exist at at.
func (s *OSSServer) cycleFiles(sub *BillSubscription, t *billFileType, c Cycle, at time.Time, limit int) []billFile {
	var out []billFile
	file := func(day Day, snapshot time.Time) billFile {
		return billFile{sub: sub, uid: s.world.AccountID(), typ: t, cycle: c, day: day, snapshot: snapshot, limit: max(limit, 1)}
	}
	if !t.perDay {
		if !at.Before(c.FirstDay().SettledAt(KindAmounts)) {
			out = append(out, file(Day{}, monthSoFarSnapshot(c, at)))
		}
		return out
	}
	for d := c.FirstDay(); d.Cycle() == c && !at.Before(d.SettledAt(KindAmounts)); d = d.AddDays(1) {
		out = append(out, file(d, s.world.dayFileChangedAt(d, at)))
	}
	if !at.Before(fullMonthAt(c)) {
		out = append(out, file(Day{}, fullMonthAt(c)))
	}
	return out
}

// monthSoFarSnapshot is the last rewrite of a month-so-far file by at: the
// latest 00:00 UTC+8, or fullMonthAt once that has passed.
func monthSoFarSnapshot(c Cycle, at time.Time) time.Time {
	if final := fullMonthAt(c); !at.Before(final) {
		return final
	}
	return dayOf(at).Start() // the latest 00:00 UTC+8
}

// dayFileChangedAt is when day d's file last changed by at: when its
// amounts settled, when its instance attributes filled in, or when its
// latest late restatement landed.
func (w *World) dayFileChangedAt(d Day, at time.Time) time.Time {
	t := d.SettledAt(KindAmounts)
	if a := d.SettledAt(KindInstanceAttributes); !at.Before(a) {
		t = a
	}
	for _, rs := range w.restatementsOf(d) {
		if rs.late && !at.Before(rs.appearAt) && rs.appearAt.After(t) {
			t = rs.appearAt
		}
	}
	return t
}

// completeFile fills in what the key and headers depend on: the row count
// and the column fault.
func (s *OSSServer) completeFile(f *billFile) {
	f.rows = s.world.fileRowCount(f)
	f.drop = s.faults.droppedColumn(f)
}

// pushedDays is the leading run of days (a cycle's, in order) whose
// amounts settled by the snapshot: the days a month-so-far file written
// then holds (INFERRED, see the top of this file; the one place to change).
func pushedDays(days []dayState, snapshot time.Time) []dayState {
	n := 0
	for n < len(days) && !snapshot.Before(days[n].day.SettledAt(KindAmounts)) {
		n++
	}
	return days[:n]
}

// fileQueries resolve the rows a file holds, in order: a day file's are
// DescribeInstanceBill's DAILY answer, a month file's its MONTHLY answer over
// the pushed days only, a split file's the DAILY split bills of its pushed days.
func (w *World) fileQueries(f *billFile) []*billQuery {
	if f.typ.dailyRows {
		var out []*billQuery
		for _, ds := range pushedDays(cycleDays(f.cycle, f.snapshot), f.snapshot) {
			out = append(out, w.newBillQuery(billFilter{cycle: f.cycle, granularity: Daily, date: ds.day}, viewSplit, f.snapshot))
		}
		return out
	}
	v := viewInstance
	if f.kind()&kindsBillingItem != 0 {
		v = viewBillingItems
	}
	filter := billFilter{cycle: f.cycle, granularity: Monthly, pushedOnly: true}
	if !f.day.IsZero() {
		filter = billFilter{cycle: f.cycle, granularity: Daily, date: f.day}
	}
	return []*billQuery{w.newBillQuery(filter, v, f.snapshot)}
}

// fileRowCount is the number of rows the file holds, from the same counts
// the API's TotalCount answers.
func (w *World) fileRowCount(f *billFile) int {
	n := 0
	for _, q := range w.fileQueries(f) {
		n += q.total
	}
	return n
}

// fileRowChunk is how many rows are walked between checks for a failed
// write, so a client that hangs up stops the generation soon.
const fileRowChunk = 4096

// eachFileRow calls fn with every row of the file, in order, until fn
// fails. Rows are built by the functions the API answers with
// (instanceItem, splitItem) at the file's snapshot; nothing is held but the
// row being written.
func (w *World) eachFileRow(f *billFile, fn func(*fileRow) error) error {
	cycle := f.cycle.String()
	var it InstanceBillItem
	var split SplitItemBillItem
	var row fileRow
	for _, q := range w.fileQueries(f) {
		err := w.walkChunks(q, func(r *rowRef, a *attrs) error {
			if q.key.view == viewSplit {
				split = w.splitItem(q, r, a)
				row = splitFileRow(&split)
			} else {
				it = w.instanceItem(q, r, a)
				row = instanceFileRow(&it, cycle)
			}
			return fn(&row)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// walkChunks walks all of q's rows in chunks, stopping at fn's first error.
func (w *World) walkChunks(q *billQuery, fn func(*rowRef, *attrs) error) error {
	var cache attrCache
	var err error
	for off := 0; off < q.total && err == nil; off += fileRowChunk {
		w.walk(q, off, fileRowChunk, func(r *rowRef) {
			if err == nil {
				err = fn(r, cache.of(w, r.e))
			}
		})
	}
	return err
}
