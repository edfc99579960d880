package collector

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/proto"
)

func exposition(t *testing.T, mfs []*dto.MetricFamily) string {
	t.Helper()
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return buf.String()
}

// TestGathererServesWhatTheRegistryServes: serving the exporter through
// Gatherer gives, byte for byte, what registering it on a registry gives:
// every collector, every option that adds series, two accounts listed out
// of name order (so their families merge), across refreshes.
func TestGathererServesWhatTheRegistryServes(t *testing.T) {
	h := startSim(t, simOptions{start: midMarch, collectors: allCollectors, configure: everything})
	var enabled []Enabled
	for _, n := range allCollectors {
		enabled = append(enabled, Enabled{Name: n, Interval: time.Hour})
	}
	exp, err := New([]Account{{Name: "zeta", Client: h.bss}, {Name: "alpha", Client: h.bss}}, enabled, h.cfg, log.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	shared := NewBSSMetrics()
	direct := prometheus.NewPedanticRegistry()
	direct.MustRegister(exp, shared)
	served := prometheus.NewPedanticRegistry()
	served.MustRegister(shared)
	gatherer, err := exp.Gatherer(served)
	if err != nil {
		t.Fatal(err)
	}

	var previous []*dto.MetricFamily
	for step, at := range []time.Time{midMarch, midMarch.Add(time.Hour), midMarch.Add(49 * time.Hour)} {
		h.clock.Set(at)
		if err := exp.RefreshOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		want, err := direct.Gather()
		if err != nil {
			t.Fatal(err)
		}
		got, err := gatherer.Gather()
		if err != nil {
			t.Fatal(err)
		}
		if g, w := exposition(t, got), exposition(t, want); g != w {
			t.Fatalf("step %d: Gatherer serves\n%.2000s\nthe registry serves\n%.2000s", step, g, w)
		}
		if !strings.Contains(exposition(t, got), `instance_id="__overflow__"`) {
			t.Fatal("the comparison does not cover the per-instance families")
		}
		// A second scrape reuses the gathered snapshots: the same families.
		again, err := gatherer.Gather()
		if err != nil {
			t.Fatal(err)
		}
		if !sameFamily(again, got, "aliyun_billing_instance_cycle_payable") {
			t.Errorf("step %d: a second scrape gathered the snapshots again", step)
		}
		if previous != nil && sameFamily(got, previous, "aliyun_billing_instance_cycle_payable") {
			t.Errorf("step %d: a refresh did not publish newly gathered snapshots", step)
		}
		previous = got
	}
}

// sameFamily reports whether a and b hold the very same samples of family
// name (the same pointers, not equal copies).
func sameFamily(a, b []*dto.MetricFamily, name string) bool {
	find := func(mfs []*dto.MetricFamily) []*dto.Metric {
		for _, mf := range mfs {
			if mf.GetName() == name {
				return mf.Metric
			}
		}
		return nil
	}
	ma, mb := find(a), find(b)
	return len(ma) > 0 && len(ma) == len(mb) && ma[0] == mb[0]
}

func TestGathererRefusesAnExporterRegisteredTwice(t *testing.T) {
	h := startSim(t, simOptions{start: midMarch})
	reg := prometheus.NewRegistry()
	reg.MustRegister(h.exp)
	if _, err := h.exp.Gatherer(reg); err == nil {
		t.Fatal("Gatherer accepted a registry that already serves the exporter")
	}
}

// dupCollector publishes the same sample twice, which a registry refuses.
type dupCollector struct{ desc *prometheus.Desc }

func (d dupCollector) Describe(ch chan<- *prometheus.Desc) { ch <- d.desc }
func (d dupCollector) Refresh(context.Context, time.Time) (Snapshot, error) {
	m := prometheus.MustNewConstMetric(d.desc, prometheus.GaugeValue, 1, "x")
	return Snapshot{Metrics: []prometheus.Metric{m, m}}, nil
}

// TestGathererReportsWhatTheRegistryReports: a snapshot the registry would
// refuse makes Gather fail too, so promhttp answers 500 as before.
func TestGathererReportsWhatTheRegistryReports(t *testing.T) {
	e := &Exporter{refreshFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "f"}, []string{"code"})}
	desc := prometheus.NewDesc("dup", "A duplicated sample.", []string{"l"}, nil)
	w := &worker{name: "dup", account: "a", collector: dupCollector{desc}, now: time.Now, logger: log.NewNopLogger(),
		failures: e.refreshFailures, gathering: &e.gathering}
	e.workers, e.collectOrder = []*worker{w}, []*worker{w}
	for _, d := range []**prometheus.Desc{&e.refreshDuration, &e.refreshSuccess, &e.lastSuccess, &e.snapshotSeries, &e.newestDay} {
		*d = prometheus.NewDesc(fmt.Sprintf("state_%p", d), "State.", []string{"account", "collector"}, nil)
	}
	g, err := e.Gatherer(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	direct := prometheus.NewRegistry()
	direct.MustRegister(e)
	_, wantErr := direct.Gather()
	_, gotErr := g.Gather()
	if wantErr == nil || gotErr == nil || !strings.Contains(gotErr.Error(), "was collected before with the same name and label values") {
		t.Fatalf("Gather error %v; the registry's: %v", gotErr, wantErr)
	}
}

