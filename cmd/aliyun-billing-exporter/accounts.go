package main

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/collector"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
)

// accountRun is one account's collectors: a collector.Exporter of its own,
// so that a reload restarts the accounts it changed and leaves the others,
// and their data, alone.
type accountRun struct {
	config account
	exp    *collector.Exporter
	cancel context.CancelFunc // nil until started
	done   chan struct{}
}

// bssTarget replaces every account's endpoint and credentials: the demo's
// embedded simulator.
type bssTarget struct {
	endpoint    string
	credentials bssclient.CredentialsProvider
	billFiles   billFilesConfig // the simulator's OSS endpoint
}

// builder makes accountRuns from validated accounts. The same builder
// serves startup, --config.check and reloads.
type builder struct {
	opts    *options
	target  *bssTarget // nil: Alibaba Cloud
	metrics *collector.BSSMetrics
	cfg     collector.Config
	logger  log.Logger
	// observer, when set, replaces the metrics' observer, and maxAttempts
	// (0: the client's default) the retries: the first-run checks.
	observer    bssclient.Observer
	maxAttempts int
}

// newBuilder returns the builder startup and backfill share. With --demo it
// first starts the embedded simulator and points every account at it; stop
// ends that simulator, and does nothing otherwise.
func newBuilder(opts *options, logger log.Logger) (b *builder, stop func(), err error) {
	b = &builder{opts: opts, metrics: collector.NewBSSMetrics(), cfg: opts.collectorConfig(), logger: logger}
	if !opts.demo {
		return b, func() {}, nil
	}
	demo, err := startDemo(opts.demoClock, bsssim.Dialect(opts.demoDialect), opts.demoOverviewSkew, logger)
	if err != nil {
		return nil, nil, err
	}
	demo.configure(&b.cfg)
	b.target = &bssTarget{endpoint: demo.URL, credentials: demo.credentials,
		billFiles: billFilesConfig{Region: bsssim.DefaultOSSRegion, Endpoint: demo.oss.URL}}
	return b, func() { _ = demo.Close() }, nil
}

// build makes a client and an exporter for a, starting nothing. What it
// refuses, --config.check refuses too: it runs there as well.
func (b *builder) build(a account) (*accountRun, error) {
	_, client, billFiles, err := b.clients(a)
	if err != nil {
		return nil, err
	}
	exp, err := collector.New(collector.Account{Name: a.name, Client: client, BillFiles: billFiles}, b.opts.enabledCollectors(), b.cfg, b.logger)
	if err != nil {
		return nil, fmt.Errorf("account %s: %w", a.name, err)
	}
	return &accountRun{config: a, exp: exp}, nil
}

// clients makes a's credentials provider (the demo's, or its source's),
// its BSS client, with a rate limiter of its own, and the reader of its
// bill files' bucket when it names one (nil otherwise). Both sign with the
// one provider: a role's session is assumed and refreshed once for both.
func (b *builder) clients(a account) (creds bssclient.CredentialsProvider, client *bssclient.Client, files *bssclient.OSSReader, err error) {
	if b.target != nil {
		creds = b.target.credentials
	} else if creds, err = bssclient.NewCredentialsProvider(a.credentials); err != nil {
		return nil, nil, nil, fmt.Errorf("account %s: %w", a.name, err)
	}
	observer := b.observer
	if observer == nil {
		observer = b.metrics.Observer(a.name)
	}
	endpoint, _ := b.endpointOf(a)
	client, err = bssclient.New(bssclient.Config{
		Endpoint:         endpoint,
		Credentials:      creds,
		RateLimit:        a.rateLimit,
		SignatureVersion: a.signature,
		Timeout:          b.opts.bssTimeout,
		Observer:         observer,
		MaxAttempts:      b.maxAttempts,
		UserAgent:        userAgent(),
		Logger:           log.With(b.logger, "account", a.name),
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("account %s: %w", a.name, err)
	}
	loc := a.billFiles
	if b.target != nil && (loc.Region != "" || b.opts.billFilesSource() != "") {
		loc = b.target.billFiles
	}
	if loc.Region == "" {
		return creds, client, nil, nil
	}
	// No client timeout: it would bound a whole file's download, which is
	// as long as the file is; the SDK times out connecting and each read.
	files, err = bssclient.NewOSSReader(bssclient.OSSConfig{Credentials: creds, Region: loc.Region, Endpoint: loc.Endpoint, UserAgent: userAgent()})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("account %s: bill files: %w", a.name, err)
	}
	return creds, client, files, nil
}

