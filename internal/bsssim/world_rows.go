package bsssim

import (
	"math/bits"
	"slices"
	"sort"
	"strconv"
	"time"
)

// How bill rows are laid out, so that any page of a million-row day is found
// in O(1) and built lazily:
//
//   - Regular rows come first, ordered by owner, then slot, then instance.
//     Within one (owner, slot) "segment" the billed instances are those whose
//     renewal residue is in a bit mask (all residues for pay-as-you-go), so
//     their number and the k-th of them are arithmetic.
//   - Restatement rows (Refund, Adjustment) follow: few, listed per query.
//   - With IsBillingItem, or in the split bill for OSS, each row becomes
//     several consecutive part rows whose amounts sum to the row's.
//
// A MONTHLY row sums the instance's DAILY rows of the cycle's started days;
// restatements are grouped per (instance, Item). Parts are split per day and
// then summed, so MONTHLY parts equal the sum of DAILY parts exactly.
//
// The MONTHLY split bill is divided at the split-item delay (see
// WorldConfig.MonthlySplitNamesFirstDay): the days already split, a prefix
// of the cycle, sum into named part rows; the days not split yet into
// unnamed rows, one per billing item, as the DAILY rows of those days group
// by key. Each (owner, slot) then has two segments, named one first, so
// counts and offsets stay arithmetic.

// view is which API's rows are being built.
type view uint8

const (
	viewInstance     view = iota // DescribeInstanceBill
	viewBillingItems             // DescribeInstanceBill with IsBillingItem
	viewSplit                    // DescribeSplitItemBill
)

// maxParts bounds the parts one row splits into.
const maxParts = maxBucketsPerOSSInstance * maxItemsPerProduct

// maxItemsPerProduct bounds a product's billing items.
const maxItemsPerProduct = 3

const allResidues = 1<<renewalPeriodDays - 1

// planKey is everything the regular-row layout depends on.
type planKey struct {
	monthly  bool
	dom      int // DAILY: day of month; MONTHLY: number of started days
	owner    int // -1: every owner
	product  string
	subType  string
	g        int // -1: every instance
	hideZero bool
	view     view
	// divided: a MONTHLY split bill whose first splitDays started days are
	// split (named rows) and the rest not yet (unnamed rows).
	divided   bool
	splitDays int
}

// daySet is which of a query's days a segment's rows sum.
type daySet uint8

const (
	daysAll     daySet = iota
	daysSplit          // divided MONTHLY split bill: the split days, named rows
	daysUnsplit        // the days not split yet: unnamed rows, one per billing item
)

func (s daySet) has(ds *dayState) bool {
	return s == daysAll || ds.splits == (s == daysSplit)
}

// segment is the billed instances of one owner's slot.
type segment struct {
	owner, slot int
	mask        uint32 // residues (c mod renewalPeriodDays) of billed instances
	onlyC       int    // ≥ 0: only this instance of the slot (InstanceID filter)
	n           int    // billed instances
	parts       int    // rows per instance
	start       int    // offset of the segment's first row
	days        daySet // which days the rows sum
}

type plan struct {
	segs  []segment
	total int
}

func (k *planKey) matchesSlot(o int, sl slot) bool {
	c := &classes[sl.cls]
	return (k.owner < 0 || o == k.owner) &&
		(k.product == "" || c.product.code == k.product) &&
		(k.subType == "" || c.subscriptionType() == k.subType) &&
		!(k.hideZero && sl.zero)
}

func (k *planKey) matches(e *econ) bool {
	return k.matchesSlot(e.owner, e.slot) && (k.g < 0 || e.g == k.g)
}

// rowParts is how many rows one row of class c becomes: the view's parts,
// or for the unnamed rows of a divided MONTHLY split bill one per billing
// item, the DAILY rows' unnamed parts grouped by their keys.
func (w *World) rowParts(c *class, v view, unsplit bool) int {
	if unsplit {
		return w.itemsPerSplit(c)
	}
	return w.parts(c, v)
}

func (w *World) parts(c *class, v view) int {
	switch {
	case v == viewBillingItems:
		return len(c.product.items)
	case v == viewSplit && c.product == productOSS:
		return w.cfg.BucketsPerOSSInstance * w.itemsPerSplit(c)
	}
	return 1
}

// itemsPerSplit is how many billing-item rows one split item's row of
// class c splits into: part = bucket*itemsPerSplit + item.
func (w *World) itemsPerSplit(c *class) int {
	if !w.cfg.SplitRowPerBucket && c.product == productOSS {
		return len(c.product.items)
	}
	return 1
}

