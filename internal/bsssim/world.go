package bsssim

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// A World is one Alibaba Cloud payer account's billing data: a payer, its
// member accounts, a fixed population of instances and what BSS shows about
// their spend at any simulated moment. Everything is a pure function of the
// seed and the day; rows are computed on demand, so a world of millions of
// instances costs no memory beyond small caches. A World is safe for
// concurrent use.
//
// The row model, all of it the simulator's own (INFERRED) and kept in the
// named constants below:
//   - Pay-as-you-go instances bill one PayAsYouGoBill row every day;
//     subscription instances bill one SubscriptionOrder row on their monthly
//     renewal day (days 1–28; see renewalPeriodDays).
//   - Some days carry Refund or Adjustment rows with negative amounts. Some of
//     those are late: they appear after the day settled, before the cycle is
//     final (lateRestatementMin … lateRestatementMax after settling).
//   - Until a day's amounts settle (day end + 24 h) its rows show a growing
//     fraction of their final amounts, updated every provisionalStep.
//   - Instance attributes are blank until day end + 48 h, split items until
//     day end + 72 h (bssclient's calendar).
type World struct {
	cfg         WorldConfig
	seedKey     uint64
	accountID   string
	accountName string
	owners      []owner // everyone who owns resources, payer included, sorted by ID
	ownerIndex  map[int64]int
	memberIDs   []string
	patterns    [][slotsPerOwner]slot // per owner, see slot
	instances   int                   // total instance population
	regionTotal int                   // sum of regionWeight
	restateMax  int                   // most restatement rows of one kind per day
	currency    currencyInfo
	// taxRate and overviewSkew are TaxRate and OverviewPayableSkew, read.
	taxRate, overviewSkew Money
	// splitBill starts as cfg.SplitBillEnabled and can be switched while
	// serving, as an account owner would in the console.
	splitBill atomic.Bool
	// refusedCommitments holds, as action → true, the commitment actions the
	// account cannot use: not enabled, not offered on its site (world_commitments.go).
	refusedCommitments sync.Map
	// amortized is the Amortized Cost switch and cache (world_amortized.go).
	amortized amortizedWorldState

	// extras are cfg.UsageSpike and cfg.Purchase resolved to instances; newRegion is the
	// index of cfg.NewRegion (-1 when unset), newRegionFrom its day's key.
	extras        []extraSpend
	newRegion     int
	newRegionFrom uint64

	aggregates *boundedCache[aggregateKey, *dayAggregate]
	plans      *boundedCache[planKey, *plan]
}

