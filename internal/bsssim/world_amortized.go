package bsssim

import (
	"slices"
	"strconv"
	"sync/atomic"
	"time"
)

// Amortized cost, the simulator's own model (INFERRED where BSS documents
// nothing, and kept here):
//   - Each instance-bill row is spread over its service term, one share a
//     day. A pay-as-you-go row's term is its own day. A subscription row's
//     term runs from its day to the day before the instance's next renewal
//     day (renewalDay), so a SubscriptionOrder pays for one month and a
//     Refund or Adjustment of a subscription reverses (or corrects) what is
//     left of the term it falls in.
//   - The share of each day is the row's payable divided by the term's
//     days, truncated to the 10^-8 unit; the remainder of the division lands
//     on the term's last day, so a term's shares sum to the row's payable
//     exactly.
//   - A row joins amortized cost once its day's amortized data is
//     complete: the day's end plus the KindAmortized delay (48 h), as the
//     instance bill shows it at that moment (late restatements join when
//     they appear).
//   - Amortized cost is recomputed once per provisionalStep (hourly): an
//     answer is as of the start of the hour, so that the pages of one walk,
//     and the truth a test asks for at the same moment, agree.
//   - A row of either action is one consume period (the cycle the rows were
//     billed in) of one owner, product and subscription type (and instance),
//     listed for every amortization month its terms touch.

// amortizedWorldState is the World's part for amortized cost: the console
// switch and a cache of the last answer, which the pages of one walk share.
type amortizedWorldState struct {
	disabled atomic.Bool
	last     *boundedCache[amortizedCacheKey, []AmortizedCostItem] // one entry
}

type amortizedCacheKey struct {
	cycle       Cycle
	at          time.Time
	perInstance bool
}

// AmortizedCostEnabled reports whether the account enabled Amortized Cost.
func (w *World) AmortizedCostEnabled() bool { return !w.amortized.disabled.Load() }

// SetAmortizedCostEnabled switches Amortized Cost on or off, as the console
// does. (BSS shows data 48 h after enabling; the simulator at once.)
func (w *World) SetAmortizedCostEnabled(enabled bool) { w.amortized.disabled.Store(!enabled) }

// amortizedTerm is the service term a row of day d is spread over.
func (w *World) amortizedTerm(it *InstanceBillItem, d Day) (first, last Day) {
	if it.SubscriptionType != subscriptionPrepaid {
		return d, d
	}
	g, ok := w.instanceByID(it.InstanceID)
	if !ok {
		return d, d
	}
	e := w.econAt(g)
	r, c := renewalDay(&e), d.Cycle()
	if d.Day >= r {
		c = c.Next()
	}
	return d, Day{c.Year, c.Month, r}.AddDays(-1)
}

// AmortizedShares splits payable over days days: every day gets the
// truncated quotient, the last day also the remainder, so the shares sum to
// payable exactly, whatever its sign.
func AmortizedShares(payable Money, days int) []Money {
	if days < 1 {
		return nil
	}
	q := int64(payable) / int64(days)
	out := slices.Repeat([]Money{Money(q)}, days)
	out[days-1] = Money(int64(payable) - q*int64(days-1))
	return out
}

// amortizedCell sums one output row.
type amortizedCell struct {
	item    AmortizedCostItem
	touches bool // some share falls in the amortization month
}

// AmortizedCost returns every row of the amortization month cycle at at:
// per owner, product, subscription type and consume period, and per
// instance too when perInstance. Sorted, so pages are stable.
func (w *World) AmortizedCost(cycle Cycle, perInstance bool, at time.Time) []AmortizedCostItem {
	at = at.Truncate(provisionalStep) // UTC+8 is whole hours ahead: the hour starts here too
	key := amortizedCacheKey{cycle, at, perInstance}
	if rows, ok := w.amortized.last.get(key); ok {
		return rows
	}
	rows := w.computeAmortizedCost(cycle, perInstance, at)
	w.amortized.last.put(key, rows)
	return rows
}

