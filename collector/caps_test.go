package collector

import (
	"maps"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestBucketCapKeepsTotalsExact: with a cap of two buckets, each day and
// the cycle show at most two buckets plus one overflow series per
// currency, the overflow holds exactly what the others lost, and a kept
// bucket's cycle value is its whole cycle, not just the days it ranked high.
func TestBucketCapKeepsTotalsExact(t *testing.T) {
	const maxBuckets = 2
	start := midMarch
	capped := startSim(t, simOptions{start: start, collectors: []string{"ossbucket"}, configure: func(c *Config) {
		c.OSSBucket.MaxBuckets = maxBuckets
	}})
	full := startSim(t, simOptions{start: start, collectors: []string{"ossbucket"}})
	for _, step := range []time.Time{start, start.Add(24 * time.Hour)} {
		capped.mustStep(step)
		full.mustStep(step)
	}
	for _, family := range []string{"aliyun_billing_ossbucket_daily_payable", "aliyun_billing_ossbucket_cycle_payable"} {
		got, want := gatheredFamily(t, capped.exp, family), gatheredFamily(t, full.exp, family)
		if len(want) <= maxBuckets*len(timestampsOf(want)) {
			t.Fatalf("%s: only %d series uncapped; the test proves nothing", family, len(want))
		}
		byTime := func(ss []gotSample) map[int64][]gotSample {
			m := map[int64][]gotSample{}
			for _, s := range ss {
				m[s.tsMs] = append(m[s.tsMs], s)
			}
			return m
		}
		gotByTime, wantByTime := byTime(got), byTime(want)
		if !slices.Equal(slices.Sorted(maps.Keys(gotByTime)), slices.Sorted(maps.Keys(wantByTime))) {
			t.Fatalf("%s: capped shows days %v, uncapped %v", family, slices.Sorted(maps.Keys(gotByTime)), slices.Sorted(maps.Keys(wantByTime)))
		}
		for ts, series := range gotByTime {
			if len(series) != maxBuckets+1 {
				t.Errorf("%s at %d: %d series, want %d buckets and one overflow", family, ts, len(series), maxBuckets)
			}
			if g, w := exactSum(series), exactSum(wantByTime[ts]); g.Cmp(w) != 0 {
				t.Errorf("%s at %d: capped total %s, uncapped %s", family, ts, g.FloatString(6), w.FloatString(6))
			}
			overflows := 0
			for _, s := range series {
				if s.labels["bucket"] == overflowBucket {
					overflows++
					continue
				}
				if !containsSample(wantByTime[ts], s) {
					t.Errorf("%s at %d: kept bucket %v = %v differs from its uncapped value", family, ts, s.labels, s.value)
				}
			}
			if overflows != 1 {
				t.Errorf("%s at %d: %d overflow series, want 1", family, ts, overflows)
			}
		}
	}
}

// exactSum adds sample values as the decimals they were printed from.
func exactSum(ss []gotSample) *big.Rat {
	sum := new(big.Rat)
	for _, s := range ss {
		r, ok := new(big.Rat).SetString(strconv.FormatFloat(s.value, 'f', -1, 64))
		if !ok {
			panic(s.value)
		}
		sum.Add(sum, r)
	}
	return sum
}

func containsSample(ss []gotSample, want gotSample) bool {
	for _, s := range ss {
		if maps.Equal(s.labels, want.labels) && s.value == want.value && s.tsMs == want.tsMs {
			return true
		}
	}
	return false
}

func TestAmountColumns(t *testing.T) {
	h := startSim(t, simOptions{start: midMarch, collectors: []string{"account", "instance"}, configure: func(c *Config) {
		c.Amounts = map[string][]string{"account": {"outstanding", "payable"}}
	}})
	h.mustStep(midMarch)
	var names []string
	for _, mf := range gather(t, h.exp) {
		if n := mf.GetName(); strings.HasPrefix(n, "aliyun_billing_account_") || strings.HasPrefix(n, "aliyun_billing_instance_") {
			if len(mf.GetMetric()) > 0 {
				names = append(names, n)
			}
		}
	}
	want := []string{
		"aliyun_billing_account_cycle_outstanding", "aliyun_billing_account_cycle_payable",
		"aliyun_billing_account_daily_outstanding", "aliyun_billing_account_daily_payable",
		// instance is not listed: the default columns.
		"aliyun_billing_instance_cycle_list_price", "aliyun_billing_instance_cycle_payable",
		"aliyun_billing_instance_daily_list_price", "aliyun_billing_instance_daily_payable",
	}
	if !slices.Equal(names, want) {
		t.Errorf("families %v, want %v", names, want)
	}
}

func TestAmountColumnsValidation(t *testing.T) {
	for _, tc := range []struct {
		amounts map[string][]string
		want    string
	}{
		{map[string][]string{"account": {"payable", "tip"}}, `account amounts: unknown amount column "tip" (known: list_price, discount, coupon_deduction, payable, cash_paid, outstanding)`},
		{map[string][]string{"instance": {"payable", "payable"}}, `instance amounts: amount column "payable" is listed twice`},
		{map[string][]string{"ossbucket": {}}, `ossbucket amounts: no amount columns: name at least one of list_price, discount, coupon_deduction, payable, cash_paid, outstanding`},
		{map[string][]string{"balance": {"payable"}}, `amount columns for "balance": only account, instance, ossbucket have money columns`},
	} {
		cfg := DefaultConfig()
		cfg.Amounts = tc.amounts
		if err := cfg.Validate(); err == nil || err.Error() != tc.want {
			t.Errorf("Validate(%v) = %v, want %q", tc.amounts, err, tc.want)
		}
	}
	cfg := DefaultConfig()
	cfg.OSSBucket.MaxBuckets = 0
	if err := cfg.Validate(); err == nil || err.Error() != "bucket series cap must be at least 1, got 0" {
		t.Errorf("a bucket cap of 0: %v", err)
	}
}