// TestGaugeWritesWhatConstMetricsWrite: a snapshot sample is the same
// protobuf as the const metric (with timestamp) it replaces.
func TestGaugeWritesWhatConstMetricsWrite(t *testing.T) {
	f := newAmountFamily("test_family", "help", []string{"account", "zone_id", "currency", "b"}, financeColumns)
	s := series{labels: []string{"acct", "cn-hangzhou-h", "CNY", "ünïcode"}, amounts: payable("12.34")}
	s.amounts.PretaxGrossAmount = s.amounts.PretaxAmount.Neg()
	for _, ts := range []time.Time{{}, time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), time.Unix(1_700_000_000, 999_999_999)} {
		got := f.appendMetrics(nil, s, ts)
		if len(got) != len(financeColumns) {
			t.Fatalf("%d samples, want %d", len(got), len(financeColumns))
		}
		for i, m := range got {
			want := prometheus.MustNewConstMetric(f.descs[i], prometheus.GaugeValue, financeColumns[i].get(&s.amounts).Float64(), s.labels...)
			if !ts.IsZero() {
				want = prometheus.NewMetricWithTimestamp(ts, want)
			}
			var g, w dto.Metric
			if err := m.Write(&g); err != nil {
				t.Fatal(err)
			}
			if err := want.Write(&w); err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(&g, &w) || m.Desc() != want.Desc() {
				t.Fatalf("column %s at %v: wrote %v, a const metric writes %v", financeColumns[i].name, ts, &g, &w)
			}
		}
	}
	// The columns of a series share its labels, and series share pairs.
	a := f.appendMetrics(nil, s, time.Time{})
	other := s
	other.labels = []string{"acct", "cn-hangzhou-i", "CNY", "ünïcode"}
	b := f.appendMetrics(nil, other, time.Time{})
	la, lb := a[0].(*gauge).labels, b[0].(*gauge).labels
	if &la[0] != &a[5].(*gauge).labels[0] || la[0] != lb[0] || la[3] == lb[3] {
		t.Error("label pairs are not shared as intended")
	}
}

func TestGaugeRefusesWhatConstMetricsRefuse(t *testing.T) {
	f := newAmountFamily("test_family", "help", []string{"a", "b"}, financeColumns)
	for _, values := range [][]string{{"x"}, {"x", "y", "z"}, {"x", "\xff"}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("labels %q accepted", values)
				}
			}()
			f.appendMetrics(nil, series{labels: values}, time.Time{})
		}()
	}
}

