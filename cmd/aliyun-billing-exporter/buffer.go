package main

import (
	"bufio"
	"net/http"
	"sync"
)

// responseBufferSize is how much of an answer is written to the connection
// at once. A scrape of a big account is tens of MiB of text, which net/http
// would otherwise send in 4 KiB chunks, one write each (BENCHMARKS.md,
// figure 5).
const responseBufferSize = 64 << 10

var responseBuffers = sync.Pool{New: func() any {
	return &bufferedResponse{buf: bufio.NewWriterSize(nil, responseBufferSize)}
}}

// bufferedResponses writes next's answers through a responseBufferSize
// buffer. It implements the writer methods expfmt looks for, so the encoder
// writes into the buffer directly instead of through one of its own.
func bufferedResponses(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := responseBuffers.Get().(*bufferedResponse)
		b.ResponseWriter = w
		b.buf.Reset(w)
		defer func() {
			b.ResponseWriter = nil
			b.buf.Reset(nil)
			responseBuffers.Put(b)
		}()
		next.ServeHTTP(b, r)
		_ = b.buf.Flush() // an error means the client went away; nothing is left to tell it
	})
}

type bufferedResponse struct {
	http.ResponseWriter
	buf *bufio.Writer
}

func (b *bufferedResponse) Write(p []byte) (int, error)       { return b.buf.Write(p) }
func (b *bufferedResponse) WriteString(s string) (int, error) { return b.buf.WriteString(s) }
func (b *bufferedResponse) WriteByte(c byte) error            { return b.buf.WriteByte(c) }
func (b *bufferedResponse) WriteRune(r rune) (int, error)     { return b.buf.WriteRune(r) }

// WriteHeader sends what was written before it first, as an unbuffered
// writer would have: a status after the body has started is too late.
func (b *bufferedResponse) WriteHeader(code int) {
	if b.buf.Buffered() > 0 {
		_ = b.buf.Flush()
	}
	b.ResponseWriter.WriteHeader(code)
}

// Flush sends everything written so far.
func (b *bufferedResponse) Flush() {
	_ = b.buf.Flush()
	if f, ok := b.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (b *bufferedResponse) Unwrap() http.ResponseWriter { return b.ResponseWriter }
