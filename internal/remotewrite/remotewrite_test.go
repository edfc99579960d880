package remotewrite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/config"
	"github.com/prometheus/prometheus/prompb"
	"google.golang.org/protobuf/proto"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

// receiver is a remote-write receiver that records what it accepts and
// answers with the statuses queued in fail first.
type receiver struct {
	mu       sync.Mutex
	fail     []int    // statuses to answer, one per request, before accepting
	message  string   // the body of a failure
	requests int      // every request, accepted or not
	samples  []string // accepted: "labels value @ts"
	headers  http.Header
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	r.headers = req.Header.Clone()
	if len(r.fail) > 0 {
		status := r.fail[0]
		r.fail = r.fail[1:]
		if status != 0 { // 0: accept this one
			http.Error(w, r.message, status)
			return
		}
	}
	body, _ := io.ReadAll(req.Body)
	data, err := snappy.Decode(nil, body)
	if err != nil || req.Header.Get("Content-Encoding") != "snappy" || req.Header.Get("X-Prometheus-Remote-Write-Version") != "0.1.0" {
		http.Error(w, "not remote-write 1.0", http.StatusBadRequest)
		return
	}
	var wr prompb.WriteRequest
	if err := wr.Unmarshal(data); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	for _, ts := range wr.Timeseries {
		var l []string
		for _, x := range ts.Labels {
			l = append(l, x.Name+"="+x.Value)
		}
		for _, s := range ts.Samples {
			r.samples = append(r.samples, fmt.Sprintf("%s %g @%d", strings.Join(l, ","), s.Value, s.Timestamp))
		}
	}
}

func (r *receiver) got() (requests int, samples []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests, append([]string(nil), r.samples...)
}

func startReceiver(t *testing.T, r *receiver) string {
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv.URL + "/api/v1/write"
}

var (
	day1 = time.Date(2026, 11, 28, 0, 0, 0, 0, bssclient.BillingZone)
	day2 = day1.AddDate(0, 0, 1)
)

func gauge(value float64, ts *time.Time, labels ...string) *dto.Metric {
	m := &dto.Metric{Gauge: &dto.Gauge{Value: proto.Float64(value)}}
	for i := 0; i < len(labels); i += 2 {
		m.Label = append(m.Label, &dto.LabelPair{Name: proto.String(labels[i]), Value: proto.String(labels[i+1])})
	}
	if ts != nil {
		m.TimestampMs = proto.Int64(ts.UnixMilli())
	}
	return m
}

func family(name string, ms ...*dto.Metric) *dto.MetricFamily {
	return &dto.MetricFamily{Name: proto.String(name), Type: dto.MetricType_GAUGE.Enum(), Metric: ms}
}

// exposition is what the exporter shows: two days of a daily family for
// two accounts, the current cycle, and a final previous cycle for one
// account and a not yet final one for the other.
func exposition(extraDays int) []*dto.MetricFamily {
	var daily []*dto.Metric
	for i := range 2 + extraDays {
		d := day1.AddDate(0, 0, i)
		daily = append(daily, gauge(float64(10+i), &d, "account", "a", "product_code", "ecs"), gauge(float64(20+i), &d, "account", "b", "product_code", "oss"))
	}
	return []*dto.MetricFamily{
		family("aliyun_billing_account_daily_payable", daily...),
		family("aliyun_billing_account_cycle_payable",
			gauge(300, nil, "account", "a", "billing_cycle", "2026-12", "cycle", "current"),
			gauge(900.5, nil, "account", "a", "billing_cycle", "2026-11", "cycle", "previous"),
			gauge(800, nil, "account", "b", "billing_cycle", "2026-11", "cycle", "previous")),
		family("aliyun_billing_cycle_final",
			gauge(1, nil, "account", "a", "collector", "account", "billing_cycle", "2026-11", "cycle", "previous"),
			gauge(0, nil, "account", "b", "collector", "account", "billing_cycle", "2026-11", "cycle", "previous")),
		family("aliyun_billing_balance_available", gauge(5, nil, "account", "a")),
	}
}

