package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/proctest"
)

// binaryVerdict runs the built binary with args and returns its exit code
// and the one message it refused them with: the flag error it printed, or
// the err of its "invalid configuration" log line (JSON logs).
func binaryVerdict(t *testing.T, bin string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if !slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--log.format") }) {
		args = append([]string{"--log.format=json"}, args...)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("%v: %v", args, err)
	}
	out := stderr.String()
	if strings.Contains(out, "panic") || strings.Contains(out, "goroutine ") {
		t.Errorf("%v panicked:\n%s", args, out)
	}
	for _, line := range strings.Split(out, "\n") {
		if msg, ok := strings.CutPrefix(line, "aliyun-billing-exporter: "); ok {
			return code, msg, out
		}
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["level"] == "error" {
			return code, fmt.Sprint(rec["err"]), out
		}
	}
	return code, "", out + stdout.String()
}

// startupAndCheckAgree runs args once with --config.check and once as a
// start, and asserts that both refuse them with exit 2 and want.
func startupAndCheckAgree(t *testing.T, bin string, args []string, want string) {
	t.Helper()
	for _, mode := range []struct {
		name string
		args []string
	}{
		{"--config.check", append([]string{"--config.check"}, args...)},
		// A start that wrongly succeeded would serve on a free port until
		// the timeout; it fails the test either way.
		{"startup", append([]string{"--web.listen-address=127.0.0.1:0"}, args...)},
	} {
		code, got, out := binaryVerdict(t, bin, mode.args...)
		if code != 2 || got != want {
			t.Errorf("%s: exit %d, message\n  %s\nwant exit 2 and\n  %s\noutput:\n%s", mode.name, code, got, want, out)
		}
	}
}

