package collector

import (
	"bytes"
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
		sums, agg := newKeyedSums(4, ossBucketLabel), newAggregate()
		for range rng.IntN(400) {
			labels := []string{owners[rng.IntN(3)], fmt.Sprint("bucket-", rng.IntN(120)), "cn-hangzhou", currencies[rng.IntN(2)]}
			// Payables tie often; list prices are finer than a slot and
			// some past its range, so kept whole.
			amounts := bssclient.Amounts{PretaxAmount: bssclient.MoneyFromUnits(int64(rng.IntN(5)-1) * 1e6),
				PretaxGrossAmount: bssclient.MoneyFromUnits([]int64{0, 1, 3e13, -7e16}[rng.IntN(4)])}
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

// keyedSums orders the keys of equal amounts as slices.Compare orders
// their label values, whether a label is numbered or held as it is.
func TestKeyedSumsOrderAsLabels(t *testing.T) {
	pairs := [][2][]string{
		{{"1", "b"}, {"12", "a"}},
		{{"12", "a"}, {"1", "b"}},
		{{"a", "b"}, {"a", "b"}},
		{{"a", ""}, {"a", "b"}},
		{{"", "z"}, {"a", "a"}},
		{{"b", "a"}, {"a", "a"}}, // "b" numbered before "a"
	}
	for raw := range 2 {
		sums := newKeyedSums(2, raw)
		for _, p := range pairs {
			i, _ := sums.add(p[0], bssclient.Amounts{})
			j, _ := sums.add(p[1], bssclient.Amounts{})
			if got, want := sums.compareAt(i, j), slices.Compare(p[0], p[1]); got != want {
				t.Errorf("label %d held as it is: %q against %q is %d, slices.Compare says %d", raw, p[0], p[1], got, want)
			}
			if got := sums.seriesAt(i).labels; !slices.Equal(got, p[0]) {
				t.Errorf("label %d held as it is: %q reads back as %q", raw, p[0], got)
			}
		}
	}
}

// An amountTable gives back exactly what was added, whatever the units:
// sums a slot holds, sums finer or larger than a slot, sums that pass from
// one to the other and back, and an overflow that changes nothing.
func TestAmountTableIsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	units := []int64{0, 1e4, -1e4, 123_4567_0000, 1, -3, 5e12, -5e12, 1<<31 - 1, 1 << 31, -1 << 31, -1<<31 + 1, 9e17}
	var table amountTable
	want := make([]bssclient.Amounts, 3000)
	for range 20000 {
		i := rng.IntN(len(want))
		var a bssclient.Amounts
		for _, f := range a.Columns() {
			*f = bssclient.MoneyFromUnits(units[rng.IntN(len(units))])
		}
		sum, err := want[i].Add(a)
		if got := table.add(i, a); (got != nil) != (err != nil) {
			t.Fatalf("add(%d, %v) = %v, Amounts.Add says %v", i, a, got, err)
		}
		if err == nil {
			want[i] = sum
		}
		if got := table.get(i); got != want[i] {
			t.Fatalf("position %d holds %v, want %v", i, got, want[i])
		}
	}
	for i := range want {
		if got := table.get(i); got != want[i] || table.isZero(i) != (want[i] == bssclient.Amounts{}) || table.payable(i) != want[i].PretaxAmount.Units() {
			t.Fatalf("position %d holds %v (zero %t, payable %d), want %v", i, got, table.isZero(i), table.payable(i), want[i])
		}
	}
	wide := 0
	for i := range table.slots.len() {
		for _, slot := range table.slots.at(i) {
			if slot == slotWide {
				wide++
			}
		}
	}
	if wide == 0 || wide != len(table.wide) {
		t.Fatalf("%d slots say their sum is kept whole, and %d sums are: want as many, and some", wide, len(table.wide))
	}
	table.clear()
	for i := range want {
		if !table.isZero(i) || len(table.wide) != 0 {
			t.Fatalf("position %d after clear: %v, %d sums kept whole", i, table.get(i), len(table.wide))
		}
	}
}

// A keyTable gives each key one position, across chunks and table growth,
// a key longer than a chunk and the empty key included.
func TestKeyTablePositions(t *testing.T) {
	keys := [][]byte{{}, bytes.Repeat([]byte("x"), 3<<20)}
	for i := range 200_000 {
		keys = append(keys, fmt.Appendf(nil, "%d prod-logs-%08x", i%37, i))
	}
	table := newKeyTable()
	for round := range 2 {
		for i, k := range keys {
			if got := table.put(k); got != i {
				t.Fatalf("round %d: key %d put at %d", round, i, got)
			}
		}
	}
	for i, k := range keys {
		if !bytes.Equal(table.key(i), k) {
			t.Fatalf("key %d reads back as %.40q", i, table.key(i))
		}
	}
}
