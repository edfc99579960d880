package collector

import (
	"context"
	"iter"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

// commitmentCollectors are the commitment collectors (commitments.go) and
// names; allCollectors lists the bill collectors.
var commitmentCollectors = []string{"credit", "names", "overview", "renewal", "resourceplan", "savingsplan"}

// The commitment actions as efficiencyBSS records them. Lists (plans,
// instances, credits) change at any time, so their minimum is their pages
// at every refresh; an analysis figure of a settled day is needed once.

func (b *efficiencyBSS) QueryResourcePackageInstances(ctx context.Context, req bssclient.ResourcePackageRequest) iter.Seq2[[]bssclient.ResourcePackageInstance, error] {
	now, rows := b.now(), 0
	for _, p := range b.world.ResourcePackages(now) {
		if !p.ExpiryTime.Before(req.ExpiryTimeStart) {
			rows++
		}
	}
	b.record(bssclient.ActionQueryResourcePackageInstances, bssclient.Day{}, bssclient.Cycle{}, rows, false)
	return b.Client.QueryResourcePackageInstances(ctx, req)
}

func (b *efficiencyBSS) QuerySavingsPlansInstance(ctx context.Context) iter.Seq2[[]bssclient.SavingsPlanInstance, error] {
	b.record(bssclient.ActionQuerySavingsPlansInstance, bssclient.Day{}, bssclient.Cycle{}, len(b.world.SavingsPlans(b.now())), false)
	return b.Client.QuerySavingsPlansInstance(ctx)
}

func (b *efficiencyBSS) recordAnalysis(action string, req bssclient.AnalysisRequest) {
	day := bssclient.DayOf(req.Start)
	settled := !b.now().Before(day.SettledAt(bssclient.KindAmounts))
	b.record(action+"/"+string(req.ResourceType), day, day.Cycle(), 1, settled)
}

func (b *efficiencyBSS) DescribeSavingsPlansUsageTotal(ctx context.Context, req bssclient.AnalysisRequest) (bssclient.SavingsPlansUsageTotal, error) {
	b.recordAnalysis(bssclient.ActionDescribeSavingsPlansUsageTotal, req)
	return b.Client.DescribeSavingsPlansUsageTotal(ctx, req)
}

func (b *efficiencyBSS) DescribeSavingsPlansCoverageTotal(ctx context.Context, req bssclient.AnalysisRequest) (bssclient.SavingsPlansCoverageTotal, error) {
	b.recordAnalysis(bssclient.ActionDescribeSavingsPlansCoverageTotal, req)
	return b.Client.DescribeSavingsPlansCoverageTotal(ctx, req)
}

func (b *efficiencyBSS) DescribeResourceUsageTotal(ctx context.Context, req bssclient.AnalysisRequest) (bssclient.ResourceUsageTotal, error) {
	b.recordAnalysis(bssclient.ActionDescribeResourceUsageTotal, req)
	return b.Client.DescribeResourceUsageTotal(ctx, req)
}

func (b *efficiencyBSS) DescribeResourceCoverageTotal(ctx context.Context, req bssclient.AnalysisRequest) (bssclient.ResourceCoverageTotal, error) {
	b.recordAnalysis(bssclient.ActionDescribeResourceCoverageTotal, req)
	return b.Client.DescribeResourceCoverageTotal(ctx, req)
}

func (b *efficiencyBSS) QueryAvailableInstances(ctx context.Context, req bssclient.AvailableInstancesRequest) iter.Seq2[[]bssclient.AvailableInstance, error] {
	rows := 0
	for _, in := range b.world.AvailableInstances(b.now()) {
		if in.SubscriptionType == req.SubscriptionType && !in.EndTime.IsZero() &&
			!in.EndTime.Before(req.EndTimeStart) && !in.EndTime.After(req.EndTimeEnd) {
			rows++
		}
	}
	b.record(bssclient.ActionQueryAvailableInstances, bssclient.Day{}, bssclient.Cycle{}, rows, false)
	return b.Client.QueryAvailableInstances(ctx, req)
}

func (b *efficiencyBSS) QueryCashCoupons(ctx context.Context) ([]bssclient.CashCoupon, error) {
	b.record(bssclient.ActionQueryCashCoupons, bssclient.Day{}, bssclient.Cycle{}, 1, false)
	return b.Client.QueryCashCoupons(ctx)
}

func (b *efficiencyBSS) QueryPrepaidCards(ctx context.Context) ([]bssclient.PrepaidCard, error) {
	b.record(bssclient.ActionQueryPrepaidCards, bssclient.Day{}, bssclient.Cycle{}, 1, false)
	return b.Client.QueryPrepaidCards(ctx)
}

// The amortized-cost actions: a cycle BSS may still restate (until 12:00
// UTC+8 on the 6th) is needed at every refresh; a final one is read once
// after it became final, and never again.

func (b *efficiencyBSS) DescribeProductAmortizedCost(ctx context.Context, req bssclient.AmortizedCostRequest) iter.Seq2[[]bssclient.ProductAmortizedCostItem, error] {
	b.recordAmortized(bssclient.ActionDescribeProductAmortizedCost, req.BillingCycle, false)
	return b.Client.DescribeProductAmortizedCost(ctx, req)
}

func (b *efficiencyBSS) DescribeInstanceAmortizedCost(ctx context.Context, req bssclient.AmortizedCostRequest) iter.Seq2[[]bssclient.InstanceAmortizedCostItem, error] {
	b.recordAmortized(bssclient.ActionDescribeInstanceAmortizedCost, req.BillingCycle, true)
	return b.Client.DescribeInstanceAmortizedCost(ctx, req)
}

func (b *efficiencyBSS) recordAmortized(action string, cyc bssclient.Cycle, perInstance bool) {
	now := b.now()
	b.record(action, bssclient.Day{}, cyc, len(b.world.AmortizedCost(cyc, perInstance, now)), bssclient.Calendar{}.CycleFinal(cyc, b.settledNow(), bssclient.KindAmortized))
}

// QueryBillOverview of a cycle that is not final changes at any time, so
// every read is part of the minimum; a final cycle's is needed once.
func (b *efficiencyBSS) QueryBillOverview(ctx context.Context, req bssclient.BillOverviewRequest) ([]bssclient.BillOverviewItem, error) {
	b.record(bssclient.ActionQueryBillOverview, bssclient.Day{}, req.BillingCycle, 1, bssclient.Calendar{}.CycleFinal(req.BillingCycle, b.settledNow(), bssclient.KindAmounts))
	return b.Client.QueryBillOverview(ctx, req)
}
