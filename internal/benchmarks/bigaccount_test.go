package benchmarks

// Figure 6, big accounts and bad days (issue 9): the exporter binary at its
// defaults against bss-simulator processes with BSS's real quota (10
// requests a second) and 150 ms answers, on the 29th of a month, so that a
// cold start has the most settled days of the cycle behind it. The billing
// clock starts five minutes before the hour and runs with real time, so the
// simulator's late restatements (which appear on the hour) land in the
// middle of the walks.
//
// For each account it reports, per collector, the seconds to the first
// successful refresh against the physical minimum (the requests that
// collector made ÷ 10 a second), the requests in total, the samples a
// scrape carries and the exporter's peak resident memory; then it restarts
// the exporter on the state directory the first run filled and reports the
// seconds to ready and the requests made until then. A third run breaks
// the first instance walk with a TotalCount change and reports how long the
// collector takes to succeed anyway.
//
// It runs the real binaries, for real time: about 8 minutes for the two
// accounts. Nothing here runs in `go test`. A third account, about
// 1,000,000 rows a day, runs only with BIG_ACCOUNT=1m and with the quota
// lifted (see BenchmarkBigAccount).

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/collector"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/proctest"
)

// The simulator's billing clock starts at the wall clock: the exporter
// reads the billing calendar off the host's clock, so a simulator set to
// another moment answers its current cycle as "in the future". (A fixed
// start, the 29th of November, broke the benchmark once the wall clock
// left November.) The figures therefore depend on the day of the month the
// benchmark runs; BENCHMARKS.md gives the date of each run.

// BSS's real quota and latency, which figure 6 runs with.
const (
	realQuota   = 10
	realLatency = 150 * time.Millisecond
)

// startRealSim runs bss-simulator for the account with instancesPerOwner
// instances per owner, allowing quota requests a second (-1: no limit) and
// answering after latency.
func startRealSim(tb testing.TB, instancesPerOwner, quota int, latency time.Duration, faults string, extra ...string) *proctest.Simulator {
	tb.Helper()
	args := []string{"--seed=11", "--owners=5",
		"--instances-per-owner=" + strconv.Itoa(instancesPerOwner), "--quota=" + strconv.Itoa(quota),
		"--latency=" + latency.String(), "--clock.start=" + time.Now().Format(time.RFC3339), "--log.level=warn"}
	if faults != "" {
		args = append(args, "--faults="+faults)
	}
	return proctest.StartSimulator(tb, append(args, extra...)...)
}

// billFiles serves the simulator's bill files on a free port (its World
// pushes InstanceDetailForBillingPeriod, InstanceDetailMonthly and, with
// --split-item-subscription, SplitItemDetailDaily) and returns the
// simulator's flags and the exporter's, which read both collectors' days
// from them.
func billFiles(tb testing.TB) (simFlags, exporterFlags []string) {
	addr := proctest.FreeAddr(tb)
	return []string{"--oss.listen-address=" + addr, "--split-item-subscription"},
		[]string{"--collector.instance.source=bill-files", "--collector.ossbucket.source=bill-files",
			"--bill-files.region=cn-hangzhou", "--bill-files.endpoint=http://" + addr}
}

// podGoMemLimit is what --auto-gomemlimit sets in the Helm chart's pod,
// 0.9 of its 256 MiB limit, given here because the benchmark's process has
// no cgroup limit to read: the peak RSS measured is the pod's.
const podGoMemLimit = "GOMEMLIMIT=241591910"

// exporterRun is one exporter process and what was seen of it.
type exporterRun struct {
	cmd      *exec.Cmd
	base     string
	start    time.Time
	logs     *proctest.Buffer
	firstOK  map[string]float64 // collector → seconds to its first success
	readyAt  float64            // seconds to /-/ready 200; 0 if never
	requests float64            // BSS requests when all succeeded (or at the end)
	samples  int
	peakRSS  int64
	body     string // the last /metrics read
}

