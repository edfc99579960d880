package doctor

import (
	"context"
	"fmt"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/collector"
)

// pages is the requests a walk of n rows takes: at least one.
func pages(n int) int { return max(1, (n+bssclient.MaxPageSize-1)/bssclient.MaxPageSize) }

// calendar is what the prediction needs of the billing calendar at now.
type calendar struct {
	exposed    int // settled days each daily family exposes
	unsettled  int // days of the current cycle begun but not settled
	prevOpen   int // days of the previous cycle not settled (early in a month)
	prevFinal  bool
	cycleEmpty bool // no day of the current cycle has settled yet
}

func (r *run) calendarOf(kind bssclient.DataKind) calendar {
	now, cfg := r.in.Now, r.in.Config
	newest := cfg.NewestSettledDay(now, kind)
	today := bssclient.DayOf(now)
	cur := bssclient.CycleOf(now)
	c := calendar{exposed: cfg.ExposureDays, prevFinal: cfg.CycleFinal(cur.Prev(), now, kind)}
	if !cfg.DailySeries {
		c.exposed = 0
	}
	for d := newest.AddDays(1); !today.Before(d); d = d.AddDays(1) {
		if d.Cycle() == cur {
			c.unsettled++
		} else {
			c.prevOpen++
		}
	}
	c.cycleEmpty = newest.Before(cur.FirstDay())
	return c
}

// predict says, from the sizes measured, what each enabled collector costs
// at a cold start and then a day, and how many series the bill collectors
// publish: the collectors' own walks, counted.
func (r *run) predict() {
	intervals := map[string]time.Duration{}
	for _, reg := range collector.Registrations() {
		intervals[reg.Name] = reg.DefaultInterval
	}
	perDay := func(name string, n int) int { return n * int(24*time.Hour/intervals[name]) }
	total := 0
	if r.in.Config.StateDir != "" {
		total++ // the payer, once per start
	}
	for _, name := range r.in.Enabled {
		p, ok := r.predictOne(name, perDay)
		if !ok {
			continue
		}
		total += p.ColdRequests
		r.report.Predictions = append(r.report.Predictions, p)
	}
	if total == 0 {
		return
	}
	rate := r.in.RateLimit
	if rate <= 0 {
		rate = bssclient.DefaultRateLimit
	}
	cold := time.Duration(float64(total) / rate * float64(time.Second)).Round(time.Second)
	r.add(OK, "cold start", fmt.Sprintf("about %d requests, %s at %g requests/s; a restart with --storage.path reads only what can still change", total, cold, rate),
		"")
	for _, p := range r.report.Predictions {
		if p.Collector == "instance" && p.Series > 20000 {
			r.add(Unknown, "series instance", fmt.Sprintf("about %d series: large for one Prometheus target", p.Series),
				"narrow the labels (--collector.instance.tag-keys, zone) or the money columns (--collector.instance.amounts)")
		}
	}
}

