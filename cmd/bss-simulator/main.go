// Command bss-simulator serves a simulated Alibaba Cloud BSS OpenAPI
// (BssOpenApi 2017-12-14) over a generated billing world, so the exporter, the
// official SDKs and the aliyun CLI can be pointed at it without an account.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
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

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
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

// flagValues are the flags as typed; settings() checks and converts them.
type flagValues struct {
	listenAddress     string
	seed              string
	owners            string
	instancesPerOwner string
	bucketsPerOSS     string
	currency          string
	splitBill         bool
	quota             string
	latency           string
	faults            string
	clockStart        string
	accessKeyID       string
	accessKeySecret   string
	logLevel          string
}

// settings are the checked flags.
type settings struct {
	listenAddress string
	world         bsssim.WorldConfig
	quota         int
	latency       time.Duration
	faults        *bsssim.Faults
	clockStart    time.Time
	credential    bsssim.Credential
	logLevel      level.Option
}

// newApp declares the flags into v.
func newApp(v *flagValues) *kingpin.Application {
	app := kingpin.New("bss-simulator", "Serves a simulated Alibaba Cloud BSS OpenAPI (BssOpenApi 2017-12-14) over a generated "+
		"billing world: signatures (V3 ACS3-HMAC-SHA256 and V1 HMAC-SHA1), nonces, the per-account quota, paging tokens, "+
		"settle delays and final bills as BSS has them, plus injectable faults. For tests, benchmarks and demos; it answers JSON only.")
	app.HelpFlag.Short('h')
	app.Flag("listen-address", "Address to serve on, host:port. Use port 0 for a free port.").
		Default("127.0.0.1:8417").StringVar(&v.listenAddress)
	app.Flag("seed", "Seed of the generated billing world: the same seed gives the same bills.").
		Default("1").StringVar(&v.seed)
	app.Flag("owners", "Member accounts besides the payer whose resources appear on the bill.").
		Default("3").StringVar(&v.owners)
	app.Flag("instances-per-owner", "Instances each account owns, the payer included.").
		Default("20").StringVar(&v.instancesPerOwner)
	app.Flag("buckets-per-oss-instance", "Split items (buckets) each OSS instance splits into in DescribeSplitItemBill.").
		Default("3").StringVar(&v.bucketsPerOSS)
	app.Flag("currency", "Currency the account bills in: CNY (China site), USD (international site) or JPY.").
		Default("CNY").StringVar(&v.currency)
	app.Flag("split-bill", "Split Bill is enabled in the console, so DescribeSplitItemBill answers; --no-split-bill "+
		"makes it answer "+bssclient.CodeSplitBillNotEnabled+".").
		Default("true").BoolVar(&v.splitBill)
	app.Flag("quota", "Flow control per account, shared by all its keys: requests per second before Throttling.User. "+
		"0 means BSS's 10; negative, unlimited.").
		Default(strconv.Itoa(bsssim.DefaultQuotaPerSecond)).StringVar(&v.quota)
	app.Flag("latency", "Delay added to every answer, e.g. 150ms (BSS's typical latency).").
		Default("0s").StringVar(&v.latency)
	app.Flag("faults", "Faults to inject, comma-separated name=value: latency=<duration>, throttle=<n>, 5xx=<n>, "+
		"drop=<n>, malformed=<n>, truncate=<n>, drift-total=<n>, repeat-token=<n>, action=<Action> (faults hit only "+
		"that action). Counts apply to the next n requests, e.g. throttle=5,action=DescribeInstanceBill.").
		Default("").StringVar(&v.faults)
	app.Flag("clock.start", "Billing time to start at, RFC 3339 (e.g. 2024-06-03T11:00:00+08:00); it then advances "+
		"with real time. Default: now. Signature timestamps are always checked against the real clock.").
		Default("").StringVar(&v.clockStart)
	app.Flag("access-key-id", "AccessKey ID the simulator accepts. The default is the simulator's own fake test key.").
		Default(bsssim.TestAccessKeyID).Envar("BSS_SIMULATOR_ACCESS_KEY_ID").StringVar(&v.accessKeyID)
	app.Flag("access-key-secret", "AccessKey secret the simulator accepts. The default is the simulator's own fake test secret.").
		Default(bsssim.TestAccessKeySecret).Envar("BSS_SIMULATOR_ACCESS_KEY_SECRET").StringVar(&v.accessKeySecret)
	app.Flag("log.level", "Only log messages with the given severity or above: debug (every request), info, warn, error.").
		Default("info").StringVar(&v.logLevel)
	return app
}

