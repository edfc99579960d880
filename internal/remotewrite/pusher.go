package remotewrite

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/config"
	"github.com/prometheus/prometheus/prompb"
)

// maxSamplesPerRequest bounds a request, as Prometheus's own
// max_samples_per_send does by default: receivers cap request sizes.
const maxSamplesPerRequest = 2000

// maxMessage bounds the receiver's answer kept for the log.
const maxMessage = 1024

// Pusher sends units to one receiver.
type Pusher struct {
	sender
	label  string
	outbox *outbox
	m      *Metrics
	logger log.Logger

	mu        sync.Mutex
	firstSeen map[string]time.Time // pending units, since when
	rejected  map[string]bool      // refused with a 4xx: not sent again until a restart
	warned    bool                 // an out-of-window refusal was logged
}

// sender posts requests to one receiver.
type sender struct {
	rcv    Receiver
	url    string // redacted, for logs
	client *http.Client
}

func newSender(rcv Receiver) (sender, error) {
	s := sender{rcv: rcv, url: redactURL(rcv.URL)}
	err := rcv.Validate()
	if err == nil {
		s.client, err = config.NewClientFromConfig(rcv.HTTPClientConfig, "remote_write")
	}
	if err != nil {
		return sender{}, fmt.Errorf("remote_write %s: %w", s.url, err)
	}
	s.client.Timeout = cmp.Or(time.Duration(rcv.Timeout), DefaultTimeout)
	return s, nil
}

// New returns a Pusher for rcv, whose outbox lives in storageDir.
func New(rcv Receiver, storageDir string, m *Metrics, logger log.Logger) (*Pusher, error) {
	s, err := newSender(rcv)
	if err != nil {
		return nil, err
	}
	ob, err := openOutbox(storageDir, rcv.identity(), s.url)
	if err != nil {
		return nil, err
	}
	p := &Pusher{sender: s, label: rcv.Label(), outbox: ob, m: m,
		logger: log.With(logger, "receiver", rcv.Label()), firstSeen: map[string]time.Time{}, rejected: map[string]bool{}}
	m.init(p.label)
	return p, nil
}

// ProbeSeries is the one sample Probe writes.
const ProbeSeries = "aliyun_billing_remote_write_probe"

// Probe writes one sample, ProbeSeries{account} 1, stamped at, to rcv,
// to learn before a first push whether the receiver takes samples that
// old. It returns nil on a 2xx; otherwise an error that Refusal reads.
func Probe(ctx context.Context, rcv Receiver, account string, at time.Time) error {
	s, err := newSender(rcv)
	if err != nil {
		return err
	}
	req := prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{
		Labels:  []prompb.Label{{Name: "__name__", Value: ProbeSeries}, {Name: "account", Value: account}},
		Samples: []prompb.Sample{{Value: 1, Timestamp: at.UnixMilli()}},
	}}}
	return s.send(ctx, &req)
}

// Refusal says what a Probe or push error means: "out_of_window" (the
// receiver refused the samples as too old or out of order), "rejected"
// (another 4xx), or "" for a failure worth retrying (network, 5xx, 429).
// message is the receiver's answer.
func Refusal(err error) (reason, message string) {
	var refused *errRefused
	if !errors.As(err, &refused) {
		return "", ""
	}
	// The words Prometheus, Mimir, Thanos and VictoriaMetrics refuse
	// samples too old or out of order with.
	m := strings.ToLower(refused.message)
	if slices.ContainsFunc([]string{"out of bounds", "too old", "out of order", "out-of-order", "outside of the allowed", "too far in the past"},
		func(s string) bool { return strings.Contains(m, s) }) {
		return "out_of_window", refused.message
	}
	return "rejected", refused.message
}

// errRetry is a failure worth retrying soon: a network error, a 5xx or a
// 429. retryAfter is the receiver's Retry-After, if it sent one.
type errRetry struct {
	err        error
	retryAfter time.Duration
}

func (e *errRetry) Error() string { return e.err.Error() }
func (e *errRetry) Unwrap() error { return e.err }

