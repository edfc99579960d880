package collector

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
)

const subscriptionFamily = "aliyun_billing_bill_subscription_info"

func subscriptionSamples(subs []bssclient.BillSubscription) []sample {
	var out []sample
	for _, s := range subs {
		out = append(out, sample{name: subscriptionFamily, value: "1", labels: map[string]string{
			"account":         testAccount,
			"bucket":          s.SubscribeBucket,
			"bucket_owner_id": strconv.FormatInt(s.BucketOwnerID, 10),
			"subscribe_type":  s.SubscribeType,
			"language":        s.SubscribeLanguage,
			"path":            s.BucketPath,
			"row_limit":       strconv.FormatInt(s.RowLimitPerFile, 10),
		}})
	}
	return out
}

// TestSubscription: one info series per bill subscription, kept when a
// refresh fails.
func TestSubscription(t *testing.T) {
	h := startSim(t, simOptions{start: midMarch, collectors: []string{"subscription"}})
	h.mustStep(midMarch)
	subs := h.world.Subscriptions()
	if len(subs) < 2 {
		t.Fatalf("%d subscriptions; the test needs several", len(subs))
	}
	h.assertExposition(subscriptionSamples(subs), subscriptionFamily)

	h.creds.set("LTAI5tNoSuchKey000001", bsssim.TestAccessKeySecret)
	h.failedStep(midMarch, bssclient.CodeInvalidAccessKeyID, "subscription")
	h.assertExposition(subscriptionSamples(subs), subscriptionFamily)
	h.assertExposition(h.expectRefreshState(), successFamily, failuresFamily)
}

// fakeSubscriptions answers QueryBillToOSSSubscription with literal rows.
type fakeSubscriptions struct {
	fakeAccountBill
	subs []bssclient.BillSubscription
}

func (f *fakeSubscriptions) QueryBillToOSSSubscription(context.Context) ([]bssclient.BillSubscription, error) {
	return f.subs, nil
}

// TestSubscriptionRepeatedRow: a subscription BSS lists twice is one series,
// the first, rather than a duplicate that would fail the whole scrape.
func TestSubscriptionRepeatedRow(t *testing.T) {
	a := bssclient.BillSubscription{SubscribeBucket: "bills", BucketOwnerID: 1000000000000001, BucketPath: "daily/",
		SubscribeType: "BillingItemDetailForBillingPeriod", SubscribeLanguage: "en", RowLimitPerFile: 300000}
	again := a
	again.SubscribeLanguage = "zh"
	b := a
	b.SubscribeType = "InstanceDetailForBillingPeriod"
	fake := &fakeSubscriptions{subs: []bssclient.BillSubscription{a, again, b}}
	cfg := DefaultConfig()
	exp, err := New(Account{Name: testAccount, Client: fake}, []Enabled{{Name: "subscription", Interval: time.Hour}}, cfg, log.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	if err := exp.RefreshOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	assertCollected(t, exp, subscriptionSamples([]bssclient.BillSubscription{a, b}), subscriptionFamily)
}
