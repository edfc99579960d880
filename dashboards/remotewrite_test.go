package dashboards

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/proctest"

	dto "github.com/prometheus/client_model/go"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/collector"
)

// rawSamples is what a receiver holds: family → series (labelKey) →
// timestamp (ms) → the values stored there, more than one if written twice.
type rawSamples = map[string]map[string]map[int64][]float64

// rwPrefix names the exporter's remote-write self-metrics.
const rwPrefix = "aliyun_billing_remote_write_"

// rwWindow is how far back the receivers are read: the oldest pushed
// sample is the previous cycle's totals, stamped when that cycle became
// final (the 3rd of the next month), so at most about 31 days before the
// demo's billing time.
const rwWindow = 40 * 24 * time.Hour

// TestRemoteWritePush runs a demo exporter with --remote-write.url to two
// real receivers, a Prometheus (its remote-write receiver, with an
// out-of-order window) and a VictoriaMetrics, and proves what a user
// would see:
//   - while VictoriaMetrics is down, Prometheus gets every settled day and
//     the exporter says days wait for VictoriaMetrics and that it retries;
//   - after a restart of the exporter (same --storage.path) and once
//     VictoriaMetrics is up, VictoriaMetrics holds every daily sample
//     exactly once, on its timestamp, with the exposed values (which are
//     the simulator's truth), and the restarted exporter sends nothing to
//     Prometheus again: its outbox remembered what Prometheus acknowledged;
//   - the final previous cycle's totals land at collector.FinalCycleTime.
func TestRemoteWritePush(t *testing.T) {
	promBin := toolPath(t, "prometheus")
	vmBin := toolPath(t, "victoria-metrics")
	dir := t.TempDir()
	// The outbox lives in --storage.path: both exporters must share it.
	storage := t.TempDir()

	// Receiver (a): Prometheus's remote-write receiver. The daily samples
	// are days old, the final cycle's weeks: without an out-of-order
	// window Prometheus refuses them as out of bounds. The key is
	// storage.tsdb.out_of_order_time_window in 2.39+ and 3.x alike (and
	// Prometheus refuses a config file with an unknown key).
	prom, _ := startPrometheus(t, promBin, dir, "prometheus", "storage:\n  tsdb:\n    out_of_order_time_window: 30d\n",
		"--web.enable-remote-write-receiver")
	promAddr := strings.TrimPrefix(prom.base, "http://")

	// Receiver (b): VictoriaMetrics, down for now. Its address is chosen
	// but nothing listens on it, so that the exporter's requests fail
	// with a network error, as in an outage.
	vmAddr := proctest.FreeAddr(t)
	promRcv, vmRcv := promAddr+"/api/v1/write", vmAddr+"/api/v1/write" // the receiver labels: host and path
	args := []string{"--storage.path=" + storage,
		"--remote-write.url=http://" + promRcv, "--remote-write.url=http://" + vmRcv}

	// --- the first exporter: Prometheus gets everything, VM nothing -------
	first := anotherExporter(t, "rw-exporter", args...)
	window := fmt.Sprintf("[%ds]", int((rwWindow + first.shift).Seconds()))
	var firstFams map[string]*dto.MetricFamily
	since := time.Now()
	err := eventually(3*time.Minute, time.Second, func() error {
		// A fresh Prometheus holds only what the exporter pushed.
		if _, err := prom.nonEmpty(`count_over_time(aliyun_billing_account_daily_payable`+window+`)`, time.Now()); err != nil {
			return fmt.Errorf("Prometheus has no daily samples: %w", err)
		}
		firstFams = parseExposition(t, first.exposition(t))
		for _, c := range []struct {
			what   string
			ok     func(float64) bool
			name   string
			labels []string
		}{
			{"> 0", positive, "days_sent_total", []string{"receiver", promRcv}},
			{"0", zero, "days_pending", []string{"receiver", promRcv}},
			{"> 0", positive, "days_pending", []string{"receiver", vmRcv}},
			{"> 0", positive, "failures_total", []string{"receiver", vmRcv, "reason", "retryable"}},
		} {
			if v, ok := metricValue(firstFams, rwPrefix+c.name, c.labels...); !ok || !c.ok(v) {
				return fmt.Errorf("%s%s%v: %v (exposed: %t), want %s", rwPrefix, c.name, c.labels, v, ok, c.what)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("before the restart: %v\n%s", err, rwSelfMetrics(firstFams))
	}
	noRefusals(t, "the first exporter", firstFams, promRcv, vmRcv)
	promSamplesSent, _ := metricValue(firstFams, rwPrefix+"samples_sent_total", "receiver", promRcv)
	t.Logf("before the restart (%s after the exporter was ready):\n%s", time.Since(since).Round(time.Second), rwSelfMetrics(firstFams))

	// --- the restart: the exporter stops with VM's days still pending ----
	first.proc.Stop()
	vm, _ := startVictoriaMetricsOn(t, vmBin, dir, "vm", vmAddr)
	second := anotherExporter(t, "rw-exporter-restarted", args...)

	// A fresh exporter's first push may find its collectors still empty
	// and the next comes a minute later (the push interval); the days
	// then go out in one round.
	want := timestampedSamples(parseExposition(t, second.exposition(t)))
	var secondFams map[string]*dto.MetricFamily
	var inVM rawSamples
	since = time.Now()
	err = eventually(3*time.Minute, 2*time.Second, func() error {
		secondFams = parseExposition(t, second.exposition(t))
		for _, rcv := range []string{promRcv, vmRcv} {
			if v, ok := metricValue(secondFams, rwPrefix+"days_pending", "receiver", rcv); !ok || v != 0 {
				return fmt.Errorf("%sdays_pending{receiver=%q}: %v (exposed: %t), want 0", rwPrefix, rcv, v, ok)
			}
		}
		if v, _ := metricValue(secondFams, rwPrefix+"days_sent_total", "receiver", vmRcv); v == 0 {
			return fmt.Errorf("nothing sent to VictoriaMetrics yet")
		}
		var err error
		if inVM, err = vmExport(vm); err != nil {
			return err
		}
		// VictoriaMetrics makes new rows searchable within a second or so.
		if got, exp := len(inVM["aliyun_billing_account_daily_payable"]), len(want["aliyun_billing_account_daily_payable"]); got != exp {
			return fmt.Errorf("VictoriaMetrics has %d account daily series, the exporter exposes %d", got, exp)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("after the restart: %v\n%s", err, rwSelfMetrics(secondFams))
	}
	t.Logf("after the restart (%s after the exporter was ready):\n%s", time.Since(since).Round(time.Second), rwSelfMetrics(secondFams))
	noRefusals(t, "the restarted exporter", secondFams, promRcv, vmRcv)

	// Prometheus got everything from the first exporter: the restarted one
	// must not send it again. (Should the demo's clock have settled a new
	// day in between, that day would be sent, legitimately: say so.)
	if v, _ := metricValue(secondFams, rwPrefix+"days_sent_total", "receiver", promRcv); v != 0 {
		t.Errorf("the restarted exporter sent %v days to Prometheus, which had acknowledged every day before the restart (the outbox in --storage.path should say so); exposed days before %v, after %v",
			v, exposedStamps(timestampedSamples(firstFams)), exposedStamps(want))
	}

	inProm, err := promRaw(prom, `{__name__=~"aliyun_billing_.+"}`+window)
	if err != nil {
		t.Fatal(err)
	}
	if len(want["aliyun_billing_account_daily_payable"]) == 0 {
		t.Fatal("the exporter exposes no aliyun_billing_account_daily_payable")
	}
	for _, family := range slices.Sorted(maps.Keys(want)) {
		// Every timestamped family, the instance and ossbucket ones
		// included: one raw sample per exposed timestamp, nothing else.
		compareSamples(t, "VictoriaMetrics", family, want[family], inVM[family])
		compareSamples(t, "Prometheus", family, want[family], inProm[family])
	}

	// Prometheus as a dashboard reads it: one sample per exposed day.
	wantCounts := exposedSampleCounts(t, second)
	counts, err := prom.nonEmpty(`count_over_time(aliyun_billing_account_daily_payable`+window+`)`, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(counts) != len(wantCounts) {
		t.Errorf("Prometheus: %d account daily series, the exporter exposes %d", len(counts), len(wantCounts))
	}
	for _, s := range counts {
		if key := labelKey(s.Metric); int(s.value()) != wantCounts[key] {
			t.Errorf("Prometheus: %s has %v samples, the exporter exposes %d days", key, s.value(), wantCounts[key])
		}
	}

	// The account's daily payable, summed per day, is the simulator's truth.
	truth := newDemoTruth(t, second)
	for name, got := range map[string]rawSamples{"VictoriaMetrics": inVM, "Prometheus": inProm} {
		perDay := map[int64]float64{}
		for key, samples := range got["aliyun_billing_account_daily_payable"] {
			if !strings.Contains(","+key+",", ",account=demo,") {
				continue
			}
			for ts, vs := range samples {
				perDay[ts] += vs[0]
			}
		}
		if len(perDay) == 0 {
			t.Errorf("%s: no daily payable of account demo", name)
		}
		for ts, v := range perDay {
			day := bssclient.DayOf(time.UnixMilli(ts))
			if want := truth.dayPayable(day); !sameMoney(v, want) {
				t.Errorf("%s: account demo's payable of %s is %v, the simulator's truth is %s", name, day, v, want)
			}
		}
	}

	// Nothing lost, nothing extra: each receiver holds as many samples as
	// the exporters say it acknowledged (VictoriaMetrics from the
	// restarted exporter alone, Prometheus from the first).
	if got, sent := countSamples(inVM), counterValue(secondFams, "samples_sent_total", vmRcv); float64(got) != sent {
		t.Errorf("VictoriaMetrics holds %d samples, the restarted exporter sent it %v", got, sent)
	}
	if got, sent := countSamples(inProm), promSamplesSent+counterValue(secondFams, "samples_sent_total", promRcv); float64(got) != sent {
		t.Errorf("Prometheus holds %d samples, the exporters sent it %v", got, sent)
	}

	testFinalCycle(t, secondFams, map[string]rawSamples{"VictoriaMetrics": inVM, "Prometheus": inProm})

	// The remote-write alerts read series that only a pushing exporter
	// has (TestEndToEnd's demo does not push): they are here.
	for alert, signal := range alertSignals {
		if remoteWriteSignals[signal] && secondFams[signal] == nil {
			t.Errorf("alert %s: its signal %s is not exposed by a pushing exporter", alert, signal)
		}
	}
	if t.Failed() {
		t.Logf("the restarted exporter's log:\n%s", second.proc.LogTail(40))
	}
}

// testFinalCycle: once the previous cycle is final, its account totals are
// pushed stamped at the moment it became final, with the exposed values.
func testFinalCycle(t *testing.T, fams map[string]*dto.MetricFamily, receivers map[string]rawSamples) {
	t.Helper()
	const family = "aliyun_billing_account_cycle_payable"
	final := map[string]bool{} // billing_cycle
	for _, m := range fams["aliyun_billing_cycle_final"].GetMetric() {
		l := labelsOf(m)
		if l["collector"] == "account" && l["cycle"] == "previous" && m.GetGauge().GetValue() == 1 {
			final[l["billing_cycle"]] = true
		}
	}
	if len(final) == 0 {
		t.Logf("the previous billing cycle is not final at the demo's billing time: the final cycle's push was not exercised")
		return
	}
	want := map[string]map[int64]float64{}
	for _, m := range fams[family].GetMetric() {
		l := labelsOf(m)
		if l["cycle"] != "previous" || !final[l["billing_cycle"]] {
			continue
		}
		cyc, err := bssclient.ParseCycle(l["billing_cycle"])
		if err != nil {
			t.Fatal(err)
		}
		want[labelKey(l)] = map[int64]float64{collector.FinalCycleTime(cyc).UnixMilli(): m.GetGauge().GetValue()}
	}
	if len(want) == 0 {
		t.Fatalf("the previous cycle %v is final, and the exporter exposes no %s{cycle=\"previous\"} of it", slices.Sorted(maps.Keys(final)), family)
	}
	for name, got := range receivers {
		compareSamples(t, name, family+`{cycle="previous"}`, want, got[family])
	}
}

// compareSamples checks that got holds exactly want's series and, per
// series, one sample at each of want's timestamps with want's value.
func compareSamples(t *testing.T, receiver, family string, want map[string]map[int64]float64, got map[string]map[int64][]float64) {
	t.Helper()
	var problems []string
	for key, samples := range want {
		for ts, v := range samples {
			at := time.UnixMilli(ts).In(bssclient.BillingZone).Format(time.DateTime)
			switch vs := got[key][ts]; {
			case len(vs) == 0:
				problems = append(problems, fmt.Sprintf("{%s} @%s: missing (exposed %v)", key, at, v))
			case len(vs) > 1:
				problems = append(problems, fmt.Sprintf("{%s} @%s: %d samples %v, want one", key, at, len(vs), vs))
			case math.Abs(vs[0]-v) > 1e-12*math.Max(1, math.Abs(v)):
				problems = append(problems, fmt.Sprintf("{%s} @%s: %v, exposed %v", key, at, vs[0], v))
			}
		}
		for ts, vs := range got[key] {
			if _, ok := samples[ts]; !ok {
				problems = append(problems, fmt.Sprintf("{%s} @%s: %v, not exposed", key, time.UnixMilli(ts).UTC().Format(time.RFC3339), vs))
			}
		}
	}
	for key := range got {
		if _, ok := want[key]; !ok {
			problems = append(problems, fmt.Sprintf("{%s}: a series the exporter does not expose", key))
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		t.Errorf("%s, %s: %d differences from the exposition, e.g.:\n  %s", receiver, family, len(problems),
			strings.Join(problems[:min(len(problems), 8)], "\n  "))
	}
}

// timestampedSamples is what the exporter exposes with a timestamp, which
// is what it pushes of the daily families: family → series → ms → value.
func timestampedSamples(fams map[string]*dto.MetricFamily) map[string]map[string]map[int64]float64 {
	out := map[string]map[string]map[int64]float64{}
	for name, mf := range fams {
		for _, m := range mf.GetMetric() {
			if m.TimestampMs == nil || m.GetGauge() == nil {
				continue
			}
			if out[name] == nil {
				out[name] = map[string]map[int64]float64{}
			}
			key := labelKey(labelsOf(m))
			if out[name][key] == nil {
				out[name][key] = map[int64]float64{}
			}
			out[name][key][m.GetTimestampMs()] = m.GetGauge().GetValue()
		}
	}
	return out
}

// exposedStamps lists family@day of the exposed samples, for messages.
func exposedStamps(samples map[string]map[string]map[int64]float64) []string {
	set := map[string]bool{}
	for family, series := range samples {
		for _, s := range series {
			for ts := range s {
				set[family+"@"+bssclient.DayOf(time.UnixMilli(ts)).String()] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// vmExport reads every aliyun_billing_ series VictoriaMetrics holds as raw
// samples: /api/v1/export applies no deduplication (none is configured,
// and reduce_mem_usage=1 skips it anyway), so a sample written twice shows
// twice. Result: family → series → ms → values.
func vmExport(vm promClient) (rawSamples, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	params := url.Values{
		"match[]":          {`{__name__=~"aliyun_billing_.+"}`},
		"start":            {strconv.FormatInt(time.Now().Add(-365*24*time.Hour).Unix(), 10)},
		"reduce_mem_usage": {"1"},
	}
	body, err := httpGet(ctx, vm.base+"/api/v1/export?"+params.Encode())
	if err != nil {
		return nil, err
	}
	out := rawSamples{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		var line struct {
			Metric     map[string]string `json:"metric"`
			Values     []float64         `json:"values"`
			Timestamps []int64           `json:"timestamps"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			return nil, fmt.Errorf("VictoriaMetrics export: %w: %.200s", err, sc.Text())
		}
		if len(line.Values) != len(line.Timestamps) {
			return nil, fmt.Errorf("VictoriaMetrics export: %d values, %d timestamps", len(line.Values), len(line.Timestamps))
		}
		for i, ts := range line.Timestamps {
			addSample(out, line.Metric, ts, line.Values[i])
		}
	}
	return out, sc.Err()
}

// promRaw reads the raw samples of a range selector from Prometheus (an
// instant query of a range vector): family → series → ms → values.
func promRaw(api promClient, selector string) (rawSamples, error) {
	var data struct {
		ResultType string       `json:"resultType"`
		Result     []promSeries `json:"result"`
	}
	params := url.Values{"query": {selector}, "time": {strconv.FormatInt(time.Now().Unix(), 10)}}
	if err := api.get("/api/v1/query", params, &data); err != nil {
		return nil, err
	}
	if data.ResultType != "matrix" {
		return nil, fmt.Errorf("%s: result type %s, want matrix", selector, data.ResultType)
	}
	out := rawSamples{}
	for _, s := range data.Result {
		for _, v := range s.Values {
			addSample(out, s.Metric, int64(math.Round(v.time()*1000)), v.value())
		}
	}
	return out, nil
}

func addSample(out rawSamples, metric map[string]string, ts int64, v float64) {
	family, key := metric["__name__"], labelKey(metric)
	if out[family] == nil {
		out[family] = map[string]map[int64][]float64{}
	}
	if out[family][key] == nil {
		out[family][key] = map[int64][]float64{}
	}
	out[family][key][ts] = append(out[family][key][ts], v)
}

func countSamples(got rawSamples) int {
	n := 0
	for _, series := range got {
		for _, samples := range series {
			for _, vs := range samples {
				n += len(vs)
			}
		}
	}
	return n
}

// noRefusals: neither receiver refused anything (a 4xx: a Prometheus
// without a wide enough out-of-order window answers "out of bounds").
func noRefusals(t *testing.T, who string, fams map[string]*dto.MetricFamily, receivers ...string) {
	t.Helper()
	for _, rcv := range receivers {
		for _, reason := range []string{"rejected", "out_of_window", "error"} {
			if v, _ := metricValue(fams, rwPrefix+"failures_total", "receiver", rcv, "reason", reason); v != 0 {
				t.Errorf("%s: %sfailures_total{receiver=%q, reason=%q} = %v, want 0", who, rwPrefix, rcv, reason, v)
			}
		}
	}
}

func counterValue(fams map[string]*dto.MetricFamily, name, rcv string) float64 {
	v, _ := metricValue(fams, rwPrefix+name, "receiver", rcv)
	return v
}

// metricValue is the value of the gauge or counter of family name whose
// labels include the given name, value pairs.
func metricValue(fams map[string]*dto.MetricFamily, name string, pairs ...string) (float64, bool) {
	for _, m := range fams[name].GetMetric() {
		l := labelsOf(m)
		match := true
		for i := 0; i+1 < len(pairs); i += 2 {
			match = match && l[pairs[i]] == pairs[i+1]
		}
		if !match {
			continue
		}
		if m.GetCounter() != nil {
			return m.GetCounter().GetValue(), true
		}
		return m.GetGauge().GetValue(), true
	}
	return 0, false
}

// rwSelfMetrics lists the exporter's remote-write self-metrics, for logs.
func rwSelfMetrics(fams map[string]*dto.MetricFamily) string {
	var lines []string
	for name, mf := range fams {
		if !strings.HasPrefix(name, rwPrefix) {
			continue
		}
		for _, m := range mf.GetMetric() {
			v := m.GetGauge().GetValue() + m.GetCounter().GetValue() // one of them is set
			lines = append(lines, fmt.Sprintf("  %s{%s} %v", name, labelKey(labelsOf(m)), v))
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func labelsOf(m *dto.Metric) map[string]string {
	l := map[string]string{}
	for _, p := range m.GetLabel() {
		l[p.GetName()] = p.GetValue()
	}
	return l
}

func positive(v float64) bool { return v > 0 }
func zero(v float64) bool     { return v == 0 }
