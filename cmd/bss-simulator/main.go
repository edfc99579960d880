// Command bss-simulator serves a simulated Alibaba Cloud BSS OpenAPI
// (BssOpenApi 2017-12-14) over a generated billing world, so the exporter, the
// official SDKs and the aliyun CLI can be pointed at it without an account.
package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/flagvalue"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/logging"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // could not start or serve
	exitUsage = 2 // bad flags
)

// exporterEndpointFlag is how the exporter is pointed at another BSS
// endpoint, quoted in the start-up hint.
const exporterEndpointFlag = "--bss.endpoint"

// shutdownGrace is how long answers in flight may take to finish on SIGTERM.
const shutdownGrace = 5 * time.Second

// run parses args, serves until SIGINT or SIGTERM, and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runContext(ctx, args, stdout, stderr)
}

// settings are the flags, typed by kingpin as they are parsed.
type settings struct {
	listenAddress string
	world         bsssim.WorldConfig
	amortizedCost bool // the inverse of world.AmortizedCostDisabled, as the console shows it
	quota         int
	latency       time.Duration
	faults        *bsssim.Faults
	dialect       bsssim.Dialect
	clockStart    time.Time
	readTimeout   time.Duration
	idleTimeout   time.Duration
	credential    bsssim.Credential
	log           *logging.Config
	oss           ossSettings
}

// ossSettings are the --oss.* flags: the OSS endpoint holding the bill
// files of the world's subscriptions.
type ossSettings struct {
	listenAddress string // "" serves no OSS endpoint
	region        string
	rowLimit      int
	faults        *bsssim.OSSFaults
}

