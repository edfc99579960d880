package collector

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

// keyedSums caps exactly as capSeries caps the same sums: the same series,
// in the same order, with ties, zero series, prefixes of label values and
// several currencies among them.
func TestKeyedSumsCapAsCapSeries(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	owners := []string{"1", "12", "2"} // "1" is a prefix of "12"
	currencies := []string{"CNY", "USD"}
	for round := range 50 {
		sums, agg := newKeyedSums(4), newAggregate()
		for range rng.IntN(400) {
			labels := []string{owners[rng.IntN(3)], fmt.Sprint("bucket-", rng.IntN(120)), "cn-hangzhou", currencies[rng.IntN(2)]}
			amounts := bssclient.Amounts{PretaxAmount: bssclient.MoneyFromUnits(int64(rng.IntN(5)-1) * 1e6), PretaxGrossAmount: bssclient.MoneyFromUnits(int64(rng.IntN(3)))}
			if _, err := sums.add(labels, amounts); err != nil {
				t.Fatal(err)
			}
			if err := agg.add(labels, amounts); err != nil {
				t.Fatal(err)
			}
		}
		maxSeries := rng.IntN(60) + 1
		want, err := capSeries(agg.sorted(), maxSeries, overflowBucketOf)
		if err != nil {
			t.Fatal(err)
		}
		got, err := sums.capped(maxSeries, overflowBucketOf)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.EqualFunc(got, want, func(a, b series) bool { return slices.Equal(a.labels, b.labels) && a.amounts == b.amounts }) {
			t.Fatalf("round %d, cap %d:\n got %v\nwant %v", round, maxSeries, got, want)
		}
		if n, m := len(sums.series()), len(agg.sorted()); n != m {
			t.Fatalf("round %d: series() has %d series, the aggregate %d", round, n, m)
		}
	}
}

func TestCompareKeysOrdersAsLabels(t *testing.T) {
	key := func(l ...string) string {
		var b []byte
		for _, v := range l {
			b = append(append(b, v...), 0xff)
		}
		return string(b)
	}
	pairs := [][2][]string{
		{{"1", "b"}, {"12", "a"}},
		{{"12", "a"}, {"1", "b"}},
		{{"a", "b"}, {"a", "b"}},
		{{"a", ""}, {"a", "b"}},
		{{"", "z"}, {"a", "a"}},
	}
	for _, p := range pairs {
		if got, want := compareKeys(key(p[0]...), key(p[1]...)), slices.Compare(p[0], p[1]); got != want {
			t.Errorf("compareKeys(%q, %q) = %d, slices.Compare says %d", p[0], p[1], got, want)
		}
	}
}