// partWeights returns the shares an instance's rows split into: its billing
// items (typical shares, ±10 % per instance) or its buckets.
func (w *World) partWeights(e *econ, v view, buf *[maxParts]int64) ([]int64, int64) {
	n := w.parts(e.cls, v)
	var total int64
	for k := 0; k < n; k++ {
		if v == viewBillingItems {
			h := w.hash(tagItems, uint64(e.g), uint64(k), 0)
			buf[k] = int64(e.cls.product.items[k].weight) * int64(900+h%200) / 1000
		} else {
			n := uint64(e.g)*uint64(w.cfg.BucketsPerOSSInstance) + uint64(k)
			buf[k] = 100 + int64(w.hash(tagBucket, n, 1, 0)%100)
		}
		total += buf[k]
	}
	return buf[:n], total
}

func (w *World) planFor(k planKey) *plan {
	if p, ok := w.plans.get(k); ok {
		return p
	}
	p := &plan{}
	ipo := w.cfg.InstancesPerOwner
	owners := [2]int{0, len(w.owners)}
	if k.owner >= 0 {
		owners = [2]int{k.owner, k.owner + 1}
	}
	for o := owners[0]; o < owners[1]; o++ {
		for s := 0; s < slotsPerOwner && s < ipo; s++ {
			sl := w.patterns[o][s]
			if !k.matchesSlot(o, sl) {
				continue
			}
			if k.g >= 0 && (k.g/ipo != o || k.g%ipo%slotsPerOwner != s) {
				continue
			}
			c := &classes[sl.cls]
			first := 1 // the segment's days: first…k.dom
			if !k.monthly {
				first = k.dom
			}
			if !k.divided {
				p.add(k, segment{owner: o, slot: s, mask: slotMask(sl, c, first, k.dom),
					parts: w.parts(c, k.view), days: daysAll}, ipo)
				continue
			}
			p.add(k, segment{owner: o, slot: s, mask: slotMask(sl, c, 1, k.splitDays),
				parts: w.parts(c, k.view), days: daysSplit}, ipo)
			p.add(k, segment{owner: o, slot: s, mask: slotMask(sl, c, k.splitDays+1, k.dom),
				parts: w.rowParts(c, k.view, true), days: daysUnsplit}, ipo)
		}
	}
	w.plans.put(k, p)
	return p
}

// add appends seg, given its owner, slot, mask, parts and days, if it has
// billed instances.
func (p *plan) add(k planKey, seg segment, ipo int) {
	seg.onlyC = -1
	if k.g >= 0 {
		c := k.g % ipo / slotsPerOwner
		if seg.mask&(1<<(c%renewalPeriodDays)) != 0 {
			seg.onlyC, seg.n = c, 1
		}
	} else {
		nC := (ipo - seg.slot + slotsPerOwner - 1) / slotsPerOwner // instances in the slot
		full, rem := nC/renewalPeriodDays, nC%renewalPeriodDays
		seg.n = full*bits.OnesCount32(seg.mask) + bits.OnesCount32(seg.mask&(1<<rem-1))
	}
	if seg.n == 0 {
		return
	}
	seg.start = p.total
	p.total += seg.n * seg.parts
	p.segs = append(p.segs, seg)
}

// slotMask returns the residues of the slot's instances that bill on some
// day of the month from first to last: all of them for pay-as-you-go; for
// subscriptions, those renewing on one of these days.
func slotMask(sl slot, c *class, first, last int) uint32 {
	if last < max(first, 1) {
		return 0
	}
	if !c.sub {
		return allResidues
	}
	var m uint32
	for d := first; d <= min(last, renewalPeriodDays); d++ {
		m |= 1 << ((d - 1 - int(sl.renewOff) + renewalPeriodDays) % renewalPeriodDays)
	}
	return m
}

// instanceAt returns the global index of the k-th billed instance of a segment.
func (w *World) instanceAt(seg *segment, k int) int {
	c := seg.onlyC
	if c < 0 {
		per := bits.OnesCount32(seg.mask)
		q, r := k/per, k%per
		m := seg.mask
		for ; r > 0; r-- {
			m &= m - 1 // drop the lowest set bit
		}
		c = q*renewalPeriodDays + bits.TrailingZeros32(m)
	}
	return seg.owner*w.cfg.InstancesPerOwner + seg.slot + c*slotsPerOwner
}