// startExporter runs the exporter at its defaults, plus --storage.path and
// the flags in extra.
func startExporter(tb testing.TB, simURL, stateDir string, extra ...string) *exporterRun {
	tb.Helper()
	bin, err := proctest.Built("aliyun-billing-exporter")
	if err != nil {
		tb.Fatal(err)
	}
	addr := proctest.FreeAddr(tb)
	r := &exporterRun{base: "http://" + addr, logs: &proctest.Buffer{}, firstOK: map[string]float64{}}
	r.cmd = exec.Command(bin, append([]string{"--web.listen-address=" + addr, "--bss.endpoint=" + simURL, "--storage.path=" + stateDir}, extra...)...)
	r.cmd.Env = append(os.Environ(), podGoMemLimit, "GODEBUG=gctrace=1", "ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI5tSimulatorKey0001",
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET=SimulatorSecret0000000000000001", "ALIBABA_CLOUD_ECS_METADATA_DISABLED=true")
	r.cmd.Stderr = r.logs
	r.start = time.Now()
	if err := r.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(r.stop)
	return r
}

func (r *exporterRun) stop() {
	if r.cmd.ProcessState == nil {
		_ = r.cmd.Process.Signal(os.Interrupt)
		_ = r.cmd.Wait()
	}
}

var (
	billFileBytesRE = regexp.MustCompile(`(?m)^aliyun_billing_bill_file_read_bytes_total\{[^}]*collector="([a-z]+)"[^}]*\} (\S+)$`)
	lastSuccessRE   = regexp.MustCompile(`(?m)^aliyun_billing_last_refresh_success_timestamp_seconds\{[^}]*collector="([a-z]+)"`)
	requestsRE      = regexp.MustCompile(`(?m)^aliyun_billing_bss_requests_total\{[^}]*\} (\S+)$`)
)

// watch polls the exporter every 250 ms until every collector has
// succeeded once and /-/ready answers 200, or timeout. collectors is how
// many the exporter runs: defaultCollectors() at its defaults.
func (r *exporterRun) watch(tb testing.TB, collectors int, timeout time.Duration) {
	tb.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		time.Sleep(250 * time.Millisecond)
		r.peakRSS = max(r.peakRSS, proctest.PeakRSS(r.cmd.Process.Pid))
		body, err := get(client, r.base+"/metrics")
		if err != nil {
			continue
		}
		now := time.Since(r.start).Seconds()
		for _, m := range lastSuccessRE.FindAllStringSubmatch(body, -1) {
			if _, ok := r.firstOK[m[1]]; !ok {
				r.firstOK[m[1]] = now
			}
		}
		if r.readyAt == 0 {
			if resp, err := client.Get(r.base + "/-/ready"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					r.readyAt = now
				}
			}
		}
		r.requests = 0
		for _, m := range requestsRE.FindAllStringSubmatch(body, -1) {
			v, _ := strconv.ParseFloat(m[1], 64)
			r.requests += v
		}
		r.body = body
		r.samples = 0
		for line := range strings.SplitSeq(body, "\n") {
			if line != "" && !strings.HasPrefix(line, "#") {
				r.samples++
			}
		}
		if len(r.firstOK) == collectors && r.readyAt > 0 {
			return
		}
	}
	tb.Fatalf("not every collector succeeded within %s: %v; logs:\n%s", timeout, r.firstOK, r.logs)
}

