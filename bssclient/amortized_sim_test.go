package bssclient_test

import (
	"context"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
)

// TestAmortizedTermEqualsThePayableThroughTheClient: what May's bills
// amortize into May and June, per instance, read through the client, is
// exactly what DescribeInstanceBill charged each instance in May.
func TestAmortizedTermEqualsThePayableThroughTheClient(t *testing.T) {
	s := startSim(t, smallWorld, func(c *bsssim.Config) {
		c.Clock = bsssim.NewManualClock(time.Date(2024, 7, 10, 12, 0, 0, 0, bssclient.BillingZone))
	})
	c, _ := newSimClient(t, s)
	ctx := context.Background()

	billed := map[string]bssclient.Money{}
	for d := may2024.FirstDay(); d.Cycle() == may2024; d = d.AddDays(1) {
		req := bssclient.InstanceBillRequest{BillingCycle: may2024, Granularity: bssclient.Daily, BillingDate: d}
		for page, err := range c.DescribeInstanceBill(ctx, req) {
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range page {
				billed[it.InstanceID], _ = billed[it.InstanceID].Add(it.PretaxAmount)
			}
		}
	}
	amortized := map[string]bssclient.Money{}
	spilled := false
	for _, cyc := range []bssclient.Cycle{may2024, may2024.Next()} {
		for page, err := range c.DescribeInstanceAmortizedCost(ctx, bssclient.AmortizedCostRequest{BillingCycle: cyc}) {
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range page {
				if it.ConsumePeriod != "202405" {
					continue
				}
				amortized[it.InstanceID], _ = amortized[it.InstanceID].Add(it.CurrentAmortizationPretaxAmount)
				spilled = spilled || (cyc != may2024 && !it.CurrentAmortizationPretaxAmount.IsZero())
			}
		}
	}
	if !spilled {
		t.Fatal("no May purchase is amortized into June: the test would not test a term")
	}
	for id, want := range billed {
		if got := amortized[id]; got != want {
			t.Errorf("%s: effective cost over its terms %s, payable %s", id, got, want)
		}
	}
	if len(amortized) != len(billed) {
		t.Errorf("%d instances amortized, %d billed", len(amortized), len(billed))
	}
}

// TestAmortizedWindowIsTwelveCycles: the simulator, like BSS, serves the
// current cycle and the 11 before it, and refuses the 13th and the future.
func TestAmortizedWindowIsTwelveCycles(t *testing.T) {
	s := startSim(t, smallWorld, nil) // billingNow: June 2024
	c, _ := newSimClient(t, s)
	for cyc, ok := range map[bssclient.Cycle]bool{
		{Year: 2023, Month: time.July}: true, {Year: 2024, Month: time.June}: true,
		{Year: 2023, Month: time.June}: false, {Year: 2024, Month: time.July}: false,
	} {
		var err error
		for _, err = range c.DescribeProductAmortizedCost(context.Background(), bssclient.AmortizedCostRequest{BillingCycle: cyc}) {
			if err != nil {
				break
			}
		}
		if (err == nil) != ok || (err != nil && bssclient.ErrorCode(err) != bssclient.CodeInvalidParameter) {
			t.Errorf("%s: err = %v, want served %v", cyc, err, ok)
		}
	}
}
