package bssclient

import (
	"fmt"
	"time"
)

// This file is the one place that knows BSS's billing calendar: what a billing
// day is, when each kind of data about a day is complete, and when a month's
// bill is final. The simulator, the collectors and the tests all ask it.
//
// Sources: the API pages of DescribeInstanceBill
// (https://alibabacloud.com/help/en/boa/latest/api-query-instance-billing-service),
// QueryAccountBill
// (https://alibabacloud.com/help/en/boa/latest/api-bssopenapi-2017-12-14-queryaccountbill)
// and DescribeSplitItemBill
// (https://alibabacloud.com/help/en/boa/latest/api-bssopenapi-2017-12-14-describesplititembill),
// and the bill guide
// (https://www.alibabacloud.com/help/en/user-center/user-guide/how-to-manage-bills).
// That BillingDate is a UTC+8 calendar day is INFERRED from the documented
// "(UTC+8)" final-bill times: no page says so outright. If it proves wrong,
// BillingZone is the only thing to change.

// BillingZone is the clock BSS billing days and cycles are counted in.
var BillingZone = time.FixedZone("UTC+8", 8*60*60)

// DataKind names a kind of billing data, each with its own delay.
type DataKind int

const (
	// KindAmounts are account-level money per day: "Billing data is updated 24
	// hours after actual resource consumption."
	KindAmounts DataKind = iota
	// KindInstanceAttributes are anything labelled by instance details (region,
	// zone, spec, nickname, resource group, IPs): "updated with a 48-hour delay".
	KindInstanceAttributes
	// KindSplitItems are split-bill items such as OSS buckets, domains and EIPs:
	// "72 h for split items" (DescribeSplitItemBill).
	KindSplitItems
	// KindAmortized is amortized (effective) cost by amortization month
	// (DescribeProductAmortizedCostByAmortizationPeriod,
	// https://www.alibabacloud.com/help/en/user-center/developer-reference/api-bssopenapi-2017-12-14-describeproductamortizedcostbyamortizationperiod):
	// "updated 48 hours after the detailed bill is generated", final "after
	// 12:00 on the sixth day of the following month", "for the past 12
	// months". It has no days of its own: only Delay, FinalAt and the
	// retention apply.
	KindAmortized
)

// dataKinds is what the pages say of each kind, quoted at the constants
// above.
var dataKinds = [...]struct {
	name  string
	delay time.Duration // Delay
	// finalDay is the day of the following month on whose noon (UTC+8) a
	// cycle's bill becomes final: the 3rd for bills, the 4th for split
	// bills, the 6th for amortized cost.
	finalDay  int
	retention int // RetentionCycles
}{
	KindAmounts:            {"amounts", 24 * time.Hour, 3, 18},
	KindInstanceAttributes: {"instance_attributes", 48 * time.Hour, 3, 18},
	KindSplitItems:         {"split_items", 72 * time.Hour, 4, 12},
	KindAmortized:          {"amortized", 48 * time.Hour, 6, 12},
}

// index is k's index in dataKinds: a kind not in it has KindAmounts' row.
func (k DataKind) index() DataKind {
	if k < 0 || int(k) >= len(dataKinds) {
		return KindAmounts
	}
	return k
}

// String names the kind for logs and labels.
func (k DataKind) String() string {
	if k.index() != k {
		return fmt.Sprintf("DataKind(%d)", int(k))
	}
	return dataKinds[k].name
}

// Delay is how long after a billing day ends its data of this kind is complete.
func (k DataKind) Delay() time.Duration { return dataKinds[k.index()].delay }

// RetentionCycles is how many billing cycles, counting the current one, the
// API still serves: 18 months for bills, 12 for split bills and amortized
// cost. Whether amortized cost's "past 12 months" counts the current month
// is INFERRED (counted, the safer reading: it asks one month less).
func (k DataKind) RetentionCycles() int { return dataKinds[k.index()].retention }

// Day is a billing day: a calendar date in BillingZone. The zero Day means unset.
type Day struct {
	Year  int
	Month time.Month
	Day   int
}

// DayOf returns the billing day that contains t.
func DayOf(t time.Time) Day {
	y, m, d := t.In(BillingZone).Date()
	return Day{y, m, d}
}

// ParseDay parses "YYYY-MM-DD".
func ParseDay(s string) (Day, error) {
	t, err := time.ParseInLocation("2006-01-02", s, BillingZone)
	if err != nil {
		return Day{}, fmt.Errorf("invalid billing date %q: want YYYY-MM-DD", truncateForError(s))
	}
	return DayOf(t), nil
}

// IsZero reports whether d is unset.
func (d Day) IsZero() bool { return d == Day{} }

// Start is 00:00 UTC+8 of the day: the timestamp of its daily samples.
func (d Day) Start() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, BillingZone) }

// End is 00:00 UTC+8 of the next day.
func (d Day) End() time.Time { return d.AddDays(1).Start() }

// AddDays returns the day n days later (earlier for negative n).
func (d Day) AddDays(n int) Day {
	return DayOf(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, BillingZone))
}