func get(c *http.Client, url string) (string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// firstSuccessRE reads the exporter's "first refresh succeeded" lines.
var firstSuccessRE = regexp.MustCompile(`collector=(\w+) .*msg="first refresh succeeded" days=(\d+) series=(\d+) requests=(\d+) seconds=([\d.]+)`)

// reportFirstSuccess logs, per collector, the seconds to first success and
// the physical minimum for its requests at 10 a second. With the quota
// lifted the seconds are not comparable with that minimum, so no ratio.
func reportFirstSuccess(b *testing.B, name string, r *exporterRun, quotaLifted bool) {
	var names []string
	for c := range r.firstOK {
		names = append(names, c)
	}
	sort.Strings(names)
	requests := map[string]int{}
	for _, m := range firstSuccessRE.FindAllStringSubmatch(r.logs.String(), -1) {
		requests[m[1]], _ = strconv.Atoi(m[4])
	}
	for _, c := range names {
		minimum := float64(requests[c]) / realQuota
		if quotaLifted {
			b.Logf("%s %-12s first success %6.1f s (quota lifted), %6d requests, physical minimum at 10/s %7.1f s", name, c, r.firstOK[c], requests[c], minimum)
			b.ReportMetric(r.firstOK[c], name+"-"+c+"-s")
			continue
		}
		ratio := 0.0
		if minimum > 0 {
			ratio = r.firstOK[c] / minimum
		}
		b.Logf("%s %-12s first success %6.1f s, %5d requests, physical minimum %6.1f s, ratio %.2f", name, c, r.firstOK[c], requests[c], minimum, ratio)
		b.ReportMetric(r.firstOK[c], name+"-"+c+"-s")
	}
}

// liftedQuotaExporterFlags let the exporter use a simulator without a
// quota: --bss.rate-limit at the most the exporter accepts. The amortized
// collector is off: the simulator amortizes by reading every instance-bill
// row of two cycles, some 60 million at a million rows a day, minutes of
// its CPU per answer (BSS answers from its own ledger), so the collector's
// requests time out and retry while the simulator takes the CPU from the
// bill walks being measured.
var liftedQuotaExporterFlags = []string{"--bss.rate-limit=1000", "--no-collector.amortized"}

// BenchmarkBigAccount is figure 6.
//
// BIG_ACCOUNT=<name> runs one account only. The 1m account (about
// 1,000,000 instance-bill rows a day) runs only when named: at the real
// quota its cold start would take hours, so its simulator runs with the
// quota lifted and no latency, and the exporter with the highest rate limit
// it accepts. Samples, requests and peak RSS do not depend on the quota;
// its seconds are not those of a real account, whose minimum is the
// requests ÷ 10 a second, reported beside them.
func BenchmarkBigAccount(b *testing.B) {
	accounts := []struct {
		name              string
		instancesPerOwner int
		timeout           time.Duration
		quotaLifted       bool // and opt-in: only with BIG_ACCOUNT=<name>
		// files reads the instance and ossbucket days from the bill files,
		// at BSS's real quota; opt-in too at 1m, whose simulator takes
		// minutes to write the files.
		files bool
	}{
		{"5k", 1412, 5 * time.Minute, false, false},
		{"50k", 14368, 20 * time.Minute, false, false},
		{"50k-files", 14368, 20 * time.Minute, false, true},
		{"1m", 282400, 60 * time.Minute, true, false},
		{"1m-files", 282400, 30 * time.Minute, false, true},
	}
	for _, a := range accounts {
		only := os.Getenv("BIG_ACCOUNT")
		optIn := a.quotaLifted || a.name == "1m-files"
		if only != a.name && (only != "" || optIn) {
			continue
		}
		b.Run(a.name, func(b *testing.B) {
			quota, latency, exporterFlags, collectors := realQuota, realLatency, []string(nil), defaultCollectors()
			if a.quotaLifted {
				quota, latency, exporterFlags, collectors = -1, 0, liftedQuotaExporterFlags, collectors-1
			}
			var simFlags []string
			if a.files {
				simFlags, exporterFlags = billFiles(b)
			}
			if a.name == "1m-files" { // see liftedQuotaExporterFlags
				exporterFlags, collectors = append(exporterFlags, "--no-collector.amortized"), collectors-1
			}
			for b.Loop() {
				state := b.TempDir()
				sim := startRealSim(b, a.instancesPerOwner, quota, latency, "", simFlags...)
				predicted := runDoctor(b, sim.URL, exporterFlags...)
				cold := startExporter(b, sim.URL, state, exporterFlags...)
				cold.watch(b, collectors, a.timeout)
				reportFirstSuccess(b, "cold", cold, a.quotaLifted)
				predicted.compare(b, cold)
				b.Logf("cold start: ready after %.1f s, %.0f requests, %d samples per scrape, peak RSS %.1f MiB",
					cold.readyAt, cold.requests, cold.samples, float64(cold.peakRSS)/(1<<20))
				if a.quotaLifted {
					b.Logf("cold start at 10/s would take at least %.1f s (requests ÷ 10/s); the simulator's peak RSS was %.1f MiB",
						cold.requests/realQuota, float64(sim.PeakRSS())/(1<<20))
				}
				if a.files {
					var read float64
					for _, m := range billFileBytesRE.FindAllStringSubmatch(cold.body, -1) {
						v, _ := strconv.ParseFloat(m[2], 64)
						read += v
						b.Logf("%s read %.1f MiB of bill files", m[1], v/(1<<20))
					}
					b.ReportMetric(read/(1<<20), "cold-oss-MiB")
				}
				logFamilySamples(b, cold.body)
				b.ReportMetric(cold.readyAt, "cold-ready-s")
				b.ReportMetric(cold.requests, "cold-requests")
				b.ReportMetric(float64(cold.samples), "samples")
				b.ReportMetric(float64(cold.peakRSS)/(1<<20), "peak-RSS-MiB")
				cold.stop()

				// A restart on the state directory, against the same
				// simulator (its quota window and clock carry on).
				warm := startExporter(b, sim.URL, state, exporterFlags...)
				warm.watch(b, collectors, a.timeout)
				b.Logf("restart with the state directory: ready after %.1f s, %.0f requests, peak RSS %.1f MiB",
					warm.readyAt, warm.requests, float64(warm.peakRSS)/(1<<20))
				b.ReportMetric(warm.readyAt, "restart-ready-s")
				b.ReportMetric(warm.requests, "restart-requests")
				warm.stop()
			}
		})
	}
	// A walk broken by a TotalCount change: the first instance-bill page
	// answered drifts, so the first walk fails mid-way.
	if only := os.Getenv("BIG_ACCOUNT"); only == "" || only == "broken" {
		b.Run("5k-broken-walk", func(b *testing.B) {
			for b.Loop() {
				sim := startRealSim(b, 1412, realQuota, realLatency, "drift-total=1,action=DescribeInstanceBill")
				r := startExporter(b, sim.URL, b.TempDir())
				r.watch(b, defaultCollectors(), 5*time.Minute)
				if !strings.Contains(r.logs.String(), "Pagination.TotalCountChanged") {
					b.Fatalf("no walk was broken; the run proves nothing:\n%s", r.logs)
				}
				reportFirstSuccess(b, "broken", r, false)
				b.Logf("broken walk: instance succeeded after %.1f s (the exporter retries a broken walk 30 s after the failure)", r.firstOK["instance"])
				b.ReportMetric(r.firstOK["instance"], "broken-instance-s")
			}
		})
	}
}

// doctorReport is what the bench reads of `doctor --format=json`.
type doctorReport struct {
	Requests    int `json:"requests"`
	Predictions []struct {
		Collector    string `json:"collector"`
		ColdRequests int    `json:"cold_start_requests"`
		Series       int    `json:"series"`
	} `json:"predictions"`
	PeakHeapMiB    int `json:"peak_heap_mib"`
	MemoryLimitMiB int `json:"memory_limit_mib"`
}

// runDoctor runs the exporter's doctor against the simulator, with the
// exporter's flags, before the cold start it predicts.
func runDoctor(tb testing.TB, simURL string, extra ...string) doctorReport {
	tb.Helper()
	bin, err := proctest.Built("aliyun-billing-exporter")
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"doctor", "--format=json", "--bss.endpoint=" + simURL}, extra...)...)
	cmd.Env = append(os.Environ(), "ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI5tSimulatorKey0001",
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET=SimulatorSecret0000000000000001", "ALIBABA_CLOUD_ECS_METADATA_DISABLED=true")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, _ := cmd.Output() // exit 1 is a finding (a "?"), not a failure of the bench
	var r doctorReport
	if err := json.Unmarshal(out, &r); err != nil || len(r.Predictions) == 0 {
		tb.Fatalf("doctor printed no predictions (%v):\n%s\n%s", err, out, stderr.String())
	}
	return r
}

