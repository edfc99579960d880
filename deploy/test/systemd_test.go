package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const systemdDir = "../systemd"

// systemdUnits copies the units and the drop-in to a temporary directory,
// with ExecStart pointing at a freshly built exporter: systemd-analyze
// verify checks that the command exists and is executable.
func systemdUnits(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "aliyun-billing-exporter")
	build := exec.Command("go", "-C", "../..", "build", "-o", bin, "./cmd/aliyun-billing-exporter")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, name := range []string{"aliyun-billing-exporter.service", "aliyun-billing-exporter.socket", "aliyun-billing-exporter.service.d/socket.conf"} {
		data, err := os.ReadFile(filepath.Join(systemdDir, name))
		if err != nil {
			t.Fatal(err)
		}
		data = []byte(strings.ReplaceAll(string(data), "/usr/local/bin/aliyun-billing-exporter", bin))
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestSystemdVerify: systemd-analyze verify accepts the units, with the
// drop-in, and says nothing. It exits 0 on an unknown key, printing only a
// warning, so any output fails the test.
func TestSystemdVerify(t *testing.T) {
	dir := systemdUnits(t)
	out, err := exec.Command("systemd-analyze", "verify", "--man=no",
		filepath.Join(dir, "aliyun-billing-exporter.service"),
		filepath.Join(dir, "aliyun-billing-exporter.socket")).CombinedOutput()
	if err != nil || len(out) != 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestSystemdSecurity: systemd's own exposure score of the hardened unit
// stays "OK" or better (below 2.0 of 10; an unhardened service scores 9.6).
func TestSystemdSecurity(t *testing.T) {
	dir := systemdUnits(t)
	out, err := exec.Command("systemd-analyze", "security", "--offline=true", "--no-pager",
		filepath.Join(dir, "aliyun-billing-exporter.service")).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for aliyun-billing-exporter.service: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no exposure level in\n%s", out)
	}
	score, _ := strconv.ParseFloat(string(m[1]), 64)
	t.Logf("exposure level %.1f", score)
	if score >= 2.0 {
		t.Errorf("exposure level %.1f, want below 2.0:\n%s", score, out)
	}
}

// TestSystemdUnitContents: the properties the README promises.
func TestSystemdUnitContents(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(systemdDir, "aliyun-billing-exporter.service"))
	if err != nil {
		t.Fatal(err)
	}
	unit := string(data)
	for _, want := range []string{
		"DynamicUser=yes",
		"ProtectSystem=strict",
		"StateDirectory=aliyun-billing-exporter",
		"--storage.path=%S/aliyun-billing-exporter",
		"LoadCredential=config.yml:/etc/aliyun-billing-exporter/config.yml",
		"--config.file=%d/config.yml",
		"EnvironmentFile=-/etc/default/aliyun-billing-exporter",
		"$SOCKET_FLAG",
	} {
		if !strings.Contains(unit, want) {
			t.Errorf("the unit lacks %q", want)
		}
	}
	dropin, err := os.ReadFile(filepath.Join(systemdDir, "aliyun-billing-exporter.service.d/socket.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(dropin), "Environment=SOCKET_FLAG=--web.systemd-socket") {
		t.Error("the socket drop-in does not pass --web.systemd-socket")
	}
}
