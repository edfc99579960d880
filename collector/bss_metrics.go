package collector

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// BSSMetrics counts what the exporter costs its user in BSS quota: every
// request by action and outcome, retries, and throttled answers; and how far
// the host clock is from BSS's. Register it once and hand Observer(account)
// to each account's client.
type BSSMetrics struct {
	requests   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	retries    *prometheus.CounterVec
	throttled  *prometheus.CounterVec
	unexpected *prometheus.CounterVec
	clockSkew  *prometheus.GaugeVec
}

// NewBSSMetrics creates the instruments; they are the only long-lived ones
// the exporter has.
func NewBSSMetrics() *BSSMetrics {
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Subsystem: "bss", Name: name, Help: help}, labels)
	}
	return &BSSMetrics{
		requests: counter("requests_total",
			"BSS OpenAPI requests sent, by action and outcome (ok, or the error code). Each counts against the account's quota.",
			"account", "action", "outcome"),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "bss", Name: "request_duration_seconds",
			Help:    "Duration of BSS OpenAPI requests, including the wait for an answer but not for the rate limiter.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"account", "action"}),
		retries: counter("retries_total",
			"BSS OpenAPI requests retried, by action and the error code that caused the retry.",
			"account", "action", "code"),
		throttled: counter("throttled_total",
			"BSS OpenAPI answers that said the account's quota was exceeded (Throttling*).",
			"account", "action"),
		unexpected: counter("unexpected_values_total",
			"Values BSS answered in a form its API reference does not declare (a number for a string, a time without a zone, null), which the client read anyway, by action and field path (rows as []). A needed value that cannot be read exactly fails its page instead.",
			"account", "action", "field"),
		clockSkew: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "bss", Name: "clock_skew_seconds",
			Help: "Host clock minus the Date header of BSS's latest answer, in seconds (whole seconds; positive: the host runs ahead). " +
				"Beyond ±60 the exporter logs a warning: BSS refuses requests dated 15 minutes off, and the host clock decides when a day is settled.",
		}, []string{"account"}),
	}
}

// metricVec is one of the instruments: a vector labelled by account.
type metricVec interface {
	prometheus.Collector
	DeletePartialMatch(prometheus.Labels) int
}

// vecs are the instruments.
func (m *BSSMetrics) vecs() []metricVec {
	return []metricVec{m.requests, m.duration, m.retries, m.throttled, m.unexpected, m.clockSkew}
}

// Describe implements prometheus.Collector.
func (m *BSSMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, v := range m.vecs() {
		v.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (m *BSSMetrics) Collect(ch chan<- prometheus.Metric) {
	for _, v := range m.vecs() {
		v.Collect(ch)
	}
}

// Observer returns the bssclient.Observer for one account.
func (m *BSSMetrics) Observer(account string) *AccountObserver {
	return &AccountObserver{m: m, account: account}
}

// AccountObserver implements bssclient.Observer, bssclient.ClockObserver
// and bssclient.UnexpectedValueObserver for one account.
type AccountObserver struct {
	m       *BSSMetrics
	account string
}

// RequestDone counts one HTTP attempt.
func (o *AccountObserver) RequestDone(action, outcome string, d time.Duration) {
	o.m.requests.WithLabelValues(o.account, action, outcome).Inc()
	o.m.duration.WithLabelValues(o.account, action).Observe(d.Seconds())
}

// Retried counts one retry.
func (o *AccountObserver) Retried(action, code string) {
	o.m.retries.WithLabelValues(o.account, action, code).Inc()
}

// Throttled counts one throttled answer.
func (o *AccountObserver) Throttled(action string) {
	o.m.throttled.WithLabelValues(o.account, action).Inc()
}

// UnexpectedValue counts one value the client's tolerant reader accepted.
func (o *AccountObserver) UnexpectedValue(action, field string) {
	o.m.unexpected.WithLabelValues(o.account, action, field).Inc()
}

// ClockSkew records the host clock's skew against BSS's latest answer.
func (o *AccountObserver) ClockSkew(skew time.Duration) {
	o.m.clockSkew.WithLabelValues(o.account).Set(skew.Seconds())
}

// Forget drops every series of account, when a reload removes the account:
// its counters would otherwise be served, frozen, until the process ends.
// Call it only once the account's client is no longer used.
func (m *BSSMetrics) Forget(account string) {
	for _, v := range m.vecs() {
		v.DeletePartialMatch(prometheus.Labels{"account": account})
	}
}
