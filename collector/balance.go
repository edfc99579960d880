package collector

import (
	"context"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

func init() {
	register(Registration{
		Name:            "balance",
		Actions:         []string{bssclient.ActionQueryAccountBalance},
		Help:            "QueryAccountBalance: available amount, available cash and credit.",
		DefaultEnabled:  true,
		DefaultInterval: 5 * time.Minute,
	}, newBalanceCollector)
}

type balanceCollector struct {
	acct                    Account
	available, cash, credit *prometheus.Desc
	last                    Snapshot
}

func newBalanceCollector(acct Account, _ Config, _ log.Logger) (Collector, error) {
	labels := []string{"account", "currency"}
	return &balanceCollector{
		acct: acct,
		available: prometheus.NewDesc(namespace+"_balance_available",
			"Available balance of the account (AvailableAmount)."+cachedHelp, labels, nil),
		cash: prometheus.NewDesc(namespace+"_balance_available_cash",
			"Available balance in cash (AvailableCashAmount)."+cachedHelp, labels, nil),
		credit: prometheus.NewDesc(namespace+"_balance_credit",
			"Credit balance of the account (CreditAmount)."+cachedHelp, labels, nil),
	}, nil
}

func (c *balanceCollector) Describe(ch chan<- *prometheus.Desc) {
	describe(ch, c.available, c.cash, c.credit)
}

func (c *balanceCollector) Refresh(ctx context.Context, _ time.Time) (Snapshot, error) {
	b, err := c.acct.Client.QueryAccountBalance(ctx)
	if err != nil {
		return c.last, err
	}
	currency := orUnknown(b.Currency)
	var s Snapshot
	s.addGauge(c.available, b.AvailableAmount.Float64(), c.acct.Name, currency)
	s.addGauge(c.cash, b.AvailableCashAmount.Float64(), c.acct.Name, currency)
	s.addGauge(c.credit, b.CreditAmount.Float64(), c.acct.Name, currency)
	c.last = s
	return s, nil
}
