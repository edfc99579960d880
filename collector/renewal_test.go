package collector

import (
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
)

var renewalFamilies = []string{
	"aliyun_billing_instances_expiring_without_auto_renew",
	"aliyun_billing_instance_next_expiry_without_auto_renew_timestamp_seconds",
	apiAvailableFamily,
}

// renewalSamples counts the world's instances at at as the collector must.
func renewalSamples(instances []bssclient.AvailableInstance, at time.Time) []sample {
	type group struct {
		d7, d30 int
		next    time.Time
	}
	groups := map[[2]string]*group{}
	for _, in := range instances {
		left := in.EndTime.Sub(at)
		if in.SubscriptionType != "Subscription" || in.RenewStatus == "AutoRenewal" || in.EndTime.IsZero() || left < 0 || left > 30*24*time.Hour {
			continue
		}
		k := [2]string{string(in.OwnerID), in.ProductCode}
		g := groups[k]
		if g == nil {
			g = &group{}
			groups[k] = g
		}
		g.d30++
		if left <= 7*24*time.Hour {
			g.d7++
		}
		if g.next.IsZero() || in.EndTime.Before(g.next) {
			g.next = in.EndTime.Time
		}
	}
	var out []sample
	for k, g := range groups {
		labels := func(extra ...string) map[string]string {
			m := map[string]string{"account": testAccount, "owner_id": k[0], "product_code": k[1]}
			if len(extra) == 2 {
				m[extra[0]] = extra[1]
			}
			return m
		}
		out = append(out,
			sample{name: "aliyun_billing_instances_expiring_without_auto_renew", labels: labels("within", "7d"), value: strconv.Itoa(g.d7)},
			sample{name: "aliyun_billing_instances_expiring_without_auto_renew", labels: labels("within", "30d"), value: strconv.Itoa(g.d30)},
			sample{name: "aliyun_billing_instance_next_expiry_without_auto_renew_timestamp_seconds", labels: labels(), value: unixText(g.next)})
	}
	return append(out, availableSample(bssclient.ActionQueryAvailableInstances, true))
}

// TestRenewals: instances expiring without auto-renew, counted per owner
// and product as the clock moves; at least one within 7 days at any time.
func TestRenewals(t *testing.T) {
	h := startSim(t, simOptions{start: midMarch, collectors: []string{"renewal"}})
	for _, at := range []time.Time{midMarch, midMarch.Add(3 * 24 * time.Hour), midMarch.Add(20 * 24 * time.Hour)} {
		h.mustStep(at)
		want := renewalSamples(h.world.AvailableInstances(at), at)
		within7 := 0
		for _, s := range want {
			if s.labels["within"] == "7d" {
				n, _ := strconv.Atoi(s.value)
				within7 += n
			}
		}
		if within7 == 0 {
			t.Fatalf("at %s no instance expires within 7 days without auto-renew; the test proves little", at)
		}
		h.assertExposition(want, renewalFamilies...)
	}

	if err := h.world.SetCommitmentAPIAvailable(bssclient.ActionQueryAvailableInstances, false); err != nil {
		t.Fatal(err)
	}
	h.mustStep(midMarch.Add(21 * 24 * time.Hour))
	h.assertExposition([]sample{availableSample(bssclient.ActionQueryAvailableInstances, false)}, renewalFamilies...)

	if err := h.world.SetCommitmentAPIAvailable(bssclient.ActionQueryAvailableInstances, true); err != nil {
		t.Fatal(err)
	}
	at := midMarch.Add(22 * 24 * time.Hour)
	h.mustStep(at)
	want := renewalSamples(h.world.AvailableInstances(at), at)
	h.assertExposition(want, renewalFamilies...)
	h.creds.set(bsssim.TestAccessKeyID, "not-the-secret")
	h.failedStep(at.Add(time.Hour), bssclient.CodeSignatureDoesNotMatch, "renewal")
	h.assertExposition(want, renewalFamilies...)
}

const instanceExpiryFamily = "aliyun_billing_instance_expiry_without_auto_renew_timestamp_seconds"

// instanceExpirySamples is the per-instance detail the collector must show
// at at with a cap of maxInstances: the soonest instances (ties by ID) with
// their own series; per owner and product, the soonest expiry of the rest
// under __overflow__.
func instanceExpirySamples(instances []bssclient.AvailableInstance, at time.Time, maxInstances int) []sample {
	var due []bssclient.AvailableInstance
	for _, in := range instances {
		left := in.EndTime.Sub(at)
		if in.SubscriptionType == "Subscription" && in.RenewStatus != "AutoRenewal" && !in.EndTime.IsZero() && left >= 0 && left <= 30*24*time.Hour {
			due = append(due, in)
		}
	}
	sort.Slice(due, func(i, j int) bool {
		if !due[i].EndTime.Equal(due[j].EndTime.Time) {
			return due[i].EndTime.Before(due[j].EndTime.Time)
		}
		return due[i].InstanceID < due[j].InstanceID
	})
	var out []sample
	overflow := map[[2]string]time.Time{}
	for i, in := range due {
		owner, product := string(in.OwnerID), in.ProductCode
		if i >= maxInstances {
			if _, ok := overflow[[2]string{owner, product}]; !ok {
				overflow[[2]string{owner, product}] = in.EndTime.Time
			}
			continue
		}
		out = append(out, sample{name: instanceExpiryFamily, value: unixText(in.EndTime.Time),
			labels: map[string]string{"account": testAccount, "owner_id": owner, "product_code": product, "instance_id": in.InstanceID}})
	}
	for k, end := range overflow {
		out = append(out, sample{name: instanceExpiryFamily, value: unixText(end),
			labels: map[string]string{"account": testAccount, "owner_id": k[0], "product_code": k[1], "instance_id": "__overflow__"}})
	}
	return out
}

// TestRenewalPerInstance: with --collector.renewal.per-instance, each
// instance expiring without auto-renew has its expiry, the soonest first up
// to the cap, and every owner and product left out keeps its next expiry
// in an overflow series.
func TestRenewalPerInstance(t *testing.T) {
	for _, maxInstances := range []int{3, 1000} {
		t.Run(strconv.Itoa(maxInstances), func(t *testing.T) {
			h := startSim(t, simOptions{start: midMarch, collectors: []string{"renewal"}, configure: func(c *Config) {
				c.Renewal = RenewalConfig{PerInstance: true, MaxInstances: maxInstances}
			}})
			for _, at := range []time.Time{midMarch, midMarch.Add(20 * 24 * time.Hour)} {
				h.mustStep(at)
				all := h.world.AvailableInstances(at)
				want := instanceExpirySamples(all, at, maxInstances)
				overflow := 0
				for _, s := range want {
					if s.labels["instance_id"] == "__overflow__" {
						overflow++
					}
				}
				if (maxInstances == 3) != (overflow > 0) {
					t.Fatalf("cap %d at %s: %d overflow series; the world no longer shows the cap (or the no-cap case)", maxInstances, at, overflow)
				}
				h.assertExposition(want, instanceExpiryFamily)
			}
		})
	}
}