// newApp declares the flags into s.
func newApp(s *settings) *kingpin.Application {
	app := kingpin.New("bss-simulator", "Serves a simulated Alibaba Cloud BSS OpenAPI (BssOpenApi 2017-12-14) over a generated "+
		"billing world: signatures (V3 ACS3-HMAC-SHA256 and V1 HMAC-SHA1), nonces, the per-account quota, paging tokens, "+
		"settle delays and final bills as BSS has them, plus injectable faults. For tests, benchmarks and demos; it answers JSON only.")
	app.HelpFlag.Short('h')
	flagvalue.Declare(app, "listen-address", "Address to serve on, host:port. Use port 0 for a free port.",
		"127.0.0.1:8417", &s.listenAddress, flagvalue.HostPort)
	flagvalue.Declare(app, "seed", "Seed of the generated billing world: the same seed gives the same bills.",
		"1", &s.world.Seed, flagvalue.Int64)
	flagvalue.Declare(app, "owners", "Member accounts besides the payer whose resources appear on the bill, at least 1.",
		"3", &s.world.Owners, flagvalue.Int)
	flagvalue.Declare(app, "instances-per-owner", "Instances each account owns, the payer included.",
		"20", &s.world.InstancesPerOwner, flagvalue.Int)
	flagvalue.Declare(app, "buckets-per-oss-instance", "Split items (buckets) each OSS instance splits into in DescribeSplitItemBill.",
		"3", &s.world.BucketsPerOSSInstance, flagvalue.Int)
	flagvalue.Declare(app, "currency", "Currency the account bills in: CNY (China site), USD (international site) or JPY.",
		"CNY", &s.world.Currency, flagvalue.OneOf("CNY", "USD", "JPY"))
	app.Flag("split-bill", "Split Bill is enabled in the console, so DescribeSplitItemBill answers; --no-split-bill "+
		"makes it answer NotApplicable.").
		Default("true").BoolVar(&s.world.SplitBillEnabled)
	app.Flag("amortized-cost", "Amortized Cost is enabled in the console, so the amortized-cost actions answer; --no-amortized-cost "+
		"makes them answer NotApplicable.").
		Default("true").BoolVar(&s.amortizedCost)
	app.Flag("split-row-per-bucket", "Each OSS split row is one bucket's whole day with BillingItem and BillingItemCode empty, "+
		"instead of one row per billing item (storage, traffic, requests) of a bucket; bucket totals are the same either way. "+
		"BSS documents the fields but not which form it answers in.").BoolVar(&s.world.SplitRowPerBucket)
	app.Flag("tax-rate", "Share of each QueryBillOverview item's PretaxAmount shown as its Tax, a decimal fraction such as 0.06; "+
		"empty shows no tax.").StringVar(&s.world.TaxRate)
	app.Flag("overview-payable-skew", "Amount added to the first QueryBillOverview item's PretaxAmount, so that the overview "+
		"disagrees with the account bill by exactly this much (e.g. -0.01); empty keeps them equal.").StringVar(&s.world.OverviewPayableSkew)
	flagvalue.Declare(app, "quota", "Flow control per account, shared by all its keys: requests per second before Throttling.User. "+
		"0 means BSS's 10; negative, unlimited.",
		strconv.Itoa(bsssim.DefaultQuotaPerSecond), &s.quota, flagvalue.Int)
	flagvalue.Declare(app, "latency", "Delay added to every answer, e.g. 150ms (BSS's typical latency); at most "+bsssim.MaxLatency.String()+".",
		"0s", &s.latency, flagvalue.Duration)
	flagvalue.Declare(app, "faults", "Faults to inject, comma-separated name=value: latency=<duration>, throttle=<n>, 5xx=<n>, "+
		"drop=<n>, malformed=<n>, truncate=<n>, drift-total=<n>, repeat-token=<n>, sts-expired=<n> (InvalidSecurityToken.Expired), "+
		"no-permission=<Action> (NoPermission for that action; repeatable), clock-skew=<duration> (the simulator's clocks "+
		"and Date header ahead of the host's, behind if negative), action=<Action> (counted faults hit only that action). "+
		"Counts apply to the next n requests, e.g. throttle=5,action=DescribeInstanceBill.",
		"", &s.faults, flagvalue.Refused(bsssim.ParseFaults))
	dialects := make([]string, len(bsssim.Dialects))
	for i, d := range bsssim.Dialects {
		dialects[i] = string(d)
	}
	flagvalue.Declare(app, "dialect", "How answers write their values, within what the API reference's examples show: "+strings.Join(dialects, ", ")+
		". documented: as the reference declares; strings: numbers as strings; local-times: times as 2006-01-02 15:04:05 in UTC+8; "+
		"sparse: informational fields empty, null or absent; masked: ids that are no key masked; mixed: a choice of these per answer. "+
		"The values, and so every figure a client computes, are the same in every dialect.",
		string(bsssim.DialectDocumented), &s.dialect, flagvalue.Refused(bsssim.ParseDialect))
	flagvalue.Declare(app, "clock.start", "Billing time to start at, RFC 3339 (e.g. 2024-06-03T11:00:00+08:00); it then advances "+
		"with real time. Default: now. Signature timestamps are always checked against the real clock.",
		"", &s.clockStart, flagvalue.Time)
	flagvalue.Declare(app, "http.read-timeout", "Longest time a client may take to send a request, headers and body; a slower "+
		"connection is closed.", bsssim.DefaultReadTimeout.String(), &s.readTimeout, flagvalue.Duration)
	flagvalue.Declare(app, "http.idle-timeout", "Longest time a keep-alive connection may stay idle between requests.",
		bsssim.DefaultIdleTimeout.String(), &s.idleTimeout, flagvalue.Duration)
	app.Flag("access-key-id", "AccessKey ID the simulator accepts. The default is the simulator's own fake test key.").
		Default(bsssim.TestAccessKeyID).Envar("BSS_SIMULATOR_ACCESS_KEY_ID").StringVar(&s.credential.AccessKeyID)
	app.Flag("access-key-secret", "AccessKey secret the simulator accepts. The default is the simulator's own fake test secret.").
		Default(bsssim.TestAccessKeySecret).Envar("BSS_SIMULATOR_ACCESS_KEY_SECRET").StringVar(&s.credential.AccessKeySecret)
	addOSSFlags(app, s)
	// The exporter's --log.level and --log.format (debug logs every request).
	s.log = logging.AddFlags(app)
	return app
}