// settings checks the flags; errors name the flag and quote the value.
func (v flagValues) settings(now time.Time) (settings, error) {
	var s settings
	var err error
	bad := func(flag, value, want string) error {
		return fmt.Errorf("--%s=%q: %s", flag, shorten(value), want)
	}
	if _, _, err := net.SplitHostPort(v.listenAddress); err != nil {
		return s, bad("listen-address", v.listenAddress, "want host:port")
	}
	s.listenAddress = v.listenAddress
	if s.world.Seed, err = strconv.ParseInt(v.seed, 10, 64); err != nil {
		return s, bad("seed", v.seed, "want an integer")
	}
	for _, f := range []struct {
		flag, value string
		dst         *int
		min         int
	}{
		{"owners", v.owners, &s.world.Owners, 0},
		{"instances-per-owner", v.instancesPerOwner, &s.world.InstancesPerOwner, 1},
		{"buckets-per-oss-instance", v.bucketsPerOSS, &s.world.BucketsPerOSSInstance, 1},
	} {
		n, err := strconv.Atoi(f.value)
		if err != nil || n < f.min {
			return s, bad(f.flag, f.value, fmt.Sprintf("want an integer of at least %d", f.min))
		}
		*f.dst = n
	}
	switch v.currency {
	case "CNY", "USD", "JPY":
		s.world.Currency = v.currency
	default:
		return s, bad("currency", v.currency, "want CNY, USD or JPY")
	}
	s.world.SplitBillEnabled = v.splitBill
	if s.quota, err = strconv.Atoi(v.quota); err != nil {
		return s, bad("quota", v.quota, "want an integer (0: BSS's 10 per second; negative: unlimited)")
	}
	if s.latency, err = time.ParseDuration(v.latency); err != nil || s.latency < 0 {
		return s, bad("latency", v.latency, "want a non-negative duration such as 150ms")
	}
	if s.faults, err = bsssim.ParseFaults(v.faults); err != nil {
		return s, fmt.Errorf("--faults: %w", err)
	}
	s.clockStart = now
	if v.clockStart != "" {
		if s.clockStart, err = time.Parse(time.RFC3339, v.clockStart); err != nil {
			return s, bad("clock.start", v.clockStart, "want an RFC 3339 time such as 2024-06-03T11:00:00+08:00")
		}
	}
	if v.accessKeyID == "" {
		return s, errors.New("--access-key-id is empty")
	}
	if v.accessKeySecret == "" {
		return s, errors.New("--access-key-secret is empty") // never quote a secret
	}
	s.credential = bsssim.Credential{AccessKeyID: v.accessKeyID, AccessKeySecret: v.accessKeySecret}
	switch v.logLevel {
	case "debug":
		s.logLevel = level.AllowDebug()
	case "info":
		s.logLevel = level.AllowInfo()
	case "warn":
		s.logLevel = level.AllowWarn()
	case "error":
		s.logLevel = level.AllowError()
	default:
		return s, bad("log.level", v.logLevel, "want debug, info, warn or error")
	}
	return s, nil
}

func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var v flagValues
	app := newApp(&v)
	app.UsageWriter(stdout).ErrorWriter(stderr)
	helped := false
	app.Terminate(func(int) { helped = true }) // --help: print usage, then return here
	if _, err := app.Parse(args); err != nil {
		fmt.Fprintf(stderr, "bss-simulator: error: %v; try --help\n", err)
		return exitUsage
	}
	if helped {
		return exitOK
	}
	s, err := v.settings(time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "bss-simulator: error: %v\n", err)
		return exitUsage
	}

	logger := log.NewLogfmtLogger(log.NewSyncWriter(stderr))
	logger = level.NewFilter(logger, s.logLevel)
	logger = log.With(logger, "ts", log.DefaultTimestampUTC, "caller", log.DefaultCaller)

	world, err := bsssim.NewWorld(s.world)
	if err != nil {
		level.Error(logger).Log("msg", "cannot build the billing world; check --owners, --instances-per-owner and --buckets-per-oss-instance", "err", err)
		return exitUsage
	}
	server, err := bsssim.NewServer(bsssim.Config{
		World:          world,
		Credentials:    []bsssim.Credential{s.credential},
		Clock:          bsssim.NewOffsetClock(s.clockStart),
		QuotaPerSecond: s.quota,
		Latency:        s.latency,
		Faults:         s.faults,
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
		"faults", s.faults.String(), "billing_clock_start", s.clockStart.Format(time.RFC3339))

	srv := bsssim.NewHTTPServer(logRequests(server, logger))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		level.Error(logger).Log("msg", "serving failed", "err", err)
		return exitError
	case <-ctx.Done():
	}
	level.Info(logger).Log("msg", "shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close() // answers still waiting on --latency or a latency fault
	}
	<-served
	st := server.Stats()
	level.Info(logger).Log("msg", "stopped", "requests", st.TotalRequests(), "pages", st.Pages, "rows", st.Rows,
		"throttled", st.Throttled)
	return exitOK
}

// printBanner tells a person how to use the simulator. The keys printed are
// the simulator's own fake test keys (or the ones the flags set).
func printBanner(w io.Writer, url string, cred bsssim.Credential) {
	fmt.Fprintf(w, "BSS simulator (BssOpenApi %s) listening on %s\n", bssclient.APIVersion, url)
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
		action := r.Header.Get("x-acs-action")
		if action == "" {
			action = r.URL.Query().Get("Action")
		}
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

func shorten(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