// wantSamples is what exposition(0) pushes.
func wantSamples() []string {
	final := time.Date(2026, 12, 3, 12, 0, 0, 0, bssclient.BillingZone).UnixMilli()
	return []string{
		fmt.Sprintf("__name__=aliyun_billing_account_daily_payable,account=a,product_code=ecs 10 @%d", day1.UnixMilli()),
		fmt.Sprintf("__name__=aliyun_billing_account_daily_payable,account=b,product_code=oss 20 @%d", day1.UnixMilli()),
		fmt.Sprintf("__name__=aliyun_billing_account_daily_payable,account=a,product_code=ecs 11 @%d", day2.UnixMilli()),
		fmt.Sprintf("__name__=aliyun_billing_account_daily_payable,account=b,product_code=oss 21 @%d", day2.UnixMilli()),
		fmt.Sprintf("__name__=aliyun_billing_account_cycle_payable,account=a,billing_cycle=2026-11,cycle=previous 900.5 @%d", final),
		fmt.Sprintf("__name__=aliyun_billing_cycle_final,account=a,billing_cycle=2026-11,collector=account,cycle=previous 1 @%d", final),
	}
}

func newPusher(t *testing.T, url, dir string, m *Metrics, logger log.Logger) *Pusher {
	t.Helper()
	p, err := New(Receiver{URL: url}, dir, m, logger)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func push(t *testing.T, p *Pusher, mfs []*dto.MetricFamily) error {
	t.Helper()
	units, err := Units(mfs)
	if err != nil {
		t.Fatal(err)
	}
	return p.Push(context.Background(), units, time.Now())
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, s := range a {
		seen[s]++
	}
	for _, s := range b {
		if seen[s]--; seen[s] < 0 {
			return false
		}
	}
	return true
}

// TestPushSendsEachDayOnce: the daily samples and the final cycle's totals
// arrive exactly, once; pushing again, or after a restart on the same
// outbox, sends nothing; a new day is sent alone.
func TestPushSendsEachDayOnce(t *testing.T) {
	rcv := &receiver{}
	url := startReceiver(t, rcv)
	dir := t.TempDir()
	m := NewMetrics()
	p := newPusher(t, url, dir, m, log.NewNopLogger())
	if err := push(t, p, exposition(0)); err != nil {
		t.Fatal(err)
	}
	n, got := rcv.got()
	if !sameSet(got, wantSamples()) {
		t.Fatalf("received:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantSamples(), "\n"))
	}
	if err := push(t, p, exposition(0)); err != nil {
		t.Fatal(err)
	}
	restarted := newPusher(t, url, dir, NewMetrics(), log.NewNopLogger())
	if err := push(t, restarted, exposition(0)); err != nil {
		t.Fatal(err)
	}
	if again, _ := rcv.got(); again != n {
		t.Errorf("%d requests after pushing the same days again and after a restart, want %d", again, n)
	}
	if err := push(t, restarted, exposition(1)); err != nil {
		t.Fatal(err)
	}
	_, got = rcv.got()
	if len(got) != len(wantSamples())+2 {
		t.Errorf("after a new day, %d samples received, want %d:\n%s", len(got), len(wantSamples())+2, strings.Join(got, "\n"))
	}
	if v := testutil.ToFloat64(m.sent.WithLabelValues(p.label)); v != 5 { // 2 days × 2 accounts, 1 final cycle
		t.Errorf("days_sent_total %g, want 5", v)
	}
	if v := testutil.ToFloat64(m.pending.WithLabelValues(p.label)); v != 0 {
		t.Errorf("days_pending %g, want 0", v)
	}
}

// TestPushRetriesUntilTheReceiverRecovers: 503, 429 and a closed
// connection leave every day pending and counted; the next push after the
// receiver recovers loses nothing.
func TestPushRetriesUntilTheReceiverRecovers(t *testing.T) {
	rcv := &receiver{fail: []int{http.StatusServiceUnavailable, http.StatusTooManyRequests}, message: "busy"}
	url := startReceiver(t, rcv)
	m := NewMetrics()
	p := newPusher(t, url, t.TempDir(), m, log.NewNopLogger())
	for range 2 {
		var retry *errRetry
		if err := push(t, p, exposition(0)); !errors.As(err, &retry) {
			t.Fatalf("push to a failing receiver: %v, want a retryable error", err)
		}
		if v := testutil.ToFloat64(m.pending.WithLabelValues(p.label)); v != 5 {
			t.Errorf("days_pending %g while the receiver fails, want 5", v)
		}
	}
	// The oldest pending day's age grows between attempts: it is read at
	// the scrape, from when the day was first seen pending.
	m.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	if age := oldestAge(t, m, p.label); age < 7200 || age > 7200+600 {
		t.Errorf("oldest_pending_day_age_seconds %g two hours after the first failure, want about 7200", age)
	}
	m.now = time.Now
	if err := push(t, p, exposition(0)); err != nil {
		t.Fatal(err)
	}
	if _, got := rcv.got(); !sameSet(got, wantSamples()) {
		t.Errorf("after recovery received:\n%s", strings.Join(got, "\n"))
	}
	if v := testutil.ToFloat64(m.failed.WithLabelValues(p.label, "retryable")); v != 2 {
		t.Errorf("retryable failures %g, want 2", v)
	}

	// A receiver that is not there at all.
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	q := newPusher(t, down.URL+"/push?token=s3cret", t.TempDir(), NewMetrics(), log.NewNopLogger())
	err := push(t, q, exposition(0))
	var retry *errRetry
	if !errors.As(err, &retry) || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("push to a closed port: %v, want a retryable error without the query string", err)
	}
}

// TestRefusalIsCountedAndNamed: a 4xx is logged with the receiver's
// message and counted, an out-of-order or too-old refusal as such, and the
// days refused are not sent again until a restart.
func TestRefusalIsCountedAndNamed(t *testing.T) {
	for _, tc := range []struct {
		message, reason string
	}{
		{"out of bounds", "out_of_window"},
		{"too old sample", "out_of_window"},
		{"invalid label name", "rejected"},
	} {
		t.Run(tc.reason+" "+tc.message, func(t *testing.T) {
			rcv := &receiver{fail: []int{http.StatusBadRequest}, message: tc.message}
			url := startReceiver(t, rcv)
			m := NewMetrics()
			var logs bytes.Buffer
			dir := t.TempDir()
			p := newPusher(t, url, dir, m, log.NewLogfmtLogger(&logs))
			var refused *errRefused
			if err := push(t, p, exposition(0)); !errors.As(err, &refused) {
				t.Fatalf("push: %v, want a refusal", err)
			}
			if v := testutil.ToFloat64(m.failed.WithLabelValues(p.label, tc.reason)); v != 5 {
				t.Errorf("failures{reason=%q} %g, want 5 days", tc.reason, v)
			}
			if !strings.Contains(logs.String(), tc.message) || (tc.reason == "out_of_window") != strings.Contains(logs.String(), "out-of-order window") {
				t.Errorf("log does not name the refusal as it should:\n%s", logs.String())
			}
			if err := push(t, p, exposition(0)); err != nil {
				t.Fatal(err)
			}
			if n, _ := rcv.got(); n != 1 {
				t.Errorf("%d requests: refused days were sent again before a restart", n)
			}
			if err := push(t, newPusher(t, url, dir, NewMetrics(), log.NewNopLogger()), exposition(0)); err != nil {
				t.Fatal(err)
			}
			if _, got := rcv.got(); !sameSet(got, wantSamples()) {
				t.Errorf("after a restart received:\n%s", strings.Join(got, "\n"))
			}
		})
	}
}

// TestLargeDaysAreSplit: a day of more samples than one request carries
// goes in several requests, and is recorded as sent only once its last
// request succeeded.
func TestLargeDaysAreSplit(t *testing.T) {
	var ms []*dto.Metric
	for i := range 2*maxSamplesPerRequest + 500 {
		ms = append(ms, gauge(float64(i), &day1, "account", "a", "instance_id", fmt.Sprint("i-", i)))
	}
	mfs := []*dto.MetricFamily{family("aliyun_billing_instance_daily_payable", ms...)}
	// The third request fails: the day stays pending, and is sent whole
	// on the next push.
	rcv := &receiver{}
	url := startReceiver(t, rcv)
	p := newPusher(t, url, t.TempDir(), NewMetrics(), log.NewNopLogger())
	rcv.mu.Lock()
	rcv.fail = []int{0, 0, http.StatusBadGateway}
	rcv.mu.Unlock()
	var retry *errRetry
	if err := push(t, p, mfs); !errors.As(err, &retry) {
		t.Fatalf("push: %v, want a retryable error", err)
	}
	if err := push(t, p, mfs); err != nil {
		t.Fatal(err)
	}
	n, got := rcv.got()
	distinct := map[string]bool{}
	for _, s := range got {
		distinct[s] = true
	}
	if n != 6 || len(distinct) != len(ms) {
		t.Errorf("%d requests, %d distinct samples accepted; want 6 (3 of which the failed push's) and %d", n, len(distinct), len(ms))
	}
	if err := push(t, p, mfs); err != nil {
		t.Fatal(err)
	}
	if again, _ := rcv.got(); again != n {
		t.Errorf("the day was sent again once complete")
	}
}

// TestReceiverConfig: secrets only from files, and the error names the field.
func TestReceiverConfig(t *testing.T) {
	for _, tc := range []struct {
		r    Receiver
		want string
	}{
		{Receiver{URL: "ftp://x"}, "url"},
		{Receiver{URL: "https://user:pw@mimir/api/v1/push"}, "url: holds credentials"},
		{Receiver{URL: "https://mimir/api/v1/push", Headers: map[string]string{"Authorization": "Bearer x"}}, "headers: Authorization"},
		{Receiver{URL: "https://mimir/api/v1/push", HTTPClientConfig: config.HTTPClientConfig{BasicAuth: &config.BasicAuth{Username: "u", Password: "p"}}}, "basic_auth.password"},
		{Receiver{URL: "https://mimir/api/v1/push", HTTPClientConfig: config.HTTPClientConfig{Authorization: &config.Authorization{Credentials: "t"}}}, "authorization.credentials"},
		{Receiver{URL: "https://mimir/api/v1/push", HTTPClientConfig: config.HTTPClientConfig{BearerToken: "t"}}, "bearer_token"},
		{Receiver{URL: "https://mimir/api/v1/push", Timeout: -1}, "timeout"},
	} {
		if err := tc.r.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "pw@") {
			t.Errorf("%+v: %v, want an error naming %q", tc.r, err, tc.want)
		}
	}
	ok := Receiver{URL: "https://mimir/api/v1/push", Headers: map[string]string{"X-Scope-OrgID": "team-a"},
		HTTPClientConfig: config.HTTPClientConfig{BasicAuth: &config.BasicAuth{Username: "u", PasswordFile: "/run/secrets/pw"}}}
	if err := ok.Validate(); err != nil {
		t.Errorf("a valid receiver: %v", err)
	}
}