var snapshotSeriesRE = regexp.MustCompile(`(?m)^aliyun_billing_snapshot_series\{[^}]*collector="([a-z]+)"[^}]*\} (\S+)$`)

// gcTraceRE matches a GODEBUG=gctrace=1 line's heap sizes: at the start
// of the cycle, at its end, and live (marked), in MB.
var gcTraceRE = regexp.MustCompile(`(\d+)->(\d+)->(\d+) MB`)

// peakLiveHeap returns the largest live heap the exporter's garbage
// collections reported on stderr, in MiB (the runtime's MB).
func peakLiveHeap(stderr string) int {
	peak := 0
	for _, m := range gcTraceRE.FindAllStringSubmatch(stderr, -1) {
		live, _ := strconv.Atoi(m[3])
		peak = max(peak, live)
	}
	return peak
}

// compare reports the doctor's predictions against the cold start run
// measured: requests (the doctor's own included in neither), peak RSS and
// series per bill collector, as ratios predicted ÷ measured.
func (d doctorReport) compare(b *testing.B, cold *exporterRun) {
	predicted := 0
	for _, p := range d.Predictions {
		predicted += p.ColdRequests
	}
	series := map[string]float64{}
	for _, m := range snapshotSeriesRE.FindAllStringSubmatch(cold.body, -1) {
		series[m[1]], _ = strconv.ParseFloat(m[2], 64)
	}
	heap := float64(peakLiveHeap(cold.logs.String()))
	b.Logf("doctor (%d requests) predicted %d cold-start requests, %.0f made: %.2f×; a peak live heap of %d MiB, %.0f MiB measured: %.2f×, held by a %d MiB limit (peak RSS %.1f MiB under the chart's)",
		d.Requests, predicted, cold.requests, float64(predicted)/cold.requests, d.PeakHeapMiB, heap, float64(d.PeakHeapMiB)/heap, d.MemoryLimitMiB, float64(cold.peakRSS)/(1<<20))
	b.ReportMetric(float64(predicted)/cold.requests, "doctor-requests-ratio")
	b.ReportMetric(float64(d.PeakHeapMiB)/heap, "doctor-heap-ratio")
	for _, p := range d.Predictions {
		if p.Series > 0 {
			b.Logf("doctor predicted %d series of %s, %.0f published: %.2f×", p.Series, p.Collector, series[p.Collector], float64(p.Series)/series[p.Collector])
		}
	}
}

// logFamilySamples logs the samples of one exposition per metric name,
// largest first: what a scrape's size is made of.
func logFamilySamples(b *testing.B, body string) {
	counts := map[string]int{}
	for line := range strings.SplitSeq(body, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name := line
		if i := strings.IndexAny(line, "{ "); i >= 0 {
			name = line[:i]
		}
		counts[name]++
	}
	names := make([]string, 0, len(counts))
	for n := range counts {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if counts[names[i]] != counts[names[j]] {
			return counts[names[i]] > counts[names[j]]
		}
		return names[i] < names[j]
	})
	var out strings.Builder
	for _, n := range names {
		fmt.Fprintf(&out, "\n  %7d %s", counts[n], n)
	}
	b.Logf("samples per metric name:%s", out.String())
}

// defaultCollectors is how many collectors the exporter runs at its
// defaults.
func defaultCollectors() int {
	n := 0
	for _, r := range collector.Registrations() {
		if r.DefaultEnabled {
			n++
		}
	}
	return n
}

// TestMain removes the binaries the benchmarks built (proctest.Build).
func TestMain(m *testing.M) { proctest.Main(m) }
