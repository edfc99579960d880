package collector

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

func init() {
	register(Registration{
		Name:            "renewal",
		Actions:         []string{bssclient.ActionQueryAvailableInstances},
		Help:            "QueryAvailableInstances: subscription instances expiring within 7 and 30 days without auto-renew, per owner and product.",
		DefaultEnabled:  true,
		DefaultInterval: time.Hour,
	}, newRenewalCollector)
}

// renewalWindows are the horizons counted, shortest first. Only the longest
// is asked for, with EndTimeStart/EndTimeEnd, so BSS pages only instances
// that expire within it.
var renewalWindows = []struct {
	label string
	d     time.Duration
}{
	{"7d", 7 * 24 * time.Hour},
	{"30d", 30 * 24 * time.Hour},
}

type renewalCollector struct {
	client CommitmentsBSS // checked when the collector is built
	acct   Account
	cfg    RenewalConfig
	parts  *apiParts

	expiring, nextExpiry, instanceExpiry *prometheus.Desc
	last                                 Snapshot
}

func newRenewalCollector(acct Account, cfg Config, logger log.Logger) (Collector, error) {
	client, err := clientAs[CommitmentsBSS](acct, "commitments")
	if err != nil {
		return nil, err
	}
	labels := []string{"account", "owner_id", "product_code"}
	return &renewalCollector{
		client: client,
		acct:   acct,
		cfg:    cfg.Renewal,
		parts:  newAPIParts(logger, bssclient.ActionQueryAvailableInstances),
		instanceExpiry: prometheus.NewDesc(namespace+"_instance_expiry_without_auto_renew_timestamp_seconds",
			"When a subscription instance that is not set to auto-renew expires, within 30 days, for the soonest instances; per owner and product, the soonest of the rest under instance_id=\""+overflowInstanceID+"\"."+cachedHelp,
			append(slices.Clone(labels), "instance_id"), nil),
		expiring: prometheus.NewDesc(namespace+"_instances_expiring_without_auto_renew",
			"Subscription instances that expire within the window (7d or 30d) and are not set to auto-renew (QueryAvailableInstances)."+cachedHelp,
			append(slices.Clone(labels), "within"), nil),
		nextExpiry: prometheus.NewDesc(namespace+"_instance_next_expiry_without_auto_renew_timestamp_seconds",
			"When the first subscription instance of the owner and product that is not set to auto-renew expires, within 30 days."+cachedHelp,
			labels, nil),
	}, nil
}

func (c *renewalCollector) Describe(ch chan<- *prometheus.Desc) {
	describe(ch, c.expiring, c.nextExpiry, apiAvailableDesc)
	if c.cfg.PerInstance {
		describe(ch, c.instanceExpiry)
	}
}

func (c *renewalCollector) Refresh(ctx context.Context, now time.Time) (Snapshot, error) {
	longest := renewalWindows[len(renewalWindows)-1].d
	req := bssclient.AvailableInstancesRequest{
		SubscriptionType: bssclient.SubscriptionTypeSubscription,
		EndTimeStart:     now,
		EndTimeEnd:       now.Add(longest),
	}
	type group struct {
		counts []int
		next   time.Time
	}
	groups := map[[2]string]*group{}
	var expiring []expiringInstance // with PerInstance
	instances, off, err := readAction(c.parts, bssclient.ActionQueryAvailableInstances, c.client.QueryAvailableInstances(ctx, req))
	if off {
		c.last = Snapshot{Metrics: c.parts.metrics(c.acct.Name)}
	}
	if off || err != nil {
		return c.last, err
	}
	for _, in := range instances {
		left := in.EndTime.Sub(now)
		// The filter is the server's; count only what matches ours.
		if in.RenewStatus == bssclient.RenewStatusAutoRenewal || in.EndTime.IsZero() || left < 0 || left > longest {
			continue
		}
		key := [2]string{orUnknown(string(in.OwnerID)), orUnknown(in.ProductCode)}
		g := groups[key]
		if g == nil {
			g = &group{counts: make([]int, len(renewalWindows))}
			groups[key] = g
		}
		for i, w := range renewalWindows {
			if left <= w.d {
				g.counts[i]++
			}
		}
		if g.next.IsZero() || in.EndTime.Before(g.next) {
			g.next = in.EndTime.Time
		}
		if c.cfg.PerInstance {
			expiring = append(expiring, expiringInstance{group: key, id: orUnknown(in.InstanceID), end: in.EndTime.Time})
		}
	}
	keys := slices.SortedFunc(maps.Keys(groups), func(a, b [2]string) int { return slices.Compare(a[:], b[:]) })
	var s Snapshot
	for _, k := range keys {
		g := groups[k]
		for i, w := range renewalWindows {
			s.addGauge(c.expiring, float64(g.counts[i]), c.acct.Name, k[0], k[1], w.label)
		}
		v, _ := unixSeconds(g.next)
		s.addGauge(c.nextExpiry, v, c.acct.Name, k[0], k[1])
	}
	for _, in := range capExpiring(expiring, c.cfg.MaxInstances) {
		v, _ := unixSeconds(in.end)
		s.addGauge(c.instanceExpiry, v, c.acct.Name, in.group[0], in.group[1], in.id)
	}
	s.Metrics = append(s.Metrics, c.parts.metrics(c.acct.Name)...)
	c.last = s
	return s, nil
}

// expiringInstance is one instance expiring without auto-renew.
type expiringInstance struct {
	group [2]string // owner_id, product_code
	id    string
	end   time.Time
}

// capExpiring keeps the maxInstances soonest-expiring instances (ties by
// ID, so a refresh shows the same ones) and, per owner and product, one
// overflow entry with the soonest expiry of the rest: every group with an
// expiring instance keeps a series for its next expiry beyond the list,
// and the series count is bounded by the cap plus the groups.
func capExpiring(all []expiringInstance, maxInstances int) []expiringInstance {
	slices.SortFunc(all, func(a, b expiringInstance) int { return cmp.Or(a.end.Compare(b.end), strings.Compare(a.id, b.id)) })
	if len(all) <= maxInstances {
		return all
	}
	out := all[:maxInstances:maxInstances]
	seen := map[[2]string]bool{}
	for _, in := range all[maxInstances:] { // soonest first
		if !seen[in.group] {
			seen[in.group] = true
			out = append(out, expiringInstance{group: in.group, id: overflowInstanceID, end: in.end})
		}
	}
	return out
}
