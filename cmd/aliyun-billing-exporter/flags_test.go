package main

import (
	"bytes"
	"io"
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
	for _, want := range []string{"--demo", "--config.file", "--collector.instance.per-instance", "never from flags"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help does not mention %s", want)
		}
	}
}
