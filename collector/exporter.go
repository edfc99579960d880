package collector

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

// Exporter runs an account's enabled collectors in the background and
// serves their snapshots. It is a prometheus.Collector; Collect never
// calls BSS.
type Exporter struct {
	workers         []*worker
	collectOrder    []*worker // workers by collector name
	refreshFailures *prometheus.CounterVec

	refreshDuration, refreshSuccess, lastSuccess, snapshotSeries, dailySamples, newestDay *prometheus.Desc
}

// Enabled names a collector to run and its refresh interval.
type Enabled struct {
	Name     string
	Interval time.Duration
}

// New builds an account's collectors. Nothing is fetched until Run or
// RefreshOnce. An exporter serves one account: the caller owns the set,
// so that a reload restarts only the accounts it changed.
func New(acct Account, enabled []Enabled, cfg Config, logger log.Logger) (*Exporter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.StateDir != "" {
		if err := checkStateDir(cfg.StateDir); err != nil {
			return nil, err
		}
	}
	perCollector := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(namespace+"_"+name, help, []string{"account", "collector"}, nil)
	}
	e := &Exporter{
		refreshDuration: perCollector("refresh_duration_seconds",
			"Duration of the collector's last background refresh."),
		refreshSuccess: perCollector("refresh_success",
			"1 if the collector's last background refresh succeeded, 0 if it failed and older data is being served."),
		lastSuccess: perCollector("last_refresh_success_timestamp_seconds",
			"When the collector last refreshed successfully; the age of the data served."),
		snapshotSeries: perCollector("snapshot_series",
			"Series in the collector's current snapshot."),
		dailySamples: perCollector("snapshot_timestamped_samples",
			"Samples in the collector's current snapshot that carry their billing day's timestamp: what a storage without an out-of-order window drops."),
		newestDay: perCollector("newest_complete_day_timestamp_seconds",
			"Start (00:00 UTC+8) of the newest billing day the collector's data is complete for."),
		refreshFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "refresh_failures_total",
			Help: "Background refreshes that failed, by the code of the error that failed them.",
		}, []string{"account", "collector", "code"}),
	}
	// A repeated collector would emit every series twice, and a registry
	// fails the whole scrape on a duplicate.
	seenCollectors := map[string]bool{}
	for _, en := range enabled {
		if seenCollectors[en.Name] {
			return nil, fmt.Errorf("collector %s is listed twice", en.Name)
		}
		seenCollectors[en.Name] = true
	}
	acct.currency = &accountCurrency{} // shared by the account's collectors
	acct.monthReads = make(chan struct{}, 1)
	for _, en := range enabled {
		reg, err := Lookup(en.Name)
		if err != nil {
			return nil, err
		}
		if en.Interval <= 0 {
			return nil, fmt.Errorf("collector %s: refresh interval must be positive, got %s", en.Name, en.Interval)
		}
		l := log.With(logger, "collector", en.Name, "account", acct.Name)
		w := &worker{
			name: en.Name, account: acct.Name, interval: en.Interval,
			now: cfg.Now, after: time.After, logger: l, failures: e.refreshFailures,
		}
		c, err := reg.factory(acct, cfg, l)
		if err != nil {
			return nil, fmt.Errorf("collector %s for account %s: %w", en.Name, acct.Name, err)
		}
		w.collector = c
		if p, ok := c.(partialPublisher); ok {
			p.setPublisher(w.publishPartial)
		}
		e.workers = append(e.workers, w)
	}
	e.collectOrder = slices.Clone(e.workers)
	slices.SortStableFunc(e.collectOrder, func(a, b *worker) int { return strings.Compare(a.name, b.name) })
	return e, nil
}

// Run refreshes every collector now and then on its interval until ctx ends.
func (e *Exporter) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, w := range e.workers {
		wg.Go(func() { w.run(ctx) })
	}
	wg.Wait()
}

// RefreshOnce refreshes every collector once, in order, and returns the
// errors joined. Tests use it to step the exporter deterministically.
func (e *Exporter) RefreshOnce(ctx context.Context) error {
	var errs []error
	for _, w := range e.workers {
		if err := w.refresh(ctx); err != nil {
			errs = append(errs, fmt.Errorf("%s/%s: %w", w.account, w.name, err))
		}
	}
	return errors.Join(errs...)
}

// Ready reports whether every collector of the account has something
// to say: it has published data, or its last refresh failed in a way that
// needs a person (authentication, permission, a bad request). A collector
// still retrying a transient failure on its first refresh is not ready.
func (e *Exporter) Ready() bool {
	for _, w := range e.workers {
		st := w.state.Load()
		if st == nil || (st.lastSuccess.IsZero() && st.transient) {
			return false
		}
	}
	return true
}

// Describe implements prometheus.Collector.
func (e *Exporter) Describe(ch chan<- *prometheus.Desc) {
	describe(ch, e.refreshDuration, e.refreshSuccess, e.lastSuccess, e.snapshotSeries, e.dailySamples, e.newestDay,
		lateRestatementsDesc, lateRestatementAmountDesc, billFileFallbacksDesc, billFileBytesDesc)
	e.refreshFailures.Describe(ch)
	for _, w := range e.workers { // one per name: New refuses a repeated collector
		w.collector.Describe(ch)
	}
}

