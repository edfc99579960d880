package bsssim_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/bssopenapi"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
)

// TestOfficialSDKReadsCommitments: the classic SDK's typed requests and
// responses read every commitment action, and see what the World holds.
func TestOfficialSDKReadsCommitments(t *testing.T) {
	run, world := startSDKSim(t)
	client, err := bssopenapi.NewClientWithAccessKey("cn-hangzhou", bsssim.TestAccessKeyID, bsssim.TestAccessKeySecret)
	if err != nil {
		t.Fatal(err)
	}
	at := func(r *requests.RpcRequest) { r.Scheme, r.Domain = "http", run.Host }

	rp := bssopenapi.CreateQueryResourcePackageInstancesRequest()
	at(rp.RpcRequest)
	rp.PageSize = requests.NewInteger(300)
	rpr, err := client.QueryResourcePackageInstances(rp)
	if err != nil {
		t.Fatal(classicError(err))
	}
	plans := world.ResourcePackages(sdkBillingNow)
	if rpr.Data.TotalCount != strconv.Itoa(len(plans)) || len(rpr.Data.Instances.Instance) != len(plans) ||
		rpr.Data.Instances.Instance[0].RemainingAmount != plans[0].RemainingAmount {
		t.Errorf("QueryResourcePackageInstances parsed as %+v", rpr.Data)
	}

	sp := bssopenapi.CreateQuerySavingsPlansInstanceRequest()
	at(sp.RpcRequest)
	spr, err := client.QuerySavingsPlansInstance(sp)
	if err != nil {
		t.Fatal(classicError(err))
	}
	if want := world.SavingsPlans(sdkBillingNow); spr.Data.TotalCount != len(want) || spr.Data.Items[0].Utilization != want[0].Utilization {
		t.Errorf("QuerySavingsPlansInstance parsed as %+v", spr.Data)
	}

	start := "2024-06-08 00:00:00"
	su := bssopenapi.CreateDescribeSavingsPlansUsageTotalRequest()
	at(su.RpcRequest)
	su.StartPeriod, su.PeriodType = start, "DAY"
	sur, err := client.DescribeSavingsPlansUsageTotal(su)
	if err != nil {
		t.Fatal(classicError(err))
	}
	if len(sur.Data.PeriodCoverage) != 3 || sur.Data.TotalUsage.UsagePercentage <= 0 {
		t.Errorf("DescribeSavingsPlansUsageTotal parsed as %+v", sur.Data)
	}
	sc := bssopenapi.CreateDescribeSavingsPlansCoverageTotalRequest()
	at(sc.RpcRequest)
	sc.StartPeriod, sc.PeriodType = start, "DAY"
	scr, err := client.DescribeSavingsPlansCoverageTotal(sc)
	if err != nil {
		t.Fatal(classicError(err))
	}
	if scr.Data.TotalCoverage.CoveragePercentage <= 0 {
		t.Errorf("DescribeSavingsPlansCoverageTotal parsed as %+v", scr.Data)
	}
	ru := bssopenapi.CreateDescribeResourceUsageTotalRequest()
	at(ru.RpcRequest)
	ru.StartPeriod, ru.PeriodType, ru.ResourceType = start, "DAY", "RI"
	rur, err := client.DescribeResourceUsageTotal(ru)
	if err != nil {
		t.Fatal(classicError(err))
	}
	if rur.Data.TotalUsage.UsagePercentage <= 0 {
		t.Errorf("DescribeResourceUsageTotal parsed as %+v", rur.Data)
	}
	rc := bssopenapi.CreateDescribeResourceCoverageTotalRequest()
	at(rc.RpcRequest)
	rc.StartPeriod, rc.PeriodType, rc.ResourceType = start, "DAY", "SCU"
	rcr, err := client.DescribeResourceCoverageTotal(rc)
	if err != nil {
		t.Fatal(classicError(err))
	}
	if rcr.Data.TotalCoverage.CoveragePercentage <= 0 || rcr.Data.TotalCoverage.CapacityUnit == "" {
		t.Errorf("DescribeResourceCoverageTotal parsed as %+v", rcr.Data)
	}

	ai := bssopenapi.CreateQueryAvailableInstancesRequest()
	at(ai.RpcRequest)
	ai.PageSize, ai.SubscriptionType = requests.NewInteger(300), "Subscription"
	air, err := client.QueryAvailableInstances(ai)
	if err != nil {
		t.Fatal(classicError(err))
	}
	subs := 0
	for _, in := range world.AvailableInstances(sdkBillingNow) {
		if in.SubscriptionType == "Subscription" {
			subs++
		}
	}
	if air.Data.TotalCount != subs || len(air.Data.InstanceList) != subs || air.Data.InstanceList[0].OwnerId == 0 {
		t.Errorf("QueryAvailableInstances parsed as %+v, want %d subscriptions", air.Data, subs)
	}

	cc := bssopenapi.CreateQueryCashCouponsRequest()
	at(cc.RpcRequest)
	ccr, err := client.QueryCashCoupons(cc)
	if err != nil {
		t.Fatal(classicError(err))
	}
	if want := world.CashCoupons(sdkBillingNow); len(ccr.Data.CashCoupon) != len(want) || ccr.Data.CashCoupon[0].Balance != want[0].Balance {
		t.Errorf("QueryCashCoupons parsed as %+v", ccr.Data)
	}
	pc := bssopenapi.CreateQueryPrepaidCardsRequest()
	at(pc.RpcRequest)
	pcr, err := client.QueryPrepaidCards(pc)
	if err != nil {
		t.Fatal(classicError(err))
	}
	if want := world.PrepaidCards(sdkBillingNow); len(pcr.Data.PrepaidCard) != len(want) || pcr.Data.PrepaidCard[0].Balance != want[0].Balance {
		t.Errorf("QueryPrepaidCards parsed as %+v", pcr.Data)
	}
}

// TestOfficialSDKReadsBillOverview: the classic SDK's typed QueryBillOverview
// reads the World's overview, tax included.
func TestOfficialSDKReadsBillOverview(t *testing.T) {
	run, world := startSDKSim(t)
	client, err := bssopenapi.NewClientWithAccessKey("cn-hangzhou", bsssim.TestAccessKeyID, bsssim.TestAccessKeySecret)
	if err != nil {
		t.Fatal(err)
	}
	req := bssopenapi.CreateQueryBillOverviewRequest()
	req.Scheme, req.Domain = "http", run.Host
	req.BillingCycle = sdkDay.Cycle().String()
	resp, err := client.QueryBillOverview(req)
	if err != nil {
		t.Fatal(classicError(err))
	}
	want := world.BillOverview(bsssim.BillOverviewRequest{BillingCycle: sdkDay.Cycle()}, sdkBillingNow)
	got := resp.Data.Items.Item
	if len(want) == 0 || len(got) != len(want) {
		t.Fatalf("%d items, want %d", len(got), len(want))
	}
	for i, it := range got {
		w := want[i]
		// The SDK reads amounts as float64; compare their text.
		if it.ProductCode != w.ProductCode || it.SubscriptionType != w.SubscriptionType ||
			strconv.FormatFloat(it.PretaxAmount, 'f', -1, 64) != strings.TrimRight(strings.TrimRight(w.PretaxAmount.String(), "0"), ".") {
			t.Errorf("item %d: %s %s %v, want %s %s %s", i, it.ProductCode, it.SubscriptionType, it.PretaxAmount,
				w.ProductCode, w.SubscriptionType, w.PretaxAmount)
		}
	}
}