// addOSSFlags declares the --oss.* flags and --split-item-subscription.
func addOSSFlags(app *kingpin.Application, s *settings) {
	flagvalue.Declare(app, "oss.listen-address", "Address to serve the bill files on, host:port, as an OSS endpoint (ListObjectsV2, "+
		"GetObject, HeadObject; V4 and V1 signatures; path-style, or virtual-hosted with the bucket as the Host's first label): "+
		"the files BSS writes for the subscriptions QueryBillToOSSSubscription lists, from the same world and billing clock. "+
		"Empty (the default) serves none; port 0 picks a free port.", "", &s.oss.listenAddress, parseHostPortOrEmpty)
	flagvalue.Declare(app, "oss.region", "Region of the simulated bucket, which V4 signatures must name.",
		bsssim.DefaultOSSRegion, &s.oss.region, nonEmpty)
	flagvalue.Declare(app, "oss.row-limit", "Rows per CSV file before a bill file is split into a zip of parts; 0 keeps each "+
		"subscription's RowLimitPerFile (300000).", "0", &s.oss.rowLimit, flagvalue.Int)
	flagvalue.Declare(app, "oss.faults", "OSS faults, comma-separated: missing-day=YYYY-MM-DD (that day's files absent), "+
		"missing-key=<key> (one object absent), drop-column=<key>:<column> (one file's header and rows lack the column).",
		"", &s.oss.faults, flagvalue.Refused(bsssim.ParseOSSFaults))
	app.Flag("split-item-subscription", "Add a SplitItemDetailDaily subscription (split bills by day) to "+
		"QueryBillToOSSSubscription and the OSS endpoint.").BoolVar(&s.world.SplitItemSubscription)
}

func parseHostPortOrEmpty(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	return flagvalue.HostPort(s)
}

func nonEmpty(s string) (string, error) {
	if s == "" {
		return "", errors.New("must not be empty")
	}
	return s, nil
}

// check refuses what kingpin's types let through; errors name the flag.
// The World checks its own upper limits.
func (s *settings) check() error {
	for _, f := range []struct {
		flag  string
		value int
		min   int
	}{
		{"owners", s.world.Owners, 1},
		{"instances-per-owner", s.world.InstancesPerOwner, 1},
		{"buckets-per-oss-instance", s.world.BucketsPerOSSInstance, 1},
	} {
		if f.value < f.min {
			// --owners=0 would otherwise be WorldConfig's "default", 3.
			return fmt.Errorf("--%s: must be at least %d, got %d", f.flag, f.min, f.value)
		}
	}
	switch {
	case s.latency < 0 || s.latency > bsssim.MaxLatency:
		return fmt.Errorf("--latency: must be between 0 and %s, got %s", bsssim.MaxLatency, s.latency)
	case s.readTimeout <= 0:
		return fmt.Errorf("--http.read-timeout: must be positive, got %s", s.readTimeout)
	case s.idleTimeout <= 0:
		return fmt.Errorf("--http.idle-timeout: must be positive, got %s", s.idleTimeout)
	case s.credential.AccessKeyID == "":
		return errors.New("--access-key-id is empty")
	case s.credential.AccessKeySecret == "":
		return errors.New("--access-key-secret is empty") // never quote a secret
	case s.oss.rowLimit < 0:
		return fmt.Errorf("--oss.row-limit: must not be negative, got %d", s.oss.rowLimit)
	}
	return nil
}

// joinNegativeValues rewrites "--flag -1" as "--flag=-1" for flags that take
// a value: kingpin reads a value starting with "-" as another flag, which
// made "--seed -1" or "--faults clock-skew..." fail with a puzzling message.
func joinNegativeValues(app *kingpin.Application, args []string) []string {
	takesValue := map[string]bool{}
	for _, f := range app.Model().Flags {
		takesValue["--"+f.Name] = !f.IsBoolFlag()
	}
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if takesValue[a] && i+1 < len(args) && len(args[i+1]) > 1 && args[i+1][0] == '-' &&
			(args[i+1][1] >= '0' && args[i+1][1] <= '9' || args[i+1][1] == '.') {
			out = append(out, a+"="+args[i+1])
			i++
			continue
		}
		out = append(out, a)
	}
	return out
}

