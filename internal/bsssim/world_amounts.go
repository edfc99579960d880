package bsssim

import (
	"cmp"
	"time"
)

// The amount model (INFERRED: BSS documents each column but not how they
// relate). Every row satisfies, exactly:
//
//	PretaxAmount  = PretaxGrossAmount − InvoiceDiscount − DeductedByCoupons
//	PretaxAmount  = DeductedByCashCoupons + DeductedByPrepaidCard + CashAmount + OutstandingAmount
//	PaymentAmount = CashAmount + AdjustAmount
//
// A row is therefore stored as its seven independent "leaf" columns and the
// other three are derived. Scaling (provisional days) and splitting (billing
// items, buckets) act on leaves, so the identities survive rounding, and parts
// sum to the whole exactly. All leaves of a row share its sign.

const (
	leafDiscount = iota
	leafCoupons
	leafCashCoupons
	leafPrepaidCard
	leafCash
	leafOutstanding
	leafAdjust
	numLeaves
)

// leaves are a row's independent amount columns, in units of 10^-8.
type leaves [numLeaves]int64

func (l leaves) amounts() Amounts {
	pretax := l[leafCashCoupons] + l[leafPrepaidCard] + l[leafCash] + l[leafOutstanding]
	m := func(u int64) Money { return Money(u) }
	return Amounts{
		PretaxGrossAmount:     m(pretax + l[leafDiscount] + l[leafCoupons]),
		InvoiceDiscount:       m(l[leafDiscount]),
		DeductedByCoupons:     m(l[leafCoupons]),
		DeductedByCashCoupons: m(l[leafCashCoupons]),
		DeductedByPrepaidCard: m(l[leafPrepaidCard]),
		PretaxAmount:          m(pretax),
		CashAmount:            m(l[leafCash]),
		PaymentAmount:         m(l[leafCash] + l[leafAdjust]),
		OutstandingAmount:     m(l[leafOutstanding]),
		AdjustAmount:          m(l[leafAdjust]),
	}
}

func (l *leaves) add(o *leaves) {
	for i := range l {
		l[i] += o[i]
	}
}

// scaled returns the provisional share permille/scaleFinal of the leaves,
// each rounded away from zero to 0.0001 so a non-zero leaf stays non-zero.
func (l leaves) scaled(permille int64) leaves {
	if permille == scaleFinal {
		return l
	}
	const quantum = 10_000 // 0.0001; every leaf is a multiple
	for i, v := range l {
		s := v / quantum * permille
		q := s / scaleFinal
		if s%scaleFinal != 0 {
			q += int64(cmp.Compare(s, 0))
		}
		l[i] = q * quantum
	}
	return l
}

// splitInto divides the leaves among len(weights) parts in proportion to the
// weights, to 0.000001, the last part taking the remainder. Each weight must
// be at least a fortieth of the total, so every non-zero leaf (≥ 0.0001)
// gives every part a non-zero share.
func (l *leaves) splitInto(weights []int64, total int64, out []leaves) {
	const quantum = 100 // 0.000001
	last := len(weights) - 1
	for i, v := range l {
		micro := v / quantum
		var used int64
		for k := 0; k < last; k++ {
			part := micro * weights[k] / total
			out[k][i] = part * quantum
			used += part
		}
		out[last][i] = (micro - used) * quantum
	}
}

// regularFinal is the final amount of an instance's regular row on a day: a
// PayAsYouGoBill row every day, or a SubscriptionOrder on the renewal day.
func (w *World) regularFinal(e *econ, day uint64) leaves {
	if e.slot.zero || w.notCreated(e, day) {
		return leaves{}
	}
	h := w.hash(tagAmount, uint64(e.g), day, 0)
	gross := e.level
	if !e.cls.sub {
		// Usage-metered products swing with traffic, instances barely.
		swing := int64(850 + (h>>1)%301)
		if e.cls.product.usageBased {
			swing = 500 + int64((h>>1)%1001)
		}
		gross = max(e.level/e.res*swing/1000*e.res, minGrossUnits)
	}
	return w.leavesFor(e, gross, h)
}