// billQuery is one request's rows: which days, which filters, which view.
type billQuery struct {
	key    planKey
	days   []dayState // DAILY: the day; MONTHLY: the cycle's started (pushedOnly: pushed) days
	at     time.Time
	cycle  Cycle
	plan   *plan
	extras []extraRow
	total  int
}

// extraRow is a restatement row (DAILY) or the sum of an instance's
// restatements of one Item over the cycle (MONTHLY; in a divided split bill,
// over its split days or over its days not split yet).
type extraRow struct {
	e        econ
	item     string
	first    *dayState
	parts    int
	contribs []leaves
}

type billFilter struct {
	cycle       Cycle
	granularity Granularity
	date        Day
	owner       int64
	product     string
	subType     string
	instanceID  string
	hideZero    bool
	// pushedOnly makes a MONTHLY query a month-so-far bill file's: only the
	// days pushed by the query's moment (pushedDays), not every started day
	// the API's MONTHLY answer sums.
	pushedOnly bool
}

// newBillQuery resolves a request; a request that matches no rows gets an
// empty query, whose walk calls nothing.
func (w *World) newBillQuery(f billFilter, v view, at time.Time) *billQuery {
	owner, ok := w.ownerFilter(f.owner)
	if !ok {
		return &billQuery{}
	}
	q := &billQuery{at: at, key: planKey{owner: owner, product: f.product, subType: f.subType,
		g: -1, hideZero: f.hideZero, view: v}}
	if f.instanceID != "" {
		g, ok := w.instanceByID(f.instanceID)
		if !ok || (owner >= 0 && g/w.cfg.InstancesPerOwner != owner) {
			return &billQuery{}
		}
		q.key.g = g
	}
	if f.granularity == Daily {
		if f.date.IsZero() || (!f.cycle.IsZero() && f.date.Cycle() != f.cycle) {
			return &billQuery{}
		}
		ds := dayStateAt(f.date, at)
		if !ds.started {
			return &billQuery{}
		}
		q.cycle, q.days, q.key.dom = f.date.Cycle(), []dayState{ds}, f.date.Day
	} else {
		if f.cycle.IsZero() {
			return &billQuery{}
		}
		q.cycle, q.days = f.cycle, cycleDays(f.cycle, at)
		if f.pushedOnly {
			q.days = pushedDays(q.days, at)
		}
		q.key.monthly, q.key.dom = true, len(q.days)
		if len(q.days) == 0 {
			return &billQuery{}
		}
		// See WorldConfig.MonthlySplitNamesFirstDay for why (INFERRED).
		if v == viewSplit && !w.cfg.MonthlySplitNamesFirstDay {
			q.key.divided = true
			for i := range q.days {
				if q.days[i].splits {
					q.key.splitDays++
				}
			}
		}
	}
	q.plan = w.planFor(q.key)
	q.extras = w.extrasOf(q)
	q.total = q.plan.total
	for i := range q.extras {
		q.total += q.extras[i].parts
	}
	return q
}

// extrasOf lists the query's visible restatement rows in order.
func (w *World) extrasOf(q *billQuery) []extraRow {
	var out []extraRow
	type group struct {
		g       int
		item    string
		unsplit bool
	}
	index := map[group]int{}
	for i := range q.days {
		ds := &q.days[i]
		for _, rs := range w.restatementsOf(ds.day) {
			if !q.key.matches(&rs.e) {
				continue
			}
			l, ok := rs.visibleAt(ds, q.at)
			if !ok {
				continue
			}
			unsplit := q.key.divided && !ds.splits
			if q.key.monthly {
				k := group{rs.e.g, rs.item, unsplit}
				if at, ok := index[k]; ok {
					out[at].contribs = append(out[at].contribs, l)
					continue
				}
				index[k] = len(out)
			}
			out = append(out, extraRow{e: rs.e, item: rs.item, first: ds,
				parts: w.rowParts(rs.e.cls, q.key.view, unsplit), contribs: []leaves{l}})
		}
	}
	return out
}

// rowRef is one row before formatting.
type rowRef struct {
	e     *econ
	item  string
	first *dayState // the earliest day in the row: decides which attributes show
	part  int       // billing item or bucket
	l     leaves
}