// WorldConfig sizes and seeds a world. Zero values get defaults.
type WorldConfig struct {
	Seed int64
	// Owners is the number of member accounts besides the payer; default 3.
	Owners int
	// InstancesPerOwner is the instance population of each owner, the payer
	// included; default 20. The (Owners+1)·InstancesPerOwner instances bill
	// about 0.6 rows each per day (subscriptions bill once a month), so a
	// million-row day takes about 1.75 million instances: Owners 9 and
	// InstancesPerOwner 175000.
	InstancesPerOwner int
	// Currency is "CNY" (default, China site), "USD" (international site) or "JPY".
	Currency string
	// SplitBillEnabled: DescribeSplitItemBill answers only if true. The World
	// serves split rows either way; the server enforces the switch.
	SplitBillEnabled bool
	// AmortizedCostDisabled: the amortized-cost actions answer only while
	// it is false (the console's Amortized Cost switch, on by default);
	// World.SetAmortizedCostEnabled switches it while serving.
	AmortizedCostDisabled bool
	// BucketsPerOSSInstance is how many split items (buckets) each OSS
	// instance splits into; default 3, at most maxBucketsPerOSSInstance.
	BucketsPerOSSInstance int
	// SplitRowPerBucket makes each OSS split row one bucket's whole day,
	// with BillingItem and BillingItemCode empty. By default (false) each
	// row is one billing item (storage, traffic, requests) of one bucket,
	// with both fields set, and a bucket's share is split first, then
	// divided among its items, so bucket totals are the same either way.
	// INFERRED: DescribeSplitItemBill documents BillingItem and
	// BillingItemCode on every split row
	// (https://www.alibabacloud.com/help/en/user-center/developer-reference/api-bssopenapi-2017-12-14-describesplititembill)
	// but not whether a bucket's day is one row or one row per item; the
	// documented example has both fields set. Per item, an item's share can
	// round to zero, so IsHideZeroCharge counts are not modelled for OSS
	// split rows (the exporter does not send it).
	SplitRowPerBucket bool
	// MonthlySplitNamesFirstDay is the opposite guess: MONTHLY names split
	// items from the cycle's first day for all days (from the row's first
	// day: a subscription's renewal day). By default (false) a
	// MONTHLY split bill is the cycle's DAILY split bills grouped by
	// (InstanceID, Item, SplitItemID, BillingItemCode): the amounts of days
	// already split show under their split items, those of days not split
	// yet (72 h, see DescribeSplitItemBill,
	// https://www.alibabacloud.com/help/en/user-center/developer-reference/api-bssopenapi-2017-12-14-describesplititembill)
	// in rows with an empty SplitItemID and SplitItemName. INFERRED: BSS
	// does not document how a MONTHLY split bill shows days not split yet.
	// True puts all of a row's amounts under its split items as soon as
	// the row's first day is split, so the granularities disagree about
	// the days not split yet; it exists to test clients against that guess.
	MonthlySplitNamesFirstDay bool
	// TaxRate is the share of each QueryBillOverview item's PretaxAmount
	// shown as its Tax, a decimal fraction such as "0.06"; "" shows no
	// tax. The account bill has no tax column, so only the overview
	// changes.
	TaxRate string
	// OverviewPayableSkew is added to the first QueryBillOverview item's
	// PretaxAmount, so that the overview disagrees with the account bill
	// by exactly this much ("-0.01", "100"); "" keeps them equal. It
	// tests the exporter's reconciliation.
	OverviewPayableSkew string
	// SplitItemSubscription adds a SplitItemDetailDaily subscription
	// (BucketPath "billing/split-item-detail-daily/") to Subscriptions,
	// whose files hold the split bill's DAILY rows (OSSServer). Off by
	// default so that worlds answer QueryBillToOSSSubscription as before.
	SplitItemSubscription bool

	// Injected spend, for the tests of the anomaly rules
	// (dashboards/anomaly_test.go). All are off by default, and a world
	// without them bills exactly as before.
	//
	// UsageSpike and Purchase each add one row when their Day is set: on
	// that Day, one more row of the world's first non-zero instance of
	// ProductCode, of gross Amount in the world's currency. UsageSpike is a
	// PayAsYouGoBill row of a pay-as-you-go instance, Purchase a
	// SubscriptionOrder row of a subscription instance. Each shows in every
	// view (account, instance and split bills, Truth) like a restatement.
	UsageSpike ExtraSpend
	Purchase   ExtraSpend
	// NewRegion (a region ID such as "eu-central-1") and NewRegionFrom: the
	// instances the world places in NewRegion bill nothing before
	// NewRegionFrom, as if they were all created that day, so the region's
	// first spend is on that day.
	NewRegion     string
	NewRegionFrom Day
}

// ExtraSpend is one injected row: see WorldConfig.UsageSpike.
type ExtraSpend struct {
	Day         Day
	ProductCode string
	// Amount is the row's gross (PretaxGrossAmount) in whole units of the
	// world's currency; discounts and coupons apply as to any row.
	Amount int64
}

// Limits and model constants. The ones marked INFERRED are the simulator's
// guesses about BSS behaviour the documentation does not state.
const (
	defaultOwners            = 3
	defaultInstancesPerOwner = 20
	defaultBuckets           = 3
	maxOwners                = 1000
	maxInstances             = 50_000_000
	// maxBucketsPerOSSInstance keeps every bucket's share of a row at least
	// 2.5 %, so a non-zero row never splits into an all-zero bucket (which
	// would make IsHideZeroCharge counts depend on amounts).
	maxBucketsPerOSSInstance = 20

	// slotsPerOwner is the period of an owner's instance pattern: instance j
	// of an owner has the product, billing method and zero-charge flag of slot
	// j mod slotsPerOwner. Keeping these per slot makes row counts and
	// offsets arithmetic, so a filtered million-row day pages in O(1).
	slotsPerOwner = 20

	// renewalPeriodDays: subscription instances renew on day-of-month 1–28
	// (INFERRED; renewals on the 29th–31st are not modelled).
	renewalPeriodDays = 28

	// provisionalStep is how often BSS refreshes a not-yet-settled day
	// (INFERRED: hourly).
	provisionalStep = time.Hour

	// Late Refund/Adjustment rows appear this long after the day's amounts
	// settled, clamped to before the cycle's FinalAt (INFERRED).
	lateRestatementMin = 48 * time.Hour
	lateRestatementMax = 144 * time.Hour

	// restatementInstancesPerRow: a day carries up to one restatement row of
	// each kind per this many instances (at least one).
	restatementInstancesPerRow = 20_000
)