// leavesFor breaks a gross amount (either sign) into leaves, by the row's
// own draws h: a discount, sometimes coupons, vouchers and prepaid cards, the
// rest paid in cash or, for owners on credit, left outstanding.
func (w *World) leavesFor(e *econ, gross int64, h uint64) leaves {
	res := e.res
	g := gross / res // work in quanta: no overflow, amounts stay on the quantum
	var l leaves
	l[leafDiscount] = g * e.discount / 1000
	rest := g - l[leafDiscount]
	if (h>>12)%10 == 0 {
		l[leafCoupons] = rest * int64(50+(h>>16)%150) / 1000
	}
	pretax := rest - l[leafCoupons]
	if (h>>24)%8 == 0 {
		l[leafCashCoupons] = pretax * int64(100+(h>>28)%400) / 1000
	}
	if (h>>37)%16 == 0 {
		l[leafPrepaidCard] = (pretax - l[leafCashCoupons]) * int64(100+(h>>41)%200) / 1000
	}
	unpaid := pretax - l[leafCashCoupons] - l[leafPrepaidCard]
	switch {
	case w.owners[e.owner].credit:
		l[leafOutstanding] = unpaid
	case (h>>49)%20 == 0: // part of the day not yet settled
		l[leafOutstanding] = unpaid * 3 / 10
		l[leafCash] = unpaid - l[leafOutstanding]
	default:
		l[leafCash] = unpaid
	}
	if gross > 0 && (h>>54)%40 == 0 {
		l[leafAdjust] = l[leafCash] * int64(10+(h>>58)%40) / 1000
	}
	for i := range l {
		l[i] *= res
	}
	return l
}

// billsOn reports whether the instance has a regular row on day-of-month dom.
func (e *econ) billsOn(dom int) bool { return !e.cls.sub || renewalDay(e) == dom }

// renewalDay is the day of month a subscription instance renews.
func renewalDay(e *econ) int {
	c := e.j / slotsPerOwner
	return (c+int(e.slot.renewOff))%renewalPeriodDays + 1
}

// restatement is a Refund (of a subscription) or an Adjustment (of usage):
// a negative row on a day, either there from the start or appearing late.
type restatement struct {
	e        econ
	item     string
	final    leaves
	late     bool
	appearAt time.Time // late rows only
}

// Shares of days that carry restatement rows (INFERRED, illustrative).
const (
	inDayRestatementPercent = 40
	lateRestatementPercent  = 35
)

// restatementsOf lists every restatement row of day d, visible or not, in a
// fixed order: in-day rows, then late rows.
func (w *World) restatementsOf(d Day) []restatement {
	key := dayKey(d)
	var out []restatement
	for kind := uint64(0); kind < 2; kind++ {
		late := kind == 1
		h := w.hash(tagRestate, key, kind, 0)
		if h%100 >= [...]uint64{inDayRestatementPercent, lateRestatementPercent}[kind] {
			continue
		}
		n := 1 + int((h>>8)%uint64(w.restateMax))
		for r := 0; r < n; r++ {
			hr := w.hash(tagRestate, key, kind, uint64(r+1))
			e := w.econAt(int(hr % uint64(w.instances)))
			if e.slot.zero || w.notCreated(&e, key) {
				continue // nothing to refund
			}
			item := itemAdjustment
			if e.cls.sub {
				item = itemRefund
			}
			gross := -max(e.level*int64(50+(hr>>20)%350)/1000/e.res*e.res, e.res)
			rs := restatement{e: e, item: item, final: w.leavesFor(&e, gross, hr), late: late}
			if late {
				rs.appearAt = lateAppearance(d, hr>>40)
			}
			out = append(out, rs)
		}
	}
	// Injected rows (WorldConfig.UsageSpike, Purchase) go last, after the world's own.
	for i := range w.extras {
		x := &w.extras[i]
		if x.day != key {
			continue
		}
		e := w.econAt(x.g)
		h := w.hash(tagExtraSpend, key, uint64(i), 0)
		out = append(out, restatement{e: e, item: x.item, final: w.leavesFor(&e, x.gross, h)})
	}
	return out
}

// lateAppearance is when a late restatement of day d shows up: on the hour,
// lateRestatementMin…lateRestatementMax after the day settled, but always
// before the cycle's bill is final, after which nothing changes.
func lateAppearance(d Day, h uint64) time.Time {
	settled := d.SettledAt(KindAmounts)
	window := d.Cycle().FinalAt(KindAmounts).Sub(settled)
	lo, hi := lateRestatementMin, min(lateRestatementMax, window-time.Hour) // window is whole hours
	if lo > hi {
		lo = time.Hour
	}
	steps := uint64((hi-lo)/time.Hour) + 1
	return settled.Add(lo + time.Duration(h%steps)*time.Hour)
}

// visibleAt returns the restatement's amounts as shown at at on a day in
// state ds, or false while it is not shown.
func (r *restatement) visibleAt(ds *dayState, at time.Time) (leaves, bool) {
	if r.late {
		if at.Before(r.appearAt) {
			return leaves{}, false
		}
		return r.final, true
	}
	if !ds.started {
		return leaves{}, false
	}
	return r.final.scaled(ds.scale), true
}
