package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/proctest"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
)

// sample returns the value of the series of name whose labels include
// want, or ok=false.
func sample(t *testing.T, addr, name string, want map[string]string) (float64, bool) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	mf := families[name]
	if mf == nil {
		return 0, false
	}
next:
	for _, m := range mf.Metric {
		for k, v := range want {
			if labelValue(m, k) != v {
				continue next
			}
		}
		if m.Gauge != nil {
			return m.GetGauge().GetValue(), true
		}
		return m.GetCounter().GetValue(), true
	}
	return 0, false
}

// waitFor polls cond until it holds; it fails the test after 60 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func post(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// SIGHUP and POST /-/reload reload the file as Prometheus does: a valid
// file is swapped in, restarting only the accounts it changed; an invalid
// one changes nothing, is logged once and shows in the reload metrics.
func TestReload(t *testing.T) {
	bin := proctest.Build(t, "aliyun-billing-exporter")
	world, err := bsssim.NewWorld(bsssim.WorldConfig{Seed: 3, Owners: 1, InstancesPerOwner: 2})
	if err != nil {
		t.Fatal(err)
	}
	sim, err := bsssim.Start(bsssim.Config{World: world})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	path := filepath.Join(t.TempDir(), "config.yml")
	write := func(changedRate, budget string) {
		t.Helper()
		account := func(name, rate string) string {
			return fmt.Sprintf("  - name: %s\n    endpoint: %s\n    rate_limit: %s\n    credentials:\n      type: access_key\n      access_key_id: %s\n      access_key_secret: %s\n",
				name, sim.URL, rate, bsssim.TestAccessKeyID, bsssim.TestAccessKeySecret)
		}
		data := "accounts:\n" + account("kept", "5")
		if changedRate != "" { // "" removes the account
			data += account("changed", changedRate)
		}
		data +=
			"budgets:\n  - account: kept\n    monthly_amount: \"" + budget + "\"\n    currency: CNY\n"
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("5", "100")
	only := []string{"--no-collector.account", "--no-collector.instance", "--no-collector.ossbucket", "--no-collector.subscription"}
	p := startExporter(t, bin, append(only, "--config.file="+path, "--web.enable-lifecycle")...)
	p.waitReady(t)

	const lastSuccess = "aliyun_billing_last_refresh_success_timestamp_seconds"
	refreshed := func(account string) float64 {
		v, ok := sample(t, p.addr, lastSuccess, map[string]string{"account": account, "collector": "balance"})
		if !ok {
			t.Fatalf("no %s for %s", lastSuccess, account)
		}
		return v
	}
	budget := func() float64 {
		v, _ := sample(t, p.addr, "aliyun_billing_budget_monthly", map[string]string{"account": "kept"})
		return v
	}
	reloadOK := func() float64 {
		v, _ := sample(t, p.addr, "aliyun_billing_config_last_reload_successful", nil)
		return v
	}
	reloadTime := func() float64 {
		v, _ := sample(t, p.addr, "aliyun_billing_config_last_reload_success_timestamp_seconds", nil)
		return v
	}
	kept, changed, loadedAt := refreshed("kept"), refreshed("changed"), reloadTime()
	if reloadOK() != 1 || loadedAt == 0 || budget() != 100 {
		t.Fatalf("after start: reload successful %v at %v, budget %v", reloadOK(), loadedAt, budget())
	}

	// A valid change over HTTP: only the changed account refreshes anew.
	write("6", "200")
	if code, body := post(t, "http://"+p.addr+"/-/reload"); code != http.StatusOK {
		t.Fatalf("POST /-/reload: %d %s", code, body)
	}
	p.waitReady(t)
	waitFor(t, "the changed account to refresh", func() bool { return refreshed("changed") > changed })
	if got := refreshed("kept"); got != kept {
		t.Errorf("the unchanged account refreshed again (%v, was %v): its data was not kept", got, kept)
	}
	if budget() != 200 || reloadOK() != 1 || reloadTime() <= loadedAt {
		t.Errorf("after a good reload: budget %v, successful %v, at %v (was %v)", budget(), reloadOK(), reloadTime(), loadedAt)
	}
	loadedAt = reloadTime()

	// An invalid file by SIGHUP: nothing changes, the failure shows.
	if err := os.WriteFile(path, []byte("accounts:\n  - name: kept\nbudgets:\n  - account: kept\n    monthly_amount: \"1,000\"\n    currency: CNY\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the failed reload to show", func() bool { return reloadOK() == 0 })
	if budget() != 200 || reloadTime() != loadedAt {
		t.Errorf("after a bad reload: budget %v, last success %v (was %v)", budget(), reloadTime(), loadedAt)
	}
	if _, ok := sample(t, p.addr, lastSuccess, map[string]string{"account": "changed"}); !ok {
		t.Error("a bad reload dropped an account")
	}
	// The same by HTTP: 500 and the reason.
	if code, body := post(t, "http://"+p.addr+"/-/reload"); code != http.StatusInternalServerError || !strings.Contains(body, `has a thousands separator`) {
		t.Errorf("POST /-/reload of a bad file: %d %q", code, body)
	}
	if resp, err := http.Get("http://" + p.addr + "/-/reload"); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /-/reload: %v %v", resp, err)
	}

	// A good file by SIGHUP recovers; it removes an account, whose series
	// go, and leaves the other running.
	write("", "300")
	if err := p.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the good reload", func() bool { return reloadOK() == 1 && budget() == 300 })
	if _, body := p.get(t, "/metrics"); strings.Contains(body, `account="changed"`) {
		t.Errorf("the removed account still has series:\n%s", grepLines(body, `account="changed"`))
	}
	if got := refreshed("kept"); got != kept {
		t.Errorf("the unchanged account refreshed again after a second reload (%v, was %v)", got, kept)
	}

	// The file replaced by a named pipe: the reload fails at once, naming
	// it, instead of waiting for a writer; scrapes go on, and SIGTERM ends
	// the process.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the reload of a pipe to fail", func() bool { return reloadOK() == 0 })
	if got := refreshed("kept"); got != kept {
		t.Errorf("the account restarted on a failed reload (%v, was %v)", got, kept)
	}

	_ = p.Signal(syscall.SIGTERM)
	select {
	case <-p.Done():
		if err := p.Wait(); err != nil {
			t.Errorf("exit after SIGTERM: %v", err)
		}
	case <-time.After(shutdownTimeout + 30*time.Second): // a hang, not a timing assertion
		t.Fatal("SIGTERM did not end the process")
	}
	log := p.Log()
	if n := strings.Count(log, "reloading the configuration failed"); n != 3 {
		t.Errorf("%d reload failures logged, want 3 (one per bad reload):\n%s", n, log)
	}
	if !strings.Contains(log, path+" is a named pipe, not a regular file") {
		t.Errorf("the log does not name the pipe:\n%s", log)
	}
	if strings.Contains(log, bsssim.TestAccessKeySecret) {
		t.Error("the log quotes the secret")
	}
}

// Without --web.enable-lifecycle, /-/reload is refused; SIGHUP still works.
func TestReloadEndpointNeedsLifecycleFlag(t *testing.T) {
	bin := proctest.Build(t, "aliyun-billing-exporter")
	path := filepath.Join(t.TempDir(), "budgets.yml")
	if err := os.WriteFile(path, []byte("budgets:\n  - account: demo\n    monthly_amount: \"10\"\n    currency: CNY\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startExporter(t, bin, "--demo", "--config.file="+path)
	p.waitReady(t)
	if code, _ := post(t, "http://"+p.addr+"/-/reload"); code != http.StatusForbidden {
		t.Errorf("POST /-/reload without --web.enable-lifecycle: %d, want 403", code)
	}
	if err := os.WriteFile(path, []byte("budgets:\n  - account: demo\n    monthly_amount: \"20\"\n    currency: CNY\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "SIGHUP to reload the budget", func() bool {
		v, _ := sample(t, p.addr, "aliyun_billing_budget_monthly", map[string]string{"account": "demo"})
		return v == 20
	})
	select {
	case <-p.Done():
		t.Fatalf("SIGHUP ended the exporter: %v", p.Wait())
	default:
	}
}