// cacheBytes is roughly the most each cache holds, counting an aggregate
// cell and a plan segment at their size on 64-bit machines.
const (
	cacheBytes         = 64 << 20
	aggregateCellBytes = 64
	segmentBytes       = 56
)

func clampEntries(n, most int) int { return min(max(n, 16), most) }

// slot is what an owner's instances at one pattern position share.
type slot struct {
	cls      int8  // index into classes
	zero     bool  // bills exactly zero every day
	renewOff uint8 // subscription renewal phase, 0…renewalPeriodDays-1
}

// owner is an account that owns resources.
type owner struct {
	id     string
	idNum  int64
	name   string
	team   string
	credit bool // pays by credit: spend lands in OutstandingAmount
}

type currencyInfo struct {
	code string
	// Prices are CNY cents × num / den.
	num, den int64
}

var currencies = map[string]currencyInfo{
	"CNY": {"CNY", 1, 1},
	"USD": {"USD", 1, 7},
	"JPY": {"JPY", 20, 1},
}

// NewWorld builds a world. Errors name the bad field.
func NewWorld(cfg WorldConfig) (*World, error) {
	if cfg.Owners < 0 || cfg.Owners > maxOwners {
		return nil, fmt.Errorf("bsssim: WorldConfig.Owners %d out of range 0…%d", cfg.Owners, maxOwners)
	}
	if cfg.InstancesPerOwner < 0 {
		return nil, fmt.Errorf("bsssim: WorldConfig.InstancesPerOwner %d is negative", cfg.InstancesPerOwner)
	}
	if cfg.BucketsPerOSSInstance < 0 || cfg.BucketsPerOSSInstance > maxBucketsPerOSSInstance {
		return nil, fmt.Errorf("bsssim: WorldConfig.BucketsPerOSSInstance %d out of range 0…%d",
			cfg.BucketsPerOSSInstance, maxBucketsPerOSSInstance)
	}
	cfg.Owners = cmp.Or(cfg.Owners, defaultOwners)
	cfg.InstancesPerOwner = cmp.Or(cfg.InstancesPerOwner, defaultInstancesPerOwner)
	cfg.BucketsPerOSSInstance = cmp.Or(cfg.BucketsPerOSSInstance, defaultBuckets)
	cfg.Currency = cmp.Or(cfg.Currency, "CNY")
	cur, ok := currencies[cfg.Currency]
	if !ok {
		return nil, fmt.Errorf("bsssim: WorldConfig.Currency %q unknown: want CNY, USD or JPY", shortForError(cfg.Currency))
	}
	total := (cfg.Owners + 1) * cfg.InstancesPerOwner
	if cfg.InstancesPerOwner > maxInstances || total > maxInstances {
		return nil, fmt.Errorf("bsssim: WorldConfig.InstancesPerOwner %d gives %d instances, more than %d",
			cfg.InstancesPerOwner, total, maxInstances)
	}

	taxRate, skew, err := parseOverviewConfig(cfg)
	if err != nil {
		return nil, err
	}
	w := &World{
		taxRate:      taxRate,
		overviewSkew: skew,
		cfg:          cfg,
		seedKey:      mix64(uint64(cfg.Seed) ^ 0x5eed_b111_1a9e_0001),
		instances:    total,
		restateMax:   max(1, total/restatementInstancesPerRow),
		currency:     cur,
	}
	w.splitBill.Store(cfg.SplitBillEnabled)
	w.amortized.disabled.Store(cfg.AmortizedCostDisabled)
	w.amortized.last = newBoundedCache[amortizedCacheKey, []AmortizedCostItem](1)
	// Bound the caches by memory as well as entries: a world with many
	// owners has large aggregates and plans.
	owners := cfg.Owners + 1
	w.aggregates = newBoundedCache[aggregateKey, *dayAggregate](
		clampEntries(cacheBytes/(owners*len(classes)*aggregateCellBytes), 512))
	w.plans = newBoundedCache[planKey, *plan](
		clampEntries(cacheBytes/(owners*slotsPerOwner*segmentBytes), 256))
	for i := range regions {
		w.regionTotal += w.regionWeight(&regions[i])
	}
	w.makeOwners()
	w.makePatterns()
	if err := w.resolveInjected(); err != nil {
		return nil, err
	}
	return w, nil
}

