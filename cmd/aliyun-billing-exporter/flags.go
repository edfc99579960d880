package main

import (
	"fmt"
	"io"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/model"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/collector"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/backfill"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/flagvalue"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/logging"
)

// options are the parsed flags. Flags live only here; the collectors get a
// collector.Config.
type options struct {
	webFlags               *web.FlagConfig
	telemetryPath          string
	disableExporterMetrics bool
	maxRequests            int
	enableLifecycle        bool

	// autoGoMemLimit sets the Go runtime's soft memory limit from the
	// container's, as Prometheus does, with the same flag names.
	autoGoMemLimit      bool
	autoGoMemLimitRatio float64

	configFile  string
	configCheck bool

	accountName      string
	site             string
	endpoint         string
	rateLimit        float64
	signatureVersion bssclient.SignatureVersion
	bssTimeout       time.Duration

	// billFilesRegion and billFilesEndpoint reach the bucket the account's
	// bill subscriptions push to; an account of the file may set its own.
	billFilesRegion   string
	billFilesEndpoint string

	// collector is the collectors' options the flags set directly;
	// collectorConfig adds those given as comma-separated lists.
	collector       collector.Config
	instanceTagKeys string
	amounts         map[string]*string
	collectors      map[string]*collectorFlags

	// remoteWriteURLs are --remote-write.url: receivers the settled days
	// are pushed to, besides the config file's remote_write.
	remoteWriteURLs []string

	demo      bool
	demoClock string
	// demoDialect is how the demo's simulator writes its answers
	// (bsssim.Dialect); the tests run the demo in each.
	demoDialect string
	// demoOverviewSkew makes the demo's bill overview disagree with its
	// account bill (bsssim.WorldConfig.OverviewPayableSkew), to see
	// AliyunBillingReconciliationMismatch fire.
	demoOverviewSkew string

	log *logging.Config
}

type collectorFlags struct {
	enabled  *bool
	interval *time.Duration
}

// defaultListenAddress is the exporter's port.
const defaultListenAddress = ":9848"

// serveCommand is the default command: `aliyun-billing-exporter [flags]`
// serves metrics, as every exporter does.
const serveCommand = "serve"

// commandLine is what a command line asks for: the command, the flags
// every command shares (options) and the backfill's and doctor's own.
type commandLine struct {
	command  string
	opts     options
	backfill backfillOptions
	doctor   doctorOptions
}

// parseCommandLine parses args: the command, and each value as its flag's
// type, nothing checked against the others (Load checks the whole). It
// returns a nil commandLine (and no error) when --help or --version was
// printed. On an error, the commandLine names the command when args did.
func parseCommandLine(args []string, stdout, stderr io.Writer) (*commandLine, error) {
	c := &commandLine{command: serveCommand}
	app := newApp(c, stdout, stderr)
	printed := false
	app.Terminate(func(int) { printed = true })
	command, err := app.Parse(args)
	switch {
	case printed:
		// A flag error met beside --help (a required flag missing) is
		// no error: the help was asked for.
		return nil, nil
	case err != nil:
		// The token parse alone says which command was asked for; it sets
		// no value.
		if pc, _ := app.ParseContext(args); pc != nil && pc.SelectedCommand != nil {
			c.command = pc.SelectedCommand.FullCommand()
		}
		return c, err
	}
	c.command = command
	return c, defaultOtherFlags(app, command)
}

// defaultOtherFlags gives the flags that command does not take their
// defaults. kingpin sets only the defaults of the command it runs, and
// options is read whole (validate, collectorConfig) whatever the command.
// A flag declared into several commands has one target, so only the names
// command does not take are set.
func defaultOtherFlags(app *kingpin.Application, command string) error {
	m := app.Model()
	taken := map[string]bool{}
	for _, f := range m.Flags {
		taken[f.Name] = true
	}
	for _, cmd := range m.Commands {
		if cmd.FullCommand == command {
			for _, f := range cmd.Flags {
				taken[f.Name] = true
			}
		}
	}
	for _, cmd := range m.Commands {
		for _, f := range cmd.Flags {
			if taken[f.Name] {
				continue
			}
			taken[f.Name] = true // once, for a flag of two other commands
			for _, d := range f.Default {
				if err := f.Value.Set(d); err != nil {
					return fmt.Errorf("--%s: default %q: %w", f.Name, d, err)
				}
			}
		}
	}
	return nil
}

