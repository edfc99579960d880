package bsssim

import (
	"fmt"
	"time"
)

// The simulator's own billing calendar and delay table. It is written from
// the API pages, not taken from the client, so that a client that misreads
// the delays disagrees with the simulator instead of agreeing with itself.
//
// Sources:
//   - QueryAccountBill, https://www.alibabacloud.com/help/en/boa/latest/api-bssopenapi-2017-12-14-queryaccountbill:
//     "Billing data is updated 24 hours after actual resource consumption";
//     instance attributes "48 hours"; the final bill "after 12:00 on the
//     third day of the next month"; "the last 18 months".
//   - DescribeSplitItemBill, https://www.alibabacloud.com/help/en/boa/latest/api-bssopenapi-2017-12-14-describesplititembill:
//     split items 72 hours late, final on the 4th, 12 months of history.
//   - DescribeProductAmortizedCostByAmortizationPeriod, https://www.alibabacloud.com/help/en/user-center/developer-reference/api-bssopenapi-2017-12-14-describeproductamortizedcostbyamortizationperiod:
//     amortized cost "updated 48 hours after the detailed bill is
//     generated", final "after 12:00 on the sixth day of the following
//     month", "the past 12 months" (counted here with the current one:
//     INFERRED).
//
// That a billing day is a UTC+8 calendar day is INFERRED from the documented
// "(UTC+8)" final-bill times; billingZone is the one place to change.
var billingZone = time.FixedZone("UTC+8", 8*60*60)

// DataKind names a kind of billing data, each with its own delay.
type DataKind int

const (
	// KindAmounts are the money columns of every bill.
	KindAmounts DataKind = iota
	// KindInstanceAttributes are region, zone, spec, nickname, resource
	// group and IPs of instance-bill rows.
	KindInstanceAttributes
	// KindSplitItems are the split items (OSS buckets, ECS instances) of
	// split-bill rows.
	KindSplitItems
	// KindAmortized is amortized cost by amortization month.
	KindAmortized
)

// String names the kind.
func (k DataKind) String() string {
	if names := [...]string{"amounts", "instance_attributes", "split_items", "amortized"}; k >= 0 && int(k) < len(names) {
		return names[k]
	}
	return fmt.Sprintf("DataKind(%d)", int(k))
}

// delays is the delay table: how long after a billing day ends each kind of
// data about it is complete, on which day of the next month (at 12:00
// UTC+8) a cycle's bill is final, and how many cycles, the current one
// included, the API serves.
var delays = map[DataKind]struct {
	delay     time.Duration
	finalDay  int
	retention int
}{
	KindAmounts:            {24 * time.Hour, 3, 18},
	KindInstanceAttributes: {48 * time.Hour, 3, 18},
	KindSplitItems:         {72 * time.Hour, 4, 12},
	KindAmortized:          {48 * time.Hour, 6, 12},
}

// finalHour is the hour (UTC+8) of the final day at which a bill is final.
const finalHour = 12

// Day is a billing day: a calendar date in UTC+8. The zero Day means unset.
type Day struct {
	Year  int
	Month time.Month
	Day   int
}

func dayOf(t time.Time) Day {
	y, m, d := t.In(billingZone).Date()
	return Day{y, m, d}
}

// parseDay reads "YYYY-MM-DD" exactly.
func parseDay(s string) (Day, error) {
	t, err := time.ParseInLocation("2006-01-02", s, billingZone)
	if err != nil || t.Format("2006-01-02") != s {
		return Day{}, fmt.Errorf("%q is not a date in the YYYY-MM-DD format", shorten(s))
	}
	return dayOf(t), nil
}

// IsZero reports whether d is unset.
func (d Day) IsZero() bool { return d == Day{} }

// Start is 00:00 UTC+8 of the day.
func (d Day) Start() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, billingZone) }

// End is 00:00 UTC+8 of the next day.
func (d Day) End() time.Time { return d.AddDays(1).Start() }

// AddDays returns the day n days later (earlier for negative n).
func (d Day) AddDays(n int) Day {
	return dayOf(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, billingZone))
}

// Before reports whether d is earlier than e.
func (d Day) Before(e Day) bool { return d.Start().Before(e.Start()) }

// Cycle is the billing cycle the day belongs to.
func (d Day) Cycle() Cycle { return Cycle{d.Year, d.Month} }

// String is the day as BSS writes it: "YYYY-MM-DD".
func (d Day) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// SettledAt is when the day's data of kind k is complete.
func (d Day) SettledAt(k DataKind) time.Time { return d.End().Add(delays[k].delay) }

// Cycle is a billing cycle: a calendar month in UTC+8.
type Cycle struct {
	Year  int
	Month time.Month
}

func cycleOf(t time.Time) Cycle { return dayOf(t).Cycle() }

// parseCycle reads "YYYY-MM" exactly.
func parseCycle(s string) (Cycle, error) {
	t, err := time.ParseInLocation("2006-01", s, billingZone)
	if err != nil || t.Format("2006-01") != s {
		return Cycle{}, fmt.Errorf("%q is not a billing cycle in the YYYY-MM format", shorten(s))
	}
	return cycleOf(t), nil
}

// IsZero reports whether c is unset.
func (c Cycle) IsZero() bool { return c == Cycle{} }

// String is the cycle as BSS writes it: "YYYY-MM".
func (c Cycle) String() string { return fmt.Sprintf("%04d-%02d", c.Year, int(c.Month)) }

// FirstDay is the cycle's first day.
func (c Cycle) FirstDay() Day { return Day{c.Year, c.Month, 1} }

// LastDay is the cycle's last day.
func (c Cycle) LastDay() Day { return c.AddMonths(1).FirstDay().AddDays(-1) }

// Next is the following cycle.
func (c Cycle) Next() Cycle { return c.AddMonths(1) }

// AddMonths returns the cycle n months later (earlier for negative n).
func (c Cycle) AddMonths(n int) Cycle {
	t := time.Date(c.Year, c.Month+time.Month(n), 1, 12, 0, 0, 0, billingZone)
	return Cycle{t.Year(), t.Month()}
}

// Before reports whether c is earlier than o.
func (c Cycle) Before(o Cycle) bool {
	return c.Year < o.Year || (c.Year == o.Year && c.Month < o.Month)
}

// Start is 00:00 UTC+8 on the cycle's first day.
func (c Cycle) Start() time.Time { return c.FirstDay().Start() }

// FinalAt is when the cycle's bill of kind k is final and never restated.
func (c Cycle) FinalAt(k DataKind) time.Time {
	n := c.AddMonths(1)
	return time.Date(n.Year, n.Month, delays[k].finalDay, finalHour, 0, 0, 0, billingZone)
}

// oldestQueryable is the earliest cycle the API serves at now for kind k.
func oldestQueryable(now time.Time, k DataKind) Cycle {
	return cycleOf(now).AddMonths(-(delays[k].retention - 1))
}
