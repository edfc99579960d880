package bssclient

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
)

// logBuffer is a go-kit logger writing logfmt lines to memory.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Split(strings.TrimSpace(b.buf.String()), "\n")
}

func (b *logBuffer) logger() log.Logger {
	return level.NewFilter(log.NewLogfmtLogger(b), level.AllowDebug())
}

// skewRecorder is an Observer that also keeps the clock skews it is told.
type skewRecorder struct {
	recorder
	mu    sync.Mutex
	skews []time.Duration
}

func (r *skewRecorder) ClockSkew(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.skews = append(r.skews, d)
}

// dated answers like okReply, with BSS's clock at fixedNow+offset.
func dated(offset time.Duration) reply {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", fixedNow.Add(offset).Format(http.TimeFormat))
		okReply(`{"Currency":"CNY"}`)(w, r)
	}
}

func TestClockSkewIsObservedAndWarnedOnce(t *testing.T) {
	// BSS's clock per answer; the host's is fixedNow throughout.
	bss := []time.Duration{0, -5 * time.Minute, -5 * time.Minute, -59 * time.Second, 2 * time.Minute, 2 * time.Minute}
	var replies []reply
	for _, d := range bss {
		replies = append(replies, dated(d))
	}
	srv := newFakeBSS(t, replies...)
	obs := &skewRecorder{}
	logs := &logBuffer{}
	c := newTestClient(t, srv, func(cfg *Config) { cfg.Observer = obs; cfg.Logger = logs.logger() })
	for range bss {
		if _, err := c.QueryAccountBalance(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// Skew is host minus BSS: a BSS clock behind means a host ahead.
	want := []time.Duration{0, 5 * time.Minute, 5 * time.Minute, 59 * time.Second, -2 * time.Minute, -2 * time.Minute}
	if !slicesEqual(obs.skews, want) {
		t.Errorf("skews %v, want %v", obs.skews, want)
	}
	var got []string
	for _, l := range logs.lines() {
		if strings.Contains(l, "clock") {
			got = append(got, l)
		}
	}
	wantLines := []string{
		`level=warn msg="the host clock disagrees with BSS by more than 1m0s; BSS refuses requests dated 15 minutes off, and days are judged settled by this clock" skew=5m0s bss_date=2024-06-01T08:25:00Z`,
		`level=info msg="the host clock agrees with BSS again" skew=59s`,
		`level=warn msg="the host clock disagrees with BSS by more than 1m0s; BSS refuses requests dated 15 minutes off, and days are judged settled by this clock" skew=-2m0s bss_date=2024-06-01T08:32:00Z`,
	}
	if strings.Join(got, "\n") != strings.Join(wantLines, "\n") {
		t.Errorf("clock log lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantLines, "\n"))
	}
}

func TestClockSkewIgnoresAMissingDate(t *testing.T) {
	srv := newFakeBSS(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Date"] = nil // the server adds none
		okReply(`{"Currency":"CNY"}`)(w, r)
	})
	obs := &skewRecorder{}
	c := newTestClient(t, srv, func(cfg *Config) { cfg.Observer = obs })
	if _, err := c.QueryAccountBalance(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(obs.skews) != 0 {
		t.Errorf("skews %v from an answer without Date", obs.skews)
	}
}

func slicesEqual(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// These tests run on the real clock, which the test server's Date header
// follows, so that no clock warning joins the lines under test.
func TestRetriesAndWalksAreLoggedAtDebugWithoutSecrets(t *testing.T) {
	const secret, token = "SECRETdbg8Jw4vV1", "TOKENdbg3Rr9Lw0a"
	t.Run("retry", func(t *testing.T) {
		srv := newFakeBSS(t, errorReply(503, CodeServiceUnavailable), okReply(`{"Currency":"CNY"}`))
		logs := &logBuffer{}
		c := newTestClient(t, srv, func(cfg *Config) {
			cfg.Logger = logs.logger()
			cfg.Now = time.Now
			cfg.SignatureVersion = SignatureV1 // secrets travel in the query
			cfg.Credentials = StaticCredentials("test-key-id", secret, token)
		})
		if _, err := c.QueryAccountBalance(context.Background()); err != nil {
			t.Fatal(err)
		}
		lines := logs.lines()
		if len(lines) != 1 || !strings.HasPrefix(lines[0], `level=debug msg="retrying BSS request" action=QueryAccountBalance attempt=2 max_attempts=4 wait=`) ||
			!strings.Contains(lines[0], "code=ServiceUnavailable") {
			t.Errorf("log lines %q, want one debug line for the retry", lines)
		}
		checkNoSecrets(t, lines, secret, token)
	})
	t.Run("walk", func(t *testing.T) {
		srv := newPagedBSS(t, 301, nil)
		logs := &logBuffer{}
		c := newTestClient(t, &fakeBSS{Server: srv.Server}, func(cfg *Config) {
			cfg.Logger = logs.logger()
			cfg.Now = time.Now
			cfg.Credentials = StaticCredentials("test-key-id", secret, token)
		})
		day := Day{2024, 5, 3}
		for _, err := range c.DescribeInstanceBill(context.Background(), InstanceBillRequest{BillingCycle: may, Granularity: Daily, BillingDate: day}) {
			if err != nil {
				t.Fatal(err)
			}
		}
		want := []string{
			`level=debug msg="read a BSS page" action=DescribeInstanceBill billing_cycle=2024-05 billing_date=2024-05-03 page=1 rows=300 rows_read=300 last=false`,
			`level=debug msg="read a BSS page" action=DescribeInstanceBill billing_cycle=2024-05 billing_date=2024-05-03 page=2 rows=1 rows_read=301 last=true`,
		}
		if got := logs.lines(); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("log lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
	t.Run("nothing above debug", func(t *testing.T) {
		srv := newFakeBSS(t, errorReply(503, CodeServiceUnavailable), okReply(`{"Currency":"CNY"}`))
		logs := &logBuffer{}
		c := newTestClient(t, srv, func(cfg *Config) {
			cfg.Logger = level.NewFilter(log.NewLogfmtLogger(logs), level.AllowInfo())
			cfg.Now = time.Now
		})
		if _, err := c.QueryAccountBalance(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := logs.lines(); len(got) != 1 || got[0] != "" {
			t.Errorf("log lines at info level: %q", got)
		}
	})
}

func checkNoSecrets(t *testing.T, lines []string, secrets ...string) {
	t.Helper()
	for _, l := range lines {
		for _, s := range secrets {
			if strings.Contains(l, s) {
				t.Errorf("log line reveals a secret: %s", l)
			}
		}
		if strings.Contains(l, "Signature=") {
			t.Errorf("log line quotes a signed query: %s", l)
		}
	}
}