// usageTemplate is kingpin's, with the default command's flags before
// the list of commands in the top-level --help: `aliyun-billing-exporter
// --help` lists what serving takes, as every exporter's --help does.
// TestHelpAndVersionExitCleanly fails if kingpin's template changes under
// the replacement.
var usageTemplate = strings.Replace(kingpin.DefaultUsageTemplate, "{{else if .App.Commands -}}\nCommands:",
	"{{else if .App.Commands -}}\n"+
		"{{range .App.Commands}}{{if .Default}}Flags of {{.Name}}, the default command:\n"+
		"{{.Flags|FlagsToTwoColumns|FormatTwoColumns}}\n{{end}}{{end -}}\n"+
		"Commands:", 1)

// newApp declares the commands and their flags into c. Each flag is
// declared once, into the commands that read it:
//   - every command: the account, the series' shape and the logs;
//   - serve and doctor: the collectors, the state and the receivers;
//   - serve and backfill: the memory limit;
//   - serve: the web server and --config.check.
func newApp(c *commandLine, stdout, stderr io.Writer) *kingpin.Application {
	app := kingpin.New("aliyun-billing-exporter",
		"Exposes Alibaba Cloud spend from the BSS OpenAPI as Prometheus metrics. Bills are read in the background; a scrape never calls BSS.\n\n"+
			"Credentials come from the Alibaba Cloud default credential chain (ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET, OIDC/RRSA, the aliyun CLI profile, the credentials file, the ECS RAM role, ALIBABA_CLOUD_CREDENTIALS_URI) or from --config.file; never from flags.\n\n"+
			"Try it without an account: aliyun-billing-exporter --demo")
	app.UsageWriter(stdout)
	app.ErrorWriter(stderr)
	app.UsageTemplate(usageTemplate)
	app.HelpFlag.Short('h')
	app.Version(version.Print("aliyun-billing-exporter"))
	serveCmd := app.Command(serveCommand, "Serve the metrics (the default command).").Default()
	backfillCmd := app.Command(backfillCommand, backfillHelp)
	doctorCmd := app.Command(doctorCommand, doctorHelp)

	o := &c.opts
	o.collector = collector.DefaultConfig() // for Now: the flags set the rest
	declareAccountFlags(app, o)
	declareServingFlags(serveCmd, o)
	for _, cmd := range []*kingpin.CmdClause{serveCmd, backfillCmd} {
		declareMemoryFlags(cmd, o)
	}
	o.collectors = map[string]*collectorFlags{}
	for _, r := range collector.Registrations() {
		o.collectors[r.Name] = &collectorFlags{enabled: new(bool), interval: new(time.Duration)}
	}
	for _, cmd := range []*kingpin.CmdClause{serveCmd, doctorCmd} {
		declareCollectorFlags(cmd, o)
	}
	declareBackfillFlags(backfillCmd, &c.backfill)
	declareDoctorFlags(doctorCmd, &c.doctor)
	return app
}

// declareServingFlags declares the web server's flags and --config.check.
func declareServingFlags(g *kingpin.CmdClause, o *options) {
	o.webFlags = kingpinflag.AddFlags(g, defaultListenAddress)
	g.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&o.telemetryPath)
	g.Flag("web.disable-exporter-metrics", "Exclude metrics about the exporter itself (promhttp_*, process_*, go_*).").BoolVar(&o.disableExporterMetrics)
	flagvalue.Declare(g, "web.max-requests", "Maximum number of parallel scrape requests. 0 disables the limit. A scrape serves an already gathered snapshot, so a generous limit costs little memory.", "50", &o.maxRequests, flagvalue.Int)
	g.Flag("web.enable-lifecycle", "Enable POST /-/reload, which reloads --config.file as SIGHUP does.").BoolVar(&o.enableLifecycle)
	g.Flag("config.check", "Validate --config.file and the flags, then exit.").BoolVar(&o.configCheck)
}

