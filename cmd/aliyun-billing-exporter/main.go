// Command aliyun-billing-exporter exposes Alibaba Cloud spend, read from the
// BSS OpenAPI in the background, as Prometheus metrics.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/collector"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/logging"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/remotewrite"
)

const exporterName = "aliyun_billing_exporter"

// setGoMemLimit gives the Go runtime --auto-gomemlimit.ratio of the
// cgroup's memory limit, with --auto-gomemlimit. A cold start of a big
// account holds a day's buckets or a month's instances for a moment; with
// the limit known, the collector frees that garbage before the container's
// limit is reached, instead of at twice the live heap (GOGC=100). Without
// a cgroup limit, or with GOMEMLIMIT set, it changes nothing.
func setGoMemLimit(opts *options, logger *slog.Logger) {
	if opts.autoGoMemLimit {
		_, _ = memlimit.Set(memlimit.WithRatio(opts.autoGoMemLimitRatio), memlimit.WithProvider(memlimit.FromCgroup), memlimit.WithLogger(logger))
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, hup)
	stop()
	os.Exit(code)
}

// run is the whole program; it returns the exit code. ctx ends it cleanly;
// each value on hup reloads --config.file.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, hup <-chan os.Signal) int {
	c, err := parseCommandLine(args, stdout, stderr)
	switch {
	case err != nil:
		return usageError(stderr, c.command, err)
	case c == nil:
		return 0 // --help or --version printed
	case c.command == backfillCommand:
		return runBackfill(ctx, &c.opts, &c.backfill, stdout, stderr)
	case c.command == doctorCommand:
		return runDoctor(ctx, &c.opts, &c.doctor, stdout, stderr)
	}
	return runServe(ctx, &c.opts, stdout, stderr, hup)
}

// usageError reports what the command line or the configuration got
// wrong, in one line naming the command, and returns exit code 2.
func usageError(stderr io.Writer, command string, err error) int {
	name := "aliyun-billing-exporter"
	if command != serveCommand {
		name += " " + command
	}
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	return 2
}