// Push sends every unit the receiver has not acknowledged, oldest first,
// and records each in the outbox once the request carrying its last
// sample got a 2xx. It stops at the first failure; the error is an
// *errRetry when trying again later may succeed.
func (p *Pusher) Push(ctx context.Context, units []Unit, now time.Time) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	pending := p.pending(units, now)
	defer p.gauge()
	var req prompb.WriteRequest
	var inReq []Unit // units with samples in req: refused together
	var done []Unit  // units whose last sample is in req
	samples := 0
	flush := func() error {
		if samples == 0 {
			return nil
		}
		if err := p.send(ctx, &req); err != nil {
			return err
		}
		p.m.samples.WithLabelValues(p.label).Add(float64(samples))
		if len(done) > 0 {
			if err := p.outbox.markSent(done, now); err != nil {
				return fmt.Errorf("remote-write outbox: %w", err)
			}
			p.m.sent.WithLabelValues(p.label).Add(float64(len(done)))
			for _, u := range done {
				delete(p.firstSeen, u.Key)
			}
		}
		req.Timeseries, inReq, done, samples = req.Timeseries[:0], inReq[:0], done[:0], 0
		return nil
	}
	// failed is what a flush's error makes of the push.
	failed := func(err error) error {
		if stopping(ctx, err) {
			return err
		}
		return p.fail(err, inReq...)
	}
	for _, u := range pending {
		for _, ts := range u.Series {
			if samples >= maxSamplesPerRequest {
				if err := flush(); err != nil {
					return failed(err)
				}
			}
			if len(inReq) == 0 || inReq[len(inReq)-1].Key != u.Key {
				inReq = append(inReq, u)
			}
			req.Timeseries = append(req.Timeseries, ts)
			samples += len(ts.Samples)
		}
		done = append(done, u)
	}
	if err := flush(); err != nil {
		return failed(err)
	}
	return nil
}

// stopping says whether err is the exporter shutting down, not a failure.
func stopping(ctx context.Context, err error) bool {
	return ctx.Err() != nil && errors.Is(err, ctx.Err())
}

// pending is the units not yet acknowledged nor refused, each recorded in
// firstSeen from the first time it was; a key that left (sent, refused,
// or out of the exposition) leaves firstSeen.
func (p *Pusher) pending(units []Unit, now time.Time) []Unit {
	var pending []Unit
	seen := map[string]bool{}
	for _, u := range units {
		if _, sent := p.outbox.sent[u.Key]; sent || p.rejected[u.Key] {
			continue
		}
		seen[u.Key] = true
		if _, ok := p.firstSeen[u.Key]; !ok {
			p.firstSeen[u.Key] = now
		}
		pending = append(pending, u)
	}
	maps.DeleteFunc(p.firstSeen, func(k string, _ time.Time) bool { return !seen[k] })
	return pending
}

// fail counts and logs a failed request; a refusal (a 4xx other than 429)
// marks the units in it as refused until a restart, as sending them again
// would be refused again.
func (p *Pusher) fail(err error, units ...Unit) error {
	var retry *errRetry
	var refused *errRefused
	switch {
	case errors.As(err, &retry):
		p.m.failed.WithLabelValues(p.label, "retryable").Inc()
		level.Warn(p.logger).Log("msg", "remote write failed; retrying with backoff", "url", p.url, "err", err)
	case errors.As(err, &refused):
		reason, _ := Refusal(err)
		for _, u := range units {
			p.rejected[u.Key] = true
			delete(p.firstSeen, u.Key)
		}
		p.m.failed.WithLabelValues(p.label, reason).Add(float64(len(units)))
		level.Error(p.logger).Log("msg", "the receiver refused samples; they are not sent again until a restart", "url", p.url,
			"status", refused.status, "message", refused.message, "oldest_day", units[0].Time.UTC().Format(time.DateOnly))
		if reason == "out_of_window" && !p.warned {
			p.warned = true
			level.Error(p.logger).Log("msg", "the receiver has no out-of-order window wide enough for the daily samples: enable one "+
				"(Prometheus: tsdb.out_of_order_time_window; Mimir: out_of_order_time_window) of at least --billing.exposure-days plus 3 days", "url", p.url)
		}
	default:
		p.m.failed.WithLabelValues(p.label, "error").Inc()
		level.Error(p.logger).Log("msg", "remote write failed", "url", p.url, "err", err)
	}
	return err
}

