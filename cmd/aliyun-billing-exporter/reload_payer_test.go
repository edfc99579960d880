package main

import (
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/proctest"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
)

// TestReloadOntoAnotherPayerReadsItsOwnBills: a reload that points an
// existing account name at another payer's endpoint, with a state
// directory, publishes exactly what a fresh exporter of that payer does:
// the state the first payer left under the same name is not reused.
func TestReloadOntoAnotherPayerReadsItsOwnBills(t *testing.T) {
	bin := proctest.Build(t, "aliyun-billing-exporter")
	startWorld := func(seed int64) *bsssim.Running {
		_, sim := serveWorld(t, bsssim.WorldConfig{Seed: seed, Owners: 1, InstancesPerOwner: 6, SplitBillEnabled: true})
		return sim
	}
	payerA, payerB := startWorld(3), startWorld(4)
	dir := t.TempDir()
	writeConfig := func(path string, sim *bsssim.Running) { writeSimConfig(t, path, "a", sim) }
	only := []string{"--no-collector.balance", "--no-collector.subscription", "--no-collector.credit", "--no-collector.renewal",
		"--no-collector.resourceplan", "--no-collector.savingsplan"}
	dailyLines := func(p *exporterProcess) []string {
		_, body := p.get(t, "/metrics")
		var out []string
		for _, l := range strings.Split(body, "\n") {
			if strings.HasPrefix(l, "aliyun_billing_account_daily_") || strings.HasPrefix(l, "aliyun_billing_instance_daily_") ||
				strings.HasPrefix(l, "aliyun_billing_ossbucket_daily_") {
				out = append(out, l)
			}
		}
		slices.Sort(out)
		return out
	}

	configA := filepath.Join(t.TempDir(), "a.yml")
	writeConfig(configA, payerA)
	p := startExporter(t, bin, append(only, "--config.file="+configA, "--storage.path="+dir, "--web.enable-lifecycle")...)
	p.waitReady(t)
	ofA := dailyLines(p)

	configB := filepath.Join(t.TempDir(), "b.yml")
	writeConfig(configB, payerB)
	fresh := startExporter(t, bin, append(only, "--config.file="+configB)...)
	fresh.waitReady(t)
	want := dailyLines(fresh)
	if len(want) == 0 || slices.Equal(want, ofA) {
		t.Fatalf("payer B's daily series are empty or payer A's (%d lines): the test proves nothing", len(want))
	}

	writeConfig(configA, payerB) // the same account name, another payer
	if code, body := post(t, "http://"+p.addr+"/-/reload"); code != http.StatusOK {
		t.Fatalf("POST /-/reload: %d %s", code, body)
	}
	p.waitReady(t)
	if got := dailyLines(p); !slices.Equal(got, want) {
		t.Errorf("after the reload onto payer B the daily series differ from a fresh exporter's:\n%s\nwant:\n%s",
			strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The log is read once the process has ended: its writer is the process.
	_ = p.Signal(syscall.SIGTERM)
	_ = p.Wait()
	if !strings.Contains(p.Log(), "written for another payer account") {
		t.Errorf("the log does not say the state was another payer's:\n%s", p.Log())
	}
}
