package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/alecthomas/kingpin/v2"
)

// TestBackfillBadInput: every bad input exits 2 with one line that names
// the flag, before any request is made.
func TestBackfillBadInput(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "h.om")
	twoAccounts := filepath.Join(dir, "two.yml")
	cfg := "accounts:\n  - name: prod\n    endpoint: http://127.0.0.1:1\n  - name: staging\n    endpoint: http://127.0.0.1:1\n"
	if err := os.WriteFile(twoAccounts, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "pipe.om")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// A directory the backfill cannot write to: read-only for root too.
	readOnly := filepath.Join(dir, "ro")
	if err := os.Mkdir(readOnly, 0o755); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		readOnly = "/proc/self" // root writes anywhere a mode allows; not in procfs
	} else if err := os.Chmod(readOnly, 0o555); err != nil {
		t.Fatal(err)
	}
	const prefix = "aliyun-billing-exporter backfill: "
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--demo"}, "required flag(s) '--output' not provided"},
		{[]string{"--demo", "--output=" + out, "--from=2026-13-01"}, `--from: "2026-13-01" is not a day in the YYYY-MM-DD format`},
		{[]string{"--demo", "--output=" + out, "--from=2000-01-01"}, "--from: 2000-01-01 is beyond BSS's retention of 18 billing cycles; the oldest day it keeps is "},
		{[]string{"--demo", "--output=" + out, "--from=2026-01-02", "--to=2026-01-01"}, "--to: 2026-01-01 is before --from 2026-01-02"},
		{[]string{"--demo", "--output=" + out, "--to=2999-01-01"}, "--to: 2999-01-01 has not settled yet; the newest settled day is "},
		{[]string{"--demo", "--output=" + out, "--families=account,vpc"}, `--families: "vpc" is not one of account, instance, ossbucket`},
		{[]string{"--demo", "--output=" + out, "--format=csv"}, `--format: "csv" is not one of openmetrics, victoriametrics`},
		{[]string{"--demo", "--output=" + filepath.Join(dir, "missing", "h.om")}, `--output: the directory of "` + filepath.Join(dir, "missing", "h.om") + `" does not exist`},
		{[]string{"--demo", "--output=" + dir}, `--output: "` + dir + `" is a directory; name a file`},
		{[]string{"--demo", "--output="}, "--output: empty; name the file to write"},
		{[]string{"--demo", "--output=" + fifo}, "--output: " + fifo + " is a named pipe, not a regular file"},
		{[]string{"--demo", "--output=" + filepath.Join(readOnly, "h.om")}, `--output: the directory of "` + filepath.Join(readOnly, "h.om") + `" is not writable`},
		{[]string{"--config.file=" + twoAccounts, "--output=" + out}, "--account: " + twoAccounts + " lists 2 accounts (prod, staging); name the one to read"},
		{[]string{"--config.file=" + twoAccounts, "--output=" + out, "--account=dev"}, `--account: "dev" is not an account of ` + twoAccounts + " (known: prod, staging)"},
		{[]string{"--demo", "--output=" + out, "--storage.path=" + dir}, "unknown long flag '--storage.path'"},
		{[]string{"--demo", "--output=" + out, "--bss.rate-limit=0"}, "--bss.rate-limit: must be between 0.1 and 1000 requests per second (BSS allows 10), got 0"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), append([]string{"backfill"}, tc.args...), &stdout, &stderr, nil)
		if code != 2 || !strings.HasPrefix(stderr.String(), prefix+tc.want) || strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("backfill %v: exit %d, stderr %q; want exit 2 and %q", tc.args, code, stderr.String(), prefix+tc.want)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Fatalf("backfill %v wrote %s", tc.args, out)
		}
	}
}

func TestBackfillHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"backfill", "--help"}, &stdout, &stderr, nil); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	help := stdout.String()
	for _, want := range []string{"usage: aliyun-billing-exporter backfill --output=FILE", "--from=DAY", "--families=", "--config.file=FILE", "--bss.rate-limit=10",
		"--collector.account.amounts=", "--collector.ossbucket.max-buckets="} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q", want)
		}
	}
	for _, hidden := range []string{"--web.listen-address", "--[no-]collector.account ", "--collector.account.interval", "--config.check"} {
		if strings.Contains(help, hidden) {
			t.Errorf("help offers %s, which means nothing to a backfill", hidden)
		}
	}
}

// TestREADMEBackfillFlagsTableMatchesCode: the README's table of the
// backfill's own flags lists exactly those flags, with their defaults.
func TestREADMEBackfillFlagsTableMatchesCode(t *testing.T) {
	checkSubcommandFlagsTable(t, backfillCommand)
}

// checkSubcommandFlagsTable checks docs/configuration.md's table of a
// command's own flags (rows "| `command --flag` | default | meaning |"):
// those it takes that serving does not.
func checkSubcommandFlagsTable(t *testing.T, command string) {
	t.Helper()
	data, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "| `"+command+" --") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		name := strings.TrimPrefix(strings.Trim(strings.TrimSpace(cells[0]), "`"), command+" --")
		documented[name] = strings.Trim(strings.TrimSpace(cells[1]), "`")
	}
	exporterFlags := map[string]bool{}
	for _, f := range commandFlags(t, serveCommand) {
		exporterFlags[f.Name] = true
	}
	seen := map[string]bool{}
	for _, f := range commandFlags(t, command) {
		if exporterFlags[f.Name] {
			continue
		}
		seen[f.Name] = true
		def, ok := documented[f.Name]
		want := strings.Join(f.Default, ",")
		if want == "" && f.IsBoolFlag() {
			want = "false"
		}
		switch {
		case !ok:
			t.Errorf("%s flag --%s is not in the %s flags table of docs/configuration.md", command, f.Name, command)
		case def != want:
			t.Errorf("README says %s --%s defaults to %q; the code says %q", command, f.Name, def, want)
		}
	}
	for name := range documented {
		if !seen[name] {
			t.Errorf("README documents %s --%s, which it does not have", command, name)
		}
	}
}

// commandFlags returns the flags command takes: those every command
// shares, then its own.
func commandFlags(t *testing.T, command string) []*kingpin.FlagModel {
	t.Helper()
	m := newApp(&commandLine{}, io.Discard, io.Discard).Model()
	for _, c := range m.Commands {
		if c.Name == command {
			return append(m.Flags, c.Flags...)
		}
	}
	t.Fatalf("no command %s", command)
	return nil
}
