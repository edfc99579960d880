package collector

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/proctest"

	"github.com/go-kit/log"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
)

// splitItemsWorld is testWorld, whose split rows are one per billing item
// of a bucket, as BSS is believed to answer.
func splitItemsWorld() *bsssim.WorldConfig {
	w := testWorld
	return &w
}

// splitBucketsWorld is testWorld answering the other documented-possible
// form: one split row per bucket, BillingItem and BillingItemCode empty.
func splitBucketsWorld() *bsssim.WorldConfig {
	w := testWorld
	w.SplitRowPerBucket = true
	return &w
}

// TestOSSBucketBillingItem: with --collector.ossbucket.billing-item, the
// per-bucket per-item series are the simulator's truth, and summed over
// billing_item they are exactly the per-bucket series without the option,
// whichever form the split bill answers in. Rows without a billing item
// show billing_item="unknown".
func TestOSSBucketBillingItem(t *testing.T) {
	for _, form := range []struct {
		name  string
		world *bsssim.WorldConfig
		items []string
	}{
		{"row per billing item", splitItemsWorld(), []string{"net_out", "requests", "storage"}},
		{"row per bucket", splitBucketsWorld(), []string{orUnknown("")}},
	} {
		t.Run(form.name, func(t *testing.T) { testOSSBucketBillingItem(t, form.world, form.items) })
	}
}

func testOSSBucketBillingItem(t *testing.T, world *bsssim.WorldConfig, wantItems []string) {
	items := startSim(t, simOptions{world: world, start: midMarch, collectors: []string{"ossbucket"},
		configure: func(c *Config) { c.OSSBucket.BillingItem = true }})
	plain := startSim(t, simOptions{world: world, start: midMarch, collectors: []string{"ossbucket"}})
	items.mustStep(midMarch)
	plain.mustStep(midMarch)
	items.assertModel()
	plain.assertModel()
	for _, family := range []string{"aliyun_billing_ossbucket_daily_payable", "aliyun_billing_ossbucket_cycle_payable"} {
		perItem, perBucket := gatheredFamily(t, items.exp, family), gatheredFamily(t, plain.exp, family)
		if len(perBucket) == 0 {
			t.Fatalf("%s: no series; the test proves nothing", family)
		}
		t.Logf("%s: %d series without billing_item, %d with", family, len(perBucket), len(perItem))
		sums := map[string][]gotSample{}
		codes := map[string]map[string]bool{}
		for _, s := range perItem {
			k := bucketKey(s)
			sums[k] = append(sums[k], s)
			if codes[k] == nil {
				codes[k] = map[string]bool{}
			}
			codes[k][s.labels["billing_item"]] = true
		}
		if len(sums) != len(perBucket) {
			t.Errorf("%s: %d buckets with billing_item, %d without", family, len(sums), len(perBucket))
		}
		for _, b := range perBucket {
			k := bucketKey(b)
			if got := exactSum(sums[k]); got.Cmp(exactSum([]gotSample{b})) != 0 {
				t.Errorf("%s %s: billing items sum to %s, bucket is %v", family, k, got.FloatString(6), b.value)
			}
			if !slices.Equal(slices.Sorted(maps.Keys(codes[k])), wantItems) {
				t.Errorf("%s %s: billing items %v, want %v", family, k, slices.Sorted(maps.Keys(codes[k])), wantItems)
			}
		}
	}
}

// bucketKey names a sample's bucket and day, without its billing item.
func bucketKey(s gotSample) string {
	l := maps.Clone(s.labels)
	delete(l, "billing_item")
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(l)) {
		parts = append(parts, k+"="+l[k])
	}
	return strings.Join(parts, ",") + "@" + strconv.FormatInt(s.tsMs, 10)
}

// TestBucketCapCountsBucketsNotItems: with billing_item and a cap of two
// buckets, each day shows every item of two buckets plus one overflow per
// billing item, and the totals stay exact.
func TestBucketCapCountsBucketsNotItems(t *testing.T) {
	const maxBuckets = 2
	capped := startSim(t, simOptions{world: splitItemsWorld(), start: midMarch, collectors: []string{"ossbucket"},
		configure: func(c *Config) { c.OSSBucket.BillingItem = true; c.OSSBucket.MaxBuckets = maxBuckets }})
	full := startSim(t, simOptions{world: splitItemsWorld(), start: midMarch, collectors: []string{"ossbucket"},
		configure: func(c *Config) { c.OSSBucket.BillingItem = true }})
	capped.mustStep(midMarch)
	full.mustStep(midMarch)
	for _, family := range []string{"aliyun_billing_ossbucket_daily_payable", "aliyun_billing_ossbucket_cycle_payable"} {
		got, want := gatheredFamily(t, capped.exp, family), gatheredFamily(t, full.exp, family)
		byTime := map[int64][]gotSample{}
		for _, s := range got {
			byTime[s.tsMs] = append(byTime[s.tsMs], s)
		}
		wantByTime := map[int64][]gotSample{}
		for _, s := range want {
			wantByTime[s.tsMs] = append(wantByTime[s.tsMs], s)
		}
		if len(byTime) == 0 || len(byTime) != len(wantByTime) {
			t.Fatalf("%s: capped shows %d days, uncapped %d", family, len(byTime), len(wantByTime))
		}
		for ts, series := range byTime {
			buckets := map[string]bool{}
			overflowItems := 0
			for _, s := range series {
				if s.labels["bucket"] == overflowBucket {
					overflowItems++
					continue
				}
				buckets[s.labels["owner_id"]+"/"+s.labels["bucket"]] = true
				if !containsSample(wantByTime[ts], s) {
					t.Errorf("%s at %d: kept %v = %v differs from its uncapped value", family, ts, s.labels, s.value)
				}
			}
			if len(buckets) != maxBuckets || overflowItems != 3 || len(series) != 3*(maxBuckets+1) {
				t.Errorf("%s at %d: %d buckets, %d overflow series, %d series; want %d, 3, %d", family, ts, len(buckets), overflowItems, len(series), maxBuckets, 3*(maxBuckets+1))
			}
			if g, w := exactSum(series), exactSum(wantByTime[ts]); g.Cmp(w) != 0 {
				t.Errorf("%s at %d: capped total %s, uncapped %s", family, ts, g.FloatString(6), w.FloatString(6))
			}
		}
	}
}

// TestStateWithoutBillingItemIsNotReused: a state file written without
// billing_item is read from BSS again once the option is on.
func TestStateWithoutBillingItemIsNotReused(t *testing.T) {
	dir := t.TempDir()
	startSim(t, simOptions{world: splitItemsWorld(), start: midMarch, collectors: []string{"ossbucket"},
		configure: func(c *Config) { c.StateDir = dir }}).mustStep(midMarch)
	logs := &proctest.Buffer{}
	h := startSim(t, simOptions{world: splitItemsWorld(), start: midMarch, collectors: []string{"ossbucket"}, logger: log.NewLogfmtLogger(logs),
		configure: func(c *Config) { c.StateDir = dir; c.OSSBucket.BillingItem = true }})
	h.mustStep(midMarch)
	h.assertModel()
	if !strings.Contains(logs.String(), "written with other options") {
		t.Errorf("no warning about the options:\n%s", logs)
	}
}