// walk calls fn for rows [offset, offset+limit) of the query. The econ and
// leaves behind a rowRef are reused between calls.
func (w *World) walk(q *billQuery, offset, limit int, fn func(*rowRef)) {
	if offset < 0 || offset >= q.total || limit <= 0 {
		return
	}
	end := offset + min(limit, q.total-offset)
	var (
		cur      econ
		curParts [maxParts]leaves
		// have is the computed row: instance g of segment seg, or extras[g]
		// for seg -1. A divided split bill has an instance in two segments.
		have = struct{ seg, g int }{-2, -1}
		ref  rowRef
	)
	segs := q.plan.segs
	si := sort.Search(len(segs), func(i int) bool { return segs[i].start+segs[i].n*segs[i].parts > offset })
	for idx := offset; idx < end; idx++ {
		if idx < q.plan.total {
			for segs[si].start+segs[si].n*segs[si].parts <= idx {
				si++
			}
			seg := &segs[si]
			local := idx - seg.start
			k, part := local/seg.parts, local%seg.parts
			g := w.instanceAt(seg, k)
			if have.seg != si || have.g != g {
				cur = w.econAt(g)
				ref.first = w.regularParts(&cur, q, seg.days, curParts[:seg.parts])
				ref.item = itemPayAsYouGo
				if cur.cls.sub {
					ref.item = itemSubscriptionOrder
				}
				have.seg, have.g = si, g
			}
			ref.e, ref.part, ref.l = &cur, part, curParts[part]
			fn(&ref)
			continue
		}
		// Extras: few, so a linear scan finds the row.
		local := idx - q.plan.total
		for xi := range q.extras {
			x := &q.extras[xi]
			n := x.parts
			if local >= n {
				local -= n
				continue
			}
			if have.seg != -1 || have.g != xi {
				cur = x.e
				clear(curParts[:n])
				w.addParts(&cur, q.key.view, x.contribs, curParts[:n])
				have.seg, have.g = -1, xi
			}
			ref = rowRef{e: &cur, item: x.item, first: x.first, part: local, l: curParts[local]}
			fn(&ref)
			break
		}
	}
}

// regularParts computes an instance's regular row over the query's days in
// set, split into len(out) parts, and returns the row's earliest day.
func (w *World) regularParts(e *econ, q *billQuery, set daySet, out []leaves) *dayState {
	var first *dayState
	var contrib [1]leaves
	clear(out)
	for i := range q.days {
		ds := &q.days[i]
		if !e.billsOn(ds.day.Day) || !set.has(ds) {
			continue
		}
		if first == nil {
			first = ds
		}
		contrib[0] = w.regularFinal(e, ds.key).scaled(ds.scale)
		w.addParts(e, q.key.view, contrib[:], out)
	}
	return first
}

// addParts adds each contribution, split into the view's parts, to out. A
// shorter out is the unnamed rows of a divided MONTHLY split bill, one per
// billing item: part p (bucket p/n, item p%n, n = len(out)) folds onto
// out[p%n], so each sums exactly the DAILY rows it groups.
func (w *World) addParts(e *econ, v view, contribs []leaves, out []leaves) {
	if n := w.parts(e.cls, v); len(out) < n {
		var all [maxParts]leaves
		w.addParts(e, v, contribs, all[:n])
		for p := range all[:n] {
			out[p%len(out)].add(&all[p])
		}
		return
	}
	if len(out) == 1 {
		for i := range contribs {
			out[0].add(&contribs[i])
		}
		return
	}
	var wbuf [maxParts]int64
	var split [maxParts]leaves
	if n := w.itemsPerSplit(e.cls); v == viewSplit && n > 1 {
		w.addBucketItems(e, n, contribs, out)
		return
	}
	weights, total := w.partWeights(e, v, &wbuf)
	for i := range contribs {
		contribs[i].splitInto(weights, total, split[:len(out)])
		for k := range out {
			out[k].add(&split[k])
		}
	}
}

// addBucketItems splits each contribution into buckets exactly as without
// billing items, then each bucket's share into its n items by their typical
// weights, so every bucket's total is the same either way.
func (w *World) addBucketItems(e *econ, n int, contribs []leaves, out []leaves) {
	buckets := len(out) / n
	var bw [maxParts]int64
	var btotal int64
	for b := 0; b < buckets; b++ {
		g := uint64(e.g)*uint64(w.cfg.BucketsPerOSSInstance) + uint64(b)
		bw[b] = 100 + int64(w.hash(tagBucket, g, 1, 0)%100)
		btotal += bw[b]
	}
	var iw [maxItemsPerProduct]int64
	var itotal int64
	for k := 0; k < n; k++ {
		iw[k] = int64(e.cls.product.items[k].weight)
		itotal += iw[k]
	}
	var perBucket [maxParts]leaves
	var perItem [maxItemsPerProduct]leaves
	for i := range contribs {
		contribs[i].splitInto(bw[:buckets], btotal, perBucket[:buckets])
		for b := 0; b < buckets; b++ {
			perBucket[b].splitInto(iw[:n], itotal, perItem[:n])
			for k := 0; k < n; k++ {
				out[b*n+k].add(&perItem[k])
			}
		}
	}
}

