package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/model"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/collector"
)

// options are the parsed flags. Flags live only here; the collectors get a
// collector.Config.
type options struct {
	webFlags               *web.FlagConfig
	telemetryPath          string
	disableExporterMetrics bool
	maxRequests            int

	configFile  string
	configCheck bool

	accountName      string
	site             string
	endpoint         string
	rateLimit        float64
	signatureVersion string
	bssTimeout       time.Duration

	dailySeries     bool
	exposureDays    int
	concurrentWalks int

	instanceZone         bool
	instanceTagKeys      string
	instancePerInstance  bool
	instanceMaxInstances int

	collectors map[string]*collectorFlags

	// Series budget and state (the collector's options).
	amounts       map[string]*string
	ossMaxBuckets int
	storagePath   string
	settleMargin  time.Duration

	demo      bool
	demoClock string

	logLevel, logFormat string
}

type collectorFlags struct {
	enabled  *bool
	interval *time.Duration
}

// defaultListenAddress is the exporter's port.
const defaultListenAddress = ":9848"

// parseFlags parses args. It returns nil options (and no error) when --help
// or --version was printed.
func parseFlags(args []string, stdout, stderr io.Writer) (*options, error) {
	o := &options{}
	app := newApp(o, stdout, stderr)
	exited := false
	app.Terminate(func(int) { exited = true })
	_, err := app.Parse(args)
	if exited {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return o, o.validate()
}

// newApp declares every flag into o.
func newApp(o *options, stdout, stderr io.Writer) *kingpin.Application {
	app := kingpin.New("aliyun-billing-exporter",
		"Exposes Alibaba Cloud spend from the BSS OpenAPI as Prometheus metrics. Bills are read in the background; a scrape never calls BSS.\n\n"+
			"Credentials come from the Alibaba Cloud default credential chain (ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET, OIDC/RRSA, the aliyun CLI profile, the credentials file, the ECS RAM role, ALIBABA_CLOUD_CREDENTIALS_URI) or from --config.file; never from flags.\n\n"+
			"Try it without an account: aliyun-billing-exporter --demo")
	app.UsageWriter(stdout)
	app.ErrorWriter(stderr)
	app.HelpFlag.Short('h')
	app.Version(version.Print("aliyun-billing-exporter"))
	o.collectors = map[string]*collectorFlags{}
	o.webFlags = kingpinflag.AddFlags(app, defaultListenAddress)
	app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&o.telemetryPath)
	app.Flag("web.disable-exporter-metrics", "Exclude metrics about the exporter itself (promhttp_*, process_*, go_*).").BoolVar(&o.disableExporterMetrics)
	app.Flag("web.max-requests", "Maximum number of parallel scrape requests. 0 disables the limit. A scrape serves an already gathered snapshot, so a generous limit costs little memory.").Default("50").IntVar(&o.maxRequests)

	app.Flag("config.file", "YAML file listing payer accounts (name, site or endpoint, credentials, rate limit) and budgets. Without it, one account named by --bss.account-name is read with the default credential chain.").PlaceHolder("FILE").StringVar(&o.configFile)
	app.Flag("config.check", "Validate --config.file and the flags, then exit.").BoolVar(&o.configCheck)

	app.Flag("bss.account-name", "Value of the account label when no --config.file is given.").Default("default").StringVar(&o.accountName)
	app.Flag("bss.site", "Site of the account: china (aliyun.com, business.aliyuncs.com) or international (alibabacloud.com, business.ap-southeast-1.aliyuncs.com).").Default("china").EnumVar(&o.site, "china", "international")
	app.Flag("bss.endpoint", "BSS endpoint host or URL; overrides --bss.site (e.g. http://127.0.0.1:8417 for bss-simulator).").StringVar(&o.endpoint)
	app.Flag("bss.rate-limit", "BSS requests per second per account, shared by all collectors of the account. BSS allows 10.").Default("10").Float64Var(&o.rateLimit)
	app.Flag("bss.signature-version", "Request signature: v3 (ACS3-HMAC-SHA256) or v1 (HMAC-SHA1).").Default("v3").EnumVar(&o.signatureVersion, "v3", "v1")
	app.Flag("bss.timeout", "Timeout of one BSS request attempt.").Default("30s").DurationVar(&o.bssTimeout)

	app.Flag("billing.daily-series", "Expose the timestamped daily families (*_daily_*). They need out-of-order ingestion in Prometheus; use --no-billing.daily-series where it is not available.").Default("true").BoolVar(&o.dailySeries)
	app.Flag("billing.exposure-days", "How many settled days each daily family keeps exposing, so Prometheus catches them after a restart of either side.").Default("7").IntVar(&o.exposureDays)
	app.Flag("billing.concurrent-walks", "Paginated walks one collector runs at once; they share the account's rate limit.").Default("4").IntVar(&o.concurrentWalks)

	for _, r := range collector.Registrations() {
		cf := &collectorFlags{enabled: new(bool), interval: new(time.Duration)}
		def := "false"
		if r.DefaultEnabled {
			def = "true"
		}
		app.Flag("collector."+r.Name, fmt.Sprintf("Enable the %s collector: %s", r.Name, r.Help)).Default(def).BoolVar(cf.enabled)
		app.Flag("collector."+r.Name+".interval", fmt.Sprintf("How often the %s collector refreshes in the background.", r.Name)).Default(model.Duration(r.DefaultInterval).String()).DurationVar(cf.interval)
		o.collectors[r.Name] = cf
	}
	app.Flag("collector.instance.zone", "Add a zone_id label to the instance collector's series.").BoolVar(&o.instanceZone)
	app.Flag("collector.instance.tag-keys", "Comma-separated tag keys that become tag_<key> labels on the instance collector's series.").PlaceHolder("KEYS").StringVar(&o.instanceTagKeys)
	app.Flag("collector.instance.per-instance", "Add per-instance payable series (aliyun_billing_instance_daily_by_instance_payable).").BoolVar(&o.instancePerInstance)
	app.Flag("collector.instance.max-instances", "With --collector.instance.per-instance, the most instances per day with their own series; the rest are summed into one overflow series.").Default("1000").IntVar(&o.instanceMaxInstances)
	o.amounts = map[string]*string{}
	for _, name := range []string{"account", "instance", "ossbucket"} {
		o.amounts[name] = app.Flag("collector."+name+".amounts", fmt.Sprintf("Comma-separated money columns the %s collector exposes, one series each: %s.", name, strings.Join(collector.AmountNames(), ", "))).Default(strings.Join(collector.DefaultAmounts(name), ",")).String()
	}
	app.Flag("collector.ossbucket.max-buckets", "The most buckets per day and per cycle with their own series; the rest are summed into bucket=\"__overflow__\", so totals stay exact.").Default("200").IntVar(&o.ossMaxBuckets)
	app.Flag("billing.settle-margin", "How long after BSS's documented delay (24/48/72 h after a day ends) a day is read and frozen. Guards against BSS running late or a fast host clock; each day appears this much later.").Default(model.Duration(collector.DefaultSettleMargin).String()).DurationVar(&o.settleMargin)
	app.Flag("storage.path", "Directory where settled billing days are kept, so that a restart reads them from disk instead of BSS. Empty: keep nothing.").PlaceHolder("DIR").StringVar(&o.storagePath)

	app.Flag("demo", "Run against an embedded BSS simulator with a small deterministic world; no Alibaba Cloud account is used.").BoolVar(&o.demo)
	app.Flag("demo.clock", "With --demo, the simulated billing time to start from (RFC 3339); it advances with real time. Default: now.").Hidden().StringVar(&o.demoClock)

	app.Flag("log.level", "Only log messages with the given severity or above: debug, info, warn, error.").Default("info").EnumVar(&o.logLevel, "debug", "info", "warn", "error")
	app.Flag("log.format", "Output format of log messages: logfmt, json.").Default("logfmt").EnumVar(&o.logFormat, "logfmt", "json")
	return app
}

