package collector

import (
	"cmp"
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

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

// Exporter runs every enabled collector for every account in the background
// and serves their snapshots. It is a prometheus.Collector; Collect never
// calls BSS.
type Exporter struct {
	workers      []*worker
	collectOrder []*worker // workers by account, then collector name
	logger       log.Logger

	refreshDuration *prometheus.Desc
	refreshSuccess  *prometheus.Desc
	lastSuccess     *prometheus.Desc
	snapshotSeries  *prometheus.Desc
	newestDay       *prometheus.Desc
	refreshFailures *prometheus.CounterVec
}

// Enabled names a collector to run and its refresh interval.
type Enabled struct {
	Name     string
	Interval time.Duration
}

// New builds the collectors. Nothing is fetched until Run or RefreshOnce.
func New(accounts []Account, enabled []Enabled, cfg Config, logger log.Logger) (*Exporter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(accounts) == 0 {
		return nil, errors.New("no accounts configured")
	}
	e := &Exporter{
		logger: logger,
		refreshDuration: prometheus.NewDesc(namespace+"_refresh_duration_seconds",
			"Duration of the collector's last background refresh.", []string{"account", "collector"}, nil),
		refreshSuccess: prometheus.NewDesc(namespace+"_refresh_success",
			"1 if the collector's last background refresh succeeded, 0 if it failed and older data is being served.", []string{"account", "collector"}, nil),
		lastSuccess: prometheus.NewDesc(namespace+"_last_refresh_success_timestamp_seconds",
			"When the collector last refreshed successfully; the age of the data served.", []string{"account", "collector"}, nil),
		snapshotSeries: prometheus.NewDesc(namespace+"_snapshot_series",
			"Series in the collector's current snapshot.", []string{"account", "collector"}, nil),
		newestDay: prometheus.NewDesc(namespace+"_newest_complete_day_timestamp_seconds",
			"Start (00:00 UTC+8) of the newest billing day the collector's data is complete for.", []string{"account", "collector"}, nil),
		refreshFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "refresh_failures_total",
			Help: "Background refreshes that failed, by the code of the error that failed them.",
		}, []string{"account", "collector", "code"}),
	}
	// A repeated account or collector would emit every series twice, and a
	// registry fails the whole scrape on a duplicate.
	seenAccounts, seenCollectors := map[string]bool{}, map[string]bool{}
	for _, acct := range accounts {
		if seenAccounts[acct.Name] {
			return nil, fmt.Errorf("account %q is listed twice", acct.Name)
		}
		seenAccounts[acct.Name] = true
	}
	for _, en := range enabled {
		if seenCollectors[en.Name] {
			return nil, fmt.Errorf("collector %s is listed twice", en.Name)
		}
		seenCollectors[en.Name] = true
	}
	for _, acct := range accounts {
		for _, en := range enabled {
			reg, err := Lookup(en.Name)
			if err != nil {
				return nil, err
			}
			if en.Interval <= 0 {
				return nil, fmt.Errorf("collector %s: refresh interval must be positive, got %s", en.Name, en.Interval)
			}
			l := log.With(logger, "collector", en.Name, "account", acct.Name)
			c, err := reg.factory(acct, cfg, l)
			if err != nil {
				return nil, fmt.Errorf("collector %s for account %s: %w", en.Name, acct.Name, err)
			}
			e.workers = append(e.workers, &worker{
				name: en.Name, account: acct.Name, collector: c, interval: en.Interval,
				now: cfg.Now, logger: l, failures: e.refreshFailures,
			})
		}
	}
	e.collectOrder = slices.Clone(e.workers)
	slices.SortStableFunc(e.collectOrder, func(a, b *worker) int {
		return cmp.Or(strings.Compare(a.account, b.account), strings.Compare(a.name, b.name))
	})
	return e, nil
}

// Run refreshes every collector now and then on its interval until ctx ends.
func (e *Exporter) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, w := range e.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run(ctx)
		}()
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

// Ready reports whether every collector has completed one refresh for every
// account, successful or not.
func (e *Exporter) Ready() bool {
	for _, w := range e.workers {
		if w.state.Load() == nil {
			return false
		}
	}
	return true
}

// Describe implements prometheus.Collector.
func (e *Exporter) Describe(ch chan<- *prometheus.Desc) {
	ch <- e.refreshDuration
	ch <- e.refreshSuccess
	ch <- e.lastSuccess
	ch <- e.snapshotSeries
	ch <- e.newestDay
	e.refreshFailures.Describe(ch)
	described := map[string]bool{}
	for _, w := range e.workers {
		if !described[w.name] {
			described[w.name] = true
			w.collector.Describe(ch)
		}
	}
}

// Collect implements prometheus.Collector: it sends the published snapshots
// and the refresh state, and calls nothing.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) {
	for _, w := range e.collectOrder {
		if st := w.state.Load(); st != nil {
			for _, m := range st.snapshot.Metrics {
				ch <- m
			}
		}
	}
	for _, w := range e.collectOrder {
		st := w.state.Load()
		if st == nil {
			continue
		}
		ch <- prometheus.MustNewConstMetric(e.refreshDuration, prometheus.GaugeValue, st.duration.Seconds(), w.account, w.name)
		ch <- prometheus.MustNewConstMetric(e.refreshSuccess, prometheus.GaugeValue, boolValue(st.ok), w.account, w.name)
		if !st.lastSuccess.IsZero() {
			ch <- prometheus.MustNewConstMetric(e.lastSuccess, prometheus.GaugeValue, float64(st.lastSuccess.UnixNano())/1e9, w.account, w.name)
		}
		ch <- prometheus.MustNewConstMetric(e.snapshotSeries, prometheus.GaugeValue, float64(len(st.snapshot.Metrics)), w.account, w.name)
		if d := st.snapshot.NewestCompleteDay; !d.IsZero() {
			ch <- prometheus.MustNewConstMetric(e.newestDay, prometheus.GaugeValue, float64(d.Start().Unix()), w.account, w.name)
		}
	}
	e.refreshFailures.Collect(ch)
}

// worker runs one collector for one account.
type worker struct {
	name, account string
	collector     Collector
	interval      time.Duration
	now           func() time.Time
	logger        log.Logger
	failures      *prometheus.CounterVec

	mu    sync.Mutex // serialises refreshes: never two at once for one collector
	state atomic.Pointer[workerState]
}

// workerState is published atomically after each refresh.
type workerState struct {
	snapshot    Snapshot
	ok          bool
	duration    time.Duration
	lastSuccess time.Time
}

func (w *worker) run(ctx context.Context) {
	ticker := time.NewTicker(w.interval)
	defer ticker.Stop()
	for {
		_ = w.refresh(ctx) // logged and counted inside
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

func (w *worker) refresh(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	start := time.Now() // wall time: this measures work, not billing time
	snap, err := w.collector.Refresh(ctx, w.now())
	if ctx.Err() != nil && err != nil {
		return err // shutting down: publish nothing half-done
	}
	st := &workerState{snapshot: snap, ok: err == nil, duration: time.Since(start)}
	if prev := w.state.Load(); prev != nil {
		st.lastSuccess = prev.lastSuccess
	}
	if err == nil {
		st.lastSuccess = time.Now()
	} else {
		code := bssclient.ErrorCode(err)
		w.failures.WithLabelValues(w.account, w.name, code).Inc()
		msg := "refresh failed; serving the last good data"
		if st.lastSuccess.IsZero() {
			msg = "refresh failed; no data yet"
		}
		level.Error(w.logger).Log("msg", msg, "code", code, "err", err)
	}
	w.state.Store(st)
	return err
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