// buildAll builds every account of s.
func (b *builder) buildAll(s *settings) ([]*accountRun, error) {
	var out []*accountRun
	for _, a := range s.accounts {
		r, err := b.build(a)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// endpointOf is where a's client calls, and the type of its credential
// source: the demo's simulator, else a's endpoint, else its site's.
func (b *builder) endpointOf(a account) (endpoint, source string) {
	switch {
	case b.target != nil:
		return b.target.endpoint, "demo"
	case a.endpoint != "":
		return a.endpoint, a.credentials.Type
	case a.site == "international":
		return bssclient.EndpointInternational, a.credentials.Type
	}
	return bssclient.EndpointChina, a.credentials.Type
}

// accountSet serves every account's exporter and the budgets as one
// prometheus.Collector, and swaps both together on reload: a scrape sees
// the accounts and the budgets of one configuration.
type accountSet struct {
	ctx context.Context // ends every run

	metrics *collector.BSSMetrics // the accounts' request metrics; nil: none

	mu      sync.RWMutex
	runs    []*accountRun // by account name
	budgets *collector.BudgetCollector
}

// Describe sends nothing: the set of accounts changes on reload, so the
// registry treats the set as an unchecked collector.
func (s *accountSet) Describe(chan<- *prometheus.Desc) {}

// Collect sends every account's published snapshot and the budgets; it
// calls nothing.
func (s *accountSet) Collect(ch chan<- prometheus.Metric) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, r := range s.runs {
		r.exp.Collect(ch)
	}
	s.budgets.Collect(ch)
}

// Ready reports whether every account's collectors have refreshed once.
func (s *accountSet) Ready() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, r := range s.runs {
		if !r.exp.Ready() {
			return false
		}
	}
	return true
}

// apply makes the set run next, with budgets: an account whose configuration did not
// change keeps its running exporter, and with it its data; a changed or new
// one starts the freshly built exporter; a removed one stops, and its
// request metrics go. A changed account's old run stops before its new one
// starts, so the two never write the same state file; it serves its last
// data until the new one takes its place. It returns how many accounts
// were (re)started and stopped. Reloads call it one at a time.
func (s *accountSet) apply(next []*accountRun, budgets []collector.Budget) (started, stopped int) {
	s.mu.RLock()
	old := map[string]*accountRun{}
	for _, r := range s.runs {
		old[r.config.name] = r
	}
	s.mu.RUnlock()
	var runs, fresh []*accountRun
	kept := map[string]bool{}
	for _, r := range next {
		kept[r.config.name] = true
		if prev, ok := old[r.config.name]; ok && reflect.DeepEqual(prev.config, r.config) {
			runs = append(runs, prev)
			delete(old, r.config.name)
			continue
		}
		fresh = append(fresh, r)
		runs = append(runs, r)
	}
	for _, r := range old { // changed or removed: stop the old run
		r.stop()
		stopped++
	}
	for _, r := range fresh {
		s.start(r)
		started++
	}
	slices.SortFunc(runs, func(a, b *accountRun) int { return strings.Compare(a.config.name, b.config.name) })
	s.mu.Lock()
	s.runs = runs
	s.budgets.Set(budgets)
	s.mu.Unlock()
	for name := range old {
		if !kept[name] && s.metrics != nil {
			s.metrics.Forget(name)
		}
	}
	return started, stopped
}

func (s *accountSet) start(r *accountRun) {
	ctx, cancel := context.WithCancel(s.ctx)
	r.cancel, r.done = cancel, make(chan struct{})
	go func() {
		defer close(r.done)
		r.exp.Run(ctx)
	}()
}

func (r *accountRun) stop() {
	r.cancel()
	<-r.done
}

// stop ends every run and waits for them.
func (s *accountSet) stop() {
	s.mu.Lock()
	runs := s.runs
	s.runs = nil
	s.mu.Unlock()
	for _, r := range runs {
		r.stop()
	}
}
