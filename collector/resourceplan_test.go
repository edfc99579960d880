package collector

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/proctest"

	"github.com/go-kit/log"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
)

var resourcePlanFamilies = []string{
	"aliyun_billing_resource_plan_info", "aliyun_billing_resource_plan_capacity_bytes", "aliyun_billing_resource_plan_remaining_bytes",
	"aliyun_billing_resource_plan_capacity", "aliyun_billing_resource_plan_remaining", "aliyun_billing_resource_plan_remaining_ratio",
	"aliyun_billing_resource_plan_effective_timestamp_seconds", "aliyun_billing_resource_plan_expiry_timestamp_seconds",
}

const apiAvailableFamily = "aliyun_billing_commitments_api_available"

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func unixText(t time.Time) string { return fmtFloat(float64(t.UnixNano()) / 1e9) }

// resourcePlanSamples is what the world's plans must show at at: those
// running and those expired within the last 7 days.
func resourcePlanSamples(plans []bssclient.ResourcePackageInstance, at time.Time) []sample {
	var out []sample
	bytesPer := map[string]float64{"GB": 1 << 30, "TB": 1 << 40}
	for _, p := range plans {
		if p.ExpiryTime.Before(at.Add(-7 * 24 * time.Hour)) {
			continue
		}
		id := map[string]string{"account": testAccount, "instance_id": p.InstanceID}
		with := func(k, v string) map[string]string {
			m := map[string]string{k: v}
			for a, b := range id {
				m[a] = b
			}
			return m
		}
		info := with("product_code", p.CommodityCode)
		for k, v := range map[string]string{"package_type": p.PackageType, "region_id": p.Region, "status": p.Status, "deduct_type": p.DeductType} {
			info[k] = v
		}
		out = append(out, sample{name: "aliyun_billing_resource_plan_info", labels: info, value: "1"})
		total, _ := strconv.ParseFloat(p.TotalAmount.String(), 64)
		remaining, _ := strconv.ParseFloat(p.RemainingAmount.String(), 64)
		if b, ok := bytesPer[p.TotalAmountUnit]; ok {
			out = append(out,
				sample{name: "aliyun_billing_resource_plan_capacity_bytes", labels: id, value: fmtFloat(total * b)},
				sample{name: "aliyun_billing_resource_plan_remaining_bytes", labels: id, value: fmtFloat(remaining * b)})
		} else {
			out = append(out,
				sample{name: "aliyun_billing_resource_plan_capacity", labels: with("unit", p.TotalAmountUnit), value: fmtFloat(total)},
				sample{name: "aliyun_billing_resource_plan_remaining", labels: with("unit", p.RemainingAmountUnit), value: fmtFloat(remaining)})
		}
		out = append(out,
			sample{name: "aliyun_billing_resource_plan_remaining_ratio", labels: id, value: fmtFloat(float64(p.RemainingAmount.Units()) / float64(p.TotalAmount.Units()))},
			sample{name: "aliyun_billing_resource_plan_effective_timestamp_seconds", labels: id, value: unixText(p.EffectiveTime.Time)},
			sample{name: "aliyun_billing_resource_plan_expiry_timestamp_seconds", labels: id, value: unixText(p.ExpiryTime.Time)})
	}
	return out
}

func availableSample(action string, up bool) sample {
	v := "0"
	if up {
		v = "1"
	}
	return sample{name: apiAvailableFamily, labels: map[string]string{"account": testAccount, "action": action}, value: v}
}

// TestResourcePlans: every plan as BSS lists it, running down as the clock
// moves; an account that cannot use the API gets one warning, no plan
// series, and a successful refresh.
func TestResourcePlans(t *testing.T) {
	logs := &proctest.Buffer{}
	h := startSim(t, simOptions{start: midMarch, collectors: []string{"resourceplan"}, logger: log.NewLogfmtLogger(logs)})
	families := append([]string{apiAvailableFamily}, resourcePlanFamilies...)
	const action = bssclient.ActionQueryResourcePackageInstances

	h.mustStep(midMarch)
	plans := h.world.ResourcePackages(midMarch)
	h.assertExposition(append(resourcePlanSamples(plans, midMarch), availableSample(action, true)), families...)

	later := midMarch.Add(10 * 24 * time.Hour)
	h.mustStep(later)
	h.assertExposition(append(resourcePlanSamples(h.world.ResourcePackages(later), later), availableSample(action, true)), families...)

	if err := h.world.SetCommitmentAPIAvailable(action, false); err != nil {
		t.Fatal(err)
	}
	h.mustStep(later.Add(time.Hour))
	h.mustStep(later.Add(2 * time.Hour))
	h.assertExposition([]sample{availableSample(action, false)}, families...)
	if n := strings.Count(logs.String(), "cannot use this BSS action"); n != 1 {
		t.Errorf("%d warnings about the unavailable action, want 1:\n%s", n, logs.String())
	}

	if err := h.world.SetCommitmentAPIAvailable(action, true); err != nil {
		t.Fatal(err)
	}
	back := later.Add(3 * time.Hour)
	h.mustStep(back)
	h.assertExposition(append(resourcePlanSamples(h.world.ResourcePackages(back), back), availableSample(action, true)), families...)

	// Any other failure fails the refresh and keeps the last plans.
	h.creds.set(bsssim.TestAccessKeyID, "not-the-secret")
	h.failedStep(back.Add(time.Hour), bssclient.CodeSignatureDoesNotMatch, "resourceplan")
	h.assertExposition(append(resourcePlanSamples(h.world.ResourcePackages(back), back), availableSample(action, true)), families...)
}