// declareMemoryFlags declares --auto-gomemlimit, for the commands that
// read big bills.
func declareMemoryFlags(g *kingpin.CmdClause, o *options) {
	g.Flag("auto-gomemlimit", "Set the Go runtime's soft memory limit (GOMEMLIMIT) to --auto-gomemlimit.ratio of the container's memory limit (cgroup), so that the garbage collector works harder before the limit kills the process rather than after. A GOMEMLIMIT environment variable wins; without a cgroup limit nothing is set.").Default("true").BoolVar(&o.autoGoMemLimit)
	flagvalue.Declare(g, "auto-gomemlimit.ratio", "The fraction of the container's memory limit that --auto-gomemlimit gives the Go runtime; the rest is for what the runtime does not count (stacks, the binary, fragmentation).", "0.9", &o.autoGoMemLimitRatio, flagvalue.Float)
}

// declareAccountFlags declares what every command shares: which account
// is read and how, the shape of the series (so that a backfill's join the
// live exporter's), the demo and the logs.
func declareAccountFlags(app *kingpin.Application, o *options) {
	app.Flag("config.file", "YAML file listing payer accounts (name, site or endpoint, credentials, rate limit) and budgets. Without it, one account named by --bss.account-name is read with the default credential chain.").PlaceHolder("FILE").StringVar(&o.configFile)
	app.Flag("bss.account-name", "Value of the account label when no --config.file is given.").Default("default").StringVar(&o.accountName)
	flagvalue.Declare(app, "bss.site", "Site of the account: china (aliyun.com, business.aliyuncs.com) or international (alibabacloud.com, business.ap-southeast-1.aliyuncs.com).", "china", &o.site, flagvalue.OneOf(sites...))
	app.Flag("bss.endpoint", "BSS endpoint host or URL; overrides --bss.site (e.g. http://127.0.0.1:8417 for bss-simulator).").StringVar(&o.endpoint)
	flagvalue.Declare(app, "bss.rate-limit", "BSS requests per second per account, shared by all collectors of the account. BSS allows 10.", "10", &o.rateLimit, flagvalue.Float)
	flagvalue.Declare(app, "bss.signature-version", "Request signature: v3 (ACS3-HMAC-SHA256) or v1 (HMAC-SHA1).", "v3", &o.signatureVersion, parseSignatureVersion)
	flagvalue.Declare(app, "bss.timeout", "Timeout of one BSS request attempt.", "30s", &o.bssTimeout, flagvalue.Duration)
	app.Flag("bill-files.region", "Region of the OSS bucket the account's bill subscriptions push to (QueryBillToOSSSubscription names the bucket), for --collector.<name>.source=bill-files and doctor's bill files check. Needs oss:GetObject on the bucket. An account of --config.file may set its own bill_files.region.").PlaceHolder("REGION").StringVar(&o.billFilesRegion)
	app.Flag("bill-files.endpoint", "With --bill-files.region, an OSS endpoint URL to use instead of the region's public one (an internal endpoint, or bss-simulator's --oss.listen-address).").PlaceHolder("URL").StringVar(&o.billFilesEndpoint)
	flagvalue.Declare(app, "billing.exposure-days", "How many settled days each daily family keeps exposing, so Prometheus catches them after a restart of either side.", "7", &o.collector.ExposureDays, flagvalue.Int)
	flagvalue.Declare(app, "billing.concurrent-walks", "Paginated walks one collector runs at once (the ossbucket collector at most 2); they share the account's rate limit.", "4", &o.collector.ConcurrentWalks, flagvalue.Int)
	app.Flag("collector.instance.zone", "Add a zone_id label to the instance collector's series.").BoolVar(&o.collector.Instance.Zone)
	app.Flag("collector.instance.resource-group", "Add a resource_group label to the instance collector's series (multiplies them by the resource groups in use).").BoolVar(&o.collector.Instance.ResourceGroup)
	app.Flag("collector.instance.cost-unit", "Add a cost_unit label (the cost center) to the instance collector's series (multiplies them by the cost units in use).").BoolVar(&o.collector.Instance.CostUnit)
	app.Flag("collector.instance.tag-keys", "Comma-separated tag keys that become tag_<key> labels on the instance collector's series.").PlaceHolder("KEYS").StringVar(&o.instanceTagKeys)
	app.Flag("collector.instance.per-instance", "Add per-instance payable series (aliyun_billing_instance_daily_by_instance_payable).").BoolVar(&o.collector.Instance.PerInstance)
	flagvalue.Declare(app, "collector.instance.source", "Where the instance collector reads days and the cycle: api, or bill-files (the files the account's InstanceDetailForBillingPeriod and InstanceDetailMonthly subscriptions push to OSS, which cost no BSS quota; needs --bill-files.region). A missing, stale or unreadable file is read from the API instead.", string(collector.SourceAPI), &o.collector.Instance.Source, parseSource)
	flagvalue.Declare(app, "collector.instance.max-instances", "With --collector.instance.per-instance, the most instances per day with their own series; the rest are summed into one overflow series.", "1000", &o.collector.Instance.MaxInstances, flagvalue.Int)
	o.amounts = map[string]*string{}
	for _, name := range collector.DayBookCollectors() {
		o.amounts[name] = app.Flag("collector."+name+".amounts", fmt.Sprintf("Comma-separated money columns the %s collector exposes, one series each: %s.", name, strings.Join(collector.AmountNames(), ", "))).Default(strings.Join(collector.DefaultAmounts(name), ",")).String()
	}
	flagvalue.Declare(app, "collector.ossbucket.max-buckets", "The most buckets per day and per cycle with their own series; the rest are summed into bucket=\"__overflow__\", so totals stay exact.", "200", &o.collector.OSSBucket.MaxBuckets, flagvalue.Int)
	flagvalue.Declare(app, "collector.ossbucket.source", "Where the ossbucket collector reads days and the cycle: api, or bill-files (the month files the account's SplitItemDetailDaily subscription pushes to OSS, each read once a refresh; needs --bill-files.region). A day the files cannot serve is read from the API instead.", string(collector.SourceAPI), &o.collector.OSSBucket.Source, parseSource)
	app.Flag("collector.ossbucket.billing-item", "Add a billing_item label (storage, traffic, requests…) to the ossbucket collector's series; the series multiply by the billing items per bucket, and --collector.ossbucket.max-buckets still counts buckets.").BoolVar(&o.collector.OSSBucket.BillingItem)
	flagvalue.Declare(app, "billing.settle-margin", "How long after BSS's documented delay (24/48/72 h after a day ends) a day is read and frozen. Guards against BSS running late or a fast host clock; each day appears this much later.", model.Duration(collector.DefaultSettleMargin).String(), &o.collector.SettleMargin, flagvalue.Duration)

	app.Flag("demo", "Run against an embedded BSS simulator with a small deterministic world; no Alibaba Cloud account is used.").BoolVar(&o.demo)
	app.Flag("demo.clock", "With --demo, the simulated billing time to start from (RFC 3339); it advances with real time. Default: now.").Hidden().StringVar(&o.demoClock)
	app.Flag("demo.dialect", "With --demo, how the simulator writes its answers: documented, strings, local-times, sparse, masked or mixed. The figures are the same in every dialect.").Hidden().StringVar(&o.demoDialect)
	app.Flag("demo.overview-payable-skew", "With --demo, an amount by which the simulator's bill overview disagrees with its account bill (e.g. -0.01), so that AliyunBillingReconciliationMismatch fires once the previous cycle is final.").Hidden().StringVar(&o.demoOverviewSkew)

	o.log = logging.AddFlags(app)
}

