package bssclient_test

import (
	"testing"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
)

// TestCommitmentWalksAgainstSimulator: the commitment walks read every row
// the World lists, across pages, and an action the account cannot use is
// an error IsUnavailable recognises.
func TestCommitmentWalksAgainstSimulator(t *testing.T) {
	// 61 owners with 7 instances each: more than one 300-row page.
	s := startSim(t, bsssim.WorldConfig{Seed: 7, Owners: 60, InstancesPerOwner: 1}, nil)
	c, obs := newSimClient(t, s)

	var got []bssclient.AvailableInstance
	for page, err := range c.QueryAvailableInstances(t.Context(), bssclient.AvailableInstancesRequest{}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page...)
	}
	want := s.world.AvailableInstances(billingNow)
	if len(want) <= bssclient.MaxPageSize {
		t.Fatalf("%d instances fit one page; the test would not page", len(want))
	}
	if len(got) != len(want) {
		t.Fatalf("walked %d instances, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("instance %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if n := obs.get("done ok"); n != 2 {
		t.Errorf("%d successful requests, want 2 pages", n)
	}

	var plans []bssclient.ResourcePackageInstance
	for page, err := range c.QueryResourcePackageInstances(t.Context(), bssclient.ResourcePackageRequest{}) {
		if err != nil {
			t.Fatal(err)
		}
		plans = append(plans, page...)
	}
	if want := s.world.ResourcePackages(billingNow); len(plans) != len(want) || plans[0].RemainingAmount != want[0].RemainingAmount {
		t.Errorf("read %d plans, want %d", len(plans), len(want))
	}

	day := bssclient.DayOf(billingNow).AddDays(-2)
	req := bssclient.AnalysisRequest{Start: day.Start(), End: day.End(), PeriodType: bssclient.PeriodDay, ResourceType: bssclient.ResourceTypeRI}
	usage, err := c.DescribeResourceUsageTotal(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if want := s.world.ResourceUsage(req, billingNow); usage.TotalUsage.UsagePercentage != want.TotalUsage.UsagePercentage || len(usage.PeriodCoverage) != 1 {
		t.Errorf("RI usage %+v, want %+v", usage, want)
	}

	if err := s.world.SetCommitmentAPIAvailable(bssclient.ActionQueryCashCoupons, false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.QueryCashCoupons(t.Context()); !bssclient.IsUnavailable(err) || bssclient.IsRetryable(err) {
		t.Errorf("QueryCashCoupons on an account without it: %v, want an unavailable, not retryable error", err)
	}
	if _, err := c.QueryPrepaidCards(t.Context()); err != nil {
		t.Errorf("QueryPrepaidCards: %v", err)
	}
}
