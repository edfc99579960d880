package collector

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// A scrape of a big account carries hundreds of thousands of samples, and a
// registry reads every one of them on every scrape: it writes each into a
// dto.Metric, checks its labels, hashes it and sorts each family by label
// values and timestamp. Two things keep that cheap (BENCHMARKS.md, figure 5):
//
//   - gauge: the amount columns of one series share one validated label
//     slice and timestamp, label pairs are shared between series
//     (labelPairs), and the value is prebuilt, so a sample costs a small
//     struct rather than a const metric with its own label pairs.
//   - gatherOrder: a snapshot is put in the order the registry sorts a
//     family into when it is published, once per refresh, so that the sort
//     on every scrape meets sorted input and takes linear time.
//
// Neither changes what is exposed: the registry still validates, dedups
// and sorts every sample.

// gauge is one gauge sample of a snapshot. It is immutable.
type gauge struct {
	desc   *prometheus.Desc
	labels []*dto.LabelPair // sorted by name; shared with other samples, never modified
	value  *dto.Gauge
	tsMs   *int64 // nil: no timestamp; shared by the samples of a day
}

func (g *gauge) Desc() *prometheus.Desc { return g.desc }

// Write fills out as prometheus.NewMetricWithTimestamp(ts,
// prometheus.MustNewConstMetric(...)) would, sharing the immutable parts as
// constMetric does.
func (g *gauge) Write(out *dto.Metric) error {
	out.Label = g.labels
	out.Gauge = g.value
	out.TimestampMs = g.tsMs
	return nil
}

// labelPairs builds the label pairs of one family's series. Most label
// values repeat from series to series (account, currency, owner, product,
// region), so each (label, value) pair is made once and shared; a sample
// then costs a slice of pointers instead of a struct and two strings per
// label. The cache is bounded and only ever adds immutable pairs.
type labelPairs struct {
	names []*string // the family's label names, in the desc's order
	order []int     // indices of names sorted by name, as MakeLabelPairs sorts pairs

	mu    sync.Mutex
	pairs map[labelPairKey]*dto.LabelPair
}

type labelPairKey struct {
	label int
	value string
}

// maxSharedLabelPairs bounds the cache: beyond it, the cache starts over.
const maxSharedLabelPairs = 1 << 16

// newLabelPairs checks desc as prometheus.NewConstMetric does before its
// first sample (a bad desc is a programming error) and returns the builder.
func newLabelPairs(desc *prometheus.Desc, names []string) *labelPairs {
	if _, err := prometheus.NewConstMetric(desc, prometheus.GaugeValue, 0, make([]string, len(names))...); err != nil {
		panic(err)
	}
	lp := &labelPairs{pairs: map[labelPairKey]*dto.LabelPair{}}
	for i := range names {
		lp.names = append(lp.names, &names[i])
		lp.order = append(lp.order, i)
	}
	slices.SortFunc(lp.order, func(a, b int) int { return cmp.Compare(names[a], names[b]) })
	return lp
}

// of returns the label pairs for a series' values, sorted by label name. It
// panics where prometheus.MustNewConstMetric panics: on a wrong number of
// values or a value that is not UTF-8.
func (lp *labelPairs) of(values []string) []*dto.LabelPair {
	if len(values) != len(lp.names) {
		panic(fmt.Errorf("inconsistent label cardinality: expected %d label values but got %d in %#v", len(lp.names), len(values), values))
	}
	out := make([]*dto.LabelPair, len(values))
	lp.mu.Lock()
	defer lp.mu.Unlock()
	for i, idx := range lp.order {
		v := values[idx]
		p := lp.pairs[labelPairKey{idx, v}]
		if p == nil {
			if !utf8.ValidString(v) {
				panic(fmt.Errorf("label value %q is not valid UTF-8", v))
			}
			if len(lp.pairs) >= maxSharedLabelPairs {
				clear(lp.pairs)
			}
			p = &dto.LabelPair{Name: lp.names[idx], Value: &v}
			lp.pairs[labelPairKey{idx, v}] = p
		}
		out[i] = p
	}
	return out
}

// timestampMs is ts as a sample timestamp: milliseconds, rounded down as
// prometheus.NewMetricWithTimestamp does; nil for the zero time.
func timestampMs(ts time.Time) *int64 {
	if ts.IsZero() {
		return nil
	}
	ms := ts.Unix()*1000 + int64(ts.Nanosecond()/1_000_000)
	return &ms
}

// gatherOrder sorts a snapshot's samples into the order a registry sorts
// each family into (label values in label-name order, then timestamp, no
// timestamp last), keeping each family's samples together. Samples with
// equal keys keep their order.
func gatherOrder(ms []prometheus.Metric) {
	type keyed struct {
		family int
		labels []*dto.LabelPair
		ts     *int64
		m      prometheus.Metric
	}
	families := map[*prometheus.Desc]int{}
	keys := make([]keyed, len(ms))
	for i, m := range ms {
		k := keyed{m: m}
		if g, ok := m.(*gauge); ok {
			k.labels, k.ts = g.labels, g.tsMs
		} else {
			var pb dto.Metric
			if err := m.Write(&pb); err != nil {
				return // the registry will report it; leave the order alone
			}
			k.labels, k.ts = pb.Label, pb.TimestampMs
		}
		f, ok := families[m.Desc()]
		if !ok {
			f = len(families)
			families[m.Desc()] = f
		}
		k.family = f
		keys[i] = k
	}
	slices.SortStableFunc(keys, func(a, b keyed) int {
		if c := cmp.Compare(a.family, b.family); c != 0 {
			return c
		}
		return compareLabelsThenTime(a.labels, b.labels, a.ts, b.ts)
	})
	for i := range keys {
		ms[i] = keys[i].m
	}
}
