package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/proctest"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// landingLinkRE finds the landing page's links within the exporter.
var landingLinkRE = regexp.MustCompile(`href="([^":]+)"`)

var update = flag.Bool("update", false, "rewrite the golden files from the current output")

// demoClock pins the demo's billing time: February is not yet final (12:00
// on 3 March), and each collector has settled and unsettled days.
const demoClock = "2026-03-02T10:20:00+08:00"

// TestMain removes the binaries the tests built (proctest.Build).
func TestMain(m *testing.M) { proctest.Main(m) }

// exporterProcess is the built binary running on a free loopback port.
type exporterProcess struct {
	*proctest.Process
	addr string
}

// startExporter runs bin with args in this directory, its output in a
// log of its own; it is killed when the test ends.
func startExporter(t *testing.T, bin string, args ...string) *exporterProcess {
	t.Helper()
	addr := proctest.FreeAddr(t)
	p, err := proctest.Start("exporter", filepath.Join(t.TempDir(), "exporter.log"), "", bin, append([]string{"--web.listen-address=" + addr}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("exporter log:\n%s", p.Log())
		}
	})
	return &exporterProcess{Process: p, addr: addr}
}

// waitReady waits until /-/ready answers 200.
func (p *exporterProcess) waitReady(t *testing.T) {
	t.Helper()
	if err := p.WaitReady("http://"+p.addr+"/-/ready", 60*time.Second); err != nil {
		t.Fatal(err)
	}
}

func (p *exporterProcess) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + p.addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// volatile names families whose values depend on the machine or on timing,
// not on the billing data; the golden file leaves them out.
func volatile(name string) bool {
	for _, prefix := range []string{"go_", "process_", "promhttp_", "aliyun_billing_bss_", "aliyun_billing_exporter_build_info",
		"aliyun_billing_refresh_duration_seconds", "aliyun_billing_last_refresh_success_timestamp_seconds",
		"aliyun_billing_config_last_reload_success_timestamp_seconds"} {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}

// stableExposition re-encodes the stable families in name order.
func stableExposition(t *testing.T, body string) string {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	var names []string
	for n := range families {
		if !volatile(n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	var out bytes.Buffer
	for _, n := range names {
		if _, err := expfmt.MetricFamilyToText(&out, families[n]); err != nil {
			t.Fatal(err)
		}
	}
	return out.String()
}

func TestEndToEndDemoGolden(t *testing.T) {
	bin := proctest.Build(t, "aliyun-billing-exporter")
	p := startExporter(t, bin, "--demo", "--demo.clock="+demoClock)
	p.waitReady(t)

	code, body := p.get(t, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics answered %d", code)
	}
	got := stableExposition(t, body)
	golden := "testdata/e2e-demo.prom"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestEndToEndDemoGolden -update to create it)", err)
	}
	if got != string(want) {
		_ = os.WriteFile(golden+".actual", []byte(got), 0o644)
		t.Errorf("/metrics differs from %s; the output is in %s.actual (diff them; -update accepts it)", golden, golden)
	}

	// The whole exposition, volatile families included, passes promtool.
	lint := exec.Command("promtool", "check", "metrics")
	lint.Stdin = strings.NewReader(body)
	if out, err := lint.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}

	for path, want := range map[string]string{"/-/healthy": "Healthy", "/-/ready": "Ready", "/": "Alibaba Cloud Billing Exporter"} {
		if code, body := p.get(t, path); code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("%s answered %d %q, want 200 containing %q", path, code, body, want)
		}
	}
	// Every link of the landing page leads somewhere (no pprof pages: none
	// are served).
	_, landing := p.get(t, "/")
	links := landingLinkRE.FindAllStringSubmatch(landing, -1)
	if len(links) < 3 {
		t.Errorf("the landing page has %d local links, want metrics, readiness and health", len(links))
	}
	for _, l := range links {
		if code, _ := p.get(t, "/"+strings.TrimPrefix(l[1], "/")); code != http.StatusOK {
			t.Errorf("the landing page links to %s, which answers %d", l[1], code)
		}
	}

	// SIGTERM ends it cleanly.
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Done():
		if err := p.Wait(); err != nil {
			t.Errorf("exit after SIGTERM: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Error("the exporter did not exit within 15s of SIGTERM")
	}
}

