package collector

import (
	"cmp"
	"slices"
	"strings"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

// series is one label set and its exact amounts.
type series struct {
	labels  []string
	amounts bssclient.Amounts
}

// aggregate sums bill rows into series keyed by label values, exactly.
type aggregate struct {
	index  map[string]int
	series []series
	key    []byte // reused to look up keys without allocating
}

func newAggregate() *aggregate { return &aggregate{index: map[string]int{}} }

// add sums amounts into the series with these label values. labels is
// copied only when the series is new, so callers may reuse the slice.
func (a *aggregate) add(labels []string, amounts bssclient.Amounts) error {
	a.key = appendKey(a.key[:0], labels)
	if i, ok := a.index[string(a.key)]; ok {
		sum, err := a.series[i].amounts.Add(amounts)
		if err != nil {
			return err
		}
		a.series[i].amounts = sum
		return nil
	}
	key := string(a.key)
	a.index[key] = len(a.series)
	a.series = append(a.series, series{labels: splitKey(key, len(labels)), amounts: amounts})
	return nil
}

// splitKey returns the n label values of key as substrings of it: a new
// series keeps one copy of its label values, its key, rather than the key
// and the strings of the bill row that made it (on an account with
// 250,000 buckets a day, that is about 100 bytes a bucket).
func splitKey(key string, n int) []string {
	labels := make([]string, n)
	for i := range labels {
		end := strings.IndexByte(key, 0xff)
		labels[i], key = key[:end], key[end+1:]
	}
	return labels
}

// subtractAt subtracts amounts from the i-th series.
func (a *aggregate) subtractAt(i int, amounts bssclient.Amounts) error {
	diff, err := a.series[i].amounts.Add(negate(amounts))
	if err != nil {
		return err
	}
	a.series[i].amounts = diff
	return nil
}

// addAll sums every series of b into a.
func (a *aggregate) addAll(b []series) error {
	for _, s := range b {
		if err := a.add(s.labels, s.amounts); err != nil {
			return err
		}
	}
	return nil
}

// subtractAll subtracts every series of b from a.
func (a *aggregate) subtractAll(b []series) error {
	for _, s := range b {
		if err := a.add(s.labels, negate(s.amounts)); err != nil {
			return err
		}
	}
	return nil
}

// sorted returns the series ordered by labels, dropping those whose amounts
// are all zero (a series that exists only in data a subtraction removed).
func (a *aggregate) sorted() []series {
	out := make([]series, 0, len(a.series))
	for _, s := range a.series {
		if s.amounts != (bssclient.Amounts{}) {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, compareLabels)
	return out
}

// compareLabels orders series by their label values.
func compareLabels(x, y series) int { return slices.Compare(x.labels, y.labels) }

func negate(a bssclient.Amounts) bssclient.Amounts {
	for _, m := range a.Columns() {
		*m = m.Neg()
	}
	return a
}

// withLabels returns s with the account label put in front and back after,
// for families that add labels (account, billing cycle) to stored series.
func withLabels(s series, account string, back ...string) series {
	return series{labels: slices.Concat([]string{account}, s.labels, back), amounts: s.amounts}
}

// orUnknown keeps a label value non-empty, so that a blank field in a bill
// is visible as such rather than merging with another series' absence.
func orUnknown(s string) string { return cmp.Or(strings.TrimSpace(s), "unknown") }

// capSeries keeps the max series with the largest payable amount and sums
// the rest into overflow series, labelled by overflowOf, so that the kept
// series and the overflow always add up to the total. Series beyond the cap
// that billed nothing still make an overflow series of 0, so a capped set
// has the same overflow series whatever the amounts.
func capSeries(all []series, maxSeries int, overflowOf func(series) []string) ([]series, error) {
	// Rank positions rather than a copy of the series: all may hold every
	// bucket of a day, and a copy would double what the ranking holds.
	order := make([]int32, len(all))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(i, j int32) int {
		a, b := &all[i], &all[j]
		if c := cmp.Compare(b.amounts.PretaxAmount.Units(), a.amounts.PretaxAmount.Units()); c != 0 {
			return c
		}
		return slices.Compare(a.labels, b.labels)
	})
	return keepRanked(order, maxSeries, func(i int32) series { return all[i] }, overflowOf)
}

// keepRanked returns the series at the first maxSeries positions of order
// (ranked, largest first) and sums the rest into overflow series labelled
// by overflowOf, sorted by labels. seriesAt makes the series at a position:
// keyedSums makes labels only when asked.
func keepRanked(order []int32, maxSeries int, seriesAt func(int32) series, overflowOf func(series) []string) ([]series, error) {
	kept := make([]series, 0, min(maxSeries, len(order)))
	for _, i := range order[:cap(kept)] {
		kept = append(kept, seriesAt(i))
	}
	if len(order) <= maxSeries {
		return kept, nil
	}
	overflow := newAggregate()
	for _, i := range order[maxSeries:] {
		s := seriesAt(i)
		if err := overflow.add(overflowOf(s), s.amounts); err != nil {
			return nil, err
		}
	}
	rest := overflow.series // not sorted(), which drops all-zero series
	slices.SortFunc(rest, compareLabels)
	return append(kept, rest...), nil
}

// appendKey appends the key of labels to dst: each value ended by 0xff,
// which is not valid UTF-8 and so never inside a label value.
func appendKey(dst []byte, labels []string) []byte {
	for _, l := range labels {
		dst = append(dst, l...)
		dst = append(dst, 0xff)
	}
	return dst
}
