package bsssim

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Commitments: what the account has paid for ahead (resource plans, savings
// plans, RIs and SCUs), when its subscriptions expire, and its vouchers and
// prepaid cards. Like the bills, all of it is a pure function of the seed
// and the moment asked about:
//   - Every plan, voucher and card is one line of a catalog that renews in
//     generations: generation k of a line starts at commitmentEpoch + phase +
//     k·period and expires one period later, when generation k+1 starts
//     with a new ID. A generation's remaining amount runs down hour by hour
//     at its line's burn rate and is frozen once it expires.
//   - Subscription instances renew at the end of every term. Those not set
//     to auto-renew are renewed at the last moment (the simulated owner
//     always renews in the end), so expiries keep coming at any time.
//   - Utilisation and coverage vary by day around each line's base ratio.
//
// The demo's needs hold at any moment, by construction: three CDN plans
// share one line shape a third of a period apart and burn 125 % of their
// amount over a life, so one of them is always below 20 % or used up; four
// monthly instances without auto-renew expire a week apart, so one always
// expires within 7 days; the ECS savings plan is used at about 42 %.
//
// Every rate, ratio and period here is the simulator's own (INFERRED).

// commitmentEpoch is where generation 0 of every line starts (before phase).
var commitmentEpoch = time.Date(2020, 1, 1, 0, 0, 0, 0, billingZone)

const (
	tagCommitment = 0xc0_3317_0000 // well clear of the iota tags of world_instances.go

	// resourcePlanHistory: "You can query the resource plans that are
	// expired within one year"; vouchers and cards keep the same year here.
	resourcePlanHistory = 365 * 24 * time.Hour
	// waitForExpireWithin is when an instance's Status turns WaitForExpire
	// (INFERRED: the docs only say "about to expire").
	waitForExpireWithin = 7 * 24 * time.Hour
	// releaseAfterExpiry is how long after expiry an instance not renewed
	// would be released, shown as ExpectedReleaseTime (INFERRED: 15 days).
	releaseAfterExpiry = 15 * 24 * time.Hour
	// aliyunSellerID is the seller of first-party products (INFERRED).
	aliyunSellerID = 26842
)

// SetCommitmentAPIAvailable makes the account able (or unable) to use one
// of CommitmentActions; an unable account answers NotApplicable. It can be
// switched while serving.
func (w *World) SetCommitmentAPIAvailable(action string, available bool) error {
	if !slices.Contains(CommitmentActions, action) {
		return fmt.Errorf("bsssim: %q is not a commitment action (known: %v)", shortForError(action), CommitmentActions)
	}
	w.refusedCommitments.Store(action, !available)
	return nil
}

// CommitmentAPIAvailable reports whether the account can use the action.
func (w *World) CommitmentAPIAvailable(action string) bool {
	refused, _ := w.refusedCommitments.Load(action)
	return refused != true // absent or false: available
}

// generation is one term of a renewing line.
type generation struct {
	k          int64
	start, end time.Time
}

// generationAt is the term of a line running at at (k may be negative for
// moments before the epoch; IDs stay distinct).
func generationAt(phase, period time.Duration, at time.Time) generation {
	start0 := commitmentEpoch.Add(phase)
	k := int64(at.Sub(start0) / period)
	if at.Before(start0) {
		k-- // floor, not truncation
	}
	return generationOf(phase, period, k)
}

func generationOf(phase, period time.Duration, k int64) generation {
	start := commitmentEpoch.Add(phase).Add(time.Duration(k) * period)
	return generation{k: k, start: start, end: start.Add(period)}
}

// status is a resource plan's, voucher's or card's Status at at.
func (g generation) status(at time.Time) string {
	if at.Before(g.end) {
		return "Available"
	}
	return "Expired"
}

// spentFraction is the share of a generation's amount used by at, in
// millionths: burnPermille of it over the whole term, accrued by whole hours
// and frozen at expiry; at most all of it.
func spentFraction(g generation, burnPermille int64, at time.Time) int64 {
	if at.After(g.end) {
		at = g.end
	}
	hours := int64(at.Sub(g.start) / time.Hour)
	life := int64(g.end.Sub(g.start) / time.Hour)
	return min(burnPermille*1000*hours/life, 1_000_000)
}

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

func (w *World) seedPhase(line uint64, periodDays int) time.Duration {
	return days(int(w.hash(tagCommitment, line, 0, 0) % uint64(periodDays)))
}

func (w *World) commitmentID(line uint64, k int64, n int) string {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	h := w.hash(tagCommitment, line, uint64(k), 1)
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[h%36]
		h = h/36 ^ w.hash(tagCommitment, line, uint64(k), uint64(i+2))
	}
	return string(b)
}