// validate checks what kingpin cannot; each error names the flag.
func (o *options) validate() error {
	switch {
	case !strings.HasPrefix(o.telemetryPath, "/"):
		return fmt.Errorf("--web.telemetry-path: %q must start with /", o.telemetryPath)
	case o.maxRequests < 0:
		return fmt.Errorf("--web.max-requests: must not be negative, got %d", o.maxRequests)
	case !(o.rateLimit > 0 && o.rateLimit <= 1000):
		return fmt.Errorf("--bss.rate-limit: must be > 0 and at most 1000, got %v", o.rateLimit)
	case o.bssTimeout <= 0:
		return fmt.Errorf("--bss.timeout: must be positive, got %s", o.bssTimeout)
	case o.configCheck && o.configFile == "":
		return fmt.Errorf("--config.check needs --config.file")
	case !o.demo && o.demoClock != "":
		return fmt.Errorf("--demo.clock needs --demo")
	}
	if o.endpoint != "" {
		if err := validateEndpointURL(o.endpoint); err != nil {
			return fmt.Errorf("--bss.endpoint: %w", err)
		}
	}
	if !accountNameRE.MatchString(o.accountName) {
		return fmt.Errorf("--bss.account-name: %q must be 1 to 63 letters, digits, '_', '.' or '-'", o.accountName)
	}
	if o.demoClock != "" {
		if _, err := time.Parse(time.RFC3339, o.demoClock); err != nil {
			return fmt.Errorf("--demo.clock: %q is not an RFC 3339 time such as 2026-03-02T10:00:00+08:00", o.demoClock)
		}
	}
	anyEnabled := false
	for name, cf := range o.collectors {
		if *cf.interval < time.Minute {
			return fmt.Errorf("--collector.%s.interval: must be at least 1m (BSS data changes at most hourly), got %s", name, *cf.interval)
		}
		anyEnabled = anyEnabled || *cf.enabled
	}
	if !anyEnabled {
		return fmt.Errorf("every collector is disabled: enable at least one with --collector.<name>")
	}
	if err := o.collectorConfig().Validate(); err != nil {
		return fmt.Errorf("collector options: %w", err)
	}
	_, err := bssclient.ParseSignatureVersion(o.signatureVersion)
	return err
}

