// Command aliyun-billing-exporter exposes Alibaba Cloud spend, read from the
// BSS OpenAPI in the background, as Prometheus metrics.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	slgk "github.com/tjhop/slog-gokit"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/collector"
)

const exporterName = "aliyun_billing_exporter"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program; it returns the exit code. ctx ends it cleanly.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == backfillCommand { // backfill.go
		return runBackfill(ctx, args[1:], stdout, stderr)
	}
	opts, err := parseFlags(args, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "aliyun-billing-exporter: %v\n", err)
		return 2
	}
	if opts == nil {
		return 0 // --help or --version printed
	}
	base, err := newLogger(stderr, opts.logLevel, opts.logFormat)
	if err != nil {
		fmt.Fprintf(stderr, "aliyun-billing-exporter: %v\n", err)
		return 2
	}
	logger := log.With(base, "ts", log.DefaultTimestampUTC, "caller", log.DefaultCaller)

	cfg, err := loadAccounts(opts, logger)
	if err != nil {
		level.Error(logger).Log("msg", "invalid configuration", "err", err)
		return 2
	}
	if opts.configCheck {
		fmt.Fprintf(stdout, "%s: configuration is valid: %d account(s), %d budget(s)\n",
			opts.configFile, len(cfg.Accounts), len(cfg.Budgets))
		return 0
	}

	collectorCfg := opts.collectorConfig()
	var demo *demoWorld
	if opts.demo {
		demo, err = startDemo(opts.demoClock, logger)
		if err != nil {
			level.Error(logger).Log("msg", "starting the demo simulator", "err", err)
			return 1
		}
		defer demo.Close()
		collectorCfg.Now = demo.clock.Now
		level.Info(logger).Log("msg", "demo mode: reading a simulated BSS, no Alibaba Cloud account is used", "endpoint", demo.URL)
	}

	bssMetrics := collector.NewBSSMetrics()
	accounts, err := buildAccounts(cfg, opts, demo, bssMetrics)
	if err != nil {
		level.Error(logger).Log("msg", "invalid configuration", "err", err)
		return 2
	}
	exp, err := collector.New(accounts, opts.enabledCollectors(), collectorCfg, logger)
	if err != nil {
		level.Error(logger).Log("msg", "invalid configuration", "err", err)
		return 2
	}
	budgets, err := newBudgetCollector(cfg.Budgets)
	if err != nil {
		level.Error(logger).Log("msg", "invalid configuration", "err", err)
		return 2
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(bssMetrics, budgets, versioncollector.NewCollector(exporterName))
	if !opts.disableExporterMetrics {
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	// The exporter is served through its Gatherer, which gathers each
	// published snapshot once rather than on every scrape.
	gatherer, err := exp.Gatherer(reg)
	if err != nil {
		level.Error(logger).Log("msg", "registering the exporter's metrics", "err", err)
		return 1
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	refreshDone := make(chan struct{})
	go func() {
		defer close(refreshDone)
		exp.Run(runCtx)
	}()

	srv := &http.Server{Handler: newHandler(reg, gatherer, exp, opts, logger), ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- web.ListenAndServe(srv, opts.webFlags, slogLogger(base)) }()
	level.Info(logger).Log("msg", "starting aliyun-billing-exporter", "version", version.Info(), "accounts", len(accounts))

	code := 0
	select {
	case <-ctx.Done():
		level.Info(logger).Log("msg", "shutting down")
	case err := <-serveErr:
		level.Error(logger).Log("msg", "HTTP server stopped", "err", err)
		code = 1
	}
	shutdownCtx, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	_ = srv.Shutdown(shutdownCtx)
	cancel()
	<-refreshDone
	return code
}

// newHandler routes the landing page, metrics and health endpoints. Metrics
// come from gatherer; reg is where the handler registers its own.
func newHandler(reg *prometheus.Registry, gatherer prometheus.Gatherer, exp *collector.Exporter, opts *options, logger log.Logger) http.Handler {
	mux := http.NewServeMux()
	var metrics http.Handler = bufferedResponses(promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{
		ErrorLog:            promLogger{logger},
		MaxRequestsInFlight: opts.maxRequests,
		Registry:            reg,
	}))
	if !opts.disableExporterMetrics {
		metrics = promhttp.InstrumentMetricHandler(reg, metrics)
	}
	mux.Handle(opts.telemetryPath, metrics)
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "Healthy")
	})
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if !exp.Ready() {
			http.Error(w, "Not ready: the first background refresh of every collector has not completed yet.", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "Ready")
	})
	if opts.telemetryPath != "/" {
		landing, err := web.NewLandingPage(web.LandingConfig{
			Name:        "Alibaba Cloud Billing Exporter",
			Description: "Alibaba Cloud spend from the BSS OpenAPI, refreshed in the background.",
			Version:     version.Info(),
			Links: []web.LandingLinks{
				{Address: opts.telemetryPath, Text: "Metrics"},
				{Address: "/-/ready", Text: "Readiness"},
				{Address: "/-/healthy", Text: "Health"},
			},
		})
		if err != nil {
			level.Error(logger).Log("msg", "building the landing page", "err", err)
		} else {
			mux.Handle("/", landing)
		}
	}
	return mux
}