func isoTime(t time.Time) string { return t.UTC().Format(isoLayout) }

// thousandths formats an amount in thousandths with three decimals, as
// resource plans write them ("40.000").
func thousandths(v int64) string { return fmt.Sprintf("%d.%03d", v/1000, v%1000) }

// cents formats an amount in cents with two decimals ("100.00").
func cents(v int64) string { return fmt.Sprintf("%d.%02d", v/100, v%100) }

// ---------------------------------------------------------------------------
// Resource plans (QueryResourcePackageInstances)

type planLine struct {
	code, packageType, region, unit string
	total                           int64 // thousandths of unit
	periodDays                      int
	burnPermille                    int64
	phaseDays                       int // on top of the seeded phase
}

var planLines = []planLine{
	{"oss", "FPT_ossbag_absolute_Storage_hz", "cn-hangzhou", "GB", 500_000, 365, 700, 0},
	{"oss", "FPT_ossbag_absolute_Request_hz", "cn-hangzhou", "万次", 1_000_000, 90, 500, 0},
	// The three CDN plans share one seeded phase, a third of a term apart.
	{"dcdn", "FPT_dcdnpaybag_deadlineAcc", "cn-hangzhou", "TB", 1_000, 30, 1250, 0},
	{"dcdn", "FPT_dcdnpaybag_deadlineAcc", "cn-hangzhou", "TB", 1_000, 30, 1250, 10},
	{"dcdn", "FPT_dcdnpaybag_deadlineAcc", "cn-hangzhou", "TB", 1_000, 30, 1250, 20},
	{"nas", "FPT_naspaybag_capacity_sh", "cn-shanghai", "GB", 2_048_000, 180, 900, 0},
}

// planPhase keeps the CDN lines (2–4) a third of a term apart.
func (w *World) planPhase(i int) time.Duration {
	l := planLines[i]
	seedLine := uint64(i)
	if l.code == "dcdn" {
		seedLine = 2
	}
	return w.seedPhase(seedLine, l.periodDays) + days(l.phaseDays)
}

