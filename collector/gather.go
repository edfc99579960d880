package collector

import (
	"cmp"
	"errors"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// A registry validates, hashes and sorts every sample on every scrape. For
// a snapshot of 100,000 samples that costs more than encoding them, and all
// of it is repeated work: a snapshot never changes once published. So the
// binary serves the exporter through Gatherer, which gathers each published
// snapshot once, through a registry of its own with the same checks, and
// hands the result to every scrape until the next refresh publishes another
// (BENCHMARKS.md, figure 5). Only the small, live rest (refresh state, BSS
// request counters, Go and process metrics) is gathered per scrape.

// Gatherer returns the Gatherer to serve the exporter with: what reg
// gathers, plus the published snapshots. It registers on reg the exporter's
// own state (refresh success, duration, failures) and every descriptor the
// collectors describe, so that a clash with reg's other metrics is refused
// at registration as before; do not also register e on reg. From then on,
// each refresh gathers its snapshot when it publishes it, so that no scrape
// waits for that.
func (e *Exporter) Gatherer(reg *prometheus.Registry) (prometheus.Gatherer, error) {
	if err := reg.Register(stateCollector{e}); err != nil {
		return nil, err
	}
	e.gathering.Store(true)
	return &snapshotGatherer{e: e, rest: reg}, nil
}

// stateCollector is the exporter without its snapshots.
type stateCollector struct{ e *Exporter }

func (s stateCollector) Describe(ch chan<- *prometheus.Desc) { s.e.Describe(ch) }
func (s stateCollector) Collect(ch chan<- prometheus.Metric) { s.e.collectState(ch) }

type snapshotGatherer struct {
	e    *Exporter
	rest prometheus.Gatherer
}

// Gather returns reg's families merged with every worker's gathered
// snapshot, sorted by name as a registry returns them. Errors are returned
// as a registry returns them, and promhttp answers 500 on any.
func (g *snapshotGatherer) Gather() ([]*dto.MetricFamily, error) {
	var errs prometheus.MultiError
	rest, err := g.rest.Gather()
	appendErr(&errs, err)
	parts := [][]*dto.MetricFamily{rest}
	for _, w := range g.e.collectOrder {
		st := w.state.Load()
		if st == nil {
			continue
		}
		fams, err := st.gathered.get(w.collector, st.snapshot.Metrics)
		appendErr(&errs, err)
		parts = append(parts, fams)
	}
	return mergeFamilies(parts), errs.MaybeUnwrap()
}

func appendErr(errs *prometheus.MultiError, err error) {
	var multi prometheus.MultiError
	if errors.As(err, &multi) {
		*errs = append(*errs, multi...)
		return
	}
	errs.Append(err)
}

// gatheredSnapshot is one published snapshot as a registry gathers it.
type gatheredSnapshot struct {
	once     sync.Once
	families []*dto.MetricFamily
	err      error
}

func (g *gatheredSnapshot) get(c Collector, metrics []prometheus.Metric) ([]*dto.MetricFamily, error) {
	g.once.Do(func() {
		reg := prometheus.NewRegistry()
		if err := reg.Register(snapshotCollector{c, metrics}); err != nil {
			g.err = err
			return
		}
		g.families, g.err = reg.Gather()
	})
	return g.families, g.err
}

// snapshotCollector is one snapshot, described by its collector.
type snapshotCollector struct {
	c       Collector
	metrics []prometheus.Metric
}

func (s snapshotCollector) Describe(ch chan<- *prometheus.Desc) { s.c.Describe(ch) }

func (s snapshotCollector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range s.metrics {
		ch <- m
	}
}

// mergeFamilies merges gathered families by name. A family that only one
// part has is passed on as it is (the parts are never modified); one that
// several parts have, as every account's collector of a kind does, gets its
// samples concatenated and sorted as a registry sorts them.
func mergeFamilies(parts [][]*dto.MetricFamily) []*dto.MetricFamily {
	byName := map[string][]*dto.MetricFamily{}
	for _, part := range parts {
		for _, mf := range part {
			byName[mf.GetName()] = append(byName[mf.GetName()], mf)
		}
	}
	out := make([]*dto.MetricFamily, 0, len(byName))
	for _, fams := range byName {
		if len(fams) == 1 {
			out = append(out, fams[0])
			continue
		}
		merged := &dto.MetricFamily{Name: fams[0].Name, Help: fams[0].Help, Type: fams[0].Type, Unit: fams[0].Unit}
		for _, f := range fams {
			merged.Metric = append(merged.Metric, f.Metric...)
		}
		slices.SortStableFunc(merged.Metric, compareSamples)
		out = append(out, merged)
	}
	slices.SortFunc(out, func(a, b *dto.MetricFamily) int { return cmp.Compare(a.GetName(), b.GetName()) })
	return out
}

// compareSamples orders samples of a family as client_golang's
// internal.MetricSorter does: label values in label-name order, then
// timestamp, no timestamp last.
func compareSamples(a, b *dto.Metric) int {
	return compareLabelsThenTime(a.Label, b.Label, a.TimestampMs, b.TimestampMs)
}

func compareLabelsThenTime(a, b []*dto.LabelPair, ta, tb *int64) int {
	if c := cmp.Compare(len(a), len(b)); c != 0 {
		return c
	}
	for n := range a {
		if c := cmp.Compare(a[n].GetValue(), b[n].GetValue()); c != 0 {
			return c
		}
	}
	switch {
	case ta == nil && tb == nil:
		return 0
	case ta == nil:
		return 1
	case tb == nil:
		return -1
	}
	return cmp.Compare(*ta, *tb)
}
