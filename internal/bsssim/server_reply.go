package bsssim

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// errorBody is the gateway error shape (https://www.alibabacloud.com/help/en/openapi/user-guide/api-error-diagnosis).
type errorBody struct {
	RequestID          string              `json:"RequestId"`
	HostID             string              `json:"HostId"`
	Code               string              `json:"Code"`
	Message            string              `json:"Message"`
	Recommend          string              `json:"Recommend"`
	AccessDeniedDetail *accessDeniedDetail `json:"AccessDeniedDetail,omitempty"`
}

func (s *Server) replyError(w http.ResponseWriter, r *http.Request, requestID, action string, e *apiError) {
	if e.code == codeThrottlingUser {
		s.stats.throttled()
		// The gateway's rate-limit header, which darabonba reads for the
		// retry delay (utils.GetThrottlingTimeLeft). INFERRED: TimeLeft in milliseconds
		// and Reset as the Unix time in milliseconds when the window frees.
		w.Header().Set("x-ratelimit-user", fmt.Sprintf("Limit:%d,Remain:0,TimeLeft:%d,Reset:%d",
			max(s.quota.limit, 0), e.retryAfter.Milliseconds(), s.now().Add(e.retryAfter).UnixMilli()))
	}
	body := errorBody{
		RequestID:          requestID,
		HostID:             hostID,
		Code:               e.code,
		Message:            e.message,
		Recommend:          recommendURL + "?q=" + url.QueryEscape(e.code) + "&product=" + productName + "&requestId=" + requestID,
		AccessDeniedDetail: e.denied,
	}
	buf := getBuffer()
	defer putBuffer(buf)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(body) // plain strings: cannot fail
	s.stats.code(e.code)
	if !s.wait(r, action) {
		return
	}
	writeJSON(w, s.now(), requestID, e.status, buf.Bytes())
}

// successBody is the BSS success envelope
// (https://www.alibabacloud.com/help/zh/bss-openapi/latest/response-structure).
type successBody struct {
	Code      string `json:"Code"`
	Message   string `json:"Message"`
	RequestID string `json:"RequestId"`
	Success   bool   `json:"Success"`
	Data      any    `json:"Data"`
}

func (s *Server) replySuccess(w http.ResponseWriter, r *http.Request, requestID, action string, ans answer) {
	buf := getBuffer()
	defer putBuffer(buf)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	var body []byte
	err := enc.Encode(successBody{Code: ans.code, Message: ans.msg, RequestID: requestID, Success: true, Data: ans.data})
	if err == nil {
		for _, f := range ans.faults {
			s.stats.fault(f)
		}
		body, err = s.dialect.rewrite(buf.Bytes(), requestID)
	}
	if err != nil {
		// Only a World producing an unencodable value, or a dialect that
		// cannot rewrite it, gets here.
		s.replyError(w, r, requestID, action, internalError(err))
		return
	}
	switch {
	case s.faults.take(action, faultMalformed):
		s.stats.fault(faultMalformed)
		// A body no JSON decoder accepts (NaN is not JSON), with HTTP 200.
		body = fmt.Appendf(nil, `{"RequestId":%q,"Code":"Success","Success":true,"Data":{"TotalCount":NaN,"Items":[{]}}`, requestID)
	case s.faults.take(action, faultTruncate):
		s.stats.fault(faultTruncate)
		body = body[:len(body)/2]
	default:
		s.stats.success(ans.paged, ans.rows)
	}
	if !s.wait(r, action) {
		return
	}
	writeJSON(w, s.now(), requestID, http.StatusOK, body)
}

func writeJSON(w http.ResponseWriter, now time.Time, requestID string, status int, body []byte) {
	h := w.Header()
	h.Set("Date", now.UTC().Format(http.TimeFormat))
	h.Set("Content-Type", "application/json;charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("x-acs-request-id", requestID)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

var bufferPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuffer() *bytes.Buffer { return bufferPool.Get().(*bytes.Buffer) }

func putBuffer(b *bytes.Buffer) {
	if b.Cap() > 4<<20 { // let rare huge answers go rather than pin them
		return
	}
	b.Reset()
	bufferPool.Put(b)
}

// newRequestID returns an uppercase UUID v4, like BSS RequestIds.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := strings.ToUpper(hex.EncodeToString(b[:]))
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func shorten(s string) string { return shortenTo(s, 64) }

// shortenTo cuts s to its first n bytes, marking the cut.
func shortenTo(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
