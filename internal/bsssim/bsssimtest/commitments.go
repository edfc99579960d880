package bsssimtest

import (
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
)

// The commitment actions' ground truth, in the client's types, converted
// through their JSON as BSS would send it.

// ResourcePackages is every resource plan QueryResourcePackageInstances lists at at.
func (w World) ResourcePackages(at time.Time) []bssclient.ResourcePackageInstance {
	return viaJSON[[]bssclient.ResourcePackageInstance](w.World.ResourcePackages(at))
}

// SavingsPlans is every savings plan QuerySavingsPlansInstance lists at at.
func (w World) SavingsPlans(at time.Time) []bssclient.SavingsPlanInstance {
	return viaJSON[[]bssclient.SavingsPlanInstance](w.World.SavingsPlans(at))
}

func analysis(req bssclient.AnalysisRequest) bsssim.AnalysisRequest {
	return bsssim.AnalysisRequest{Start: req.Start, End: req.End, PeriodType: string(req.PeriodType), ResourceType: string(req.ResourceType)}
}

// SavingsPlansUsage is DescribeSavingsPlansUsageTotal's answer at at.
func (w World) SavingsPlansUsage(req bssclient.AnalysisRequest, at time.Time) bssclient.SavingsPlansUsageTotal {
	return viaJSON[bssclient.SavingsPlansUsageTotal](w.World.SavingsPlansUsage(analysis(req), at))
}

// SavingsPlansCoverage is DescribeSavingsPlansCoverageTotal's answer at at.
func (w World) SavingsPlansCoverage(req bssclient.AnalysisRequest, at time.Time) bssclient.SavingsPlansCoverageTotal {
	return viaJSON[bssclient.SavingsPlansCoverageTotal](w.World.SavingsPlansCoverage(analysis(req), at))
}

// ResourceUsage is DescribeResourceUsageTotal's answer at at.
func (w World) ResourceUsage(req bssclient.AnalysisRequest, at time.Time) bssclient.ResourceUsageTotal {
	return viaJSON[bssclient.ResourceUsageTotal](w.World.ResourceUsage(analysis(req), at))
}

// ResourceCoverage is DescribeResourceCoverageTotal's answer at at.
func (w World) ResourceCoverage(req bssclient.AnalysisRequest, at time.Time) bssclient.ResourceCoverageTotal {
	return viaJSON[bssclient.ResourceCoverageTotal](w.World.ResourceCoverage(analysis(req), at))
}

// AvailableInstances is every instance QueryAvailableInstances lists at at.
func (w World) AvailableInstances(at time.Time) []bssclient.AvailableInstance {
	return viaJSON[[]bssclient.AvailableInstance](w.World.AvailableInstances(at))
}

// CashCoupons is every voucher QueryCashCoupons lists at at.
func (w World) CashCoupons(at time.Time) []bssclient.CashCoupon {
	return viaJSON[[]bssclient.CashCoupon](w.World.CashCoupons(at))
}

// PrepaidCards is every prepaid card QueryPrepaidCards lists at at.
func (w World) PrepaidCards(at time.Time) []bssclient.PrepaidCard {
	return viaJSON[[]bssclient.PrepaidCard](w.World.PrepaidCards(at))
}

// BillOverview is QueryBillOverview's items for the cycle at at.
func (w World) BillOverview(cyc bssclient.Cycle, at time.Time) []bssclient.BillOverviewItem {
	return viaJSON[[]bssclient.BillOverviewItem](w.World.BillOverview(bsssim.BillOverviewRequest{BillingCycle: cycle(cyc)}, at))
}
