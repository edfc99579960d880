package collector

import (
	"context"
	"slices"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

func init() {
	register(Registration{
		Name:            "resourceplan",
		Actions:         []string{bssclient.ActionQueryResourcePackageInstances},
		Help:            "QueryResourcePackageInstances: resource plans (OSS, CDN, NAS … packages) with their capacity, remaining amount and expiry.",
		DefaultEnabled:  true,
		DefaultInterval: time.Hour,
	}, newResourcePlanCollector)
}

// resourcePlanExpiredWindow is how long a plan stays in the metrics after it
// expired, as status="Expired", so that a dashboard shows what just lapsed.
// Older plans are not asked for: BSS would list a year of them.
const resourcePlanExpiredWindow = 7 * 24 * time.Hour

// resourcePlanByteUnits are the units converted to bytes. Alibaba Cloud
// bills storage and traffic in binary units (1 GB = 1024 MB): INFERRED from
// the OSS pricing pages, UNCONFIRMED for plans; a wrong guess is one line
// here. Any other unit (requests, "万次", CU…) keeps its amount and gets a
// unit label.
var resourcePlanByteUnits = map[string]float64{
	"MB": 1 << 20,
	"GB": 1 << 30,
	"TB": 1 << 40,
	"PB": 1 << 50,
}

// IsResourcePlanByteUnit says whether the resourceplan collector reads a
// plan's unit as bytes (binary: 1 GB = 2^30 bytes).
func IsResourcePlanByteUnit(unit string) bool {
	_, ok := resourcePlanByteUnits[unit]
	return ok
}

type resourcePlanCollector struct {
	client CommitmentsBSS // checked when the collector is built
	acct   Account
	parts  *apiParts

	info, capacityBytes, remainingBytes, capacity, remaining, remainingRatio, effective, expiry *prometheus.Desc
	last                                                                                        Snapshot
}

func newResourcePlanCollector(acct Account, cfg Config, logger log.Logger) (Collector, error) {
	client, err := clientAs[CommitmentsBSS](acct, "commitments")
	if err != nil {
		return nil, err
	}
	id := []string{"account", "instance_id"}
	unit := []string{"account", "instance_id", "unit"}
	return &resourcePlanCollector{
		client: client,
		acct:   acct,
		parts:  newAPIParts(logger, bssclient.ActionQueryResourcePackageInstances),
		info: prometheus.NewDesc(namespace+"_resource_plan_info",
			"A resource plan (QueryResourcePackageInstances); value 1. Expired plans stay for 7 days."+cachedHelp,
			[]string{"account", "instance_id", "product_code", "package_type", "region_id", "status", "deduct_type"}, nil),
		capacityBytes: prometheus.NewDesc(namespace+"_resource_plan_capacity_bytes",
			"Total amount of a storage or traffic resource plan (TotalAmount), in bytes."+cachedHelp, id, nil),
		remainingBytes: prometheus.NewDesc(namespace+"_resource_plan_remaining_bytes",
			"Remaining amount of a storage or traffic resource plan (RemainingAmount), in bytes."+cachedHelp, id, nil),
		capacity: prometheus.NewDesc(namespace+"_resource_plan_capacity",
			"Total amount of a resource plan whose unit is not bytes (TotalAmount), in the unit its label names."+cachedHelp, unit, nil),
		remaining: prometheus.NewDesc(namespace+"_resource_plan_remaining",
			"Remaining amount of a resource plan whose unit is not bytes (RemainingAmount), in the unit its label names."+cachedHelp, unit, nil),
		remainingRatio: prometheus.NewDesc(namespace+"_resource_plan_remaining_ratio",
			"RemainingAmount / TotalAmount of a resource plan, 0–1, whatever its unit."+cachedHelp, id, nil),
		effective: prometheus.NewDesc(namespace+"_resource_plan_effective_timestamp_seconds",
			"When the resource plan took effect."+cachedHelp, id, nil),
		expiry: prometheus.NewDesc(namespace+"_resource_plan_expiry_timestamp_seconds",
			"When the resource plan expires; what remains then is lost."+cachedHelp, id, nil),
	}, nil
}

func (c *resourcePlanCollector) Describe(ch chan<- *prometheus.Desc) {
	describe(ch, c.info, c.capacityBytes, c.remainingBytes, c.capacity, c.remaining, c.remainingRatio, c.effective, c.expiry, apiAvailableDesc)
}

func (c *resourcePlanCollector) Refresh(ctx context.Context, now time.Time) (Snapshot, error) {
	req := bssclient.ResourcePackageRequest{ExpiryTimeStart: now.Add(-resourcePlanExpiredWindow)}
	plans, off, err := readAction(c.parts, bssclient.ActionQueryResourcePackageInstances, c.client.QueryResourcePackageInstances(ctx, req))
	switch {
	case off:
		c.last = Snapshot{} // the account cannot use the action: nothing to show
	case err == nil:
		c.last = c.snapshot(plans)
	}
	// The availability series go on a copy: c.last stays as it was.
	return Snapshot{Metrics: append(slices.Clone(c.last.Metrics), c.parts.metrics(c.acct.Name)...)}, err
}

func (c *resourcePlanCollector) snapshot(plans []bssclient.ResourcePackageInstance) Snapshot {
	var s Snapshot
	for p := range firstOfEachID(plans, func(p bssclient.ResourcePackageInstance) string { return p.InstanceID }) {
		a, id := c.acct.Name, p.InstanceID
		s.addGauge(c.info, 1, a, id, orUnknown(p.CommodityCode), orUnknown(p.PackageType), orUnknown(bssclient.RegionID(p.Region)),
			orUnknown(p.Status), orUnknown(p.DeductType))
		totalBytes, totalIsBytes := resourcePlanByteUnits[p.TotalAmountUnit]
		remainingBytes, remainingIsBytes := resourcePlanByteUnits[p.RemainingAmountUnit]
		if totalIsBytes {
			s.addGauge(c.capacityBytes, p.TotalAmount.Float64()*totalBytes, a, id)
		} else {
			s.addGauge(c.capacity, p.TotalAmount.Float64(), a, id, orUnknown(p.TotalAmountUnit))
		}
		if remainingIsBytes {
			s.addGauge(c.remainingBytes, p.RemainingAmount.Float64()*remainingBytes, a, id)
		} else {
			s.addGauge(c.remaining, p.RemainingAmount.Float64(), a, id, orUnknown(p.RemainingAmountUnit))
		}
		if p.TotalAmountUnit == p.RemainingAmountUnit {
			s.addGauge(c.remainingRatio, ratio(p.RemainingAmount, p.TotalAmount), a, id)
		} else if totalIsBytes && remainingIsBytes && !p.TotalAmount.IsZero() {
			s.addGauge(c.remainingRatio, p.RemainingAmount.Float64()*remainingBytes/(p.TotalAmount.Float64()*totalBytes), a, id)
		}
		if v, ok := unixSeconds(p.EffectiveTime.Time); ok {
			s.addGauge(c.effective, v, a, id)
		}
		if v, ok := unixSeconds(p.ExpiryTime.Time); ok {
			s.addGauge(c.expiry, v, a, id)
		}
	}
	return s
}