// Every bad configuration file is refused with the same exact message by
// --config.check and by a start of the built binary.
func TestBadConfigFilesCheckAndStartupAgree(t *testing.T) {
	bin := proctest.Build(t, "aliyun-billing-exporter")
	dir := t.TempDir()
	huge := filepath.Join(dir, "huge-name.yml")
	if err := os.WriteFile(huge, []byte("accounts:\n  - name: "+strings.Repeat("x", 3<<20)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var many strings.Builder
	many.WriteString("accounts:\n")
	for i := range maxAccounts + 1 {
		fmt.Fprintf(&many, "  - name: a%d\n", i)
	}
	tooMany := filepath.Join(dir, "too-many.yml")
	if err := os.WriteFile(tooMany, []byte(many.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	const forms = `write a plain decimal such as "1200" or "1200.50"`
	cases := map[string]string{
		"bad-unknown-key.yml":                `line 3: accounts[0].sight: field sight not found in type main.accountConfig`,
		"bad-empty.yml":                      `the file is empty: it needs at least one entry under accounts`,
		"bad-no-accounts.yml":                `accounts: at least one account is needed`,
		"bad-empty-name.yml":                 `accounts[0].name: must not be empty`,
		"bad-duplicate-name.yml":             `accounts[1].name: "a" is used by another account`,
		"bad-bad-site.yml":                   `accounts[0] (a).site: "mars" is not one of china, international`,
		"bad-bad-url.yml":                    `accounts[0] (a).endpoint: "ftp://business.aliyuncs.com": scheme must be http or https`,
		"bad-url-path.yml":                   `accounts[0] (a).endpoint: "https://business.aliyuncs.com/api": BSS is served at /, remove the path "/api"`,
		"bad-endpoint-port.yml":              `accounts[0] (a).endpoint: "https://business.aliyuncs.com:99999": port "99999" is not between 1 and 65535`,
		"bad-endpoint-userinfo.yml":          `accounts[0] (a).endpoint: "https://redacted@business.aliyuncs.com/?redacted": user info is not allowed; credentials go under credentials`,
		"bad-endpoint-query.yml":             `accounts[0] (a).endpoint: "https://business.aliyuncs.com/?redacted": remove the query or fragment; BSS is served at /`,
		"bad-endpoint-password.yml":          `accounts[0] (a).endpoint: "https://redacted@business.aliyuncs.com": user info is not allowed; credentials go under credentials`,
		"bad-zero-rate.yml":                  `accounts[0] (a).rate_limit: must be between 0.1 and 1000 requests per second (BSS allows 10), got 0`,
		"bad-negative-rate.yml":              `accounts[0] (a).rate_limit: must be between 0.1 and 1000 requests per second (BSS allows 10), got -1`,
		"bad-tiny-rate.yml":                  `accounts[0] (a).rate_limit: must be between 0.1 and 1000 requests per second (BSS allows 10), got 0.001`,
		"bad-bad-signature.yml":              `accounts[0] (a).signature_version: "v2" is not one of v3, v1`,
		"bad-account-currency.yml":           `accounts[0] (a).currency: "EUR" is not one BSS bills in (CNY, USD, JPY)`,
		"bad-credentials-type.yml":           `accounts[0] (a).credentials: unknown type "password"; valid types: default, access_key, sts, ecs_ram_role, ram_role_arn, oidc_role_arn, credentials_uri, cli_profile, environment`,
		"bad-credentials-missing-secret.yml": `accounts[0] (a).credentials: type "access_key" needs access_key_secret`,
		"bad-budget-currency.yml":            `budgets[0].currency: "EUR" is not one BSS bills in (CNY, USD, JPY)`,
		"bad-budget-wrong-currency.yml":      `budgets[0].currency: "USD", but account "a" bills in CNY`,
		"bad-budget-account.yml":             `budgets[0].account: "b" is not a configured account`,
		"bad-budget-amount.yml":              `budgets[0].monthly_amount: "a lot" is not a decimal amount; ` + forms,
		"bad-budget-negative.yml":            `budgets[0].monthly_amount: must be positive, got "-5"`,
		"bad-budget-precision.yml":           `budgets[0].monthly_amount: "100.123456789" has 9 decimal places; at most 8 are kept`,
		"bad-budget-thousands.yml":           `budgets[0].monthly_amount: "1,000" has a thousands separator; ` + forms,
		"bad-budget-exponent.yml":            `budgets[0].monthly_amount: "1e3" has an exponent; ` + forms,
		"bad-budget-duplicate.yml":           `budgets[1]: a budget for account "a", product_code "", owner_id "" in "CNY" is already declared`,
		"bad-budget-product-case.yml":        `budgets[0].product_code: "ECS": BSS product codes are lower case; write "ecs"`,
		"bad-budget-product-control.yml":     `budgets[0].product_code: "ecs\a" is not a BSS product code (lower-case letters, digits, '_', '.' or '-', such as "ecs")`,
		"bad-budget-owner.yml":               `budgets[0].owner_id: "1234 5678" is not an account ID (digits only)`,
		"bad-not-yaml.yml":                   `yaml: line 1: did not find expected ',' or '}'`,
		"bad-remote-write-password.yml":      `remote_write[0].basic_auth.password: secrets come from files here; use password_file`,
		"bad-remote-write-header.yml":        `remote_write[0].headers: Authorization is set by the exporter (credentials go in basic_auth or authorization, read from files)`,
		"bad-remote-write-header-twice.yml":  `remote_write[0].headers: X-Scope-OrgID and x-scope-orgid name one header (names are case-insensitive); keep one`,
		"bad-remote-write-unknown-key.yml":   `line 5: remote_write[0].tenant: field tenant not found in type remotewrite.Receiver`,
		"bad-remote-write-same-label.yml":    `remote_write (receivers counted from 0, the --remote-write.url flags first): receiver 1 has the receiver label "mimir.example/api/v1/push" of receiver 0; give one a name`,
		"bad-bad-type.yml":                   "line 3: accounts[0].rate_limit: cannot unmarshal !!str `fast` into float64",
		"bad-multi-document.yml":             `line 3: a second YAML document; the file must hold exactly one (remove the ---)`,
		huge:                                 `accounts[0].name: "` + strings.Repeat("x", 64) + `"… (3145728 bytes) must be 1 to 63 letters, digits, '_', '.' or '-'`,
		tooMany:                              fmt.Sprintf("accounts: %d accounts, at most %d per process: run one exporter per share of the accounts, each with its own --config.file", maxAccounts+1, maxAccounts),
	}
	for name, want := range cases {
		path := name
		if !filepath.IsAbs(name) {
			path = filepath.Join("testdata/config", name)
		}
		t.Run(filepath.Base(name), func(t *testing.T) {
			startupAndCheckAgree(t, bin, []string{"--config.file=" + path}, path+": "+want)
		})
	}
	// Every fixture on disk is in the table.
	files, _ := filepath.Glob("testdata/config/bad-*.yml")
	if len(files) != len(cases)-2 {
		t.Errorf("%d bad fixtures on disk, %d tested: add the new ones to this table", len(files), len(cases)-2)
	}
}

// Every invalid flag is refused, by --config.check as by a start, with exit
// 2 and a message naming the flag and quoting at most a sane length of
// the value; a password in an endpoint is never echoed.
func TestBadFlagsCheckAndStartupAgree(t *testing.T) {
	bin := proctest.Build(t, "aliyun-billing-exporter")
	dir := t.TempDir()
	config := filepath.Join(dir, "ok.yml")
	if err := os.WriteFile(config, []byte("accounts:\n  - name: a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	brokenTLS := filepath.Join(dir, "web.yml")
	if err := os.WriteFile(brokenTLS, []byte("tls_server_config:\n  cert_file: "+filepath.Join(dir, "missing.crt")+"\n  key_file: "+filepath.Join(dir, "missing.key")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 5000)
	const reserved = "is reserved for the exporter's own endpoints (/, /-/healthy, /-/ready, /-/reload)"
	const notPlain = "is not a plain path such as /metrics: letters, digits and . _ ~ - between slashes, no trailing slash"
	const rate = "must be between 0.1 and 1000 requests per second (BSS allows 10)"
	for _, tc := range []struct {
		flag, want string
	}{
		{"--bss.timeout=99999999999h", `--bss.timeout: "99999999999h" is not a duration such as 90s, 30m or 6h`},
		{"--bss.timeout=0s", `--bss.timeout: must be between 1s and 10m0s, got 0s`},
		{"--bss.rate-limit=1e400", `--bss.rate-limit: "1e400" is out of range`},
		{"--bss.rate-limit=0.001", `--bss.rate-limit: ` + rate + `, got 0.001`},
		{"--bss.rate-limit=NaN", `--bss.rate-limit: "NaN" is not a number`},
		{"--web.max-requests=99999999999999999999", `--web.max-requests: "99999999999999999999" is out of range`},
		{"--web.max-requests=-1", `--web.max-requests: must not be negative, got -1`},
		{"--web.listen-address=", `--web.listen-address: "" is not HOST:PORT such as :9848 or 127.0.0.1:9848`},
		{"--web.listen-address=garbage", `--web.listen-address: "garbage" is not HOST:PORT such as :9848 or 127.0.0.1:9848`},
		{"--web.listen-address=:99999", `--web.listen-address: ":99999": port "99999" is neither a number up to 65535 nor a service name`},
		{"--web.telemetry-path=/-/healthy", `--web.telemetry-path: "/-/healthy" ` + reserved},
		{"--web.telemetry-path=/-/ready", `--web.telemetry-path: "/-/ready" ` + reserved},
		{"--web.telemetry-path=/-/reload", `--web.telemetry-path: "/-/reload" ` + reserved},
		{"--web.telemetry-path=/", `--web.telemetry-path: "/" ` + reserved},
		{"--web.telemetry-path=/a b", `--web.telemetry-path: "/a b" ` + notPlain},
		{"--web.telemetry-path=/{x}", `--web.telemetry-path: "/{x}" ` + notPlain},
		{"--web.telemetry-path=/metrics/", `--web.telemetry-path: "/metrics/" ` + notPlain},
		{"--web.telemetry-path=metrics", `--web.telemetry-path: "metrics" ` + notPlain},
		{"--web.telemetry-path=/a/../metrics", `--web.telemetry-path: "/a/../metrics" is not a clean path; did you mean "/metrics"?`},
		{"--web.config.file=/nonexistent", `--web.config.file: /nonexistent: open /nonexistent: no such file or directory`},
		{"--web.config.file=" + brokenTLS, `--web.config.file: ` + brokenTLS + `: failed to read cert_file (` + filepath.Join(dir, "missing.crt") + `): open ` + filepath.Join(dir, "missing.crt") + `: no such file or directory`},
		{"--bss.endpoint=https://admin:Hunter2-Secret@business.aliyuncs.com", `--bss.endpoint: "https://redacted@business.aliyuncs.com": user info is not allowed; credentials go under credentials`},
		{"--bss.endpoint=https://business.aliyuncs.com:99999", `--bss.endpoint: "https://business.aliyuncs.com:99999": port "99999" is not between 1 and 65535`},
		{"--bss.endpoint=ftp://x", `--bss.endpoint: "ftp://x": scheme must be http or https`},
		{"--bss.site=moon", `--bss.site: "moon" is not one of china, international`},
		{"--bss.signature-version=v2", `--bss.signature-version: "v2" is not one of v3, v1`},
		{"--bss.account-name=" + long, `--bss.account-name: "` + long[:64] + `"… (5000 bytes) must be 1 to 63 letters, digits, '_', '.' or '-'`},
		{"--log.level=chatty", `--log.level: "chatty" is not one of debug, info, warn, error`},
		{"--log.format=xml", `--log.format: "xml" is not one of logfmt, json`},
		{"--collector.account.interval=10s", `--collector.account.interval: must be between 1m (BSS data changes at most hourly) and 1w, got 10s`},
		{"--collector.account.interval=often", `--collector.account.interval: "often" is not a duration such as 90s, 30m or 6h`},
		{"--billing.exposure-days=0", `collector options: exposure days must be between 1 and 62, got 0`},
		{"--billing.labelled-days=63", `collector options: labelled days must be between 0 (off) and 62, got 63`},
		{"--billing.labelled-days=-1", `collector options: labelled days must be between 0 (off) and 62, got -1`},
		{"--billing.exposure-days=" + long, `--billing.exposure-days: "` + long[:64] + `"… (5000 bytes) is not a whole number`},
		{"--collector.nosuch", `unknown long flag '--collector.nosuch'`},
		{"--remote-write.url=http://127.0.0.1:1/api/v1/write", `remote write needs --storage.path: the days each receiver acknowledged are kept there, so that a restart sends none twice`},
		{"--remote-write.url=ftp://x", `--remote-write.url: url "ftp://x": want an http or https URL with a host`},
		{"--remote-write.url=https://billing:Hunter2-Secret@mimir.example/api/v1/push", `--remote-write.url: url: holds credentials; use basic_auth with password_file`},
		{"--config.file=" + filepath.Join(dir, "nope.yml"), `open ` + filepath.Join(dir, "nope.yml") + `: no such file or directory`},
	} {
		t.Run(tc.flag[:min(len(tc.flag), 60)], func(t *testing.T) {
			args := []string{"--config.file=" + config, tc.flag}
			if strings.HasPrefix(tc.flag, "--config.file=") {
				args = args[1:]
			}
			startupAndCheckAgree(t, bin, args, tc.want)
		})
	}
}

// A taken listen address fails the start before any collector calls BSS.
func TestListenFailsBeforeCollectorsStart(t *testing.T) {
	bin := proctest.Build(t, "aliyun-billing-exporter")
	var hits atomic.Int64
	bss := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
	}))
	defer bss.Close()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	config := filepath.Join(t.TempDir(), "config.yml")
	data := fmt.Sprintf("accounts:\n  - name: a\n    endpoint: %s\n    credentials:\n      type: access_key\n      access_key_id: LTAI5tListenTest\n      access_key_secret: listen-test-secret\n", bss.URL)
	if err := os.WriteFile(config, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	code, msg, out := binaryVerdict(t, bin, "--config.file="+config, "--web.listen-address="+taken.Addr().String())
	if code != 1 || !strings.HasPrefix(msg, "--web.listen-address: listen tcp "+taken.Addr().String()) {
		t.Errorf("exit %d, message %q, want exit 1 naming --web.listen-address\n%s", code, msg, out)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests reached BSS before the start failed", n)
	}
}
