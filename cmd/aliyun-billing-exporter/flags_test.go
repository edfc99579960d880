package main

import (
	"bytes"
	"io"
	"maps"
	"os"
	"path"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestFlagDefaults(t *testing.T) {
	o, err := parseFlags(nil, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg := o.collectorConfig()
	if !cfg.DailySeries || cfg.ExposureDays != 7 || cfg.ConcurrentWalks != 4 || cfg.Instance.PerInstance {
		t.Errorf("collector config %+v", cfg)
	}
	var names []string
	for _, e := range o.enabledCollectors() {
		names = append(names, e.Name+"="+e.Interval.String())
	}
	if got, want := strings.Join(names, " "), "account=1h0m0s amortized=3h0m0s balance=5m0s credit=6h0m0s instance=1h0m0s names=6h0m0s ossbucket=1h0m0s overview=6h0m0s renewal=1h0m0s resourceplan=1h0m0s savingsplan=1h0m0s subscription=6h0m0s"; got != want {
		t.Errorf("enabled collectors %q, want %q", got, want)
	}
}

func TestFlagOptions(t *testing.T) {
	o, err := parseFlags([]string{
		"--no-collector.balance", "--collector.account.interval=2h", "--collector.instance.tag-keys= env , team",
		"--collector.instance.zone", "--no-billing.daily-series", "--billing.exposure-days=3",
		"--collector.instance.cost-unit",
	}, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg := o.collectorConfig()
	if cfg.DailySeries || cfg.ExposureDays != 3 || !cfg.Instance.Zone || strings.Join(cfg.Instance.TagKeys, ",") != "env,team" ||
		!cfg.Instance.CostUnit || cfg.Instance.ResourceGroup {
		t.Errorf("collector config %+v", cfg)
	}
	for _, e := range o.enabledCollectors() {
		if e.Name == "balance" {
			t.Error("balance is enabled despite --no-collector.balance")
		}
		if e.Name == "account" && e.Interval != 2*time.Hour {
			t.Errorf("account interval %s", e.Interval)
		}
	}
}

// Every invalid flag is an error that names the flag. The flags about
// values are checked through the built binary (config_check_test.go); these
// are the combinations.
func TestBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--billing.concurrent-walks=0"}, "collector options: concurrent walks must be between 1 and 10, got 0"},
		{[]string{"--collector.instance.tag-keys=env,env"}, `collector options: tag key "env" is listed twice`},
		{[]string{"--collector.instance.tag-keys=cost-center"}, `collector options: tag key "cost-center" cannot become a label name: use letters, digits and underscores`},
		{[]string{"--collector.instance.per-instance", "--collector.instance.max-instances=0"}, "collector options: instance series cap must be at least 1, got 0"},
		{[]string{"--auto-gomemlimit.ratio=0"}, "--auto-gomemlimit.ratio: must be more than 0 and at most 1, got 0"},
		{[]string{"--auto-gomemlimit.ratio=1.1"}, "--auto-gomemlimit.ratio: must be more than 0 and at most 1, got 1.1"},
		{[]string{"--config.check"}, "--config.check needs --config.file"},
		{[]string{"--collector.instance.source=files"}, `--collector.instance.source: "files" is not one of api, bill-files`},
		{[]string{"--bill-files.endpoint=http://127.0.0.1:8418"}, "--bill-files.region, --bill-files.endpoint: an endpoint needs the bucket's region too: OSS signatures name it"},
		{[]string{"--bill-files.region=cn hangzhou"}, `--bill-files.region, --bill-files.endpoint: OSS reader: region "cn hangzhou" is not a region ID such as cn-hangzhou`},
		{[]string{"--bill-files.region=cn-hangzhou", "--bill-files.endpoint=oss-cn-hangzhou.aliyuncs.com"}, `--bill-files.region, --bill-files.endpoint: OSS reader: endpoint "oss-cn-hangzhou.aliyuncs.com" is not an http(s) URL`},
		{[]string{"--collector.instance.source=bill-files", "--collector.instance.amounts=payable,cash_paid"}, "collector options: instance amount cash_paid: bill files carry no CashAmount column, so it cannot be read with source bill-files; drop it from the instance amounts or read the API"},
		{[]string{"--demo.clock=2026-01-01T00:00:00Z"}, "--demo.clock needs --demo"},
		{[]string{"--demo.overview-payable-skew=-0.01"}, "--demo.overview-payable-skew needs --demo"},
		{[]string{"--demo", "--demo.overview-payable-skew=a lot"}, `--demo.overview-payable-skew: invalid amount "a lot": not a decimal number`},
		{[]string{"--demo", "--demo.clock=yesterday"}, `--demo.clock: "yesterday" is not an RFC 3339 time such as 2026-03-02T10:00:00+08:00`},
		{[]string{"--bss.account-name=a b"}, `--bss.account-name: "a b" must be 1 to 63 letters, digits, '_', '.' or '-'`},
		{[]string{"--no-collector.account", "--no-collector.instance", "--no-collector.ossbucket", "--no-collector.subscription", "--no-collector.balance", "--no-collector.credit", "--no-collector.names", "--no-collector.overview", "--no-collector.renewal", "--no-collector.resourceplan", "--no-collector.savingsplan", "--no-collector.amortized"}, "every collector is disabled: enable at least one with --collector.<name>"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, _, err := loadWith(t, tc.args...)
			if err == nil || err.Error() != tc.want {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
}

// A telemetry path is a plain path; the exporter's own paths are taken.
func TestCheckTelemetryPath(t *testing.T) {
	for _, ok := range []string{"/metrics", "/billing/metrics", "/m.v1", "/~x_y-z"} {
		if err := checkTelemetryPath(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "/", "/-/healthy", "/-/ready", "/-/reload", "/-/other", "/a b", "/{x}", "/{x...}", "/a/", "//a", "/a/./b", "/a/../b", "GET /metrics", "/a%20b", "/a?b", "/a#b", "metrics"} {
		if err := checkTelemetryPath(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestHelpAndVersionExitCleanly(t *testing.T) {
	for _, arg := range []string{"--help", "--version"} {
		var out bytes.Buffer
		o, err := parseFlags([]string{arg}, &out, &out)
		if o != nil || err != nil {
			t.Errorf("%s: options %v, err %v; want neither", arg, o, err)
		}
		if out.Len() == 0 {
			t.Errorf("%s printed nothing", arg)
		}
	}
	var out bytes.Buffer
	_, _ = parseFlags([]string{"--help"}, &out, &out)
	for _, want := range []string{"--demo", "--config.file", "--collector.instance.per-instance", "never from flags",
		"Flags of serve, the default command:", "--web.listen-address", "--collector.balance.interval", "backfill --output=FILE", "doctor [<flags>]"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help does not mention %s", want)
		}
	}
}

// TestCommands: serving is the default command, and naming it changes
// nothing; each command takes the flags that mean something to it and
// refuses the others; a flag a command does not take keeps its default,
// so that the whole configuration is checked the same way by each.
func TestCommands(t *testing.T) {
	byDefault, err := parseCommandLine([]string{"--demo", "--web.max-requests=3"}, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	named, err := parseCommandLine([]string{"serve", "--demo", "--web.max-requests=3"}, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if byDefault.command != serveCommand || named.command != serveCommand || byDefault.opts.maxRequests != 3 || named.opts.maxRequests != 3 {
		t.Errorf("serve: by default %s with --web.max-requests %d, named %s with %d", byDefault.command, byDefault.opts.maxRequests, named.command, named.opts.maxRequests)
	}

	// A repeatable flag keeps only what was given, not its default too.
	listen, err := parseCommandLine([]string{"--web.listen-address=127.0.0.1:1"}, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got := *listen.opts.webFlags.WebListenAddresses; len(got) != 1 || got[0] != "127.0.0.1:1" {
		t.Errorf("--web.listen-address=127.0.0.1:1 listens on %q", got)
	}

	b, err := parseCommandLine([]string{"backfill", "--demo", "--output=h.om", "--collector.ossbucket.billing-item"}, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if b.command != backfillCommand || b.backfill.output != "h.om" || !b.opts.collector.OSSBucket.BillingItem {
		t.Errorf("backfill: %+v", b)
	}
	if b.opts.telemetryPath != "/metrics" || b.opts.maxRequests != 50 || !*b.opts.collectors["account"].enabled || *b.opts.collectors["balance"].interval != 5*time.Minute {
		t.Errorf("backfill: the flags it does not take lost their defaults: telemetry path %q, max requests %d", b.opts.telemetryPath, b.opts.maxRequests)
	}
	if err := b.opts.validate(); err != nil {
		t.Errorf("backfill's options fail the whole check: %v", err)
	}

	for _, tc := range []struct {
		args    []string
		command string
		want    string
	}{
		{[]string{"backfill", "--output=h.om", "--web.listen-address=:1"}, backfillCommand, "unknown long flag '--web.listen-address'"},
		{[]string{"backfill", "--output=h.om", "--collector.balance"}, backfillCommand, "unknown long flag '--collector.balance'"},
		{[]string{"doctor", "--auto-gomemlimit.ratio=0.5"}, doctorCommand, "unknown long flag '--auto-gomemlimit.ratio'"},
		{[]string{"doctor", "--config.check"}, doctorCommand, "unknown long flag '--config.check'"},
		{[]string{"--output=h.om"}, serveCommand, "unknown long flag '--output'"},
		{[]string{"--demo", "extra"}, serveCommand, "unexpected extra"},
	} {
		c, err := parseCommandLine(tc.args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) || c.command != tc.command {
			t.Errorf("%v: %v (command %v); want %s naming %s", tc.args, err, c, tc.command, tc.want)
		}
	}
}

// parseFlags parses the flags of the default command, serve.
func parseFlags(args []string, stdout, stderr io.Writer) (*options, error) {
	c, err := parseCommandLine(args, stdout, stderr)
	if c == nil || err != nil {
		return nil, err
	}
	return &c.opts, nil
}

// TestDocsCommandsTable: each flag docs/configuration.md's table of
// commands names, outright or by a pattern, is taken by exactly the
// commands the row ticks.
func TestDocsCommandsTable(t *testing.T) {
	data, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	commands := []string{serveCommand, backfillCommand, doctorCommand}
	takes := map[string]map[string]bool{} // flag → commands taking it
	for _, c := range commands {
		for _, f := range commandFlags(t, c) {
			if takes[f.Name] == nil {
				takes[f.Name] = map[string]bool{}
			}
			takes[f.Name][c] = true
		}
	}
	header := "| flags | " + strings.Join(commands, " | ") + " |"
	rows := strings.SplitAfter(string(data), header+"\n|---|---|---|---|\n")
	if len(rows) != 2 {
		t.Fatalf("docs/configuration.md has no table headed %q", header)
	}
	checked := 0
	for _, line := range strings.Split(rows[1], "\n") {
		if !strings.HasPrefix(line, "| ") {
			break
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		ticked := map[string]bool{}
		for i, c := range commands {
			if strings.TrimSpace(cells[i+1]) == "✓" {
				ticked[c] = true
			}
		}
		for _, quoted := range regexp.MustCompile("`--([^`]+)`").FindAllStringSubmatch(cells[0], -1) {
			for _, pattern := range expandBraces(quoted[1]) {
				named := 0
				for name := range takes {
					if ok, _ := path.Match(pattern, name); !ok {
						continue
					}
					named++
					if !maps.Equal(takes[name], ticked) {
						t.Errorf("docs say --%s (--%s) is taken by %v; the code: %v", name, pattern, ticked, takes[name])
					}
				}
				if named == 0 && !strings.Contains(pattern, "<") {
					t.Errorf("docs name --%s in the commands table, which is no flag", pattern)
				}
				checked += named
			}
		}
	}
	if checked < 40 {
		t.Errorf("the commands table names %d flags outright; want the table to be read", checked)
	}
}
