package bsssim

import (
	"cmp"
	"runtime"
	"sync"
	"time"
)

// QueryAccountBill "is summarized based on instance bills": its rows are
// sums of the DAILY instance-bill rows of the same owner, product and
// billing method, to the last decimal. A day's regular rows are summed once
// per (day, provisional share) and cached; restatements, which depend on the
// exact moment, are added per query.

type aggregateKey struct {
	day   uint64
	scale int64
}

// dayAggregate holds a day's regular rows summed per (owner, class).
type dayAggregate struct {
	cells []aggregateCell // owner·len(classes) + class
}

type aggregateCell struct {
	sum  leaves
	rows int
}

func (w *World) dayAggregateOf(ds *dayState) *dayAggregate {
	key := aggregateKey{ds.key, ds.scale}
	if a, ok := w.aggregates.get(key); ok {
		return a
	}
	p := w.planFor(planKey{dom: ds.day.Day, owner: -1, g: -1, view: viewInstance})
	// Segments are summed by parallel workers into their own cells, then
	// merged: integer sums do not depend on the order.
	workers := 1
	if p.total >= parallelAggregateRows {
		workers = min(runtime.GOMAXPROCS(0), len(p.segs))
	}
	partial := make([][]aggregateCell, workers)
	var wg sync.WaitGroup
	for wi := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cells := make([]aggregateCell, len(w.owners)*len(classes))
			for si := wi; si < len(p.segs); si += workers {
				seg := &p.segs[si]
				cell := &cells[seg.owner*len(classes)+int(w.patterns[seg.owner][seg.slot].cls)]
				for k := 0; k < seg.n; k++ {
					e := w.econAt(w.instanceAt(seg, k))
					l := w.regularFinal(&e, ds.key).scaled(ds.scale)
					cell.sum.add(&l)
					cell.rows++
				}
			}
			partial[wi] = cells
		}()
	}
	wg.Wait()
	a := &dayAggregate{cells: partial[0]}
	for _, cells := range partial[1:] {
		for c := range cells {
			a.cells[c].sum.add(&cells[c].sum)
			a.cells[c].rows += cells[c].rows
		}
	}
	w.aggregates.put(key, a)
	return a
}

// parallelAggregateRows is the day size from which aggregation uses every CPU.
const parallelAggregateRows = 100_000

// accountCells sums what the instance bill shows over days, per (owner,
// class), restatements included.
func (w *World) accountCells(days []dayState, at time.Time) []aggregateCell {
	cells := make([]aggregateCell, len(w.owners)*len(classes))
	for i := range days {
		ds := &days[i]
		a := w.dayAggregateOf(ds)
		for c := range cells {
			cells[c].sum.add(&a.cells[c].sum)
			cells[c].rows += a.cells[c].rows
		}
		for _, rs := range w.restatementsOf(ds.day) {
			if l, ok := rs.visibleAt(ds, at); ok {
				c := &cells[rs.e.owner*len(classes)+int(rs.e.slot.cls)]
				c.sum.add(&l)
				c.rows++
			}
		}
	}
	return cells
}

// AccountBill returns every row of QueryAccountBill at at: one per owner,
// or with IsGroupByProduct one per (owner, product, billing method), for the
// day (DAILY) or the cycle to date (MONTHLY). Only groups with rows appear.
func (w *World) AccountBill(req AccountBillRequest, at time.Time) []AccountBillItem {
	owner, ok := w.ownerFilter(req.BillOwnerID)
	if !ok {
		return nil
	}
	var days []dayState
	date := ""
	if req.Granularity == Daily {
		d := req.BillingDate
		if d.IsZero() || (!req.BillingCycle.IsZero() && d.Cycle() != req.BillingCycle) {
			return nil
		}
		if ds := dayStateAt(d, at); ds.started {
			days, date = []dayState{ds}, ds.date
		}
	} else if !req.BillingCycle.IsZero() {
		days = cycleDays(req.BillingCycle, at)
	}
	if len(days) == 0 {
		return nil
	}
	cells := w.accountCells(days, at)

	var out []AccountBillItem
	for o := range w.owners {
		if owner >= 0 && o != owner {
			continue
		}
		var ownerSum leaves
		ownerRows := 0
		for ci := range classes {
			c := &classes[ci]
			cell := &cells[o*len(classes)+ci]
			if cell.rows == 0 || (req.ProductCode != "" && c.product.code != req.ProductCode) {
				continue
			}
			if req.IsGroupByProduct {
				it := w.accountItem(o, date, cell.sum)
				it.ProductCode, it.ProductName = c.product.code, c.product.name
				it.PipCode, it.SubscriptionType = c.product.pipCode, c.subscriptionType()
				out = append(out, it)
				continue
			}
			ownerSum.add(&cell.sum)
			ownerRows += cell.rows
		}
		if !req.IsGroupByProduct && ownerRows > 0 {
			out = append(out, w.accountItem(o, date, ownerSum))
		}
	}
	return out
}

