package collector

import (
	"cmp"
	"slices"
	"strings"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

// keyedSums sums bill rows into series as aggregate does, but holds each
// series as its key and amounts only, and makes label slices just for the
// series a cap keeps. The ossbucket collector's sums hold every bucket of a
// day or of a cycle, 330,000 and more on the biggest simulated account;
// without a label slice and a series header a bucket takes about 90 bytes
// less, some 30 MiB at that size.
type keyedSums struct {
	index   map[string]int32
	keys    []string // label values, each ended by 0xff, as aggregate keys them
	amounts []bssclient.Amounts
	width   int // label values per key
	key     []byte
}

func newKeyedSums(width int) *keyedSums { return newKeyedSumsFor(width, 0) }

// newKeyedSumsFor is newKeyedSums sized for about n series: at 330,000
// buckets, growing the map and slices by doubling holds the old and the
// new ones at once, half as much again as the sums themselves.
func newKeyedSumsFor(width, n int) *keyedSums {
	return &keyedSums{index: make(map[string]int32, n), keys: make([]string, 0, n),
		amounts: make([]bssclient.Amounts, 0, n), width: width}
}

// add sums amounts into the series with these label values and returns its
// position.
func (s *keyedSums) add(labels []string, amounts bssclient.Amounts) (int, error) {
	s.key = appendKey(s.key[:0], labels)
	if i, ok := s.index[string(s.key)]; ok {
		sum, err := s.amounts[i].Add(amounts)
		if err != nil {
			return 0, err
		}
		s.amounts[i] = sum
		return int(i), nil
	}
	key := string(s.key)
	s.index[key] = int32(len(s.keys))
	s.keys = append(s.keys, key)
	s.amounts = append(s.amounts, amounts)
	return len(s.keys) - 1, nil
}

// subtractAt subtracts amounts from the series at position i.
func (s *keyedSums) subtractAt(i int, amounts bssclient.Amounts) error {
	diff, err := s.amounts[i].Add(negate(amounts))
	if err != nil {
		return err
	}
	s.amounts[i] = diff
	return nil
}

// over is a read-only view of the same keys with other amounts, one per
// key (a zero one is no series).
func (s *keyedSums) over(amounts []bssclient.Amounts) *keyedSums {
	return &keyedSums{keys: s.keys, amounts: amounts, width: s.width}
}

func (s *keyedSums) seriesAt(i int) series {
	return series{labels: splitKey(s.keys[i], s.width), amounts: s.amounts[i]}
}

// nonZero returns the positions of the series whose amounts are not all
// zero, as aggregate.sorted and take drop the others.
func (s *keyedSums) nonZero() []int32 {
	var out []int32
	for i := range s.amounts {
		if s.amounts[i] != (bssclient.Amounts{}) {
			out = append(out, int32(i))
		}
	}
	return out
}

// series returns every series whose amounts are not all zero, with labels.
func (s *keyedSums) series() []series {
	nz := s.nonZero()
	out := make([]series, len(nz))
	for j, i := range nz {
		out[j] = s.seriesAt(int(i))
	}
	return out
}

// capped is capSeries of series(): the same series in the same order,
// without making labels for the series the cap sums into overflow.
func (s *keyedSums) capped(maxSeries int, overflowOf func(series) []string) ([]series, error) {
	order := s.nonZero()
	slices.SortFunc(order, func(i, j int32) int {
		if c := cmp.Compare(s.amounts[j].PretaxAmount.Units(), s.amounts[i].PretaxAmount.Units()); c != 0 {
			return c
		}
		return compareKeys(s.keys[i], s.keys[j])
	})
	return keepRanked(order, maxSeries, func(i int32) series { return s.seriesAt(int(i)) }, overflowOf)
}

// compareKeys orders two keys of the same width as slices.Compare orders
// their label values.
func compareKeys(a, b string) int {
	for a != "" && b != "" {
		i, j := strings.IndexByte(a, 0xff), strings.IndexByte(b, 0xff)
		if c := strings.Compare(a[:i], b[:j]); c != 0 {
			return c
		}
		a, b = a[i+1:], b[j+1:]
	}
	return cmp.Compare(len(a), len(b))
}