// declareCollectorFlags declares which collectors run and how often,
// what only the live exporter exposes (per-instance expiry and effective
// cost, labelled days), and where it keeps state and pushes days. The
// backfill takes none of these: it reads the families its --families name.
func declareCollectorFlags(g *kingpin.CmdClause, o *options) {
	g.Flag("billing.daily-series", "Expose the timestamped daily families (*_daily_*). They need out-of-order ingestion in Prometheus; use --no-billing.daily-series where it is not available.").Default("true").BoolVar(&o.collector.DailySeries)
	flagvalue.Declare(g, "billing.labelled-days", "Also expose the account's spend of the last N settled days as gauges labelled billing_day, without timestamps (aliyun_billing_account_day_*), for stores with no out-of-order window. 0: off.", "0", &o.collector.LabelledDays, flagvalue.Int)

	for _, r := range collector.Registrations() {
		cf := o.collectors[r.Name]
		def := "false"
		if r.DefaultEnabled {
			def = "true"
		}
		g.Flag("collector."+r.Name, fmt.Sprintf("Enable the %s collector: %s", r.Name, r.Help)).Default(def).BoolVar(cf.enabled)
		flagvalue.Declare(g, "collector."+r.Name+".interval", fmt.Sprintf("How often the %s collector refreshes in the background.", r.Name), model.Duration(r.DefaultInterval).String(), cf.interval, flagvalue.Duration)
	}
	g.Flag("collector.renewal.per-instance", "Add the expiry of each subscription instance expiring within 30 days without auto-renew (aliyun_billing_instance_expiry_without_auto_renew_timestamp_seconds).").BoolVar(&o.collector.Renewal.PerInstance)
	g.Flag("collector.amortized.per-instance", "Add per-instance effective (amortized) cost series of the current and previous cycle (aliyun_billing_instance_cycle_by_instance_effective_cost), from DescribeInstanceAmortizedCostByAmortizationPeriod.").BoolVar(&o.collector.Amortized.PerInstance)
	flagvalue.Declare(g, "collector.amortized.max-instances", "With --collector.amortized.per-instance, the most instances per cycle with their own series, largest first; the rest are summed into one overflow series.", "1000", &o.collector.Amortized.MaxInstances, flagvalue.Int)
	flagvalue.Declare(g, "collector.renewal.max-instances", "With --collector.renewal.per-instance, the most instances with their own series, soonest first; per owner and product, the soonest of the rest goes under one overflow series.", "100", &o.collector.Renewal.MaxInstances, flagvalue.Int)
	g.Flag("storage.path", "Directory where settled billing days are kept, so that a restart reads them from disk instead of BSS. Empty: keep nothing.").PlaceHolder("DIR").StringVar(&o.collector.StateDir)
	g.Flag("remote-write.url", "Push each settled day's daily samples, and each final billing cycle's totals, once to this Prometheus remote-write receiver (repeatable; headers, auth and TLS in the config file's remote_write). Needs --storage.path for its outbox.").PlaceHolder("URL").StringsVar(&o.remoteWriteURLs)
}

