package remotewrite

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the remote-write self-metrics, per receiver. A "day" here
// is a unit: one family's samples of one account and billing day, or one
// account's totals of one final billing cycle.
type Metrics struct {
	sent, samples, failed *prometheus.CounterVec
	pending               *prometheus.GaugeVec
	oldestAge             *prometheus.Desc

	mu     sync.Mutex
	oldest map[string]time.Time // receiver → since when its oldest pending day waits; zero: none
	now    func() time.Time
}

// NewMetrics returns the remote-write metrics, to be registered once.
func NewMetrics() *Metrics {
	const ns = "aliyun_billing_remote_write_"
	return &Metrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: ns + "days_sent_total",
			Help: "Days (one family's samples of one account and billing day, or one final billing cycle's totals) the receiver acknowledged with a 2xx."}, []string{"receiver"}),
		samples: prometheus.NewCounterVec(prometheus.CounterOpts{Name: ns + "samples_sent_total",
			Help: "Samples the receiver acknowledged with a 2xx."}, []string{"receiver"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: ns + "failures_total",
			Help: "Failed remote-write requests by reason: retryable (network, 5xx, 429: retried with backoff), rejected (another 4xx), out_of_window (a 4xx naming samples too old or out of order), error; for rejections, the days refused."},
			[]string{"receiver", "reason"}),
		pending: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: ns + "days_pending",
			Help: "Days published and not yet acknowledged by the receiver."}, []string{"receiver"}),
		// Computed at each scrape, so that it grows between attempts.
		oldestAge: prometheus.NewDesc(ns+"oldest_pending_day_age_seconds",
			"How long the oldest pending day has waited since it was published; 0 when none waits.", []string{"receiver"}, nil),
		oldest: map[string]time.Time{},
		now:    time.Now,
	}
}

// setOldest records since when the receiver's oldest pending day waits.
func (m *Metrics) setOldest(receiver string, since time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.oldest[receiver] = since
}

// init makes a receiver's series exist from the start, at 0.
func (m *Metrics) init(receiver string) {
	m.sent.WithLabelValues(receiver)
	m.samples.WithLabelValues(receiver)
	for _, r := range []string{"retryable", "rejected", "out_of_window", "error"} {
		m.failed.WithLabelValues(receiver, r)
	}
	m.pending.WithLabelValues(receiver)
	m.setOldest(receiver, time.Time{})
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.collectors() {
		c.Describe(ch)
	}
	ch <- m.oldestAge
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.collectors() {
		c.Collect(ch)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for receiver, since := range m.oldest {
		age := 0.0
		if !since.IsZero() {
			age = now.Sub(since).Seconds()
		}
		ch <- prometheus.MustNewConstMetric(m.oldestAge, prometheus.GaugeValue, age, receiver)
	}
}

func (m *Metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.sent, m.samples, m.failed, m.pending}
}
