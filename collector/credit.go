package collector

import (
	"cmp"
	"context"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

func init() {
	register(Registration{
		Name:            "credit",
		Actions:         []string{bssclient.ActionQueryAccountBalance, bssclient.ActionQueryCashCoupons, bssclient.ActionQueryPrepaidCards},
		Help:            "QueryCashCoupons and QueryPrepaidCards: remaining balance, count and soonest expiry of vouchers and prepaid cards.",
		DefaultEnabled:  true,
		DefaultInterval: 6 * time.Hour,
	}, newCreditCollector)
}

// creditKind is vouchers or prepaid cards: same fields, same metrics.
type creditKind struct {
	action                      string
	balance, count, next, total *prometheus.Desc
}

type creditCollector struct {
	client   CommitmentsBSS // checked when the collector is built
	acct     Account
	parts    *apiParts
	kinds    []creditKind
	currency string // the account's, learnt once from QueryAccountBalance
	last     map[string][]prometheus.Metric
}

func newCreditCollector(acct Account, _ Config, logger log.Logger) (Collector, error) {
	client, err := clientAs[CommitmentsBSS](acct, "commitments")
	if err != nil {
		return nil, err
	}
	kind := func(action, name, what string) creditKind {
		return creditKind{
			action: action,
			balance: prometheus.NewDesc(namespace+"_"+name+"_balance",
				"Remaining balance of the account's available "+what+" ("+action+" Balance, Status Available), in the account's currency (the API names none)."+cachedHelp,
				[]string{"account", "currency"}, nil),
			count: prometheus.NewDesc(namespace+"_"+name+"s_available",
				"Available "+what+" with a balance left."+cachedHelp, []string{"account"}, nil),
			next: prometheus.NewDesc(namespace+"_"+name+"_next_expiry_timestamp_seconds",
				"Soonest expiry among the available "+what+" with a balance left; absent when there are none."+cachedHelp, []string{"account"}, nil),
			total: prometheus.NewDesc(namespace+"_"+name+"_next_expiry_balance",
				"Balance of the "+what+" that expire first (at aliyun_billing_"+name+"_next_expiry_timestamp_seconds)."+cachedHelp,
				[]string{"account", "currency"}, nil),
		}
	}
	return &creditCollector{
		client: client,
		acct:   acct,
		parts:  newAPIParts(logger, bssclient.ActionQueryCashCoupons, bssclient.ActionQueryPrepaidCards),
		kinds: []creditKind{
			kind(bssclient.ActionQueryCashCoupons, "cash_coupon", "vouchers (cash coupons)"),
			kind(bssclient.ActionQueryPrepaidCards, "prepaid_card", "prepaid cards"),
		},
		last: map[string][]prometheus.Metric{},
	}, nil
}

func (c *creditCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, k := range c.kinds {
		describe(ch, k.balance, k.count, k.next, k.total)
	}
	describe(ch, apiAvailableDesc)
}

func (c *creditCollector) Refresh(ctx context.Context, now time.Time) (Snapshot, error) {
	if c.currency == "" {
		// It labels every balance, so without it the refresh fails and
		// keeps the last good data: a series labelled "unknown" would
		// change identity at the next refresh.
		currency, err := c.acct.Currency(ctx)
		if err != nil {
			return c.snapshot(), err
		}
		c.currency = currency
	}
	coupons, errCoupons := c.client.QueryCashCoupons(ctx)
	cards, errCards := c.client.QueryPrepaidCards(ctx)
	var items [2][]bssclient.Credit // what a voucher and a card both are
	for _, v := range coupons {
		items[0] = append(items[0], v.Credit)
	}
	for _, v := range cards {
		items[1] = append(items[1], v.Credit)
	}
	var errs []error
	for i, err := range []error{errCoupons, errCards} {
		k := c.kinds[i]
		off, err := c.parts.settle(k.action, err)
		switch {
		case off:
			c.last[k.action] = nil
		case err == nil:
			var m []prometheus.Metric
			if m, err = c.kindMetrics(k, items[i], now); err == nil {
				c.last[k.action] = m
			}
		}
		errs = append(errs, err) // on an error, keep the last good metrics
	}
	return c.snapshot(), cmp.Or(errs...)
}

func (c *creditCollector) kindMetrics(k creditKind, items []bssclient.Credit, now time.Time) ([]prometheus.Metric, error) {
	var total, nextBalance bssclient.Money
	var next time.Time
	count := 0
	for _, it := range items {
		// Status says Available until BSS flips it; a passed expiry is
		// already lost, whatever the status says.
		if it.Status != bssclient.CreditAvailable || it.Balance.Units() <= 0 || (!it.ExpiryTime.IsZero() && !it.ExpiryTime.After(now)) {
			continue
		}
		var err error
		if total, err = total.Add(it.Balance); err != nil {
			return nil, err
		}
		count++
		switch {
		case it.ExpiryTime.IsZero():
		case next.IsZero() || it.ExpiryTime.Before(next):
			next, nextBalance = it.ExpiryTime.Time, it.Balance
		case it.ExpiryTime.Equal(next):
			if nextBalance, err = nextBalance.Add(it.Balance); err != nil {
				return nil, err
			}
		}
	}
	currency := orUnknown(c.currency)
	var out Snapshot
	out.addGauge(k.balance, total.Float64(), c.acct.Name, currency)
	out.addGauge(k.count, float64(count), c.acct.Name)
	if v, ok := unixSeconds(next); ok {
		out.addGauge(k.next, v, c.acct.Name)
		out.addGauge(k.total, nextBalance.Float64(), c.acct.Name, currency)
	}
	return out.Metrics, nil
}

func (c *creditCollector) snapshot() Snapshot {
	var s Snapshot
	for _, k := range c.kinds {
		s.Metrics = append(s.Metrics, c.last[k.action]...)
	}
	s.Metrics = append(s.Metrics, c.parts.metrics(c.acct.Name)...)
	return s
}
