package collector

import (
	"cmp"
	"context"
	"strings"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

func init() {
	register(Registration{
		Name: "savingsplan",
		// The balance gives the currency of the amounts.
		Actions: []string{bssclient.ActionQuerySavingsPlansInstance, bssclient.ActionDescribeSavingsPlansUsageTotal,
			bssclient.ActionDescribeSavingsPlansCoverageTotal, bssclient.ActionDescribeResourceUsageTotal, bssclient.ActionDescribeResourceCoverageTotal,
			bssclient.ActionQueryAccountBalance},
		Help:            "Savings plans (QuerySavingsPlansInstance) and the utilisation and coverage of savings plans, reserved instances and storage capacity units (Describe{SavingsPlans,Resource}{Usage,Coverage}Total).",
		DefaultEnabled:  true,
		DefaultInterval: time.Hour,
	}, newSavingsPlanCollector)
}

// analysisPeriod is the granularity of the utilisation and coverage
// figures: one whole UTC+8 day, the newest settled one. A day is long
// enough that a ratio does not swing with the hour of day (an alert on an
// hourly ratio would fire every night), short enough that a drop shows the
// next day, and it costs one request per figure per day: a settled day is
// read once and never again. A month would mix settled and unsettled days.
// When analysis data settles is UNCONFIRMED; it is taken to settle with the
// bill amounts it is computed from (24 h after the day ends).
const analysisPeriod = bssclient.PeriodDay

// reservationTypes are the reservations whose utilisation and coverage are
// read, each with its own requests.
var reservationTypes = []bssclient.ResourceType{bssclient.ResourceTypeRI, bssclient.ResourceTypeSCU}

// reservationPart names an RI/SCU action with its resource type: an account
// may have reserved instances and no SCUs, so each is its own part
// ("DescribeResourceUsageTotal/SCU" in the action label).
func reservationPart(action string, rt bssclient.ResourceType) string {
	return action + "/" + string(rt)
}

// analysisFigure is one settled day's answer of an analysis action: its
// ratio and, where BSS returns them, its amounts in the account's currency.
type analysisFigure struct {
	day     bssclient.Day
	value   float64
	amounts []analysisAmount
}

// analysisAmount is one money figure of an analysis answer.
type analysisAmount struct {
	desc  *prometheus.Desc
	value bssclient.Money
}

type savingsPlanCollector struct {
	client CommitmentsBSS // checked when the collector is built
	acct   Account
	cfg    Config
	parts  *apiParts

	info, utilization, commitment, expiry *prometheus.Desc
	saved                                 *prometheus.Desc // per plan
	spUtilization, spCoverage             *prometheus.Desc
	riUtilization, riCoverage             *prometheus.Desc
	// Savings in money, of the newest settled day.
	spSaved, spPAYG, spCovered *prometheus.Desc
	riSaved, riPAYG, riCost    *prometheus.Desc

	plans    []prometheus.Metric       // last good per-plan metrics
	figures  map[string]analysisFigure // by figure key, last good
	currency string                    // the account's; "" until known
}

func newSavingsPlanCollector(acct Account, cfg Config, logger log.Logger) (Collector, error) {
	client, err := clientAs[CommitmentsBSS](acct, "commitments")
	if err != nil {
		return nil, err
	}
	actions := []string{bssclient.ActionQuerySavingsPlansInstance,
		bssclient.ActionDescribeSavingsPlansUsageTotal, bssclient.ActionDescribeSavingsPlansCoverageTotal}
	for _, rt := range reservationTypes {
		actions = append(actions, reservationPart(bssclient.ActionDescribeResourceUsageTotal, rt),
			reservationPart(bssclient.ActionDescribeResourceCoverageTotal, rt))
	}
	id := []string{"account", "instance_id"}
	money := []string{"account", "currency"}
	reservation := []string{"account", "resource_type"}
	reservationMoney := []string{"account", "resource_type", "currency"}
	const newestDay = " Over the newest settled UTC+8 day (DAY granularity), read once 24 h after the day ends"
	const daily = newestDay + "; 0–1."
	const dailyMoney = newestDay + ", from the same answer as the ratios: no request of its own."
	return &savingsPlanCollector{
		client: client,
		acct:   acct, cfg: cfg,
		parts: newAPIParts(logger, actions...),
		info: prometheus.NewDesc(namespace+"_savings_plan_info",
			"A savings plan (QuerySavingsPlansInstance); value 1."+cachedHelp,
			[]string{"account", "instance_id", "savings_type", "instance_family", "pay_mode", "status", "currency"}, nil),
		utilization: prometheus.NewDesc(namespace+"_savings_plan_utilization_ratio",
			"Utilisation of one savings plan as BSS reports it (Utilization), 0–1."+cachedHelp, id, nil),
		commitment: prometheus.NewDesc(namespace+"_savings_plan_commitment",
			"Commitment of one savings plan per deduction cycle (PoolValue), in its currency."+cachedHelp,
			[]string{"account", "instance_id", "currency", "deduct_cycle"}, nil),
		expiry: prometheus.NewDesc(namespace+"_savings_plan_expiry_timestamp_seconds",
			"When the savings plan ends (EndTimestamp)."+cachedHelp, id, nil),
		saved: prometheus.NewDesc(namespace+"_savings_plan_saved",
			"What one savings plan has saved against pay-as-you-go since it began (TotalSave), in its currency."+cachedHelp,
			[]string{"account", "instance_id", "currency"}, nil),
		spSaved: prometheus.NewDesc(namespace+"_savings_plans_saved",
			"What the savings plans saved against pay-as-you-go (DescribeSavingsPlansUsageTotal SavedCost), in the account's currency."+dailyMoney, money, nil),
		spPAYG: prometheus.NewDesc(namespace+"_savings_plans_payg_equivalent",
			"What the usage the savings plans paid for would have cost pay-as-you-go (DescribeSavingsPlansUsageTotal PostpaidCost), in the account's currency."+dailyMoney, money, nil),
		spCovered: prometheus.NewDesc(namespace+"_savings_plans_covered",
			"Pay-as-you-go spend the savings plans covered (DescribeSavingsPlansCoverageTotal DeductAmount), in the account's currency."+dailyMoney, money, nil),
		riSaved: prometheus.NewDesc(namespace+"_reservation_saved",
			"What reserved instances (RI) or storage capacity units (SCU) saved against pay-as-you-go (DescribeResourceUsageTotal SavedCost), in the account's currency."+dailyMoney, reservationMoney, nil),
		riPAYG: prometheus.NewDesc(namespace+"_reservation_payg_equivalent",
			"What the usage the reservations covered would have cost pay-as-you-go (DescribeResourceUsageTotal PostpaidCost), in the account's currency."+dailyMoney, reservationMoney, nil),
		riCost: prometheus.NewDesc(namespace+"_reservation_cost",
			"What the reservations cost (DescribeResourceUsageTotal ReservationCost), in the account's currency."+dailyMoney, reservationMoney, nil),
		spUtilization: prometheus.NewDesc(namespace+"_savings_plans_utilization_ratio",
			"Share of the savings plans' commitment that was used (DescribeSavingsPlansUsageTotal UsagePercentage)."+daily,
			[]string{"account"}, nil),
		spCoverage: prometheus.NewDesc(namespace+"_savings_plans_coverage_ratio",
			"Share of eligible pay-as-you-go spend the savings plans covered (DescribeSavingsPlansCoverageTotal)."+daily,
			[]string{"account"}, nil),
		riUtilization: prometheus.NewDesc(namespace+"_reservation_utilization_ratio",
			"Utilisation of reserved instances (resource_type RI) or storage capacity units (SCU) (DescribeResourceUsageTotal)."+daily, reservation, nil),
		riCoverage: prometheus.NewDesc(namespace+"_reservation_coverage_ratio",
			"Share of usage covered by reserved instances (RI) or storage capacity units (SCU) (DescribeResourceCoverageTotal)."+daily, reservation, nil),
		figures: map[string]analysisFigure{},
	}, nil
}

func (c *savingsPlanCollector) Describe(ch chan<- *prometheus.Desc) {
	describe(ch, c.info, c.utilization, c.commitment, c.expiry, c.saved, c.spUtilization, c.spCoverage, c.riUtilization, c.riCoverage,
		c.spSaved, c.spPAYG, c.spCovered, c.riSaved, c.riPAYG, c.riCost, apiAvailableDesc)
}

func (c *savingsPlanCollector) Refresh(ctx context.Context, now time.Time) (Snapshot, error) {
	errPlans := c.refreshPlans(ctx)
	day := c.cfg.Calendar().NewestSettledDay(now, bssclient.KindAmounts) // the settle margin included, as for the bills
	req := bssclient.AnalysisRequest{Start: day.Start(), End: day.End(), PeriodType: analysisPeriod}
	errs := []error{errPlans,
		c.figure(ctx, "sp_usage", bssclient.ActionDescribeSavingsPlansUsageTotal, day, func() (analysisFigure, error) {
			v, err := c.client.DescribeSavingsPlansUsageTotal(ctx, req)
			u := v.TotalUsage
			return analysisFigure{value: u.UsagePercentage.Float64(),
				amounts: []analysisAmount{{c.spSaved, u.SavedCost}, {c.spPAYG, u.PostpaidCost}}}, err
		}),
		c.figure(ctx, "sp_coverage", bssclient.ActionDescribeSavingsPlansCoverageTotal, day, func() (analysisFigure, error) {
			v, err := c.client.DescribeSavingsPlansCoverageTotal(ctx, req)
			cov := v.TotalCoverage
			return analysisFigure{value: cov.CoveragePercentage.Float64(), amounts: []analysisAmount{{c.spCovered, cov.DeductAmount}}}, err
		}),
	}
	for _, rt := range reservationTypes {
		r := req
		r.ResourceType = rt
		errs = append(errs,
			c.figure(ctx, string(rt)+"_usage", reservationPart(bssclient.ActionDescribeResourceUsageTotal, rt), day, func() (analysisFigure, error) {
				v, err := c.client.DescribeResourceUsageTotal(ctx, r)
				u := v.TotalUsage
				return analysisFigure{value: u.UsagePercentage.Float64(),
					amounts: []analysisAmount{{c.riSaved, u.SavedCost}, {c.riPAYG, u.PostpaidCost}, {c.riCost, u.ReservationCost}}}, err
			}),
			c.figure(ctx, string(rt)+"_coverage", reservationPart(bssclient.ActionDescribeResourceCoverageTotal, rt), day, func() (analysisFigure, error) {
				v, err := c.client.DescribeResourceCoverageTotal(ctx, r)
				return analysisFigure{value: v.TotalCoverage.CoveragePercentage.Float64()}, err
			}))
	}
	// The amounts name no currency: the account's. Without it the ratios
	// are still published, the amounts are not, and the refresh fails so
	// that it is retried and counted.
	currency, errCurrency := c.acct.Currency(ctx)
	c.currency = currency
	errs = append(errs, errCurrency)
	return c.snapshot(), cmp.Or(errs...)
}

func (c *savingsPlanCollector) refreshPlans(ctx context.Context) error {
	plans, off, err := readAction(c.parts, bssclient.ActionQuerySavingsPlansInstance, c.client.QuerySavingsPlansInstance(ctx))
	switch {
	case off:
		c.plans = nil
	case err == nil:
		c.plans = c.planMetrics(plans)
	}
	return err // on an error, keep the last good plans
}

func (c *savingsPlanCollector) planMetrics(plans []bssclient.SavingsPlanInstance) []prometheus.Metric {
	var out Snapshot
	for p := range firstOfEachID(plans, func(p bssclient.SavingsPlanInstance) string { return p.InstanceID }) {
		a, id, currency := c.acct.Name, p.InstanceID, orUnknown(p.Currency)
		// The docs spell the types "universal" and "ecs", the SDK example "ECS".
		out.addGauge(c.info, 1, a, id, orUnknown(strings.ToLower(p.SavingsType)), p.InstanceFamily, orUnknown(p.PayMode), orUnknown(p.Status), currency)
		out.addGauge(c.utilization, p.Utilization.Float64(), a, id)
		out.addGauge(c.commitment, p.PoolValue.Float64(), a, id, currency, orUnknown(p.DeductCycleType))
		out.addGauge(c.saved, p.TotalSave.Float64(), a, id, currency)
		if p.EndTimestamp > 0 {
			end := time.Unix(0, int64(p.EndTimestamp)*bssclient.SavingsPlanTimestampUnit)
			out.addGauge(c.expiry, float64(end.UnixNano())/1e9, a, id)
		}
	}
	return out.Metrics
}

// figure reads one utilisation or coverage figure of day, unless it already
// has it: a settled day's figure is read once.
func (c *savingsPlanCollector) figure(ctx context.Context, key, action string, day bssclient.Day, read func() (analysisFigure, error)) error {
	if f, ok := c.figures[key]; ok && f.day == day && c.parts.available(action) {
		return nil
	}
	f, err := read()
	switch off, err := c.parts.settle(action, err); {
	case err != nil:
		return err // keep the last good figure
	case off:
		delete(c.figures, key)
	default:
		f.day = day
		c.figures[key] = f
	}
	return nil
}

func (c *savingsPlanCollector) snapshot() Snapshot {
	s := Snapshot{Metrics: append([]prometheus.Metric(nil), c.plans...)}
	add := func(key string, d *prometheus.Desc, labels ...string) {
		f, ok := c.figures[key]
		if !ok {
			return
		}
		s.addGauge(d, f.value, labels...)
		if c.currency == "" {
			return
		}
		for _, a := range f.amounts {
			s.addGauge(a.desc, a.value.Float64(), append(labels, c.currency)...)
		}
	}
	add("sp_usage", c.spUtilization, c.acct.Name)
	add("sp_coverage", c.spCoverage, c.acct.Name)
	for _, rt := range reservationTypes {
		add(string(rt)+"_usage", c.riUtilization, c.acct.Name, string(rt))
		add(string(rt)+"_coverage", c.riCoverage, c.acct.Name, string(rt))
	}
	s.Metrics = append(s.Metrics, c.parts.metrics(c.acct.Name)...)
	return s
}