// Golden checks on the data itself, so that a wrong golden file cannot pass
// unnoticed: daily samples sit on UTC+8 midnights of settled days only.
func TestEndToEndDemoDailyTimestamps(t *testing.T) {
	data, err := os.ReadFile("testdata/e2e-demo.prom")
	if err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	clock, _ := time.Parse(time.RFC3339, demoClock)
	newest := map[string]string{ // the newest settled day at demoClock, per family prefix
		"aliyun_billing_account_daily_":   "2026-02-28", // 24 h: 1 March settles at 00:00 on the 3rd
		"aliyun_billing_instance_daily_":  "2026-02-27", // 48 h
		"aliyun_billing_ossbucket_daily_": "2026-02-26", // 72 h
	}
	for prefix, wantNewest := range newest {
		var seen []string
		for name, mf := range families {
			if !strings.HasPrefix(name, prefix) {
				continue
			}
			for _, m := range mf.Metric {
				ts := time.UnixMilli(m.GetTimestampMs()).In(time.FixedZone("UTC+8", 8*3600))
				if ts.Hour() != 0 || ts.Minute() != 0 || ts.Second() != 0 {
					t.Errorf("%s sample at %s is not a UTC+8 midnight", name, ts)
				}
				if !ts.Before(clock) {
					t.Errorf("%s sample at %s is not in the past", name, ts)
				}
				seen = append(seen, ts.Format("2006-01-02"))
			}
		}
		slices.Sort(seen)
		if len(seen) == 0 || seen[len(seen)-1] != wantNewest {
			t.Errorf("%s: newest day %v, want %s", prefix, seen[len(seen)-1:], wantNewest)
		}
		if days := slices.Compact(seen); len(days) != 7 {
			t.Errorf("%s: %d days exposed, want the 7 exposure days", prefix, len(days))
		}
	}
	// Two cycles each of the account and the amortized collectors.
	if mf := families["aliyun_billing_cycle_final"]; mf == nil || len(mf.Metric) != 4 {
		t.Fatalf("aliyun_billing_cycle_final: %v", mf)
	} else {
		for _, m := range mf.Metric {
			if v := m.GetGauge().GetValue(); v != 0 {
				t.Errorf("cycle %s is final at %s: %v", labelValue(m, "billing_cycle"), demoClock, v)
			}
		}
	}
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.Label {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func TestEndToEndConfigCheck(t *testing.T) {
	bin := proctest.Build(t, "aliyun-billing-exporter")
	path := filepath.Join(t.TempDir(), "ok.yml")
	data, _ := os.ReadFile("testdata/config/good-multi-account.yml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--config.file="+path, "--config.check").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "configuration is valid: 2 account(s), 3 budget(s)") {
		t.Errorf("--config.check: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "example-secret-not-real") {
		t.Errorf("--config.check printed the secret:\n%s", out)
	}
}

// TestEndToEndDemoGoldenInMixedDialect: the demo's simulator writing its
// answers in a mix of every representation the documentation shows
// (numbers as strings, times without a zone, empty, null or absent
// informational fields, masked ids) gives the same exposition, byte for
// byte, as the golden file; and the client said it read surprises.
func TestEndToEndDemoGoldenInMixedDialect(t *testing.T) {
	bin := proctest.Build(t, "aliyun-billing-exporter")
	p := startExporter(t, bin, "--demo", "--demo.clock="+demoClock, "--demo.dialect=mixed")
	p.waitReady(t)
	_, body := p.get(t, "/metrics")
	want, err := os.ReadFile("testdata/e2e-demo.prom")
	if err != nil {
		t.Fatal(err)
	}
	if got := stableExposition(t, body); got != string(want) {
		_ = os.WriteFile("testdata/e2e-demo-mixed.prom.actual", []byte(got), 0o644)
		t.Errorf("/metrics in the mixed dialect differs from testdata/e2e-demo.prom; the output is in testdata/e2e-demo-mixed.prom.actual")
	}
	if !strings.Contains(body, "aliyun_billing_bss_unexpected_values_total{") {
		t.Error("no aliyun_billing_bss_unexpected_values_total: the mixed dialect was not spoken")
	}
}

// TestEndToEndDemoBillFiles: the demo reading the instance and ossbucket
// collectors' days from its simulator's bill files publishes their
// families exactly as the golden demo, read from the API, does, with no
// fallback to the API.
func TestEndToEndDemoBillFiles(t *testing.T) {
	bin := proctest.Build(t, "aliyun-billing-exporter")
	p := startExporter(t, bin, "--demo", "--demo.clock="+demoClock,
		"--collector.instance.source=bill-files", "--collector.ossbucket.source=bill-files")
	p.waitReady(t)
	code, body := p.get(t, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics answered %d", code)
	}
	golden, err := os.ReadFile("testdata/e2e-demo.prom")
	if err != nil {
		t.Fatal(err)
	}
	bills := func(exposition string) []string {
		var out []string
		for line := range strings.SplitSeq(exposition, "\n") {
			if strings.HasPrefix(line, "aliyun_billing_instance_") || strings.HasPrefix(line, "aliyun_billing_ossbucket_") {
				out = append(out, line)
			}
		}
		return out
	}
	got, want := bills(stableExposition(t, body)), bills(string(golden))
	if len(want) < 100 || !slices.Equal(got, want) {
		t.Fatalf("from bill files, %d samples of the bill families; from the API (the golden file), %d; they differ", len(got), len(want))
	}
	for _, collector := range []string{"instance", "ossbucket"} {
		fallbacks := fmt.Sprintf(`aliyun_billing_bill_file_fallbacks_total{account="demo",collector=%q} 0`, collector)
		if !strings.Contains(body, fallbacks) {
			t.Errorf("no %s in:\n%s", fallbacks, body)
		}
	}
}