// collectorConfig builds the collectors' configuration from the flags.
func (o *options) collectorConfig() collector.Config {
	cfg := collector.DefaultConfig()
	cfg.DailySeries = o.dailySeries
	cfg.ExposureDays = o.exposureDays
	cfg.ConcurrentWalks = o.concurrentWalks
	cfg.Instance = collector.InstanceConfig{
		Zone:         o.instanceZone,
		PerInstance:  o.instancePerInstance,
		MaxInstances: o.instanceMaxInstances,
	}
	for _, k := range strings.Split(o.instanceTagKeys, ",") {
		if k = strings.TrimSpace(k); k != "" {
			cfg.Instance.TagKeys = append(cfg.Instance.TagKeys, k)
		}
	}
	cfg.OSSBucket.MaxBuckets = o.ossMaxBuckets
	cfg.StateDir = o.storagePath
	cfg.SettleMargin = o.settleMargin
	cfg.Amounts = map[string][]string{}
	for name, list := range o.amounts {
		cfg.Amounts[name] = nil
		for _, c := range strings.Split(*list, ",") {
			if c = strings.TrimSpace(c); c != "" {
				cfg.Amounts[name] = append(cfg.Amounts[name], c)
			}
		}
	}
	return cfg
}

// enabledCollectors lists the enabled collectors with their intervals.
func (o *options) enabledCollectors() []collector.Enabled {
	var out []collector.Enabled
	for _, r := range collector.Registrations() {
		if cf := o.collectors[r.Name]; *cf.enabled {
			out = append(out, collector.Enabled{Name: r.Name, Interval: *cf.interval})
		}
	}
	return out
}