// runServe is the exporter: it serves the metrics of the accounts until ctx
// ends, and reloads --config.file on each value of hup.
func runServe(ctx context.Context, opts *options, stdout, stderr io.Writer, hup <-chan os.Signal) int {
	logs, err := logging.New(stderr, *opts.log)
	if err != nil {
		return usageError(stderr, serveCommand, err)
	}
	logger := logs.Logger

	// Everything is validated, and every account built, before anything
	// listens or calls BSS; --config.check takes the same path and stops
	// short of starting.
	cfg, err := Load(opts, logger)
	if err != nil {
		level.Error(logger).Log("msg", "invalid configuration", "err", err)
		return 2
	}
	setGoMemLimit(opts, logs.Slog)
	b, stopDemo, err := newBuilder(opts, logger)
	if err != nil {
		level.Error(logger).Log("msg", "starting the demo simulator", "err", err)
		return 1
	}
	defer stopDemo()
	budgets := collector.NewBudgetCollector(cfg.budgets)
	budgets.SetLogger(logger)
	b.cfg.Budgets = budgets
	if b.target != nil && !opts.configCheck {
		level.Info(logger).Log("msg", "demo mode: reading a simulated BSS, no Alibaba Cloud account is used", "endpoint", b.target.endpoint)
	}
	runs, err := b.buildAll(cfg)
	if err != nil {
		level.Error(logger).Log("msg", "invalid configuration", "err", err)
		return 2
	}
	if opts.configCheck {
		fmt.Fprintf(stdout, "%s: configuration is valid: %d account(s), %d budget(s)\n",
			opts.configFile, len(cfg.accounts), len(cfg.budgets))
		return 0
	}
	rwMetrics := remotewrite.NewMetrics()
	var pushers []*remotewrite.Pusher
	for _, r := range cfg.remoteWrite {
		p, err := remotewrite.New(r, opts.collector.StateDir, rwMetrics, logger)
		if err != nil {
			level.Error(logger).Log("msg", "cannot push to a remote-write receiver", "err", err)
			return 1
		}
		pushers = append(pushers, p)
	}
	listeners, err := listen(opts)
	if err != nil {
		level.Error(logger).Log("msg", "cannot listen", "err", err)
		return 1
	}

	reg := prometheus.NewRegistry()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	accounts := &accountSet{ctx: runCtx, metrics: b.metrics, budgets: budgets}
	reg.MustRegister(b.metrics, accounts, versioncollector.NewCollector(exporterName))
	if !opts.disableExporterMetrics {
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	reloads := newReloader(opts, b, accounts, logger, reg)
	reloads.remoteWrite = cfg.remoteWrite
	accounts.apply(runs, cfg.budgets)
	pushed := make(chan struct{})
	if len(pushers) > 0 {
		reg.MustRegister(rwMetrics)
		// The pushers read what a scrape of the accounts shows, from
		// their own registry: no BSS request, no self-metrics.
		fromAccounts := prometheus.NewRegistry()
		fromAccounts.MustRegister(accounts)
		go func() {
			defer close(pushed)
			remotewrite.Run(runCtx, pushers, fromAccounts, remoteWriteInterval, accounts.Ready)
		}()
	} else {
		close(pushed)
	}

	srv := newServer(newRouter(reg, reg, accounts, reloads, opts, logger), logger)
	serveErr := make(chan error, 1)
	go func() { serveErr <- serve(srv, listeners, opts, logs.Slog) }()
	level.Info(logger).Log("msg", "starting aliyun-billing-exporter", "version", version.Info(), "accounts", len(runs))
	logAccounts(logger, cfg, b, opts)

	code := 0
loop:
	for {
		select {
		case <-ctx.Done():
			level.Info(logger).Log("msg", "shutting down")
			break loop
		case <-hup:
			// Off the signal loop, so that SIGTERM is heard during a reload.
			go func() { _ = reloads.reload("SIGHUP") }() // logged and counted inside
		case err := <-serveErr:
			level.Error(logger).Log("msg", "HTTP server stopped", "err", err)
			code = 1
			break loop
		}
	}
	cancel() // the pushers stop between requests
	shutdown(srv, accounts, logger)
	<-pushed
	return code
}

// remoteWriteInterval is how often the pushers look for days to send: a
// day settles once a day per collector, so a minute keeps the delay small
// at no cost (nothing is sent when nothing is new).
const remoteWriteInterval = time.Minute

// shutdown stops serving and the collectors within shutdownTimeout: the
// collectors stop at their next step once cancelled, and one stuck in a
// read does not hold the process past the timeout.
func shutdown(srv *http.Server, accounts *accountSet, logger log.Logger) {
	ctx, done := context.WithTimeout(context.Background(), shutdownTimeout)
	defer done()
	_ = srv.Shutdown(ctx)
	stopped := make(chan struct{})
	go func() {
		accounts.stop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-ctx.Done():
		level.Warn(logger).Log("msg", "the collectors did not stop within the shutdown timeout; exiting anyway", "timeout", shutdownTimeout)
	}
}

// shutdownTimeout bounds the shutdown after SIGTERM: in-flight scrapes
// finish and the collectors stop, or the process exits anyway.
const shutdownTimeout = 5 * time.Second

// listen binds every --web.listen-address before any collector starts, so
// that a taken port fails the start instead of a running exporter. With
// --web.systemd-socket, or for a vsock address, exporter-toolkit listens
// itself (nil listeners), as it alone knows how.
func listen(opts *options) ([]net.Listener, error) {
	if *opts.webFlags.WebSystemdSocket {
		return nil, nil
	}
	var out []net.Listener
	for _, a := range *opts.webFlags.WebListenAddresses {
		if strings.HasPrefix(a, "vsock://") {
			for _, l := range out {
				l.Close()
			}
			return nil, nil
		}
		l, err := net.Listen("tcp", a)
		if err != nil {
			for _, l := range out {
				l.Close()
			}
			return nil, fmt.Errorf("--web.listen-address: %w", err)
		}
		out = append(out, l)
	}
	return out, nil
}

// serve serves on listeners, or lets exporter-toolkit listen when there
// are none; TLS and basic auth come from --web.config.file either way.
func serve(srv *http.Server, listeners []net.Listener, opts *options, logger *slog.Logger) error {
	if listeners == nil {
		return web.ListenAndServe(srv, opts.webFlags, logger)
	}
	return web.ServeMultiple(listeners, srv, opts.webFlags, logger)
}

// readiness is what /-/ready asks.
type readiness interface{ Ready() bool }

// newRouter is the exporter's one router: the landing page, metrics, and
// the health, readiness and reload endpoints. Metrics come from gatherer;
// reg is where the router registers its own. reload serves /-/reload with
// --web.enable-lifecycle; without it, /-/reload says how to turn it on.
func newRouter(reg *prometheus.Registry, gatherer prometheus.Gatherer, exp readiness, reload http.Handler, opts *options, logger log.Logger) http.Handler {
	mux := http.NewServeMux()
	var metrics http.Handler = promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{
		ErrorLog:            promLogger{logger},
		MaxRequestsInFlight: opts.maxRequests,
		Registry:            reg,
	})
	if !opts.disableExporterMetrics {
		metrics = promhttp.InstrumentMetricHandler(reg, metrics)
	}
	mux.Handle(opts.telemetryPath, metrics)
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "Healthy")
	})
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if !exp.Ready() {
			http.Error(w, "Not ready: a collector has neither published data nor failed with an error that needs a person (authentication, permission); see the log.", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "Ready")
	})
	if opts.enableLifecycle {
		mux.Handle("/-/reload", reload)
	} else {
		mux.HandleFunc("/-/reload", func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "Lifecycle API is not enabled: start the exporter with --web.enable-lifecycle, or send it SIGHUP.", http.StatusForbidden)
		})
	}
	if opts.telemetryPath != "/" {
		landing, err := web.NewLandingPage(web.LandingConfig{
			Name:        "Alibaba Cloud Billing Exporter",
			Description: "Alibaba Cloud spend from the BSS OpenAPI, refreshed in the background.",
			Version:     version.Info(),
			Profiling:   "false", // no pprof handlers are served
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

// logAccounts says, one line per account, where it reads and with what,
// never a secret: the endpoint without user info or query, the credential
// source's type.
func logAccounts(logger log.Logger, cfg *settings, b *builder, opts *options) {
	enabled := opts.enabledCollectors()
	names := make([]string, len(enabled))
	for i, e := range enabled {
		names[i] = e.Name
	}
	for _, a := range cfg.accounts {
		endpoint, source := b.endpointOf(a)
		level.Info(logger).Log("msg", "reading account", "account", a.name, "site", a.site,
			"endpoint", bssclient.RedactURL(endpoint), "credentials", source, "collectors", strings.Join(names, ","))
	}
}