// Collect implements prometheus.Collector: it sends the published snapshots
// and the refresh state, and calls nothing.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) {
	for _, w := range e.collectOrder {
		st := w.state.Load()
		if st == nil {
			continue
		}
		for _, m := range st.snapshot.Metrics {
			ch <- m
		}
		send := func(d *prometheus.Desc, v float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, w.account, w.name)
		}
		if !st.partial { // while the first refresh runs, there is no refresh state yet
			send(e.refreshDuration, st.duration.Seconds())
			send(e.refreshSuccess, boolValue(st.ok))
			if v, ok := unixSeconds(st.lastSuccess); ok {
				send(e.lastSuccess, v)
			}
		}
		send(e.snapshotSeries, float64(len(st.snapshot.Metrics)))
		send(e.dailySamples, float64(st.dailySamples))
		if d := st.snapshot.NewestCompleteDay; !d.IsZero() {
			send(e.newestDay, float64(d.Start().Unix()))
		}
	}
	e.refreshFailures.Collect(ch)
}

// SnapshotSeries is the series each collector's current snapshot holds,
// by collector name (one account): what aliyun_billing_snapshot_series
// says, for doctor's predictions.
func SnapshotSeries(e *Exporter) (map[string]int, error) {
	out := map[string]int{}
	for _, w := range e.collectOrder {
		if st := w.state.Load(); st != nil {
			out[w.name] += len(st.snapshot.Metrics)
		}
	}
	return out, nil
}

// worker runs one collector for one account.
type worker struct {
	name, account string
	collector     Collector
	interval      time.Duration
	now           func() time.Time
	// after is the timer run waits on between refreshes (time.After);
	// tests replace it to step through retries without sleeping.
	after    func(time.Duration) <-chan time.Time
	logger   log.Logger
	failures *prometheus.CounterVec
	requests atomic.Int64 // BSS requests of the collector's refreshes (bssclient.WithRequestCounter)

	mu      sync.Mutex // serialises refreshes: never two at once for one collector
	state   atomic.Pointer[workerState]
	failed  int       // consecutive failed refreshes, for the backoff
	started time.Time // wall time of the first refresh
}

// workerState is published atomically after each refresh, and while one
// runs as its days come in (publishPartial).
type workerState struct {
	snapshot     Snapshot
	dailySamples int  // of snapshot.Metrics, those with their own timestamp
	partial      bool // published by the first refresh while it runs
	ok           bool
	transient    bool // the last refresh failed, and may succeed by itself
	duration     time.Duration
	lastSuccess  time.Time
}

func (w *worker) run(ctx context.Context) {
	for {
		err := w.refresh(ctx) // logged and counted inside
		wait := w.interval
		if err != nil {
			w.failed++
			wait = retryDelay(err, w.failed, w.interval)
			level.Debug(w.logger).Log("msg", "retrying the failed part of the refresh", "in", wait, "consecutive_failures", w.failed)
		} else {
			w.failed = 0
		}
		select {
		case <-ctx.Done():
			return
		case <-w.after(wait):
		}
	}
}

func (w *worker) refresh(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	start := time.Now() // wall time: this measures work, not billing time
	if w.started.IsZero() {
		w.started = start
	}
	snap, err := w.collector.Refresh(bssclient.WithRequestCounter(ctx, &w.requests), w.now())
	if ctx.Err() != nil && err != nil {
		return err // shutting down: publish nothing half-done
	}
	st := &workerState{snapshot: snap, dailySamples: timestamped(snap.Metrics), ok: err == nil, duration: time.Since(start)}
	if prev := w.state.Load(); prev != nil {
		st.lastSuccess = prev.lastSuccess
	}
	if err == nil {
		if st.lastSuccess.IsZero() {
			level.Info(w.logger).Log("msg", "first refresh succeeded", "days", snap.Days,
				"series", len(snap.Metrics), "requests", w.requests.Load(),
				"seconds", fmt.Sprintf("%.1f", time.Since(w.started).Seconds()))
		}
		st.lastSuccess = time.Now()
	} else {
		st.transient = bssclient.IsTransient(err)
		code := bssclient.ErrorCode(err)
		w.failures.WithLabelValues(w.account, w.name, code).Inc()
		msg := "refresh failed; serving the last good data and every day read so far"
		if st.lastSuccess.IsZero() {
			msg = "refresh failed; serving every day read so far"
		}
		level.Error(w.logger).Log("msg", msg, "code", code, "days", snap.Days, "err", err)
	}
	w.state.Store(st)
	return err
}

// publishPartial publishes a snapshot of a refresh still running: the days
// read so far. The refresh state (success, age) stays that of the last
// completed refresh; before the first one there is none, and the collector
// is not ready.
func (w *worker) publishPartial(snap Snapshot) {
	st := &workerState{snapshot: snap, dailySamples: timestamped(snap.Metrics), partial: true, transient: true}
	if prev := w.state.Load(); prev != nil && !prev.partial {
		st = &workerState{snapshot: snap, dailySamples: st.dailySamples, ok: prev.ok, transient: prev.transient, duration: prev.duration, lastSuccess: prev.lastSuccess}
	}
	w.state.Store(st)
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// timestamped counts the metrics that carry their own timestamp: the daily
// samples. Counted once per publication, not per scrape.
func timestamped(metrics []prometheus.Metric) int {
	var n int
	var m dto.Metric
	for _, x := range metrics {
		m.Reset()
		if x.Write(&m) == nil && m.TimestampMs != nil {
			n++
		}
	}
	return n
}