func TestLabelPairsStayBounded(t *testing.T) {
	f := newAmountFamily("test_family", "help", []string{"instance_id"}, []amountColumn{columnPayable})
	for i := range maxSharedLabelPairs + 10 {
		f.appendMetrics(nil, series{labels: []string{fmt.Sprint(i)}}, time.Time{})
	}
	if n := len(f.labels.pairs); n > maxSharedLabelPairs {
		t.Fatalf("%d shared pairs, more than %d", n, maxSharedLabelPairs)
	}
}

// TestGatherOrderIsTheRegistryOrder: after gatherOrder, every family's
// samples come in the order a registry sorts them into.
func TestGatherOrderIsTheRegistryOrder(t *testing.T) {
	daily := newAmountFamily("test_daily", "help", []string{"owner_id", "currency", "account"}, financeColumns)
	flag := prometheus.NewDesc("test_flag", "A const metric among gauges.", []string{"zone"}, nil)
	var ms []prometheus.Metric
	r := rand.New(rand.NewPCG(3, 4))
	for _, day := range []int{3, 1, 2} {
		for range 40 {
			s := series{labels: []string{fmt.Sprint(r.IntN(5)), []string{"CNY", "USD"}[r.IntN(2)], fmt.Sprint(r.IntN(3))}, amounts: payable("1")}
			ms = daily.appendMetrics(ms, s, time.Date(2025, 3, day, 0, 0, 0, 0, time.UTC))
		}
		ms = append(ms, prometheus.MustNewConstMetric(flag, prometheus.GaugeValue, 1, fmt.Sprint(day)))
	}
	// Duplicates are allowed here: the registry's dedup is not the point.
	r.Shuffle(len(ms), func(i, j int) { ms[i], ms[j] = ms[j], ms[i] })
	gatherOrder(ms)

	seen := map[*prometheus.Desc][]*dto.Metric{}
	var last *prometheus.Desc
	for _, m := range ms {
		if m.Desc() != last && seen[m.Desc()] != nil {
			t.Fatal("a family's samples are not together")
		}
		last = m.Desc()
		var pb dto.Metric
		if err := m.Write(&pb); err != nil {
			t.Fatal(err)
		}
		seen[m.Desc()] = append(seen[m.Desc()], &pb)
	}
	for _, got := range seen {
		if !slices.IsSortedFunc(got, compareSamples) {
			t.Fatal("a family is not in registry order")
		}
	}
}

func TestMergeFamilies(t *testing.T) {
	sample := func(account string, ts int64) *dto.Metric {
		return &dto.Metric{Label: []*dto.LabelPair{{Name: proto.String("account"), Value: proto.String(account)}},
			Gauge: &dto.Gauge{Value: proto.Float64(1)}, TimestampMs: proto.Int64(ts)}
	}
	family := func(name string, ms ...*dto.Metric) *dto.MetricFamily {
		return &dto.MetricFamily{Name: proto.String(name), Help: proto.String("h"), Type: dto.MetricType_GAUGE.Enum(), Metric: ms}
	}
	only := family("b_only", sample("x", 1))
	merged := mergeFamilies([][]*dto.MetricFamily{
		{family("c_shared", sample("zeta", 2), sample("zeta", 1)), only},
		{family("a_rest")},
		{family("c_shared", sample("alpha", 5))},
	})
	var names []string
	for _, mf := range merged {
		names = append(names, mf.GetName())
	}
	if !slices.Equal(names, []string{"a_rest", "b_only", "c_shared"}) {
		t.Fatalf("families %v", names)
	}
	if merged[1] != only {
		t.Error("a family only one part has was copied")
	}
	var order []string
	for _, m := range merged[2].Metric {
		order = append(order, fmt.Sprintf("%s@%d", m.Label[0].GetValue(), m.GetTimestampMs()))
	}
	if want := []string{"alpha@5", "zeta@1", "zeta@2"}; !slices.Equal(order, want) {
		t.Fatalf("merged samples %v, want %v", order, want)
	}
}