// ResourcePackages returns every resource plan listed at at: each line's
// running generation and those that expired within the last year, newest
// first within a line.
func (w *World) ResourcePackages(at time.Time) []ResourcePackageInstance {
	var out []ResourcePackageInstance
	for i, l := range planLines {
		period, phase := days(l.periodDays), w.planPhase(i)
		for g := generationAt(phase, period, at); at.Sub(g.end) < resourcePlanHistory; g = generationOf(phase, period, g.k-1) {
			remaining := l.total - l.total*spentFraction(g, l.burnPermille, at)/1_000_000
			p := ResourcePackageInstance{
				InstanceID:          fmt.Sprintf("%sBAG-cn-%s", strings.ToUpper(l.code), w.commitmentID(uint64(100+i), g.k, 12)),
				Region:              l.region,
				PackageType:         l.packageType,
				CommodityCode:       l.code,
				DeductType:          "Absolute",
				Status:              g.status(at),
				EffectiveTime:       isoTime(g.start),
				ExpiryTime:          isoTime(g.end),
				TotalAmount:         thousandths(l.total),
				TotalAmountUnit:     l.unit,
				RemainingAmount:     thousandths(remaining),
				RemainingAmountUnit: l.unit,
			}
			p.ApplicableProducts.Product = []string{l.code}
			out = append(out, p)
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// Savings plans, RIs and SCUs

type savingsLine struct {
	savingsType, family, payMode, commodity string
	poolCents                               int64 // CNY cents of commitment per hour
	utilPermille                            int64 // base utilisation
	periodDays                              int
}

var savingsLines = []savingsLine{
	{"universal", "", "total", "savingplan_common_public_cn", 1000, 950, 365},
	{"ecs", "ecs.g6", "zero", "savingplan_ecs_public_cn", 500, 420, 365},
}

// dailyRatio is a line's ratio on the day of at, in permille: its base
// moved by up to ±spread, at most 1000.
func (w *World) dailyRatio(line uint64, base, spread int64, at time.Time) int64 {
	d := dayOf(at)
	h := w.hash(tagCommitment, line, uint64(d.Year*10000+int(d.Month)*100+d.Day), 7)
	return min(base+int64(h%uint64(2*spread+1))-spread, 1000)
}

func (w *World) money(cnyCents int64) int64 { return cnyCents * w.currency.num / w.currency.den }

// SavingsPlans returns the savings plans running at at (QuerySavingsPlansInstance).
func (w *World) SavingsPlans(at time.Time) []SavingsPlanInstance {
	var out []SavingsPlanInstance
	for i, l := range savingsLines {
		period := days(l.periodDays)
		g := generationAt(w.seedPhase(uint64(200+i), l.periodDays), period, at)
		pool := w.money(l.poolCents)
		hours := int64(at.Sub(g.start) / time.Hour)
		util := w.dailyRatio(uint64(200+i), l.utilPermille, 30, at)
		prepay := map[string]int64{"total": pool * int64(l.periodDays) * 24, "half": pool * int64(l.periodDays) * 12}[l.payMode]
		out = append(out, SavingsPlanInstance{
			InstanceID:          "spn-" + w.commitmentID(uint64(200+i), g.k, 16),
			SavingsType:         l.savingsType,
			InstanceFamily:      l.family,
			Region:              "cn-hangzhou",
			Status:              "NORMAL",
			AllocationStatus:    "unallocated",
			PayMode:             l.payMode,
			Currency:            w.currency.code,
			PoolValue:           cents(pool),
			PrepayFee:           cents(prepay),
			TotalSave:           cents(pool * hours * l.utilPermille * 3 / 10_000), // 30 % below pay-as-you-go
			Utilization:         thousandths(util),
			CurrentPoolValue:    cents(pool),
			RestPoolValue:       cents(pool),
			LastBillTotalUsage:  cents(pool * util / 1000),
			LastBillUtilization: thousandths(util),
			Cycle:               fmt.Sprintf("%d:Year", l.periodDays/365),
			DeductCycleType:     "HOUR",
			CommodityCode:       l.commodity,
			StartTime:           g.start.In(billingZone).Format(analysisLayout),
			EndTime:             g.end.In(billingZone).Format(analysisLayout),
			StartTimestamp:      g.start.UnixMilli(),
			EndTimestamp:        g.end.UnixMilli(),
			Tags:                []SavingsPlanTag{},
		})
	}
	return out
}

// AnalysisRequest is a savings-plan or RI/SCU analysis: hours in
// [Start, End) that have passed, grouped by PeriodType ("HOUR", "DAY",
// "MONTH"); ResourceType is "RI" or "SCU" for the RI/SCU actions.
type AnalysisRequest struct {
	Start, End   time.Time
	PeriodType   string
	ResourceType string
}

// analysisHours calls f for every whole hour of the request that ended by
// at, with the start of its period.
func analysisHours(req AnalysisRequest, at time.Time, f func(hour, period time.Time)) {
	end := req.End
	if at.Before(end) {
		end = at
	}
	for h := req.Start.Truncate(time.Hour); !h.Add(time.Hour).After(end); h = h.Add(time.Hour) {
		if h.Before(req.Start) {
			continue
		}
		t := h.In(billingZone)
		var p time.Time
		switch req.PeriodType {
		case "HOUR":
			p = t
		case "DAY":
			p = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, billingZone)
		default: // MONTH
			p = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, billingZone)
		}
		f(h, p)
	}
}

// ratioSum accumulates a weighted ratio per period and in total.
type ratioSum struct {
	order      []time.Time
	num, den   map[time.Time]int64
	totN, totD int64
}

func newRatioSum() *ratioSum {
	return &ratioSum{num: map[time.Time]int64{}, den: map[time.Time]int64{}}
}

func (r *ratioSum) add(period time.Time, num, den int64) {
	if _, ok := r.den[period]; !ok {
		r.order = append(r.order, period)
	}
	r.num[period] += num
	r.den[period] += den
	r.totN += num
	r.totD += den
}

// ratioMoney is num/den truncated to four decimals, as a Money.
func ratioMoney(num, den int64) Money {
	if den == 0 {
		return 0
	}
	return Money(num * 10_000 / den * (moneyUnit / 10_000))
}

// periods are r's periods in order, each with its ratio, as mk writes them.
func periods[T any](r *ratioSum, mk func(period string, ratio Money) T) []T {
	out := []T{}
	for _, p := range r.order {
		out = append(out, mk(p.Format(periodLayout), ratioMoney(r.num[p], r.den[p])))
	}
	return out
}

// centsMoney is an amount in cents as a Money.
func centsMoney(v int64) Money { return Money(v * (moneyUnit / 100)) }

// SavingsPlansUsage is DescribeSavingsPlansUsageTotal at at: every plan's
// hours weighted by its commitment.
func (w *World) SavingsPlansUsage(req AnalysisRequest, at time.Time) SavingsPlansUsageTotal {
	r := newRatioSum()
	analysisHours(req, at, func(hour, period time.Time) {
		for i, l := range savingsLines {
			pool := w.money(l.poolCents)
			r.add(period, pool*w.dailyRatio(uint64(200+i), l.utilPermille, 30, hour), pool*1000)
		}
	})
	var out SavingsPlansUsageTotal
	out.PeriodCoverage = periods(r, func(p string, v Money) PeriodPercentage { return PeriodPercentage{Period: p, Percentage: v} })
	used := r.totN / 1000 // cents
	out.TotalUsage.PoolValue = centsMoney(r.totD / 1000)
	out.TotalUsage.PostpaidCost = centsMoney(used * 10 / 7)
	out.TotalUsage.SavedCost = centsMoney(used*10/7 - used)
	out.TotalUsage.UsagePercentage = ratioMoney(r.totN, r.totD)
	return out
}

// coverageBase is the base coverage of eligible pay-as-you-go spend by the
// savings plans, permille.
const coverageBase = 640

// SavingsPlansCoverage is DescribeSavingsPlansCoverageTotal at at.
func (w *World) SavingsPlansCoverage(req AnalysisRequest, at time.Time) SavingsPlansCoverageTotal {
	r := newRatioSum()
	var deduct int64
	analysisHours(req, at, func(hour, period time.Time) {
		r.add(period, w.dailyRatio(300, coverageBase, 50, hour), 1000)
		for i, l := range savingsLines {
			deduct += w.money(l.poolCents) * w.dailyRatio(uint64(200+i), l.utilPermille, 30, hour) / 1000
		}
	})
	var out SavingsPlansCoverageTotal
	out.PeriodCoverage = periods(r, func(p string, v Money) PeriodPercentage { return PeriodPercentage{Period: p, Percentage: v} })
	out.TotalCoverage.CoveragePercentage = ratioMoney(r.totN, r.totD)
	out.TotalCoverage.DeductAmount = centsMoney(deduct)
	return out
}

// reservation is the RI or SCU estate: hourly fee, base utilisation and
// coverage, and pay-as-you-go quantity per hour.
type reservation struct {
	line            uint64
	feeCents        int64
	usage, coverage int64 // permille
	quantityPerHour int64
	capacityUnit    string
}

var reservations = map[string]reservation{
	"RI":  {line: 400, feeCents: 320, usage: 880, coverage: 350, quantityPerHour: 12, capacityUnit: "Calc*Hour"},
	"SCU": {line: 410, feeCents: 150, usage: 970, coverage: 800, quantityPerHour: 2048, capacityUnit: "GB*Hour"},
}

// ResourceUsage is DescribeResourceUsageTotal at at; req.ResourceType must
// be RI or SCU.
func (w *World) ResourceUsage(req AnalysisRequest, at time.Time) ResourceUsageTotal {
	res := reservations[req.ResourceType]
	r := newRatioSum()
	var fee int64
	analysisHours(req, at, func(hour, period time.Time) {
		r.add(period, w.dailyRatio(res.line, res.usage, 40, hour), 1000)
		fee += w.money(res.feeCents)
	})
	var out ResourceUsageTotal
	out.PeriodCoverage = periods(r, func(p string, v Money) PeriodUsage { return PeriodUsage{Period: p, UsagePercentage: v} })
	// Pay-as-you-go would cost 1.6 times the fee for what is used.
	postpaid := fee * 16 / 10 * r.totN / max(r.totD, 1)
	out.TotalUsage.ReservationCost = centsMoney(fee)
	out.TotalUsage.PostpaidCost = centsMoney(postpaid)
	out.TotalUsage.SavedCost = centsMoney(postpaid - fee)
	out.TotalUsage.PotentialSavedCost = centsMoney(fee*16/10 - fee)
	out.TotalUsage.UsagePercentage = ratioMoney(r.totN, r.totD)
	return out
}

// ResourceCoverage is DescribeResourceCoverageTotal at at.
func (w *World) ResourceCoverage(req AnalysisRequest, at time.Time) ResourceCoverageTotal {
	res := reservations[req.ResourceType]
	r := newRatioSum()
	var total, deduct int64
	analysisHours(req, at, func(hour, period time.Time) {
		c := w.dailyRatio(res.line+1, res.coverage, 50, hour)
		r.add(period, c, 1000)
		total += res.quantityPerHour
		deduct += res.quantityPerHour * c / 1000
	})
	var out ResourceCoverageTotal
	out.PeriodCoverage = periods(r, func(p string, v Money) PeriodCoverage { return PeriodCoverage{Period: p, CoveragePercentage: v} })
	out.TotalCoverage.CoveragePercentage = ratioMoney(r.totN, r.totD)
	out.TotalCoverage.TotalQuantity = Money(total * moneyUnit)
	out.TotalCoverage.DeductQuantity = Money(deduct * moneyUnit)
	out.TotalCoverage.CapacityUnit = res.capacityUnit
	return out
}

// ---------------------------------------------------------------------------
// Subscription expiries (QueryAvailableInstances)

var renewalProducts = []struct{ code, prefix, region string }{
	{"ecs", "i-", "cn-hangzhou"},
	{"rds", "rm-", "cn-shanghai"},
	{"slb", "lb-", "cn-hangzhou"},
	{"kvstore", "r-", "cn-beijing"},
}

// renewable is one instance of QueryAvailableInstances' population.
type renewable struct {
	line       uint64
	owner      int
	product    int
	periodDays int // 0: pay-as-you-go
	renew      string
	phase      time.Duration
}

const (
	subscriptionsPerOwner = 5
	payAsYouGoPerOwner    = 2
	// weeklyExpiries are the monthly instances without auto-renew spread a
	// week apart, so one always expires within 7 days.
	weeklyExpiries = 4
)

func (w *World) renewables() []renewable {
	var out []renewable
	for o := range w.owners {
		for j := 0; j < subscriptionsPerOwner+payAsYouGoPerOwner; j++ {
			line := uint64(500 + o*100 + j)
			h := w.hash(tagCommitment, line, 0, 3)
			r := renewable{line: line, owner: o, product: int(h % uint64(len(renewalProducts)))}
			if j < subscriptionsPerOwner {
				r.periodDays = []int{30, 365}[(h>>8)%2]
				r.renew = []string{"AutoRenewal", "AutoRenewal", "AutoRenewal", "ManualRenewal", "ManualRenewal", "NotRenewal"}[(h>>16)%6]
				r.phase = w.seedPhase(line, r.periodDays)
			}
			out = append(out, r)
		}
	}
	shift := w.seedPhase(499, 7)
	for i := 0; i < weeklyExpiries; i++ {
		out = append(out, renewable{line: uint64(490 + i), owner: i % len(w.owners), product: 0, periodDays: 28,
			renew: []string{"ManualRenewal", "NotRenewal"}[i%2], phase: shift + days(7*i)})
	}
	return out
}

// AvailableInstances returns every instance at at, in a fixed order
// (QueryAvailableInstances without filters).
func (w *World) AvailableInstances(at time.Time) []AvailableInstance {
	var out []AvailableInstance
	for _, r := range w.renewables() {
		p := renewalProducts[r.product]
		o := w.owners[r.owner]
		in := AvailableInstance{
			InstanceID:  p.prefix + w.commitmentID(r.line, 0, 20),
			ProductCode: p.code, ProductType: p.code, Region: p.region,
			Status: "Normal", SubStatus: "Normal",
			OwnerID: o.idNum, Seller: strconv.Itoa(aliyunSellerID), SellerID: aliyunSellerID,
		}
		if r.periodDays == 0 {
			in.SubscriptionType = "PayAsYouGo"
			in.CreateTime = isoTime(commitmentEpoch.Add(days(int(r.line % 300))))
		} else {
			period := days(r.periodDays)
			g := generationAt(r.phase, period, at)
			in.SubscriptionType = "Subscription"
			in.RenewStatus = r.renew
			in.CreateTime = isoTime(commitmentEpoch.Add(r.phase))
			in.EndTime = isoTime(g.end)
			if r.renew == "AutoRenewal" {
				in.RenewalDuration, in.RenewalDurationUnit = 1, "M"
				if r.periodDays >= 365 {
					in.RenewalDurationUnit = "Y"
				}
			} else {
				in.ExpectedReleaseTime = isoTime(g.end.Add(releaseAfterExpiry))
			}
			if g.end.Sub(at) <= waitForExpireWithin {
				in.Status = "WaitForExpire"
			}
		}
		out = append(out, in)
	}
	return out
}

// ---------------------------------------------------------------------------
// Vouchers and prepaid cards

type creditLine struct {
	nominalCents int64 // CNY
	periodDays   int
	burnPermille int64
}

var couponLines = []creditLine{{10_000, 60, 900}, {50_000, 90, 400}, {200_000, 180, 100}}
var cardLines = []creditLine{{100_000, 180, 600}}

// credit is one generation of a voucher or card line.
type credit struct {
	line                       uint64
	k                          int64
	nominal, balance           int64 // cents in the account's currency
	status                     string
	granted, effective, expiry time.Time
}

func (w *World) credits(lines []creditLine, base uint64, at time.Time) []credit {
	var out []credit
	for i, l := range lines {
		period, phase := days(l.periodDays), w.seedPhase(base+uint64(i), l.periodDays)
		for g := generationAt(phase, period, at); at.Sub(g.end) < resourcePlanHistory; g = generationOf(phase, period, g.k-1) {
			nominal := w.money(l.nominalCents)
			c := credit{line: base + uint64(i), k: g.k, nominal: nominal,
				balance: nominal - nominal*spentFraction(g, l.burnPermille, at)/1_000_000,
				status:  g.status(at), granted: g.start.Add(-time.Hour), effective: g.start, expiry: g.end}
			out = append(out, c)
		}
	}
	return out
}

// fields are the wire fields of c that a voucher and a prepaid card share.
func (c credit) fields(products, scenarios string) creditFields {
	return creditFields{
		Status:              c.status,
		NominalValue:        cents(c.nominal),
		Balance:             cents(c.balance),
		GrantedTime:         isoTime(c.granted),
		EffectiveTime:       isoTime(c.effective),
		ExpiryTime:          isoTime(c.expiry),
		ApplicableProducts:  products,
		ApplicableScenarios: scenarios,
	}
}

// CashCoupons returns every voucher at at (QueryCashCoupons).
func (w *World) CashCoupons(at time.Time) []CashCoupon {
	var out []CashCoupon
	for _, c := range w.credits(couponLines, 600, at) {
		out = append(out, CashCoupon{
			CashCouponID: 10_000_000_000_000 + int64(w.hash(tagCommitment, c.line, uint64(c.k), 4)%90_000_000_000_000),
			CashCouponNo: "Q-" + w.commitmentID(c.line, c.k, 13),
			creditFields: c.fields("All Alibaba Cloud services", "Pay for the pay-as-you-go bills and subscription orders"),
			Description:  "Simulated voucher",
		})
	}
	return out
}

// PrepaidCards returns every prepaid card at at (QueryPrepaidCards).
func (w *World) PrepaidCards(at time.Time) []PrepaidCard {
	var out []PrepaidCard
	for _, c := range w.credits(cardLines, 700, at) {
		out = append(out, PrepaidCard{
			PrepaidCardID: int64(w.hash(tagCommitment, c.line, uint64(c.k), 4) % 1_000_000_000),
			PrepaidCardNo: "Q-" + w.commitmentID(c.line, c.k, 12),
			creditFields:  c.fields("ecs, rds, oss", "Pay-as-you-go and subscription"),
		})
	}
	return out
}