// parseFlags reads and checks the flags. done means: return code now (help
// was printed, or a flag was refused).
func parseFlags(args []string, stdout, stderr io.Writer) (s settings, code int, done bool) {
	app := newApp(&s)
	app.UsageWriter(stdout).ErrorWriter(stderr)
	helped := false
	app.Terminate(func(int) { helped = true }) // --help: print usage, then return here
	if _, err := app.Parse(joinNegativeValues(app, args)); err != nil {
		fmt.Fprintf(stderr, "bss-simulator: error: %v; try --help\n", err)
		return s, exitUsage, true
	}
	if helped {
		return s, exitOK, true
	}
	s.faults = cmp.Or(s.faults, bsssim.NewFaults())
	s.oss.faults = cmp.Or(s.oss.faults, bsssim.NewOSSFaults())
	if err := s.check(); err != nil {
		fmt.Fprintf(stderr, "bss-simulator: error: %v\n", err)
		return s, exitUsage, true
	}
	return s, exitOK, false
}

func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	s, code, done := parseFlags(args, stdout, stderr)
	if done {
		return code
	}
	clockStart := cmp.Or(s.clockStart, time.Now())

	logs, err := logging.New(stderr, *s.log)
	if err != nil { // check validated the flags already
		fmt.Fprintf(stderr, "bss-simulator: error: %v\n", err)
		return exitUsage
	}
	logger := logs.Logger

	s.world.AmortizedCostDisabled = !s.amortizedCost
	world, err := bsssim.NewWorld(s.world)
	if err != nil {
		level.Error(logger).Log("msg", "cannot build the billing world; check --owners, --instances-per-owner and --buckets-per-oss-instance", "err", err)
		return exitUsage
	}
	clock := bsssim.NewOffsetClock(clockStart)
	server, err := bsssim.NewServer(bsssim.Config{
		World:          world,
		Credentials:    []bsssim.Credential{s.credential},
		Clock:          clock,
		QuotaPerSecond: s.quota,
		Latency:        s.latency,
		Faults:         s.faults,
		Dialect:        s.dialect,
	})
	if err != nil {
		level.Error(logger).Log("msg", "cannot configure the simulator", "err", err)
		return exitUsage
	}
	ln, err := net.Listen("tcp", s.listenAddress)
	if err != nil {
		level.Error(logger).Log("msg", "cannot listen", "address", s.listenAddress, "err", err)
		return exitError
	}
	url := "http://" + ln.Addr().String()
	printBanner(stdout, url, s.credential)
	level.Info(logger).Log("msg", "serving BSS simulator", "url", url, "account_id", world.AccountID(),
		"owners", s.world.Owners, "instances_per_owner", s.world.InstancesPerOwner, "currency", s.world.Currency,
		"split_bill", s.world.SplitBillEnabled, "quota_per_second", s.quota, "latency", s.latency,
		"faults", s.faults.String(), "billing_clock_start", clockStart.Format(time.RFC3339))

	srv := newHTTPServer(logRequests(server, logger), &s, logger)
	served := make(chan error, 2)
	go func() { served <- srv.Serve(ln) }()
	servers := []*http.Server{srv}
	if s.oss.listenAddress != "" {
		ossSrv, err := serveOSS(&s, world, clock, logger, stdout, served)
		if err != nil {
			_ = srv.Close()
			<-served
			return exitError
		}
		servers = append(servers, ossSrv)
	}

	select {
	case err := <-served:
		level.Error(logger).Log("msg", "serving failed", "err", err)
		closeAll(servers, served, len(servers)-1)
		return exitError
	case <-ctx.Done():
	}
	level.Info(logger).Log("msg", "shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	for _, srv := range servers {
		if err := srv.Shutdown(shutdownCtx); err != nil {
			_ = srv.Close() // answers still waiting on --latency or a latency fault
		}
	}
	closeAll(nil, served, len(servers))
	st := server.Stats()
	level.Info(logger).Log("msg", "stopped", "requests", st.TotalRequests(), "pages", st.Pages, "rows", st.Rows,
		"throttled", st.Throttled)
	return exitOK
}