// declareBackfillFlags declares the backfill's own flags.
func declareBackfillFlags(g *kingpin.CmdClause, b *backfillOptions) {
	flagvalue.Declare(g, "from", "First billing day to read (YYYY-MM-DD, UTC+8). Default: the oldest day BSS keeps (18 billing cycles; 12 for OSS buckets).", "", &b.from, parseDay).PlaceHolder("DAY")
	flagvalue.Declare(g, "to", "Last billing day to read (YYYY-MM-DD, UTC+8). Default: per family, the day before the oldest day the live exporter exposes (--billing.exposure-days).", "", &b.to, parseDay).PlaceHolder("DAY")
	g.Flag("output", "File to write. It appears only when complete; OUTPUT.journal keeps finished days until then.").Required().PlaceHolder("FILE").StringVar(&b.output)
	flagvalue.Declare(g, "format", "Output format: openmetrics (promtool tsdb create-blocks-from openmetrics) or victoriametrics (JSON lines for /api/v1/import).", string(backfill.OpenMetrics), &b.format, flagvalue.OneOf(formatNames()...))
	g.Flag("families", "Comma-separated families to read: account (daily, and the final monthly totals), ossbucket (daily, needs Split Bill), instance (daily by region: costs a walk over every instance bill row of every day).").Default("account,ossbucket").StringVar(&b.families)
	g.Flag("account", "Account of --config.file to read. Default: the only one.").PlaceHolder("NAME").StringVar(&b.account)
	g.Flag("restart", "Discard the journal an earlier run left next to --output and start over. Without it, a journal written for another payer, account or series options is refused (exit 2), never mixed in.").BoolVar(&b.restart)
	g.Flag("estimate", "Print the plan and its cost, measured on one day of each family, then stop. The days read to measure it are kept for the real run.").BoolVar(&b.estimateOnly)
}