// extraSpend is an ExtraSpend with its instance and row found.
type extraSpend struct {
	day   uint64
	g     int
	item  string
	gross int64 // units of 10^-8
}

// resolveInjected checks WorldConfig.UsageSpike, Purchase and NewRegion and finds
// what they touch. Errors name the bad field.
func (w *World) resolveInjected() error {
	w.newRegion = -1
	if w.cfg.NewRegion != "" {
		w.newRegion = slices.IndexFunc(regions, func(r region) bool { return r.id == w.cfg.NewRegion })
		if w.newRegion < 0 || w.cfg.NewRegionFrom.IsZero() {
			return fmt.Errorf("bsssim: WorldConfig.NewRegion %q: want a region ID of the world and a NewRegionFrom day", shortForError(w.cfg.NewRegion))
		}
		w.newRegionFrom = dayKey(w.cfg.NewRegionFrom)
	}
	for _, x := range []struct {
		field        string
		subscription bool
		ExtraSpend
	}{{"UsageSpike", false, w.cfg.UsageSpike}, {"Purchase", true, w.cfg.Purchase}} {
		if x.Day.IsZero() {
			continue
		}
		if x.Amount <= 0 {
			return fmt.Errorf("bsssim: WorldConfig.%s: Amount %d, want a positive amount", x.field, x.Amount)
		}
		g := -1
		for k := 0; k < w.instances && g < 0; k++ {
			e := w.econAt(k)
			if e.cls.product.code == x.ProductCode && e.cls.sub == x.subscription && !e.slot.zero && !w.notCreated(&e, dayKey(x.Day)) {
				g = k
			}
		}
		if g < 0 {
			return fmt.Errorf("bsssim: WorldConfig.%s: the world has no billing instance of product %q of that billing method",
				x.field, shortForError(x.ProductCode))
		}
		item := itemPayAsYouGo
		if x.subscription {
			item = itemSubscriptionOrder
		}
		w.extras = append(w.extras, extraSpend{day: dayKey(x.Day), g: g, item: item, gross: x.Amount * 100_000_000})
	}
	return nil
}

// notCreated reports whether instance e does not exist yet on the day with
// key day (WorldConfig.NewRegion).
func (w *World) notCreated(e *econ, day uint64) bool {
	return e.region == w.newRegion && day < w.newRegionFrom
}

// makeOwners draws the payer and member IDs: 16 digits starting with 1, unique.
func (w *World) makeOwners() {
	seen := map[int64]bool{}
	draw := func(n uint64) int64 {
		for k := uint64(0); ; k++ {
			// Sixteen digits with a leading 1, like real account IDs.
			id := 1_000_000_000_000_000 + int64(w.hash(tagOwnerID, n, k, 0)%1_000_000_000_000_000)
			if !seen[id] {
				seen[id] = true
				return id
			}
		}
	}
	payerID := draw(0)
	w.accountID = strconv.FormatInt(payerID, 10)
	w.accountName = payerName + accountDomain
	all := []owner{{id: w.accountID, idNum: payerID, name: w.accountName, team: "finance"}}
	for m := 1; m <= w.cfg.Owners; m++ {
		id := draw(uint64(m))
		team := memberNames[(m-1)%len(memberNames)]
		if m > len(memberNames) {
			team = fmt.Sprintf("%s-%d", team, (m-1)/len(memberNames)+1)
		}
		o := owner{id: strconv.FormatInt(id, 10), idNum: id, name: team + accountDomain, team: team}
		o.credit = w.hash(tagOwnerCredit, uint64(m), 0, 0)%5 == 0
		all = append(all, o)
		w.memberIDs = append(w.memberIDs, o.id)
	}
	slices.SortFunc(all, func(a, b owner) int { return cmp.Compare(a.idNum, b.idNum) })
	slices.Sort(w.memberIDs)
	w.owners = all
	w.ownerIndex = make(map[int64]int, len(all))
	for i, o := range all {
		w.ownerIndex[o.idNum] = i
	}
}

