package main

import (
	"fmt"
	"net/http"
	"reflect"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/remotewrite"
)

// reloader reloads --config.file the way Prometheus does, on SIGHUP and on
// POST /-/reload: it validates the new file on the path startup takes, and
// only then swaps it in. An invalid file changes nothing; the error is
// logged once and counted.
type reloader struct {
	opts     *options
	builder  *builder
	accounts *accountSet
	logger   log.Logger
	now      func() time.Time
	// remoteWrite is the receivers the pushers started with; a reload
	// does not change them.
	remoteWrite []remotewrite.Receiver

	mu          sync.Mutex // one reload at a time
	successful  prometheus.Gauge
	successTime prometheus.Gauge
}

func newReloader(opts *options, b *builder, accounts *accountSet, logger log.Logger, reg prometheus.Registerer) *reloader {
	r := &reloader{
		opts: opts, builder: b, accounts: accounts, logger: logger, now: time.Now,
		successful: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "aliyun_billing", Name: "config_last_reload_successful",
			Help: "1 if the last configuration reload (SIGHUP or POST /-/reload) succeeded, 0 if the old configuration is still in use.",
		}),
		successTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "aliyun_billing", Name: "config_last_reload_success_timestamp_seconds",
			Help: "When the configuration was last loaded successfully, at startup or by a reload.",
		}),
	}
	reg.MustRegister(r.successful, r.successTime)
	r.loaded()
	return r
}

// loaded records a successful load.
func (r *reloader) loaded() {
	r.successful.Set(1)
	r.successTime.Set(float64(r.now().UnixNano()) / 1e9)
}

// reloadTimeout bounds how long a reload may take before it is reported
// failed: reading two small files and stopping the changed accounts'
// collectors takes well under a second.
const reloadTimeout = 30 * time.Second

// reload loads the file again. Accounts whose configuration changed restart
// their collectors; the others keep running, with their data. Reloads run
// one at a time; one that has not finished within reloadTimeout is
// reported failed (if it finishes later, its configuration applies then).
func (r *reloader) reload(trigger string) error {
	done := make(chan error, 1)
	go func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		done <- r.swap()
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(reloadTimeout):
		err = fmt.Errorf("not finished after %s", reloadTimeout)
	}
	if err != nil {
		r.successful.Set(0)
		level.Error(r.logger).Log("msg", "reloading the configuration failed; the previous configuration stays in use", "trigger", trigger, "err", err)
		return err
	}
	r.loaded()
	return nil
}

// swap loads and applies. Without --config.file it finds what it runs
// (flags change only with a restart), and restarts nothing.
func (r *reloader) swap() error {
	s, err := Load(r.opts, r.logger)
	if err != nil {
		return err
	}
	runs, err := r.builder.buildAll(s)
	if err != nil {
		return err
	}
	started, stopped := r.accounts.apply(runs, s.budgets)
	if !reflect.DeepEqual(s.remoteWrite, r.remoteWrite) {
		level.Warn(r.logger).Log("msg", "remote_write changed; the receivers change at the next restart, the old ones stay in use until then")
	}
	level.Info(r.logger).Log("msg", "configuration reloaded", "accounts", len(runs), "restarted", started, "stopped", stopped, "budgets", len(s.budgets))
	return nil
}

// ServeHTTP is POST /-/reload, registered only with --web.enable-lifecycle.
func (r *reloader) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost && req.Method != http.MethodPut {
		w.Header().Set("Allow", "POST, PUT")
		http.Error(w, "Only POST or PUT requests allowed.", http.StatusMethodNotAllowed)
		return
	}
	if err := r.reload("http"); err != nil {
		http.Error(w, "failed to reload config: "+err.Error(), http.StatusInternalServerError)
		return
	}
	_, _ = w.Write([]byte("Reloaded.\n")) // the client may have gone
}