// --- DescribeInstanceBill / QueryInstanceBill ---

func (w *World) instanceBillQuery(req InstanceBillRequest, at time.Time) *billQuery {
	v := viewInstance
	if req.IsBillingItem {
		v = viewBillingItems
	}
	return w.newBillQuery(billFilter{cycle: req.BillingCycle, granularity: req.Granularity, date: req.BillingDate,
		owner: req.BillOwnerID, product: req.ProductCode, subType: req.SubscriptionType,
		instanceID: req.InstanceID, hideZero: req.IsHideZeroCharge}, v, at)
}

// InstanceBillCount is the number of rows the instance bill has at at
// (TotalCount).
func (w *World) InstanceBillCount(req InstanceBillRequest, at time.Time) int {
	return w.instanceBillQuery(req, at).total
}

// InstanceBillRows returns rows [offset, offset+limit) of the instance bill
// at at, built on demand in a stable order.
func (w *World) InstanceBillRows(req InstanceBillRequest, at time.Time, offset, limit int) []InstanceBillItem {
	return rowsOf(w, w.instanceBillQuery(req, at), offset, limit, w.instanceItem)
}

// rowsOf builds rows [offset, offset+limit) of q with item; nil if none.
func rowsOf[T any](w *World, q *billQuery, offset, limit int, item func(*billQuery, *rowRef, *attrs) T) []T {
	var out []T
	var cache attrCache
	w.walk(q, offset, limit, func(r *rowRef) {
		if out == nil {
			out = make([]T, 0, min(limit, q.total-offset))
		}
		out = append(out, item(q, r, cache.of(w, r.e)))
	})
	return out
}

// attrCache keeps the last instance's display strings: its parts are
// consecutive rows.
type attrCache struct {
	g     int
	valid bool
	a     attrs
}

func (c *attrCache) of(w *World, e *econ) *attrs {
	if !c.valid || c.g != e.g {
		c.a, c.g, c.valid = w.attrsOf(e), e.g, true
	}
	return &c.a
}

func (w *World) instanceItem(q *billQuery, r *rowRef, a *attrs) InstanceBillItem {
	e := r.e
	p := e.cls.product
	it := InstanceBillItem{
		BillAccountID:    w.accountID,
		BillAccountName:  w.accountName,
		OwnerID:          w.owners[e.owner].id,
		InstanceID:       a.id,
		ProductCode:      p.code,
		ProductName:      p.name,
		ProductType:      p.productType,
		ProductDetail:    p.name,
		PipCode:          p.pipCode,
		CommodityCode:    e.cls.commodityCode(),
		SubscriptionType: e.cls.subscriptionType(),
		Item:             r.item,
		BillingType:      "Other",
		CostUnit:         a.costUnit,
		Tag:              a.tag,
		Currency:         w.currency.code,
		// No resource packages are modelled; the page's example shows "NULL".
		DeductedByResourcePackage: "NULL",
		Amounts:                   r.l.amounts(),
	}
	if !q.key.monthly {
		it.BillingDate = r.first.date
	}
	switch {
	case r.item == itemSubscriptionOrder:
		it.ServicePeriod, it.ServicePeriodUnit = "1", "Month"
	case r.item == itemPayAsYouGo:
		it.ServicePeriod, it.ServicePeriodUnit = "86400", "Second"
		if q.key.monthly {
			it.ServicePeriod = strconv.Itoa(86400 * len(q.days))
		}
	}
	if q.key.view == viewBillingItems {
		bi := p.items[r.part]
		it.BillingItem, it.BillingItemCode = bi.name, bi.code
	}
	// Instance attributes arrive 48 h after the day ends.
	if r.first.attrs {
		sp := &p.specs[e.spec]
		it.Region = regions[e.region].display
		it.Zone = a.zone
		it.InstanceSpec = sp.name
		it.InstanceConfig = sp.config
		it.NickName = a.nick
		it.ResourceGroup = a.resourceGroup
		it.InternetIP = a.internetIP
		it.IntranetIP = a.intranetIP
	}
	return it
}