// declareDoctorFlags declares doctor's own flags.
func declareDoctorFlags(g *kingpin.CmdClause, d *doctorOptions) {
	g.Flag("account", "Account of --config.file to check. Default: the only one.").PlaceHolder("NAME").StringVar(&d.account)
	flagvalue.Declare(g, "max-requests", "The most requests the checks may make.", fmt.Sprint(defaultDoctorRequests), &d.maxRequests, flagvalue.Int)
	flagvalue.Declare(g, "format", "Output: text, or json to attach to a bug report.", "text", &d.format, flagvalue.OneOf("text", "json"))
}

// validate checks the flags as a whole, the first part of Load's check;
// each error names the flag. It is pure: the files the flags name are
// checked by the rest of Load.
func (o *options) validate() error {
	if err := checkTelemetryPath(o.telemetryPath); err != nil {
		return fmt.Errorf("--web.telemetry-path: %w", err)
	}
	if !*o.webFlags.WebSystemdSocket {
		if len(*o.webFlags.WebListenAddresses) == 0 {
			return fmt.Errorf("--web.listen-address: at least one address is needed")
		}
		for _, a := range *o.webFlags.WebListenAddresses {
			if err := checkListenAddress(a); err != nil {
				return fmt.Errorf("--web.listen-address: %w", err)
			}
		}
	}
	switch {
	case o.maxRequests < 0:
		return fmt.Errorf("--web.max-requests: must not be negative, got %d", o.maxRequests)
	case o.bssTimeout < minBSSTimeout || o.bssTimeout > maxBSSTimeout:
		return fmt.Errorf("--bss.timeout: must be between %s and %s, got %s", minBSSTimeout, maxBSSTimeout, o.bssTimeout)
	case o.configCheck && o.configFile == "":
		return fmt.Errorf("--config.check needs --config.file")
	}
	if err := o.validateDemo(); err != nil {
		return err
	}
	if o.autoGoMemLimitRatio <= 0 || o.autoGoMemLimitRatio > 1 {
		return fmt.Errorf("--auto-gomemlimit.ratio: must be more than 0 and at most 1, got %g", o.autoGoMemLimitRatio)
	}
	if err := checkRateLimit(o.rateLimit); err != nil {
		return fmt.Errorf("--bss.rate-limit: %w", err)
	}
	if o.endpoint != "" {
		if _, err := bssclient.ParseEndpoint(o.endpoint); err != nil {
			return fmt.Errorf("--bss.endpoint: %w", err)
		}
	}
	if err := checkBillFilesLocation(o.billFilesRegion, o.billFilesEndpoint); err != nil {
		return fmt.Errorf("--bill-files.region, --bill-files.endpoint: %w", err)
	}
	if !accountNameRE.MatchString(o.accountName) {
		return fmt.Errorf("--bss.account-name: %s must be 1 to 63 letters, digits, '_', '.' or '-'", bssclient.Quote(o.accountName))
	}
	return o.validateCollectors()
}

// validateCollectors checks the --collector.* flags: intervals, at least one
// collector on, and the options together.
func (o *options) validateCollectors() error {
	anyEnabled := false
	for _, r := range collector.Registrations() {
		cf := o.collectors[r.Name]
		if *cf.interval < minInterval || *cf.interval > maxInterval {
			return fmt.Errorf("--collector.%s.interval: must be between 1m (BSS data changes at most hourly) and %s, got %s", r.Name, model.Duration(maxInterval), *cf.interval)
		}
		anyEnabled = anyEnabled || *cf.enabled
	}
	if !anyEnabled {
		return fmt.Errorf("every collector is disabled: enable at least one with --collector.<name>")
	}
	if err := o.collectorConfig().Validate(); err != nil {
		return fmt.Errorf("collector options: %w", err)
	}
	return nil
}

