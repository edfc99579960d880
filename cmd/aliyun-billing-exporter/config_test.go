package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-kit/log"
)

// parseConfig decodes and validates a file's bytes on their own, as Load
// does before it fills in the flags.
func parseConfig(data []byte) (*fileConfig, error) {
	cfg, err := decodeConfig(data)
	if err != nil {
		return nil, err
	}
	return cfg, cfg.validate()
}

// loadWith runs the flags and Load as startup does, returning the log.
func loadWith(t *testing.T, args ...string) (*settings, string, error) {
	t.Helper()
	opts, err := parseFlags(args, io.Discard, io.Discard)
	if err != nil {
		return nil, "", err
	}
	var buf bytes.Buffer
	s, err := Load(opts, log.NewLogfmtLogger(&buf))
	return s, buf.String(), err
}

func TestGoodConfigFiles(t *testing.T) {
	for _, name := range []string{"good-multi-account.yml", "good-simulator.yml"} {
		t.Run(name, func(t *testing.T) {
			if _, _, err := loadWith(t, "--config.file="+filepath.Join("testdata/config", name)); err != nil {
				t.Fatalf("Load: %v", err)
			}
		})
	}
}

func TestGoodConfigFileContents(t *testing.T) {
	s, _, err := loadWith(t, "--config.file=testdata/config/good-multi-account.yml", "--bss.rate-limit=5")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.accounts) != 2 {
		t.Fatalf("accounts %+v", s.accounts)
	}
	cn, intl := s.accounts[0], s.accounts[1]
	if cn.name != "cn-payer" || cn.rateLimit != 8 || cn.currency != "CNY" || cn.credentials.Type != "default" {
		t.Errorf("cn-payer resolved as %+v", cn)
	}
	if intl.site != "international" || intl.rateLimit != 5 || intl.currency != "" || intl.credentials.RoleArn != "acs:ram::1234567890123456:role/billing-reader" {
		t.Errorf("intl-payer resolved as %+v", intl)
	}
	if len(s.budgets) != 3 || s.budgets[1].ProductCode != "ecs" || s.budgets[2].Monthly.String() != "8000.50" || s.budgets[2].OwnerID != "1234567890123457" {
		t.Errorf("budgets %+v", s.budgets)
	}
}

// A readable file warns whenever it holds any credential-bearing field,
// not only a secret: an AccessKey ID or a credentials URI (which may carry
// a password) count too.
func TestConfigFilePermissionWarning(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, credentials string
		mode              os.FileMode
		warn              bool
	}{
		{"secret, owner only", "type: access_key\n      access_key_id: LTAI5tKey\n      access_key_secret: s3cret-value", 0o600, false},
		{"secret, group", "type: access_key\n      access_key_id: LTAI5tKey\n      access_key_secret: s3cret-value", 0o640, true},
		{"secret, others", "type: access_key\n      access_key_id: LTAI5tKey\n      access_key_secret: s3cret-value", 0o604, true},
		{"credentials URI", "type: credentials_uri\n      credentials_uri: http://u:PASS@127.0.0.1:1/creds", 0o644, true},
		{"no credentials", "type: default", 0o644, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".yml")
			data := "accounts:\n  - name: a\n    credentials:\n      " + tc.credentials + "\n"
			if err := os.WriteFile(path, []byte(data), tc.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tc.mode); err != nil {
				t.Fatal(err)
			}
			_, logged, err := loadWith(t, "--config.file="+path)
			if err != nil {
				t.Fatal(err)
			}
			if warned := strings.Contains(logged, "readable by group or others"); warned != tc.warn {
				t.Errorf("mode %o: warned %v, want %v:\n%s", tc.mode, warned, tc.warn, logged)
			}
			if strings.Contains(logged, "PASS") || strings.Contains(logged, "s3cret") {
				t.Errorf("the warning quotes a secret:\n%s", logged)
			}
		})
	}
}

// A source of bill files needs each account's bucket region, from the
// flag or the file; the file's own location is checked as the flags' is.
func TestBillFilesLocation(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "config.yml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	two := write("accounts:\n  - name: a\n    bill_files:\n      region: cn-shanghai\n      endpoint: http://127.0.0.1:8418\n  - name: b\n")
	_, _, err := loadWith(t, "--config.file="+two, "--collector.instance.source=bill-files")
	if want := `--collector.instance.source=bill-files reads the bill files of account "b", which names no bucket region: set --bill-files.region, or accounts[1].bill_files.region in ` + two; err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
	s, _, err := loadWith(t, "--config.file="+two, "--collector.instance.source=bill-files", "--bill-files.region=cn-hangzhou")
	if err != nil {
		t.Fatal(err)
	}
	if a, b := s.accounts[0].billFiles, s.accounts[1].billFiles; a != (billFilesConfig{"cn-shanghai", "http://127.0.0.1:8418"}) || b != (billFilesConfig{Region: "cn-hangzhou"}) {
		t.Fatalf("resolved %+v and %+v", a, b)
	}
	// Without a file, the flag is the only way.
	_, _, err = loadWith(t, "--collector.ossbucket.source=bill-files")
	if want := `--collector.ossbucket.source=bill-files reads the bill files of account "default", which names no bucket region: set --bill-files.region`; err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
	// The API source needs no region.
	if _, _, err := loadWith(t, "--config.file="+two); err != nil {
		t.Fatal(err)
	}
	bad := write("accounts:\n  - name: a\n    bill_files:\n      endpoint: http://127.0.0.1:8418\n")
	_, _, err = loadWith(t, "--config.file="+bad)
	if want := bad + ": accounts[0] (a).bill_files: an endpoint needs the bucket's region too: OSS signatures name it"; err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
}