// newHTTPServer wraps h with the simulator's timeouts, the flags' read and
// idle timeouts and the logger.
func newHTTPServer(h http.Handler, s *settings, logger log.Logger) *http.Server {
	srv := bsssim.NewHTTPServer(h)
	srv.ReadTimeout, srv.IdleTimeout = s.readTimeout, s.idleTimeout
	srv.ReadHeaderTimeout = min(srv.ReadHeaderTimeout, s.readTimeout)
	srv.ErrorLog = stdlog.New(log.NewStdlibAdapter(level.Warn(logger)), "", 0) // one log format
	return srv
}

// serveOSS starts the OSS endpoint of --oss.listen-address on the BSS
// endpoint's world and clock; its Serve result goes to served.
func serveOSS(s *settings, world *bsssim.World, clock bsssim.Clock, logger log.Logger, stdout io.Writer, served chan<- error) (*http.Server, error) {
	handler, err := bsssim.NewOSSHandler(world, bsssim.OSSConfig{
		Credentials: []bsssim.Credential{s.credential}, Clock: clock, Region: s.oss.region,
		RowLimitPerFile: s.oss.rowLimit, Faults: s.oss.faults,
	})
	if err != nil {
		level.Error(logger).Log("msg", "cannot configure the OSS endpoint", "err", err)
		return nil, err
	}
	ln, err := net.Listen("tcp", s.oss.listenAddress)
	if err != nil {
		level.Error(logger).Log("msg", "cannot listen", "address", s.oss.listenAddress, "err", err)
		return nil, err
	}
	bucket := world.Subscriptions()[0].SubscribeBucket
	fmt.Fprintf(stdout, "OSS bill files: bucket %s, region %s, endpoint http://%s (path style)\n", bucket, s.oss.region, ln.Addr())
	level.Info(logger).Log("msg", "serving OSS bill files", "url", "http://"+ln.Addr().String(), "bucket", bucket,
		"region", s.oss.region, "faults", s.oss.faults.String())
	srv := newHTTPServer(logRequests(handler, logger), s, logger)
	go func() { served <- srv.Serve(ln) }()
	return srv, nil
}

// closeAll closes servers and waits for n Serve results.
func closeAll(servers []*http.Server, served <-chan error, n int) {
	for _, srv := range servers {
		_ = srv.Close()
	}
	for range n {
		<-served
	}
}

// printBanner tells a person how to use the simulator. The keys printed are
// the simulator's own fake test keys (or the ones the flags set).
func printBanner(w io.Writer, url string, cred bsssim.Credential) {
	fmt.Fprintf(w, "BSS simulator (BssOpenApi 2017-12-14) listening on %s\n", url)
	fmt.Fprintf(w, "Accepted credentials:\n  AccessKeyId:     %s\n  AccessKeySecret: %s\n", cred.AccessKeyID, cred.AccessKeySecret)
	fmt.Fprintf(w, "Point the exporter at it:\n  ALIBABA_CLOUD_ACCESS_KEY_ID=%s ALIBABA_CLOUD_ACCESS_KEY_SECRET=%s aliyun-billing-exporter %s=%s\n",
		cred.AccessKeyID, cred.AccessKeySecret, exporterEndpointFlag, url)
}

// logRequests logs every answer at debug level.
func logRequests(next http.Handler, logger log.Logger) http.Handler {
	debug := level.Debug(logger)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		action := cmp.Or(r.Header.Get("x-acs-action"), r.URL.Query().Get("Action"))
		debug.Log("msg", "answered", "method", r.Method, "action", action, "status", rec.statusText(),
			"request_id", rec.Header().Get("x-acs-request-id"), "duration", time.Since(start))
	})
}

// statusRecorder remembers the status; it passes Hijack through so the drop
// fault can close the connection.
type statusRecorder struct {
	http.ResponseWriter
	status   int
	hijacked bool
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := r.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("connection cannot be hijacked")
	}
	r.hijacked = true
	return hj.Hijack()
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *statusRecorder) statusText() string {
	switch {
	case r.hijacked:
		return "dropped"
	case r.status == 0:
		return "none"
	}
	return strconv.Itoa(r.status)
}