// TestTenantHeader: configured headers reach the receiver.
func TestTenantHeader(t *testing.T) {
	rcv := &receiver{}
	url := startReceiver(t, rcv)
	p, err := New(Receiver{URL: url, Headers: map[string]string{"X-Scope-OrgID": "team-a"}}, t.TempDir(), NewMetrics(), log.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	if err := push(t, p, exposition(0)); err != nil {
		t.Fatal(err)
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if rcv.headers.Get("X-Scope-OrgID") != "team-a" {
		t.Errorf("headers %v", rcv.headers)
	}
}

func oldestAge(t *testing.T, m *Metrics, receiver string) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(m)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "aliyun_billing_remote_write_oldest_pending_day_age_seconds" {
			continue
		}
		for _, x := range mf.GetMetric() {
			if label(x, "receiver") == receiver {
				return x.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("no oldest_pending_day_age_seconds for %s", receiver)
	return 0
}

// TestTenantsKeepTheirOwnOutbox: two tenants of one store (one URL, two
// X-Scope-OrgID headers) each get every day: their outboxes are apart.
func TestTenantsKeepTheirOwnOutbox(t *testing.T) {
	rcv := &receiver{}
	url := startReceiver(t, rcv)
	dir := t.TempDir()
	m := NewMetrics()
	for _, tenant := range []string{"finance", "platform"} {
		p, err := New(Receiver{URL: url, Name: tenant, Headers: map[string]string{"X-Scope-OrgID": tenant}}, dir, m, log.NewNopLogger())
		if err != nil {
			t.Fatal(err)
		}
		if err := push(t, p, exposition(0)); err != nil {
			t.Fatal(err)
		}
	}
	if _, got := rcv.got(); len(got) != 2*len(wantSamples()) {
		t.Errorf("%d samples for two tenants, want %d: the second tenant's days were taken for sent", len(got), 2*len(wantSamples()))
	}
}

// TestReceiversMustDiffer: a receiver listed twice would share an outbox,
// two with one label would merge their metrics.
func TestReceiversMustDiffer(t *testing.T) {
	a := Receiver{URL: "https://mimir.example/api/v1/push", Headers: map[string]string{"X-Scope-OrgID": "a"}}
	b := Receiver{URL: "https://mimir.example/api/v1/push", Headers: map[string]string{"x-scope-orgid": "b"}}
	for _, tc := range []struct {
		rs   []Receiver
		want string
	}{
		{[]Receiver{a, a}, "receiver 1 is receiver 0 again (same url and headers)"},
		{[]Receiver{a, b}, `receiver 1 has the receiver label "mimir.example/api/v1/push" of receiver 0; give one a name`},
	} {
		if err := CheckDistinct(tc.rs); err == nil || err.Error() != tc.want {
			t.Errorf("%v, want %q", err, tc.want)
		}
	}
	a.Name, b.Name = "a", "b"
	if err := CheckDistinct([]Receiver{a, b}); err != nil {
		t.Errorf("two tenants with names: %v", err)
	}
}

// TestEffectiveCostWaitsForItsOwnFinality: the amortized collector's
// previous cycle is final on the 6th, not with the account bill on the 3rd.
// Until its own aliyun_billing_cycle_final says so, its effective cost is
// not pushed (a unit is sent once, and the value may still change); then it
// is one unit of its own, stamped at 12:00 UTC+8 on the 6th.
func TestEffectiveCostWaitsForItsOwnFinality(t *testing.T) {
	mfs := func(amortizedFinal float64) []*dto.MetricFamily {
		return []*dto.MetricFamily{
			family("aliyun_billing_account_cycle_payable",
				gauge(900.5, nil, "account", "a", "billing_cycle", "2026-11", "cycle", "previous")),
			family("aliyun_billing_account_cycle_effective_cost",
				gauge(700.25, nil, "account", "a", "billing_cycle", "2026-11", "cycle", "previous"),
				gauge(20, nil, "account", "a", "billing_cycle", "2026-12", "cycle", "current")),
			family("aliyun_billing_cycle_final",
				gauge(1, nil, "account", "a", "collector", "account", "billing_cycle", "2026-11", "cycle", "previous"),
				gauge(amortizedFinal, nil, "account", "a", "collector", "amortized", "billing_cycle", "2026-11", "cycle", "previous")),
		}
	}
	names := func(units []Unit) map[string][]string {
		out := map[string][]string{}
		for _, u := range units {
			for _, s := range u.Series {
				out[u.Key] = append(out[u.Key], s.Labels[0].Value)
			}
		}
		return out
	}
	before, err := Units(mfs(0))
	if err != nil {
		t.Fatal(err)
	}
	got := names(before)
	if want := map[string][]string{`cycle{account="a"}@2026-11`: {"aliyun_billing_account_cycle_payable", "aliyun_billing_cycle_final"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("before the 6th: units %v, want %v", got, want)
	}
	after, err := Units(mfs(1))
	if err != nil {
		t.Fatal(err)
	}
	sixth := time.Date(2026, 12, 6, 12, 0, 0, 0, bssclient.BillingZone)
	found := false
	for _, u := range after {
		if u.Key != `effective_cycle{account="a"}@2026-11` {
			continue
		}
		found = true
		if !u.Time.Equal(sixth) || len(u.Series) != 2 {
			t.Errorf("effective cost unit at %s with %d series, want %s and 2", u.Time, len(u.Series), sixth)
		}
		for _, s := range u.Series {
			if s.Samples[0].Timestamp != sixth.UnixMilli() {
				t.Errorf("%v stamped %d, want the 6th", s.Labels, s.Samples[0].Timestamp)
			}
		}
	}
	if !found {
		t.Errorf("after the 6th: no effective cost unit in %v", names(after))
	}
}