// makePatterns assigns each owner's slots: the first len(classes) slots hold
// every class once, in a seeded order, so even a small owner runs every
// product; the rest are weighted draws (compute-heavy, like real bills).
func (w *World) makePatterns() {
	w.patterns = make([][slotsPerOwner]slot, len(w.owners))
	for o := range w.owners {
		order := make([]int, len(classes))
		for i := range order {
			order[i] = i
		}
		for i := len(order) - 1; i > 0; i-- {
			k := int(w.hash(tagPattern, uint64(o), uint64(i), 0) % uint64(i+1))
			order[i], order[k] = order[k], order[i]
		}
		for s := 0; s < slotsPerOwner; s++ {
			var ci int
			if s < len(order) {
				ci = order[s]
			} else {
				r := int(w.hash(tagPattern, uint64(o), uint64(s), 1) % uint64(classWeightTotal))
				for ci = 0; r >= classes[ci].weight; ci++ {
					r -= classes[ci].weight
				}
			}
			h := w.hash(tagPattern, uint64(o), uint64(s), 2)
			w.patterns[o][s] = slot{
				cls:      int8(ci),
				zero:     classes[ci].zeroable && h%3 == 0,
				renewOff: uint8((h >> 8) % renewalPeriodDays),
			}
		}
	}
}

// Config returns the configuration with defaults filled in.
func (w *World) Config() WorldConfig { return w.cfg }

// AccountID is the payer account's ID: 16 digits.
func (w *World) AccountID() string { return w.accountID }

// AccountName is the payer account's login name.
func (w *World) AccountName() string { return w.accountName }

// OwnerIDs returns the member accounts' IDs, sorted. The payer (AccountID)
// owns resources too and is not in the list; ResourceOwnerIDs has both.
func (w *World) OwnerIDs() []string { return slices.Clone(w.memberIDs) }

// ResourceOwnerIDs returns every account that owns resources, the payer
// included, sorted: the OwnerID values bills carry.
func (w *World) ResourceOwnerIDs() []string {
	ids := make([]string, len(w.owners))
	for i, o := range w.owners {
		ids[i] = o.id
	}
	return ids
}

// OwnerName returns an owner's account name ("dev-team@…"), or "" for an
// unknown ID.
func (w *World) OwnerName(ownerID string) string {
	if i, ok := w.ownerByID(ownerID); ok {
		return w.owners[i].name
	}
	return ""
}

// SplitBillEnabled reports whether the account enabled Split Bill.
func (w *World) SplitBillEnabled() bool { return w.splitBill.Load() }

// SetSplitBillEnabled switches Split Bill on or off, as the console does.
// (BSS shows split data 24 h after enabling; the simulator shows it at once,
// its rows being the same either way.)
func (w *World) SetSplitBillEnabled(enabled bool) { w.splitBill.Store(enabled) }

// Currency is the currency every amount of the world is in.
func (w *World) Currency() string { return w.currency.code }

func (w *World) ownerByID(id string) (int, bool) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return 0, false
	}
	i, ok := w.ownerIndex[n]
	return i, ok
}

// ownerFilter turns a BillOwnerId into an owner index: -1 for "every owner",
// ok=false for an ID that owns nothing here.
func (w *World) ownerFilter(billOwnerID int64) (int, bool) {
	if billOwnerID == 0 {
		return -1, true
	}
	i, ok := w.ownerIndex[billOwnerID]
	return i, ok
}

// dayState is what BSS shows about one billing day at one moment.
type dayState struct {
	day     Day
	key     uint64 // seeds per-day draws
	date    string // "YYYY-MM-DD"
	started bool   // a day that has not started has no rows
	// scale is the permille of final amounts shown: below scaleFinal while the
	// amounts are provisional.
	scale  int64
	attrs  bool // instance attributes are filled in (48 h)
	splits bool // split items are filled in (72 h)
}

const scaleFinal = 1000

func dayKey(d Day) uint64 { return uint64(d.Start().Unix() / 86400) }

func dayStateAt(d Day, at time.Time) dayState {
	s := dayState{day: d, key: dayKey(d), date: d.String()}
	start := d.Start()
	if at.Before(start) {
		return s
	}
	s.started = true
	s.scale = scaleFinal
	if settled := d.SettledAt(KindAmounts); at.Before(settled) {
		// The shown share grows by one step every provisionalStep, from
		// 1/(steps+1) in the day's first step to steps/(steps+1) in its last.
		steps := int64(settled.Sub(start) / provisionalStep)
		step := int64(at.Sub(start) / provisionalStep)
		s.scale = (step + 1) * scaleFinal / (steps + 1)
	}
	s.attrs = !at.Before(d.SettledAt(KindInstanceAttributes))
	s.splits = !at.Before(d.SettledAt(KindSplitItems))
	return s
}

