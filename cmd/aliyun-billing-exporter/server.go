package main

import (
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"net"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
)

// Server timeouts, sized for the largest scrape over a slow link: 100k
// series are about 15 MB of text, which takes 2 minutes at 1 Mbit/s.
// Nothing here is ever slow on the server's side (a scrape serves a
// snapshot), so every limit only bounds what a client can hold.
const (
	// readHeaderTimeout bounds a request's headers, and an idle new
	// connection: Prometheus sends its request at once.
	readHeaderTimeout = 10 * time.Second
	// readTimeout bounds the whole request; no endpoint reads a body.
	readTimeout = 30 * time.Second
	// writeTimeout bounds the answer: 15 MB at 1 Mbit/s.
	writeTimeout = 2 * time.Minute
	// idleTimeout bounds a kept-alive connection between scrapes; longer
	// than the usual scrape interval, so Prometheus reuses its connection.
	idleTimeout = 2 * time.Minute
)

// newServer wraps the router with the protections every endpoint needs.
func newServer(router http.Handler, logger log.Logger) *http.Server {
	return &http.Server{
		Handler:           refuseBodies(router),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          stdlog.New(serverLogWriter{logger}, "", 0),
	}
}

// refuseBodies answers a request that carries a body with 400 and closes
// the connection, without reading the body. No endpoint takes one, and
// net/http would otherwise read up to 256 KiB of it after a large answer,
// holding a --web.max-requests slot for as long as the client dawdles.
func refuseBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength != 0 { // -1: chunked, length unknown
			w.Header().Set("Connection", "close")
			http.Error(w, "This endpoint takes no request body.", http.StatusBadRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// serverLogWriter sends net/http's own error log (TLS handshake failures,
// hijack errors, panics in handlers) through the structured logger, one
// line per message, so that --log.format=json stays JSON.
type serverLogWriter struct{ logger log.Logger }

func (w serverLogWriter) Write(p []byte) (int, error) {
	msg := strings.TrimSpace(string(p))
	if slices.ContainsFunc(clientHangUpTexts, func(t string) bool { return strings.Contains(msg, t) }) {
		level.Debug(w.logger).Log("msg", "client hung up", "err", msg)
	} else {
		level.Warn(w.logger).Log("msg", "HTTP server", "err", msg)
	}
	return len(p), nil
}

// promLogger adapts go-kit/log to promhttp's error log.
type promLogger struct{ logger log.Logger }

func (l promLogger) Println(v ...any) {
	msg := fmt.Sprint(v...)
	for _, x := range v {
		if err, ok := x.(error); ok && isClientHangUpError(err) {
			level.Debug(l.logger).Log("msg", "client hung up during a scrape", "err", msg)
			return
		}
	}
	level.Error(l.logger).Log("msg", "serving metrics", "err", msg)
}

// isClientHangUpError reports an error that only means the client went
// away or was too slow: nothing the operator can act on.
func isClientHangUpError(err error) bool {
	var netErr net.Error
	return errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, http.ErrHandlerTimeout) || (errors.As(err, &netErr) && netErr.Timeout())
}

// clientHangUpTexts are how net/http's log lines (text, not errors) say
// the same.
var clientHangUpTexts = []string{"broken pipe", "connection reset by peer", "EOF", "i/o timeout", "use of closed network connection"}