// amortizedChunk is how many instance-bill rows are formatted at once.
const amortizedChunk = 10_000

// computeAmortizedCost reads every instance-bill row of the cycle and the one
// before: on a world of a million rows a day that is some 60 million rows,
// minutes of CPU per answer, so big benchmark worlds should leave the
// amortized collector off.
func (w *World) computeAmortizedCost(cycle Cycle, perInstance bool, at time.Time) []AmortizedCostItem {
	cells := map[string]*amortizedCell{}
	var order []string
	// A term lasts at most a month (renewal days are 1–28), so only rows
	// of this cycle and the one before reach into it.
	for d := cycle.AddMonths(-1).FirstDay(); !cycle.LastDay().Before(d); d = d.AddDays(1) {
		if at.Before(d.SettledAt(KindAmortized)) {
			break
		}
		req := InstanceBillRequest{BillingCycle: d.Cycle(), Granularity: Daily, BillingDate: d}
		n := w.InstanceBillCount(req, at)
		for off := 0; off < n; off += amortizedChunk { // a big day in chunks: bounded memory
			for _, it := range w.InstanceBillRows(req, at, off, min(amortizedChunk, n-off)) {
				k := w.amortizedKey(&it, d, perInstance)
				c, ok := cells[k]
				if !ok {
					c = &amortizedCell{item: w.amortizedItem(&it, d, cycle, perInstance)}
					cells[k] = c
					order = append(order, k)
				}
				first, last := w.amortizedTerm(&it, d)
				c.add(it.PretaxAmount, first, last, cycle)
			}
		}
	}
	out := make([]AmortizedCostItem, 0, len(order))
	slices.Sort(order)
	for _, k := range order {
		if c := cells[k]; c.touches {
			out = append(out, c.item)
		}
	}
	return out
}

// add spreads one row's payable over [first, last] into the cell's
// previously, current and remaining amounts for cycle.
func (c *amortizedCell) add(payable Money, first, last Day, cycle Cycle) {
	days := int(last.Start().Sub(first.Start()).Hours()/24+0.5) + 1
	it := &c.item
	it.PretaxAmount += payable
	for i, share := range AmortizedShares(payable, days) {
		switch d := first.AddDays(i); {
		case d.Cycle().Before(cycle):
			it.PreviouslyAmortizedPretaxAmount += share
		case cycle.Before(d.Cycle()):
			it.RemainingAmortizationPretaxAmount += share
		default:
			it.CurrentAmortizationPretaxAmount += share
			c.touches = true
		}
	}
}

func (w *World) amortizedKey(it *InstanceBillItem, d Day, perInstance bool) string {
	k := it.OwnerID + "\x00" + it.ProductCode + "\x00" + it.SubscriptionType + "\x00" + yyyymm(d.Cycle())
	if perInstance {
		k += "\x00" + it.InstanceID
	}
	return k
}

func (w *World) amortizedItem(it *InstanceBillItem, d Day, cycle Cycle, perInstance bool) AmortizedCostItem {
	payer, _ := strconv.ParseInt(w.AccountID(), 10, 64)
	owner, _ := strconv.ParseInt(it.OwnerID, 10, 64)
	out := AmortizedCostItem{
		AmortizationPeriod: yyyymm(cycle), ConsumePeriod: yyyymm(d.Cycle()), AmortizationStatus: "amortized",
		BillAccountID: payer, BillAccountName: w.AccountName(), BillOwnerID: owner, BillOwnerName: w.OwnerName(it.OwnerID),
		ProductCode: it.ProductCode, SubscriptionType: it.SubscriptionType,
	}
	if perInstance {
		out.InstanceID, out.Region = it.InstanceID, it.Region
	}
	return out
}

// yyyymm writes a cycle as the amortized-cost rows do: "202210".
func yyyymm(c Cycle) string { return strconv.Itoa(c.Year*100 + int(c.Month)) }