// cycleDays returns the states of the cycle's days that have started at at.
func cycleDays(c Cycle, at time.Time) []dayState {
	var out []dayState
	last := c.LastDay()
	for d := c.FirstDay(); !last.Before(d); d = d.AddDays(1) {
		s := dayStateAt(d, at)
		if !s.started {
			break
		}
		out = append(out, s)
	}
	return out
}

// boundedCache is a mutex-guarded map that forgets an arbitrary entry when
// full. Values must be immutable once stored.
type boundedCache[K comparable, V any] struct {
	mu  sync.Mutex
	max int
	m   map[K]V
}

func newBoundedCache[K comparable, V any](n int) *boundedCache[K, V] {
	return &boundedCache[K, V]{max: n, m: make(map[K]V, n)}
}

func (c *boundedCache[K, V]) get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v, ok
}

func (c *boundedCache[K, V]) put(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for old := range c.m {
			delete(c.m, old)
			break
		}
	}
	c.m[k] = v
}

// Subscriptions returns the account's bill subscriptions to OSS
// (QueryBillToOSSSubscription): two or three, fixed by the seed.
func (w *World) Subscriptions() []BillSubscription {
	bucket := "example-corp-billing-" + strconv.FormatUint(w.hash(tagSubscription, 0, 0, 0)%(1<<24), 16)
	lang := "zh"
	if w.currency.code != "CNY" {
		lang = "en"
	}
	payer, _ := strconv.ParseInt(w.accountID, 10, 64)
	since := time.Date(2023, 1, 1, 9, 0, 0, 0, billingZone)
	sub := func(k uint64, path, typ string) BillSubscription {
		t := since.Add(time.Duration(w.hash(tagSubscription, k, 1, 0)%(400*24*3600)) * time.Second)
		return BillSubscription{SubscribeBucket: bucket, BucketOwnerID: payer, BucketPath: path, SubscribeType: typ,
			SubscribeLanguage: lang, SubscribeTime: t.Format("2006-01-02 15:04:05"), RowLimitPerFile: 300000}
	}
	subs := []BillSubscription{
		sub(1, "billing/billing-item-detail/", "BillingItemDetailForBillingPeriod"),
		sub(2, "billing/instance-detail/", "InstanceDetailForBillingPeriod"),
	}
	if w.hash(tagSubscription, 3, 0, 0)%2 == 0 {
		subs = append(subs, sub(3, "billing/instance-detail-monthly/", "InstanceDetailMonthly"))
	}
	if w.cfg.SplitItemSubscription {
		subs = append(subs, sub(4, "billing/split-item-detail-daily/", "SplitItemDetailDaily"))
	}
	return subs
}

// Balance returns the account balance at at (QueryAccountBalance). The
// account is topped up at the start of every cycle and drifts down hour by
// hour at the world's typical spend rate, so it is deterministic and cheap
// at any size; it is not reconciled with the bills row by row.
func (w *World) Balance(at time.Time) AccountBalance {
	// A typical instance costs about 25 CNY a day.
	perDay := int64(w.instances) * 2500 * w.currency.num / w.currency.den // cents
	perHour := perDay / 24
	c := cycleOf(at)
	topUp := (perDay*40/100_000 + 1) * 100_000 // cents, whole thousands, 40 days of spend
	topUp += int64(w.hash(tagBalance, uint64(c.Year), uint64(c.Month), 0)%20) * 100_000
	hours := int64(at.Sub(c.Start()) / time.Hour)
	cash := topUp - perHour*hours
	var credit int64
	if w.hash(tagBalance, 0, 0, 1)%2 == 0 {
		credit = 50_000_00 * w.currency.num / w.currency.den
	}
	return AccountBalance{
		AvailableAmount:     centsMoney(cash + credit),
		AvailableCashAmount: centsMoney(cash),
		CreditAmount:        centsMoney(credit),
		MybankCreditAmount:  0,
		QuotaLimit:          centsMoney(credit),
		Currency:            w.currency.code,
	}
}

func shortForError(s string) string { return shortenTo(s, 40) }