// --- DescribeSplitItemBill ---

func splitFilter(req SplitItemBillRequest) billFilter {
	return billFilter{cycle: req.BillingCycle, granularity: req.Granularity, date: req.BillingDate,
		owner: req.BillOwnerID, product: req.ProductCode, subType: req.SubscriptionType,
		instanceID: req.InstanceID, hideZero: req.IsHideZeroCharge}
}

// SplitItemBillCount is the number of rows the split bill has at at.
func (w *World) SplitItemBillCount(req SplitItemBillRequest, at time.Time) int {
	if req.SplitItemID != "" {
		return len(w.splitRowsOfItem(req, at))
	}
	return w.newBillQuery(splitFilter(req), viewSplit, at).total
}

// SplitItemBillRows returns rows [offset, offset+limit) of the split bill at
// at: the instance bill's rows with each OSS instance split into its
// buckets. The World serves them whether or not Split Bill is enabled.
func (w *World) SplitItemBillRows(req SplitItemBillRequest, at time.Time, offset, limit int) []SplitItemBillItem {
	if req.SplitItemID != "" {
		rows := w.splitRowsOfItem(req, at)
		if offset < 0 || offset >= len(rows) || limit <= 0 {
			return nil
		}
		return rows[offset:min(len(rows), offset+limit):min(len(rows), offset+limit)]
	}
	return rowsOf(w, w.newBillQuery(splitFilter(req), viewSplit, at), offset, limit, w.splitItem)
}

// splitRowsOfItem answers a SplitItemID filter: the IDs decode to their
// instance, whose few rows are built and matched on the ID they show (blank
// until split items settle, so nothing matches before 72 h).
func (w *World) splitRowsOfItem(req SplitItemBillRequest, at time.Time) []SplitItemBillItem {
	g, _, ok := w.bucketByName(req.SplitItemID)
	if !ok {
		if g, ok = w.instanceByID(req.SplitItemID); !ok {
			return nil
		}
	}
	f := splitFilter(req)
	e := w.econAt(g)
	id := w.instanceID(&e)
	if f.instanceID != "" && f.instanceID != id {
		return nil
	}
	f.instanceID = id
	q := w.newBillQuery(f, viewSplit, at)
	return slices.DeleteFunc(rowsOf(w, q, 0, q.total, w.splitItem), func(it SplitItemBillItem) bool {
		return it.SplitItemID != req.SplitItemID
	})
}

// splitItemOf returns the split item a row belongs to: a bucket for OSS,
// the instance itself otherwise (its name as ECS prints it, "iZ…Z").
func (w *World) splitItemOf(e *econ, part int, a *attrs) (id, name string) {
	switch e.cls.product {
	case productOSS:
		b := w.bucketName(e, part/w.itemsPerSplit(e.cls))
		return b, b
	case productECS:
		return a.id, "iZ" + a.id[len(productECS.idPrefix):] + "Z"
	}
	return a.id, a.nick
}

func (w *World) splitItem(q *billQuery, r *rowRef, a *attrs) SplitItemBillItem {
	e := r.e
	p := e.cls.product
	o := &w.owners[e.owner]
	it := SplitItemBillItem{
		SplitBillingCycle: q.cycle.String(),
		BillAccountID:     w.accountID,
		BillAccountName:   w.accountName,
		OwnerID:           o.id,
		SplitAccountID:    o.id,
		SplitAccountName:  o.name,
		InstanceID:        a.id,
		ProductCode:       p.code,
		ProductName:       p.name,
		PipCode:           p.pipCode,
		CommodityCode:     e.cls.commodityCode(),
		SubscriptionType:  e.cls.subscriptionType(),
		Item:              r.item,
		CostUnit:          a.costUnit,
		Tag:               a.tag,
		Currency:          w.currency.code,
		Amounts:           r.l.amounts(),
	}
	if !q.key.monthly {
		it.BillingDate = r.first.date
		it.SplitBillingDate = r.first.date
	}
	if r.first.attrs {
		it.Region = regions[e.region].display
		it.Zone = a.zone
	}
	// Split items arrive 72 h after the day ends.
	if r.first.splits {
		it.SplitItemID, it.SplitItemName = w.splitItemOf(e, r.part, a)
	}
	if n := w.itemsPerSplit(e.cls); n > 1 {
		bi := p.items[r.part%n]
		it.BillingItem, it.BillingItemCode = bi.name, bi.code
	}
	return it
}
