package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/go-kit/log"
)

// A client that hangs up is not an error the operator can act on: it is
// logged at debug level, whether promhttp or net/http reports it.
func TestClientHangUpIsDebug(t *testing.T) {
	hangUps := []error{
		&os.SyscallError{Syscall: "write", Err: syscall.EPIPE},
		fmt.Errorf("write tcp 127.0.0.1:9848->127.0.0.1:5555: %w", &os.SyscallError{Syscall: "write", Err: syscall.ECONNRESET}),
	}
	for _, err := range hangUps {
		var buf bytes.Buffer
		promLogger{log.NewLogfmtLogger(&buf)}.Println("error encoding and sending metric family:", err)
		if !strings.Contains(buf.String(), "level=debug") {
			t.Errorf("%v logged as %s", err, buf.String())
		}
	}
	var buf bytes.Buffer
	promLogger{log.NewLogfmtLogger(&buf)}.Println("error gathering metrics:", errors.New("duplicate metric"))
	if !strings.Contains(buf.String(), "level=error") {
		t.Errorf("a gathering error logged as %s", buf.String())
	}

	for line, want := range map[string]string{
		"http: TLS handshake error from 127.0.0.1:4242: EOF":                                  "level=debug",
		"http: TLS handshake error from 127.0.0.1:4242: read tcp: connection reset by peer":   "level=debug",
		"http: TLS handshake error from 127.0.0.1:4242: tls: first record does not look like": "level=warn",
	} {
		var buf bytes.Buffer
		_, _ = serverLogWriter{log.NewLogfmtLogger(&buf)}.Write([]byte(line + "\n"))
		if !strings.Contains(buf.String(), want) {
			t.Errorf("%q logged as %s, want %s", line, buf.String(), want)
		}
	}
}

// A request with a body is refused without reading it, and its connection
// closed.
func TestRefuseBodies(t *testing.T) {
	h := refuseBodies(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("metrics")) }))
	for _, tc := range []struct {
		body   string
		length int64
		want   int
	}{{"", 0, http.StatusOK}, {"x", 1, http.StatusBadRequest}, {"chunked", -1, http.StatusBadRequest}} {
		req := httptest.NewRequest(http.MethodPost, "/metrics", strings.NewReader(tc.body))
		req.ContentLength = tc.length
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("body %q: %d, want %d", tc.body, rec.Code, tc.want)
		}
		if tc.want != http.StatusOK && rec.Header().Get("Connection") != "close" {
			t.Errorf("body %q: the connection is kept open", tc.body)
		}
	}
}
