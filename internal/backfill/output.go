package backfill

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/proto"
)

// Format is an output format.
type Format string

const (
	// OpenMetrics is for `promtool tsdb create-blocks-from openmetrics`:
	// each family once, its series' samples oldest first, then "# EOF".
	OpenMetrics Format = "openmetrics"
	// VictoriaMetrics is the JSON line format of VictoriaMetrics'
	// /api/v1/import: one line per series with its values and timestamps.
	VictoriaMetrics Format = "victoriametrics"
)

// Formats lists the formats, for the flag's help.
var Formats = []Format{OpenMetrics, VictoriaMetrics}

// toFamilies turns a unit's metrics into families, gathered the way the
// exporter serves them, so names, help and labels are the served ones.
func toFamilies(ms []prometheus.Metric) ([]family, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(metricList(ms)); err != nil {
		return nil, err
	}
	mfs, err := reg.Gather()
	if err != nil {
		return nil, err
	}
	out := make([]family, 0, len(mfs))
	for _, mf := range mfs {
		if mf.GetType() != dto.MetricType_GAUGE {
			return nil, fmt.Errorf("%s: only gauges are backfilled, got %s", mf.GetName(), mf.GetType())
		}
		f := family{Name: mf.GetName(), Help: mf.GetHelp()}
		for _, m := range mf.Metric {
			if m.TimestampMs == nil {
				return nil, fmt.Errorf("%s: a backfilled sample needs a timestamp", mf.GetName())
			}
			s := sample{Value: m.GetGauge().GetValue(), TsMs: m.GetTimestampMs()}
			for _, lp := range m.Label {
				s.Labels = append(s.Labels, lp.GetName(), lp.GetValue())
			}
			f.Samples = append(f.Samples, s)
		}
		out = append(out, f)
	}
	return out, nil
}

// metricList is an unchecked collector of ready-made metrics.
type metricList []prometheus.Metric

func (metricList) Describe(chan<- *prometheus.Desc) {}
func (l metricList) Collect(ch chan<- prometheus.Metric) {
	for _, m := range l {
		ch <- m
	}
}

// seriesOf groups samples by series: each family sorted by name, each
// series by labels, each series' samples oldest first.
type seriesOf struct {
	name, help string
	series     []*seriesSamples
}

type seriesSamples struct {
	labels []string
	points []sample
}

// merge groups the units' samples into families and series. Two samples of
// one series at one timestamp are an error: a TSDB would keep one at random.
func merge(units []journalUnit) ([]seriesOf, error) {
	byName := map[string]*seriesOf{}
	index := map[string]*seriesSamples{}
	for _, u := range units {
		for _, f := range u.Families {
			fam := byName[f.Name]
			if fam == nil {
				fam = &seriesOf{name: f.Name, help: f.Help}
				byName[f.Name] = fam
			}
			for _, s := range f.Samples {
				key := f.Name + "\xff" + strings.Join(s.Labels, "\xff")
				ser := index[key]
				if ser == nil {
					ser = &seriesSamples{labels: s.Labels}
					index[key] = ser
					fam.series = append(fam.series, ser)
				}
				ser.points = append(ser.points, s)
			}
		}
	}
	out := make([]seriesOf, 0, len(byName))
	for _, f := range byName {
		slices.SortFunc(f.series, func(a, b *seriesSamples) int { return slices.Compare(a.labels, b.labels) })
		for _, s := range f.series {
			slices.SortFunc(s.points, func(a, b sample) int { return cmp.Compare(a.TsMs, b.TsMs) })
			for i := 1; i < len(s.points); i++ {
				if s.points[i].TsMs == s.points[i-1].TsMs {
					return nil, fmt.Errorf("%s{%s}: two samples at %d ms", f.name, strings.Join(s.labels, ","), s.points[i].TsMs)
				}
			}
		}
		out = append(out, *f)
	}
	slices.SortFunc(out, func(a, b seriesOf) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

// write encodes the families in format to w.
func write(w io.Writer, format Format, fams []seriesOf) error {
	switch format {
	case OpenMetrics:
		return writeOpenMetrics(w, fams)
	case VictoriaMetrics:
		return writeVictoriaMetrics(w, fams)
	}
	return fmt.Errorf("unknown output format %q", format)
}

func writeOpenMetrics(w io.Writer, fams []seriesOf) error {
	for _, f := range fams {
		mf := &dto.MetricFamily{Name: proto.String(f.name), Help: proto.String(f.help), Type: dto.MetricType_GAUGE.Enum()}
		for _, s := range f.series {
			var labels []*dto.LabelPair
			for i := 0; i+1 < len(s.labels); i += 2 {
				labels = append(labels, &dto.LabelPair{Name: proto.String(s.labels[i]), Value: proto.String(s.labels[i+1])})
			}
			for _, p := range s.points {
				mf.Metric = append(mf.Metric, &dto.Metric{
					Label: labels, Gauge: &dto.Gauge{Value: proto.Float64(p.Value)}, TimestampMs: proto.Int64(p.TsMs),
				})
			}
		}
		if _, err := expfmt.MetricFamilyToOpenMetrics(w, mf); err != nil {
			return err
		}
	}
	_, err := expfmt.FinalizeOpenMetrics(w)
	return err
}

// vmLine is one series in VictoriaMetrics' import format.
type vmLine struct {
	Metric     map[string]string `json:"metric"`
	Values     []float64         `json:"values"`
	Timestamps []int64           `json:"timestamps"`
}

func writeVictoriaMetrics(w io.Writer, fams []seriesOf) error {
	enc := json.NewEncoder(w) // one line per Encode
	for _, f := range fams {
		for _, s := range f.series {
			line := vmLine{Metric: map[string]string{"__name__": f.name}}
			for i := 0; i+1 < len(s.labels); i += 2 {
				line.Metric[s.labels[i]] = s.labels[i+1]
			}
			for _, p := range s.points {
				line.Values = append(line.Values, p.Value)
				line.Timestamps = append(line.Timestamps, p.TsMs)
			}
			if err := enc.Encode(line); err != nil {
				return err
			}
		}
	}
	return nil
}