// errRefused is a 4xx other than 429.
type errRefused struct {
	status  int
	message string
}

func (e *errRefused) Error() string {
	return fmt.Sprintf("receiver refused the request: HTTP %d: %s", e.status, e.message)
}

// send posts one request, in remote-write 1.0: a snappy-compressed
// prometheus.WriteRequest.
func (p *sender) send(ctx context.Context, req *prompb.WriteRequest) error {
	data, err := req.Marshal()
	if err != nil {
		return fmt.Errorf("encoding the request: %w", err)
	}
	httpReq, err := http.NewRequestWithContext(ctx, http.MethodPost, p.rcv.URL, bytes.NewReader(snappy.Encode(nil, data)))
	if err != nil {
		return err
	}
	for k, v := range p.rcv.Headers {
		httpReq.Header.Set(k, v)
	}
	httpReq.Header.Set("Content-Encoding", "snappy")
	httpReq.Header.Set("Content-Type", "application/x-protobuf")
	httpReq.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	httpReq.Header.Set("User-Agent", "aliyun-billing-exporter")
	resp, err := p.client.Do(httpReq)
	if err != nil {
		return &errRetry{err: redactErr(err, p.rcv.URL, p.url)}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxMessage))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // let the connection be reused
	message := strings.TrimSpace(string(body))
	switch {
	case resp.StatusCode/100 == 2:
		return nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode/100 == 5:
		wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return &errRetry{err: fmt.Errorf("HTTP %d: %s", resp.StatusCode, message), retryAfter: time.Duration(wait) * time.Second}
	}
	return &errRefused{status: resp.StatusCode, message: message}
}

// redactErr keeps the receiver's query string (which may hold a token)
// out of transport errors, which quote the URL.
func redactErr(err error, full, redacted string) error {
	if full == redacted {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), full, redacted))
}

// gauge sets the pending gauges from the units waiting.
func (p *Pusher) gauge() {
	var oldest time.Time
	for _, t := range p.firstSeen {
		if oldest.IsZero() || t.Before(oldest) {
			oldest = t
		}
	}
	p.m.pending.WithLabelValues(p.label).Set(float64(len(p.firstSeen)))
	p.m.setOldest(p.label, oldest)
}

// Backoff after a retryable failure: from retryMin, doubling, to retryMax.
const (
	retryMin = 5 * time.Second
	retryMax = 5 * time.Minute
)

// Run pushes what g shows to every pusher: once ready says every
// collector has refreshed once (checked every readyPoll), then every
// interval, and sooner after a retryable failure, until ctx ends.
func Run(ctx context.Context, pushers []*Pusher, g prometheus.Gatherer, interval time.Duration, ready func() bool) {
	for !ready() {
		select {
		case <-ctx.Done():
			return
		case <-time.After(readyPoll):
		}
	}
	var wg sync.WaitGroup
	for _, p := range pushers {
		wg.Go(func() { p.run(ctx, g, interval) })
	}
	wg.Wait()
}

// readyPoll is how often Run asks whether the collectors have refreshed.
const readyPoll = 2 * time.Second

func (p *Pusher) run(ctx context.Context, g prometheus.Gatherer, interval time.Duration) {
	backoff := time.Duration(0)
	for {
		wait := interval
		err := p.pushGathered(ctx, g)
		var retry *errRetry
		if errors.As(err, &retry) {
			backoff = min(max(2*backoff, retryMin), retryMax)
			wait = max(backoff, retry.retryAfter)
		} else {
			backoff = 0
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

func (p *Pusher) pushGathered(ctx context.Context, g prometheus.Gatherer) error {
	mfs, err := g.Gather()
	if err != nil {
		level.Warn(p.logger).Log("msg", "gathering for remote write", "err", err)
	}
	units, err := Units(mfs)
	if err != nil {
		level.Error(p.logger).Log("msg", "reading what to push", "err", err)
		return err
	}
	return p.Push(ctx, units, time.Now())
}
