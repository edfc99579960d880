package collector

import (
	"context"
	"strconv"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

func init() {
	register(Registration{
		Name:            "subscription",
		Actions:         []string{bssclient.ActionQueryBillToOSSSubscription},
		Help:            "QueryBillToOSSSubscription: the bills the account pushes to OSS buckets, as an info metric.",
		DefaultEnabled:  true,
		DefaultInterval: 6 * time.Hour,
	}, newSubscriptionCollector)
}

type subscriptionCollector struct {
	acct Account
	info *prometheus.Desc
	last Snapshot // the last good snapshot, served when a refresh fails
}

func newSubscriptionCollector(acct Account, _ Config, _ log.Logger) (Collector, error) {
	return &subscriptionCollector{
		acct: acct,
		info: prometheus.NewDesc(namespace+"_bill_subscription_info",
			"A bill subscription pushed to an OSS bucket (QueryBillToOSSSubscription); value 1."+cachedHelp,
			[]string{"account", "bucket", "bucket_owner_id", "subscribe_type", "language", "path", "row_limit"}, nil),
	}, nil
}

func (c *subscriptionCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.info }

func (c *subscriptionCollector) Refresh(ctx context.Context, _ time.Time) (Snapshot, error) {
	subs, err := c.acct.Client.QueryBillToOSSSubscription(ctx)
	if err != nil {
		return c.last, err
	}
	var snap Snapshot
	seen := map[[4]string]bool{}
	for _, s := range subs {
		// One bucket and path may hold one subscription per type; a repeat in
		// the answer would be a duplicate series, so keep the first.
		key := [4]string{s.SubscribeBucket, s.SubscribeType, s.BucketPath, strconv.FormatInt(s.BucketOwnerID, 10)}
		if seen[key] {
			continue
		}
		seen[key] = true
		snap.addGauge(c.info, 1,
			c.acct.Name, s.SubscribeBucket, key[3], s.SubscribeType, s.SubscribeLanguage, s.BucketPath,
			strconv.FormatInt(s.RowLimitPerFile, 10))
	}
	c.last = snap
	return snap, nil
}