// Bounds of durations the flags accept: a request that may take a day, or
// a refresh once a month, is a typo, not a choice.
const (
	minBSSTimeout = time.Second
	maxBSSTimeout = 10 * time.Minute
	minInterval   = time.Minute
	maxInterval   = 7 * 24 * time.Hour
)

// reservedPaths are served by the exporter itself.
var reservedPaths = []string{"/", "/-/healthy", "/-/ready", "/-/reload"}

// telemetryPathRE is a plain path: segments of unreserved URL characters,
// nothing a ServeMux would read as a pattern ({x}, a trailing /, a host,
// a method) and nothing that needs escaping.
var telemetryPathRE = regexp.MustCompile(`^(/[A-Za-z0-9._~-]+)+$`)

func checkTelemetryPath(p string) error {
	switch {
	case slices.Contains(reservedPaths, p) || strings.HasPrefix(p, "/-/"):
		return fmt.Errorf("%s is reserved for the exporter's own endpoints (%s)", bssclient.Quote(p), strings.Join(reservedPaths, ", "))
	case !telemetryPathRE.MatchString(p):
		return fmt.Errorf("%s is not a plain path such as /metrics: letters, digits and . _ ~ - between slashes, no trailing slash", bssclient.Quote(p))
	case path.Clean(p) != p:
		return fmt.Errorf("%s is not a clean path; did you mean %s?", bssclient.Quote(p), bssclient.Quote(path.Clean(p)))
	}
	return nil
}

// billFilesSource names the enabled collector flag that reads bill files,
// or "" when none does.
func (o *options) billFilesSource() string {
	for _, c := range []struct{ name, source string }{{"instance", string(o.collector.Instance.Source)}, {"ossbucket", string(o.collector.OSSBucket.Source)}} {
		if c.source == string(collector.SourceBillFiles) && *o.collectors[c.name].enabled {
			return "--collector." + c.name + ".source=" + c.source
		}
	}
	return ""
}

// collectorConfig builds the collectors' configuration from the flags.
func (o *options) collectorConfig() collector.Config {
	cfg := o.collector
	cfg.Instance.TagKeys = splitList(o.instanceTagKeys)
	cfg.Amounts = map[string][]string{}
	for name, list := range o.amounts {
		cfg.Amounts[name] = splitList(*list)
	}
	return cfg
}

// splitList is the items of a comma-separated flag, trimmed, without the
// empty ones; nil when there are none.
func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// parseSource parses --collector.<name>.source.
func parseSource(s string) (collector.Source, error) {
	s, err := flagvalue.OneOf(collector.Sources()...)(s)
	return collector.Source(s), err
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

// validateDemo checks the demo's hidden flags.
func (o *options) validateDemo() error {
	for _, f := range []struct{ name, value string }{{"clock", o.demoClock}, {"dialect", o.demoDialect}, {"overview-payable-skew", o.demoOverviewSkew}} {
		if !o.demo && f.value != "" {
			return fmt.Errorf("--demo.%s needs --demo", f.name)
		}
	}
	if o.demoOverviewSkew != "" {
		if _, err := bssclient.ParseMoney(o.demoOverviewSkew); err != nil {
			return fmt.Errorf("--demo.overview-payable-skew: %w", err)
		}
	}
	if o.demoClock != "" {
		if _, err := time.Parse(time.RFC3339, o.demoClock); err != nil {
			return fmt.Errorf("--demo.clock: %s is not an RFC 3339 time such as 2026-03-02T10:00:00+08:00", bssclient.Quote(o.demoClock))
		}
	}
	if _, err := bsssim.ParseDialect(o.demoDialect); err != nil {
		return fmt.Errorf("--demo.dialect: %w", err)
	}
	return nil
}
