package collector

import (
	"context"
	"maps"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

func init() {
	register(Registration{
		Name:            "names",
		Actions:         []string{bssclient.ActionQueryAccountBill},
		Help:            "QueryAccountBill MONTHLY grouped by product: owner and product names as info metrics, for dashboards to join with group_left.",
		DefaultEnabled:  true,
		DefaultInterval: 6 * time.Hour,
	}, newNamesCollector)
}

// namesCollector learns owner and product names from the account bill of
// the current cycle, grouped by product: one page of 300 rows covers every
// owner and product with spend this month, so it costs one request a
// refresh. Names seen stay (bounded by the account's owners and products); a renamed
// owner shows its newest name.
type namesCollector struct {
	acct             Account
	owner, product   *prometheus.Desc
	owners, products map[string]string
}

func newNamesCollector(acct Account, _ Config, _ log.Logger) (Collector, error) {
	return &namesCollector{
		acct: acct,
		owner: prometheus.NewDesc(namespace+"_owner_info",
			"Name of an owner (member account) seen in the account bill; value 1. Join with group_left on owner_id."+cachedHelp,
			[]string{"account", "owner_id", "owner_name"}, nil),
		product: prometheus.NewDesc(namespace+"_product_info",
			"Name of a product seen in the account bill, and its FOCUS ServiceCategory; value 1. Join with group_left on product_code."+cachedHelp,
			[]string{"account", "product_code", "product_name", "service_category"}, nil),
		owners:   map[string]string{},
		products: map[string]string{},
	}, nil
}

func (c *namesCollector) Describe(ch chan<- *prometheus.Desc) { describe(ch, c.owner, c.product) }

func (c *namesCollector) Refresh(ctx context.Context, now time.Time) (Snapshot, error) {
	owners, products := map[string]string{}, map[string]string{}
	req := bssclient.AccountBillRequest{BillingCycle: bssclient.CycleOf(now), Granularity: bssclient.Monthly, IsGroupByProduct: true}
	err := eachRow(c.acct.Client.QueryAccountBill(ctx, req), func(row *bssclient.AccountBillItem) error {
		if row.OwnerID != "" && row.OwnerName != "" {
			owners[row.OwnerID] = row.OwnerName
		}
		if code := productCode(row.ProductCode, row.PipCode); code != "" && row.ProductName != "" {
			products[code] = row.ProductName
		}
		return nil
	})
	if err != nil {
		return c.snapshot(), err // nothing half-read is kept
	}
	maps.Copy(c.owners, owners)
	maps.Copy(c.products, products)
	return c.snapshot(), nil
}

func (c *namesCollector) snapshot() Snapshot {
	var s Snapshot
	for id, name := range c.owners {
		s.addGauge(c.owner, 1, c.acct.Name, id, name)
	}
	for code, name := range c.products {
		s.addGauge(c.product, 1, c.acct.Name, code, name, ServiceCategory(code))
	}
	return s
}