// Before reports whether d is earlier than e.
func (d Day) Before(e Day) bool { return d.Start().Before(e.Start()) }

// Cycle returns the billing cycle the day belongs to.
func (d Day) Cycle() Cycle { return Cycle{d.Year, d.Month} }

// String formats the day as BSS does: "YYYY-MM-DD".
func (d Day) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// SettledAt is when the day's data of kind k is complete and will not arrive
// any later: the day's end plus the kind's delay, as BSS documents it. It
// dates what BSS wrote (a bill file written before it is stale);
// Calendar.SettledAt adds the margin for when the exporter reads.
func (d Day) SettledAt(k DataKind) time.Time { return d.End().Add(k.Delay()) }

// newestSettledDay is the latest day whose data of kind k is complete at
// now, without a margin: Calendar adds it.
func newestSettledDay(now time.Time, k DataKind) Day {
	return DayOf(now.Add(-k.Delay())).AddDays(-1)
}

// Calendar is the billing calendar as the exporter, the backfill and
// doctor read it: BSS's documented delays plus Margin. BSS documents its
// delays as approximate, so a day is taken as settled, and a cycle as
// final, Margin after it documents; the calendar carries the margin so
// that no caller can leave it out, and every one publishes a day at the
// same moment.
type Calendar struct {
	Margin time.Duration
}

// NewestSettledDay is the latest day whose data of kind k is settled at
// now.
func (c Calendar) NewestSettledDay(now time.Time, k DataKind) Day {
	return newestSettledDay(now.Add(-c.Margin), k)
}

// CycleFinal reports whether cyc's bill of kind k is final at now.
func (c Calendar) CycleFinal(cyc Cycle, now time.Time, k DataKind) bool {
	return cyc.isFinal(now.Add(-c.Margin), k)
}

// SettledAt is when d's data of kind k is settled.
func (c Calendar) SettledAt(d Day, k DataKind) time.Time { return d.SettledAt(k).Add(c.Margin) }

// FinalAt is when cyc's bill of kind k is final: from then on CycleFinal
// answers true.
func (c Calendar) FinalAt(cyc Cycle, k DataKind) time.Time { return cyc.FinalAt(k).Add(c.Margin) }

// Cycle is a billing cycle: a calendar month in BillingZone.
type Cycle struct {
	Year  int
	Month time.Month
}

// CycleOf returns the billing cycle that contains t.
func CycleOf(t time.Time) Cycle { return DayOf(t).Cycle() }

// ParseCycle parses "YYYY-MM".
func ParseCycle(s string) (Cycle, error) {
	t, err := time.ParseInLocation("2006-01", s, BillingZone)
	if err != nil {
		return Cycle{}, fmt.Errorf("invalid billing cycle %q: want YYYY-MM", truncateForError(s))
	}
	return CycleOf(t), nil
}

// IsZero reports whether c is unset.
func (c Cycle) IsZero() bool { return c == Cycle{} }

// String formats the cycle as BSS does: "YYYY-MM".
func (c Cycle) String() string { return fmt.Sprintf("%04d-%02d", c.Year, int(c.Month)) }

// FirstDay is the cycle's first day.
func (c Cycle) FirstDay() Day { return Day{c.Year, c.Month, 1} }

// LastDay is the cycle's last day.
func (c Cycle) LastDay() Day { return c.Next().FirstDay().AddDays(-1) }

// Next is the following cycle.
func (c Cycle) Next() Cycle { return c.AddMonths(1) }

// Prev is the preceding cycle.
func (c Cycle) Prev() Cycle { return c.AddMonths(-1) }

// AddMonths returns the cycle n months later (earlier for negative n).
func (c Cycle) AddMonths(n int) Cycle {
	t := time.Date(c.Year, c.Month+time.Month(n), 1, 12, 0, 0, 0, BillingZone)
	return Cycle{t.Year(), t.Month()}
}

// Before reports whether c is earlier than o.
func (c Cycle) Before(o Cycle) bool {
	return c.Year < o.Year || (c.Year == o.Year && c.Month < o.Month)
}

// Start is 00:00 UTC+8 on the cycle's first day.
func (c Cycle) Start() time.Time { return c.FirstDay().Start() }

// FinalAt is when the cycle's bill of kind k becomes final and is never
// restated again: 12:00 UTC+8 on the 3rd of the next month, the 4th for
// split bills, the 6th for amortized cost. Until then refunds, adjustments and late usage may change it.
func (c Cycle) FinalAt(k DataKind) time.Time {
	n := c.Next()
	return time.Date(n.Year, n.Month, dataKinds[k.index()].finalDay, 12, 0, 0, 0, BillingZone)
}

// isFinal reports whether the cycle's bill of kind k is final at now,
// without a margin: Calendar adds it.
func (c Cycle) isFinal(now time.Time, k DataKind) bool { return !now.Before(c.FinalAt(k)) }

// OldestQueryable is the earliest cycle the API still serves at now for kind k.
func OldestQueryable(now time.Time, k DataKind) Cycle {
	return CycleOf(now).AddMonths(-(k.RetentionCycles() - 1))
}