// promLogger adapts go-kit/log to promhttp's error log.
type promLogger struct{ logger log.Logger }

func (l promLogger) Println(v ...any) {
	level.Error(l.logger).Log("msg", "serving metrics", "err", fmt.Sprint(v...))
}

// buildAccounts makes one client per account, each with its own rate
// limiter shared by all that account's collectors.
func buildAccounts(cfg *fileConfig, opts *options, demo *demoWorld, m *collector.BSSMetrics) ([]collector.Account, error) {
	var out []collector.Account
	for _, a := range cfg.Accounts {
		clientCfg := bssclient.Config{
			Endpoint:  endpointFor(a),
			RateLimit: *a.RateLimit,
			Timeout:   opts.bssTimeout,
			Observer:  m.Observer(a.Name),
			UserAgent: "aliyun-billing-exporter/" + version.Version,
		}
		if a.SignatureVersion != "" {
			v, err := bssclient.ParseSignatureVersion(a.SignatureVersion)
			if err != nil {
				return nil, err
			}
			clientCfg.SignatureVersion = v
		}
		if demo != nil {
			clientCfg.Endpoint = demo.URL
			clientCfg.Credentials = demo.credentials
		} else {
			src := a.Credentials
			if src.Type == "" {
				src.Type = "default"
			}
			p, err := bssclient.NewCredentialsProvider(src)
			if err != nil {
				return nil, fmt.Errorf("account %s: credentials: %w", a.Name, err)
			}
			clientCfg.Credentials = p
		}
		client, err := bssclient.New(clientCfg)
		if err != nil {
			return nil, fmt.Errorf("account %s: %w", a.Name, err)
		}
		out = append(out, collector.Account{Name: a.Name, Client: client})
	}
	return out, nil
}

func endpointFor(a accountConfig) string {
	switch {
	case a.Endpoint != "":
		return a.Endpoint
	case a.Site == "international":
		return bssclient.EndpointInternational
	default:
		return bssclient.EndpointChina
	}
}

// loadAccounts returns the accounts and budgets: from --config.file, or the
// single account the flags describe. Flags fill what a file account omits.
// With --demo the file may hold budgets only; the account is the demo's.
func loadAccounts(opts *options, logger log.Logger) (*fileConfig, error) {
	cfg := &fileConfig{}
	if opts.configFile != "" {
		var tooOpen bool
		var err error
		cfg, tooOpen, err = loadConfigFile(opts.configFile)
		if err != nil {
			return nil, err
		}
		if tooOpen {
			level.Warn(logger).Log("msg", "the config file holds credentials and is readable by group or others; restrict it with chmod 600", "file", opts.configFile)
		}
	}
	switch {
	case opts.demo && len(cfg.Accounts) > 0:
		return nil, fmt.Errorf("%s: with --demo the file may hold budgets only; the demo reads its own simulated account %q", opts.configFile, demoAccountName)
	case opts.demo:
		cfg.Accounts = []accountConfig{{Name: demoAccountName}}
	case len(cfg.Accounts) == 0 && opts.configFile == "":
		cfg.Accounts = []accountConfig{{Name: opts.accountName}}
	}
	for i := range cfg.Accounts {
		a := &cfg.Accounts[i]
		if a.Site == "" && a.Endpoint == "" {
			a.Site, a.Endpoint = opts.site, opts.endpoint
		}
		if a.RateLimit == nil {
			r := opts.rateLimit
			a.RateLimit = &r
		}
		if a.SignatureVersion == "" {
			a.SignatureVersion = opts.signatureVersion
		}
	}
	if err := cfg.validate(); err != nil {
		if opts.configFile != "" {
			return nil, fmt.Errorf("%s: %w", opts.configFile, err)
		}
		return nil, err
	}
	return cfg, nil
}

// newLogger builds the go-kit logger from --log.level and --log.format,
// without timestamps or callers: callers add those, and the slog bridge for
// exporter-toolkit adds its own.
func newLogger(w io.Writer, lvl, format string) (log.Logger, error) {
	var logger log.Logger
	switch format {
	case "logfmt":
		logger = log.NewLogfmtLogger(log.NewSyncWriter(w))
	case "json":
		logger = log.NewJSONLogger(log.NewSyncWriter(w))
	default:
		return nil, fmt.Errorf("--log.format: %q is not one of logfmt, json", format)
	}
	var filter level.Option
	switch lvl {
	case "debug":
		filter = level.AllowDebug()
	case "info":
		filter = level.AllowInfo()
	case "warn":
		filter = level.AllowWarn()
	case "error":
		filter = level.AllowError()
	default:
		return nil, fmt.Errorf("--log.level: %q is not one of debug, info, warn, error", lvl)
	}
	return level.NewFilter(logger, filter), nil
}

// slogLogger bridges to slog for exporter-toolkit, the only part that needs
// it. The base logger adds no ts or caller: slog records carry their own.
func slogLogger(base log.Logger) *slog.Logger {
	return slog.New(slgk.NewGoKitHandler(base, slog.LevelDebug))
}