// groups counts the distinct series keys of one settled day of the
// instance and split bills, when a walk of that day fits the budget.
func (r *run) countGroups(ctx context.Context) {
	r.groups = map[string]int{}
	for _, action := range []string{bssclient.ActionDescribeInstanceBill, bssclient.ActionDescribeSplitItemBill} {
		s, ok := r.rows[action]
		if !ok || !r.afford(pages(s.day)+1) {
			continue
		}
		kind := billKinds[action]
		day := r.in.Config.NewestSettledDay(r.in.Now, kind)
		keys := map[string]bool{}
		var err error
		if action == bssclient.ActionDescribeInstanceBill {
			for page, e := range r.in.Client.DescribeInstanceBill(ctx, bssclient.InstanceBillRequest{BillingCycle: day.Cycle(), Granularity: bssclient.Daily, BillingDate: day}) {
				if err = e; err != nil {
					break
				}
				for _, row := range page {
					k := fmt.Sprint(row.OwnerID, "|", code(row.ProductCode, row.PipCode), "|", row.SubscriptionType, "|", row.Region, "|", row.Currency)
					if r.in.Config.Instance.Zone {
						k += "|" + row.Zone
					}
					if r.in.Config.Instance.ResourceGroup {
						k += "|" + row.ResourceGroup
					}
					if r.in.Config.Instance.CostUnit {
						k += "|" + row.CostUnit
					}
					keys[k] = true
				}
			}
		} else {
			for page, e := range r.in.Client.DescribeSplitItemBill(ctx, bssclient.SplitItemBillRequest{BillingCycle: day.Cycle(), Granularity: bssclient.Daily, BillingDate: day, ProductCode: "oss"}) {
				if err = e; err != nil {
					break
				}
				for _, row := range page {
					if row.SplitItemID == "" {
						continue
					}
					k := row.SplitItemID + "|" + row.Currency
					if r.in.Config.OSSBucket.BillingItem {
						k += "|" + row.BillingItemCode
					}
					keys[k] = true
				}
			}
			if len(keys) > r.in.Config.OSSBucket.MaxBuckets {
				keys = map[string]bool{}
				for i := range r.in.Config.OSSBucket.MaxBuckets + 1 { // the cap, and the overflow series
					keys[fmt.Sprint(i)] = true
				}
			}
		}
		if err == nil {
			r.groups[action] = len(keys)
		}
	}
}

func code(productCode, pipCode string) string {
	if productCode != "" {
		return productCode
	}
	return pipCode
}

// predictOne is what collector name costs and publishes, from the sizes
// measured; false when its bill could not be measured.
func (r *run) predictOne(name string, perDay func(string, int) int) (Prediction, bool) {
	p := Prediction{Collector: name}
	switch name {
	case "account":
		s, ok := r.rows[bssclient.ActionQueryAccountBill]
		if !ok {
			return p, false
		}
		c := r.calendarOf(bssclient.KindAmounts)
		cycles := pages(s.month) + c.unsettled*pages(s.day)
		p.ColdRequests = c.exposed*pages(s.day) + cycles + pages(s.prevMonth) + c.prevOpen*pages(s.day)
		p.DailyRequests = 2*pages(s.day) + perDay(name, cycles)
		if !c.prevFinal {
			p.DailyRequests += perDay(name, pages(s.prevMonth)+c.prevOpen*pages(s.day))
		}
		cols := len(collector.AmountColumns(r.in.Config, name))
		p.Series = (c.exposed*s.day+s.month+s.prevMonth)*cols + 2
	case "names":
		s, ok := r.rows[bssclient.ActionQueryAccountBill]
		if !ok {
			return p, false
		}
		p.ColdRequests, p.DailyRequests = pages(s.month), perDay(name, pages(s.month))
	case "instance", "ossbucket":
		action, kind := bssclient.ActionDescribeInstanceBill, bssclient.KindInstanceAttributes
		if name == "ossbucket" {
			action, kind = bssclient.ActionDescribeSplitItemBill, bssclient.KindSplitItems
		}
		s, ok := r.rows[action]
		if !ok {
			return p, false
		}
		c := r.calendarOf(kind)
		cycle := 0
		if !c.cycleEmpty {
			cycle = pages(s.month) + c.unsettled*pages(s.day)
		}
		p.ColdRequests = c.exposed*pages(s.day) + cycle
		p.DailyRequests = 2*pages(s.day) + cycle // a new day, a recheck, the cycle read again as a day settles
		if groups := r.groups[action]; groups > 0 {
			cols := len(collector.AmountColumns(r.in.Config, name))
			days := c.exposed
			if !c.cycleEmpty {
				days++ // the cycle gauges: about one day's keys
			}
			p.Series = days * groups * cols
			if name == "ossbucket" {
				p.Series += 2 // split_bill_enabled, cycle_from_monthly_bill
			}
		}
	default:
		n := 0
		for range collectorActions[name] {
			n++
		}
		if name == "savingsplan" {
			n += 2 // the RI and SCU analyses are one action each, asked twice
		}
		p.ColdRequests, p.DailyRequests = n, perDay(name, n)
	}
	return p, true
}