func (w *World) accountItem(o int, date string, l leaves) AccountBillItem {
	return AccountBillItem{
		BillingDate:     date,
		BillAccountID:   w.accountID,
		BillAccountName: w.accountName,
		OwnerID:         w.owners[o].id,
		OwnerName:       w.owners[o].name,
		Currency:        w.currency.code,
		// Informational: the values of the reference's example. INFERRED:
		// the reference does not say what BizType holds, nor which cost
		// unit a row summing many instances shows.
		BizType:  accountBizType,
		CostUnit: notAllocated,
		Amounts:  l.amounts(),
	}
}

// accountBizType is the BizType of every account-bill row: the example's
// value (https://www.alibabacloud.com/help/en/user-center/developer-reference/api-bssopenapi-2017-12-14-queryaccountbill).
const accountBizType = "trusteeship"

// TruthQuery selects what Truth sums.
type TruthQuery struct {
	Cycle Cycle
	Day   Day // zero: the whole cycle
	// "" matches anything. Region is a region ID ("cn-hangzhou").
	OwnerID, ProductCode, SubscriptionType, Region string
	// SplitItemID filters split-bill rows; only with Kind == KindSplitItems.
	SplitItemID string
	// Kind picks the API whose view is summed: KindAmounts the account bill,
	// KindInstanceAttributes the instance bill, KindSplitItems the split bill.
	Kind DataKind
}

// Truth is the exact sum of what the chosen API shows at at over the
// filter: ground truth for tests.
//
// Region and SplitItemID match what the rows show, so they match nothing
// until the day's attributes (48 h) or split items (72 h) are filled in. The
// account bill has no region; with KindAmounts, Region filters on the
// instances' real region.
func (w *World) Truth(q TruthQuery, at time.Time) Amounts {
	owner := -1
	if q.OwnerID != "" {
		o, ok := w.ownerByID(q.OwnerID)
		if !ok {
			return Amounts{}
		}
		owner = o
	}
	cycle := cmp.Or(q.Cycle, q.Day.Cycle())
	var days []dayState
	if !q.Day.IsZero() {
		if ds := dayStateAt(q.Day, at); ds.started && q.Day.Cycle() == cycle {
			days = []dayState{ds}
		}
	} else {
		days = cycleDays(cycle, at)
	}

	var sum leaves
	// Without a region or split item to match, every view sums to the
	// account bill (split and billing-item parts sum to their rows), which
	// the day aggregates answer without walking rows.
	if q.Region == "" && (q.Kind != KindSplitItems || q.SplitItemID == "") {
		cells := w.accountCells(days, at)
		for o := range w.owners {
			for ci := range classes {
				c := &classes[ci]
				if (owner < 0 || o == owner) &&
					(q.ProductCode == "" || c.product.code == q.ProductCode) &&
					(q.SubscriptionType == "" || c.subscriptionType() == q.SubscriptionType) {
					sum.add(&cells[o*len(classes)+ci].sum)
				}
			}
		}
		return sum.amounts()
	}

	v := viewInstance
	if q.Kind == KindSplitItems {
		v = viewSplit
	}
	var attrs attrCache
	for _, ds := range days {
		f := billFilter{granularity: Daily, date: ds.day, product: q.ProductCode, subType: q.SubscriptionType}
		if owner >= 0 {
			f.owner = w.owners[owner].idNum
		}
		bq := w.newBillQuery(f, v, at)
		w.walk(bq, 0, bq.total, func(r *rowRef) {
			if q.Region != "" {
				shown := r.first.attrs || q.Kind == KindAmounts
				if !shown || regions[r.e.region].id != q.Region {
					return
				}
			}
			if q.Kind == KindSplitItems && q.SplitItemID != "" {
				if !r.first.splits {
					return
				}
				if id, _ := w.splitItemOf(r.e, r.part, attrs.of(w, r.e)); id != q.SplitItemID {
					return
				}
			}
			sum.add(&r.l)
		})
	}
	return sum.amounts()
}
