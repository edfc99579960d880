package dashboards

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/proctest"
)

// installHint is the fix for a missing tool: the tests fail, never skip.
const installHint = "apt-get install prometheus prometheus-alertmanager victoria-metrics"

// toolPath returns the absolute path of a required binary or fails the test.
func toolPath(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is required by these tests and is not on PATH (%v): %s", name, err, installHint)
	}
	return p
}

// runTool runs a required binary in dir and returns its combined output,
// failing the test with that output when it exits non-zero.
func runTool(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, toolPath(t, name), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s (in %s): %v\n%s", name, strings.Join(args, " "), dir, err, out)
	}
	return string(out)
}

// startPrometheus runs the prometheus binary bin for one test with config
// as its configuration file (dir/name.yml), its data in dir/name-data and
// extra flags, on a free port, and waits until it is ready.
func startPrometheus(t *testing.T, bin, dir, name, config string, extra ...string) (promClient, *proctest.Process) {
	t.Helper()
	writeFile(t, filepath.Join(dir, name+".yml"), config)
	addr := proctest.FreeAddr(t)
	p := proctest.StartT(t, name, dir, bin, append([]string{
		"--config.file=" + name + ".yml", "--storage.tsdb.path=" + name + "-data", "--web.listen-address=" + addr,
	}, extra...)...)
	if err := p.WaitReady("http://"+addr+"/-/ready", time.Minute); err != nil {
		t.Fatal(err)
	}
	return promClient{base: "http://" + addr}, p
}

// httpGet fetches url and returns the body of a 200 answer.
func httpGet(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d: %.300s", url, resp.StatusCode, body)
	}
	return body, nil
}

// eventually retries check every interval until it returns nil or timeout
// passes, and returns the last error.
func eventually(timeout, interval time.Duration, check func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s: %w", timeout, err)
		}
		time.Sleep(interval)
	}
}

// --- the exporter, built once and run once for the whole package ----------

// demoExporter is the exporter binary running plain --demo: the demo turns
// on per-instance series and brings example budgets (one of them exceeded),
// so that every panel has data without extra flags.
type demoExporter struct {
	addr string // host:port
	// clock is the billing time every demo exporter of the test starts at
	// (--demo.clock); shift is how far it runs behind real time.
	clock time.Time
	shift time.Duration
	proc  *proctest.Process
}

var shared struct {
	once  sync.Once
	dir   string
	bin   string
	clock time.Time
	exp   *demoExporter
	err   error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.exp != nil {
		shared.exp.proc.Stop()
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	proctest.RemoveBuilds()
	os.Exit(code)
}

// billingShift says how far back to start the demo's billing clock. On the
// 1st and 2nd of a month (UTC+8) no day of the month is complete yet, so the
// month to date is 0 and no budget can be exceeded; the demo then starts 3
// days earlier, in the last days of the previous month.
func billingShift(now time.Time) time.Duration {
	if now.In(time.FixedZone("UTC+8", 8*3600)).Day() <= 2 {
		return 72 * time.Hour
	}
	return 0
}

// demoClock is the billing time every demo exporter of a test run starts
// at: five minutes past the hour before now (shifted by billingShift).
// Starting all of them at the same billing time makes them the same world
// exactly: BSS data changes only on the hour (days settle at 00:00 UTC+8,
// late restatements appear on the hour), and each exporter reads its days
// within minutes of its start, long before the next hour.
func demoClock(now time.Time) time.Time {
	return now.Add(-billingShift(now)).Add(-5 * time.Minute).Truncate(time.Hour).Add(5 * time.Minute)
}

// sharedExporter builds the exporter and starts it on first use; TestMain
// stops it after the last test.
func sharedExporter(t *testing.T) *demoExporter {
	t.Helper()
	shared.once.Do(func() { shared.exp, shared.err = startSharedExporter() })
	if shared.err != nil {
		t.Fatalf("demo exporter: %v", shared.err)
	}
	return shared.exp
}

func startSharedExporter() (*demoExporter, error) {
	dir, err := os.MkdirTemp("", "aliyun-billing-dashboards-")
	if err != nil {
		return nil, err
	}
	shared.dir = dir
	bin, err := proctest.Built("aliyun-billing-exporter")
	if err != nil {
		return nil, err
	}
	shared.bin = bin
	shared.clock = demoClock(time.Now())
	return startDemoExporter(dir, "aliyun-billing-exporter")
}

// startDemoExporter runs another demo exporter of the same world and
// billing clock as the shared one, on a free port, and waits until it is
// ready. The caller stops it.
func startDemoExporter(dir, name string, extraArgs ...string) (*demoExporter, error) {
	return startDemoExporterAt(dir, name, shared.clock, extraArgs...)
}

// startDemoExporterAt is startDemoExporter with the billing clock starting
// at clock.
func startDemoExporterAt(dir, name string, clock time.Time, extraArgs ...string) (*demoExporter, error) {
	addr, err := proctest.FreeAddrOf()
	if err != nil {
		return nil, err
	}
	args := append([]string{
		"--demo", "--demo.clock=" + clock.Format(time.RFC3339),
		"--web.listen-address=" + addr, "--log.level=warn",
		// make test runs this package a second time with the simulator
		// writing a mix of representations: the numbers must not change.
		"--demo.dialect=" + os.Getenv("BSS_SIMULATOR_DIALECT"),
	}, extraArgs...)
	proc, err := proctest.Start(name, filepath.Join(dir, name+".log"), dir, shared.bin, args...)
	if err != nil {
		return nil, err
	}
	exp := &demoExporter{addr: addr, clock: clock, shift: time.Since(clock), proc: proc}
	// Ready once every collector has refreshed once (the instance and OSS
	// bucket collectors first read the whole cycle).
	if err := proc.WaitReady("http://"+addr+"/-/ready", 2*time.Minute); err != nil {
		proc.Stop()
		return nil, err
	}
	return exp, nil
}

// anotherExporter starts a demo exporter for one test and stops it in
// t.Cleanup (or earlier, through its proc).
func anotherExporter(t *testing.T, name string, extraArgs ...string) *demoExporter {
	t.Helper()
	sharedExporter(t)
	exp, err := startDemoExporter(t.TempDir(), name, extraArgs...)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	t.Cleanup(func() {
		exp.proc.Stop()
		if t.Failed() {
			t.Logf("last lines of the %s log:\n%s", name, exp.proc.LogTail(20))
		}
	})
	return exp
}

// billingNow is the exporter's billing time now.
func (e *demoExporter) billingNow() time.Time { return time.Now().Add(-e.shift) }

// exposition fetches the exporter's /metrics.
func (e *demoExporter) exposition(t *testing.T) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	body, err := httpGet(ctx, "http://"+e.addr+"/metrics")
	if err != nil {
		t.Fatalf("scraping the exporter: %v", err)
	}
	return body
}

// sampleNames lists the names of the samples in a text exposition,
// including histogram _bucket/_sum/_count.
func sampleNames(exposition []byte) map[string]bool {
	names := map[string]bool{}
	for line := range strings.SplitSeq(string(exposition), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.IndexAny(line, "{ "); i > 0 {
			names[line[:i]] = true
		}
	}
	return names
}

var errEmpty = errors.New("no data")
