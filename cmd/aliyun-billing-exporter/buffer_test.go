package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestBufferedResponses: the buffer changes how an answer is written, never
// what: bodies of every size, statuses, headers and flushes arrive as an
// unbuffered handler would send them.
func TestBufferedResponses(t *testing.T) {
	big := strings.Repeat("aliyun_billing_x{a=\"b\"} 1\n", 3*responseBufferSize/26+7)
	tests := []struct {
		name       string
		handler    http.HandlerFunc
		wantStatus int
		wantBody   string
	}{
		{"small", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "hello") }, 200, "hello"},
		{"larger than the buffer, in every write method", func(w http.ResponseWriter, _ *http.Request) {
			bw := w.(interface {
				io.Writer
				io.StringWriter
				io.ByteWriter
				WriteRune(rune) (int, error)
			})
			_, _ = bw.Write([]byte(big[:100]))
			_, _ = bw.WriteString(big[100 : len(big)-3])
			_ = bw.WriteByte(big[len(big)-3])
			_, _ = bw.WriteRune(rune(big[len(big)-2]))
			_, _ = bw.WriteString(big[len(big)-1:])
		}, 200, big},
		{"error status first", func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "gathering failed", http.StatusInternalServerError)
		}, 500, "gathering failed\n"},
		{"status after the body started is too late, as unbuffered", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, "partial")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, " rest")
		}, 200, "partial rest"},
		{"flush", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, "first")
			w.(http.Flusher).Flush()
			_, _ = io.WriteString(w, " second")
		}, 200, "first second"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(bufferedResponses(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Test", "kept")
				tt.handler(w, r)
			})))
			defer srv.Close()
			for range 3 { // buffers come back from the pool clean
				resp, err := http.Get(srv.URL)
				if err != nil {
					t.Fatal(err)
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					t.Fatal(err)
				}
				if resp.StatusCode != tt.wantStatus || string(body) != tt.wantBody || resp.Header.Get("X-Test") != "kept" {
					t.Fatalf("HTTP %d, %d bytes, X-Test %q; want HTTP %d, %d bytes",
						resp.StatusCode, len(body), resp.Header.Get("X-Test"), tt.wantStatus, len(tt.wantBody))
				}
				if len(tt.wantBody) < 2048 && resp.ContentLength != int64(len(tt.wantBody)) && tt.name != "flush" {
					t.Errorf("Content-Length %d for a %d-byte answer; net/http sets it for small answers",
						resp.ContentLength, len(tt.wantBody))
				}
			}
		})
	}
}
