package main

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/proctest"

	"github.com/prometheus/common/version"
)

func TestFillVersion(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		stampedVersion       string // what -ldflags set, if anything
		stampedRevision      string
		info                 debug.BuildInfo
		wantVersion, wantRev string
	}{
		{
			name:        "go install at a tag",
			info:        debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123abc"}, {Key: "vcs.modified", Value: "false"}}},
			wantVersion: "1.2.3", wantRev: "0123abc",
		},
		{
			name:        "go build in a dirty work tree",
			info:        debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261129120000-0123abcdef01+dirty"}, Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123abcdef01"}, {Key: "vcs.modified", Value: "true"}}},
			wantVersion: "0.0.0-20261129120000-0123abcdef01+dirty", wantRev: "0123abcdef01-modified",
		},
		{
			name:        "no VCS information",
			info:        debug.BuildInfo{Main: debug.Module{Version: "(devel)"}},
			wantVersion: "devel", wantRev: "unknown",
		},
		{
			name:           "-ldflags wins",
			stampedVersion: "0.4.0", stampedRevision: "feedbeef",
			info:        debug.BuildInfo{Main: debug.Module{Version: "v9.9.9"}, Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123abc"}}},
			wantVersion: "0.4.0", wantRev: "feedbeef",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			oldV, oldR := version.Version, version.Revision
			t.Cleanup(func() { version.Version, version.Revision = oldV, oldR })
			version.Version, version.Revision = tc.stampedVersion, tc.stampedRevision

			fillVersion(&tc.info)
			if version.Version != tc.wantVersion || version.Revision != tc.wantRev {
				t.Errorf("version %q revision %q, want %q %q", version.Version, version.Revision, tc.wantVersion, tc.wantRev)
			}
			if got, want := userAgent(), "aliyun-billing-exporter/"+tc.wantVersion; got != want {
				t.Errorf("User-Agent %q, want %q", got, want)
			}
		})
	}
}

// TestVersionStampedByMakefile builds the binary with the Makefile's own
// -ldflags and checks that the stamped version reaches all four places a
// user or an Alibaba Cloud audit trail sees it.
func TestVersionStampedByMakefile(t *testing.T) {
	stamp := map[string]string{
		"VERSION":    "9.8.7-test",
		"REVISION":   "0123456789abcdef0123456789abcdef01234567",
		"BRANCH":     "release-9.8",
		"BUILD_USER": "tester@buildhost",
		"BUILD_DATE": "20261129-12:00:00",
	}
	args := []string{"-s", "--no-print-directory", "-C", "../..", "print-ldflags"}
	for k, v := range stamp {
		args = append(args, k+"="+v)
	}
	ldflags, err := exec.Command("make", args...).Output()
	if err != nil {
		t.Fatalf("make print-ldflags: %v", err)
	}
	bin := buildWith(t, "-ldflags="+strings.TrimSpace(string(ldflags)))

	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("--version: %v\n%s", err, out)
	}
	for _, want := range []string{
		"aliyun-billing-exporter, version 9.8.7-test (branch: release-9.8, revision: 0123456789abcdef0123456789abcdef01234567)",
		"build user:       tester@buildhost",
		"build date:       20261129-12:00:00",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("--version printed\n%s\nwant a line %q", out, want)
		}
	}
	checkServedVersion(t, bin, stamp["VERSION"], stamp["REVISION"], stamp["BRANCH"])
}

// TestVersionFromBuildInfo builds with a plain `go build` and checks that
// the version and revision come from what the go command recorded in the
// binary, as `go version -m` reads it.
func TestVersionFromBuildInfo(t *testing.T) {
	bin := buildWith(t)
	out, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	info := debug.BuildInfo{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Split(strings.TrimSpace(sc.Text()), "\t")
		switch {
		case len(f) >= 3 && f[0] == "mod":
			info.Main.Version = f[2]
		case len(f) == 2 && f[0] == "build" && strings.HasPrefix(f[1], "vcs."):
			k, v, _ := strings.Cut(f[1], "=")
			info.Settings = append(info.Settings, debug.BuildSetting{Key: k, Value: v})
		}
	}
	if info.Main.Version == "" {
		t.Fatalf("go version -m shows no main module version:\n%s", out)
	}
	wantVersion, wantRev := moduleVersion(info.Main.Version), vcsRevision(info.Settings)
	t.Logf("go version -m: module version %s → %s, revision %s", info.Main.Version, wantVersion, wantRev)

	v, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("--version: %v\n%s", err, v)
	}
	if want := "aliyun-billing-exporter, version " + wantVersion + " (branch: , revision: " + wantRev + ")"; !strings.Contains(string(v), want) {
		t.Errorf("--version printed\n%s\nwant %q", v, want)
	}
	checkServedVersion(t, bin, wantVersion, wantRev, "")
}

func buildWith(t *testing.T, flags ...string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "aliyun-billing-exporter")
	cmd := exec.Command("go", append(append([]string{"build"}, flags...), "-o", bin, ".")...)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go build %v: %v", flags, err)
	}
	return bin
}

// checkServedVersion runs bin against a fake BSS endpoint that records the
// User-Agent of the first request, and checks the build_info metric, the
// landing page and that User-Agent.
func checkServedVersion(t *testing.T, bin, wantVersion, wantRev, wantBranch string) {
	t.Helper()
	agents := make(chan string, 1)
	bss := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case agents <- r.UserAgent():
		default:
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"RequestId":"version-test","Code":"Forbidden.RAM","Message":"test endpoint"}`)
	}))
	defer bss.Close()

	addr := proctest.FreeAddr(t)
	cmd := exec.Command(bin, "--web.listen-address="+addr, "--bss.endpoint="+bss.URL)
	cmd.Env = append(os.Environ(),
		"ALIBABA_CLOUD_ACCESS_KEY_ID=LTAIversiontest",
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET=version-test-secret",
		"ALIBABA_CLOUD_ECS_METADATA_DISABLED=true")
	p, err := proctest.StartCmd("exporter", filepath.Join(t.TempDir(), "exporter.log"), cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		p.Stop()
		if t.Failed() {
			t.Logf("exporter log:\n%s", p.Log())
		}
	}()

	select {
	case ua := <-agents:
		if want := "aliyun-billing-exporter/" + wantVersion; ua != want {
			t.Errorf("User-Agent sent to BSS %q, want %q", ua, want)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the exporter sent no request to the BSS endpoint within 60s")
	}

	metrics := httpGet(t, "http://"+addr+"/metrics")
	wantInfo := `aliyun_billing_exporter_build_info{branch="` + wantBranch + `",goarch=`
	if !strings.Contains(metrics, wantInfo) || !strings.Contains(metrics, `revision="`+wantRev+`"`) || !strings.Contains(metrics, `version="`+wantVersion+`"} 1`) {
		t.Errorf("/metrics has no build_info with version %q, revision %q, branch %q:\n%s", wantVersion, wantRev, wantBranch, grepLines(metrics, "build_info"))
	}
	if page := httpGet(t, "http://"+addr+"/"); !strings.Contains(page, "version="+wantVersion+",") {
		t.Errorf("the landing page does not show version=%s:\n%s", wantVersion, page)
	}
}

// httpGet retries until the server listens (it starts as the first BSS
// request goes out, so it is up within moments).
func httpGet(t *testing.T, url string) string {
	t.Helper()
	var err error
	for range 100 {
		var resp *http.Response
		if resp, err = http.Get(url); err == nil {
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			return string(body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("GET %s: %v", url, err)
	return ""
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
