package bsssim

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config describes one simulated BSS endpoint serving one account.
type Config struct {
	// World is the account's billing data. Required; it must be safe for
	// concurrent use.
	World *World
	// Credentials are the AccessKeys accepted. Default: one key,
	// TestAccessKeyID / TestAccessKeySecret.
	Credentials []Credential
	// Clock is billing time, passed to the World. Default: real time.
	Clock Clock
	// WallClock is real time for the signature timestamp and nonce checks
	// and for the quota window. Default: time.Now.
	WallClock func() time.Time
	// QuotaPerSecond is the flow control per account, shared by all its
	// keys and actions. 0 means DefaultQuotaPerSecond; negative, unlimited.
	QuotaPerSecond int
	// Latency is added to every answer (benchmarks model BSS with 150 ms).
	Latency time.Duration
	// Faults injects failures; nil injects none (Server.Faults still
	// returns a usable Faults).
	Faults *Faults
	// Dialect is how answers write their values (dialect.go); "" is
	// DialectDocumented.
	Dialect Dialect
}

// Server is the simulated BSS OpenAPI endpoint (business.aliyuncs.com).
//
// It answers JSON only: a V1 request with Format=XML (BSS's documented
// default) is answered in JSON as well, because every client this project
// and the official SDKs use asks for JSON.
type Server struct {
	world    billingWorld
	creds    map[string]Credential
	clock    Clock
	wall     func() time.Time
	quota    *quota
	latency  time.Duration
	faults   *Faults
	nonces   *nonceStore
	tokenKey []byte
	stats    statsRecorder
	dialect  Dialect
}

// billingWorld is what the server asks the World. Tests of edge cases that
// the generated World does not reach (the 50,000-row cap) use a stand-in.
type billingWorld interface {
	AccountID() string
	AccountName() string
	SplitBillEnabled() bool
	AccountBill(req AccountBillRequest, at time.Time) []AccountBillItem
	InstanceBillCount(req InstanceBillRequest, at time.Time) int
	InstanceBillRows(req InstanceBillRequest, at time.Time, offset, limit int) []InstanceBillItem
	SplitItemBillCount(req SplitItemBillRequest, at time.Time) int
	SplitItemBillRows(req SplitItemBillRequest, at time.Time, offset, limit int) []SplitItemBillItem
	Subscriptions() []BillSubscription
	Balance(at time.Time) AccountBalance
}

// NewServer checks cfg and fills in its defaults.
func NewServer(cfg Config) (*Server, error) {
	if cfg.World == nil {
		return nil, errors.New("bsssim: Config.World is required")
	}
	return newServer(cfg, cfg.World)
}

func newServer(cfg Config, world billingWorld) (*Server, error) {
	creds := cfg.Credentials
	if len(creds) == 0 {
		creds = []Credential{{AccessKeyID: TestAccessKeyID, AccessKeySecret: TestAccessKeySecret}}
	}
	s := &Server{
		world:    world,
		creds:    make(map[string]Credential, len(creds)),
		clock:    cfg.Clock,
		wall:     cfg.WallClock,
		latency:  min(max(cfg.Latency, 0), MaxLatency),
		faults:   cfg.Faults,
		nonces:   newNonceStore(),
		tokenKey: make([]byte, 32),
	}
	var err error
	if s.dialect, err = ParseDialect(string(cfg.Dialect)); err != nil {
		return nil, fmt.Errorf("bsssim: %w", err)
	}
	for i, c := range creds {
		switch {
		case c.AccessKeyID == "":
			return nil, fmt.Errorf("bsssim: credential %d has no AccessKeyID", i)
		case c.AccessKeySecret == "":
			return nil, fmt.Errorf("bsssim: credential %s has no AccessKeySecret", c.AccessKeyID)
		}
		if _, dup := s.creds[c.AccessKeyID]; dup {
			return nil, fmt.Errorf("bsssim: credential %s is listed twice", c.AccessKeyID)
		}
		s.creds[c.AccessKeyID] = c
	}
	if s.clock == nil {
		s.clock = systemClock{}
	}
	if s.wall == nil {
		s.wall = time.Now
	}
	if s.faults == nil {
		s.faults = NewFaults()
	}
	perSecond := cfg.QuotaPerSecond
	if perSecond == 0 {
		perSecond = DefaultQuotaPerSecond
	}
	s.quota = newQuota(perSecond)
	_, _ = rand.Read(s.tokenKey) // crypto/rand.Read never fails (Go ≥ 1.24)
	s.stats.reset()
	return s, nil
}

// now is the server's wall clock: real time (Config.WallClock) moved by the
// clock-skew fault. Signature timestamps and the Date header follow it.
func (s *Server) now() time.Time { return s.wall().Add(s.faults.skew()) }

// Faults returns the server's fault switches, to change at run time.
func (s *Server) Faults() *Faults { return s.faults }

// Gateway facts (https://www.alibabacloud.com/help/en/openapi/user-guide/api-error-diagnosis).
const (
	hostID           = "business.aliyuncs.com"
	recommendURL     = "https://api.alibabacloud.com/troubleshoot"
	productName      = "BssOpenApi"
	maxRequestBody   = 1 << 20
	defaultPageSize  = 20
	msgApiNotFound   = "Specified api is not found, please check your url and method."
	msgThrottling    = "Request was denied due to user flow control."
	msgUnavailable   = "The request has failed due to a temporary failure of the server."
	msgInternalError = "The request processing has failed due to some unknown error, exception or failure."
)

// throttlingHTTPStatus is the status of Throttling.User. INFERRED: the docs
// say 400, newer gateways have been seen answering 429;
// clients must key on the Code either way.
const throttlingHTTPStatus = http.StatusBadRequest

// servedActions are the BSS actions the simulator answers.
var servedActions = []string{
	actionQueryAccountBill,
	actionDescribeInstanceBill,
	actionQueryInstanceBill,
	actionDescribeSplitItemBill,
	actionQueryBillToOSSSubscription,
	actionQueryAccountBalance,
}

// call is one request as the gateway sees it.
type call struct {
	v3          bool
	action      string
	version     string
	method      string
	path        string
	host        string
	header      http.Header
	query       url.Values // the URL query alone, as V3 signs it
	params      url.Values // query and form body together
	payloadHash string
}

// apiError is an error answer.
type apiError struct {
	status     int
	code       string
	message    string
	denied     *accessDeniedDetail
	retryAfter time.Duration
}

func newAPIError(status int, code, message string) *apiError {
	return &apiError{status: status, code: code, message: message}
}

// invalidParameter names the parameter and quotes the bad value.
func invalidParameter(name, value, why string) *apiError {
	return newAPIError(http.StatusBadRequest, codeInvalidParameter,
		fmt.Sprintf("Specified parameter %s is not valid: %q %s.", name, shorten(value), why))
}

// missingAPIParameter is BSS's answer to a required API parameter left out:
// Code "Missing<Name>". INFERRED from the gateway's convention; clients
// classify any "Missing" prefix as a bad request.
func missingAPIParameter(name string) *apiError {
	return newAPIError(http.StatusBadRequest, "Missing"+name, name+" is mandatory for this action.")
}

// answer is a success answer.
type answer struct {
	data   any
	code   string // "Success", or "200" for QueryAccountBalance
	msg    string
	paged  bool
	rows   int
	faults []string // success-corrupting faults already applied
}

// ServeHTTP answers one BSS request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := newRequestID()
	c, apiErr := s.readCall(w, r)
	action := ""
	if c != nil {
		action = c.action
	}
	s.stats.request(action)
	if apiErr != nil {
		s.replyError(w, r, requestID, action, apiErr)
		return
	}
	if _, apiErr := s.authenticate(c); apiErr != nil {
		s.replyError(w, r, requestID, action, apiErr)
		return
	}
	if ok, retryAfter := s.quota.admit(s.wall()); !ok {
		e := newAPIError(throttlingHTTPStatus, codeThrottlingUser, msgThrottling)
		e.retryAfter = retryAfter
		s.replyError(w, r, requestID, action, e)
		return
	}

	switch s.faults.takeAnswerFault(action) {
	case dropConnection:
		s.stats.fault(faultDrop)
		if s.wait(r, action) {
			dropConn(w)
		}
		return
	case throttleAnswer:
		s.stats.fault(faultThrottle)
		e := newAPIError(throttlingHTTPStatus, codeThrottlingUser, msgThrottling)
		e.retryAfter = quotaWindow
		s.replyError(w, r, requestID, action, e)
		return
	case unavailableAnswer:
		s.stats.fault(fault5xx)
		s.replyError(w, r, requestID, action, newAPIError(http.StatusServiceUnavailable, codeServiceUnavailable, msgUnavailable))
		return
	case internalErrAnswer:
		s.stats.fault(fault5xx)
		s.replyError(w, r, requestID, action, newAPIError(http.StatusInternalServerError, codeInternalError, msgInternalError))
		return
	}

	at := s.clock.Now().Add(s.faults.skew())
	var ans answer
	switch action {
	case actionQueryAccountBill:
		ans, apiErr = s.queryAccountBill(c, at)
	case actionQueryInstanceBill:
		ans, apiErr = s.queryInstanceBill(c, at)
	case actionDescribeInstanceBill:
		ans, apiErr = s.describeInstanceBill(c, at)
	case actionDescribeSplitItemBill:
		ans, apiErr = s.describeSplitItemBill(c, at)
	case actionQueryBillToOSSSubscription:
		ans = s.queryBillToOSSSubscription()
	case actionQueryAccountBalance:
		ans = s.queryAccountBalance(at)
	default:
		ans, apiErr = s.serveCommitment(c, at) // server_commitments.go
	}
	if apiErr != nil {
		s.replyError(w, r, requestID, action, apiErr)
		return
	}
	s.replySuccess(w, r, requestID, action, ans)
}

// readCall takes the action, version and parameters from a request. V3 puts
// the action in x-acs-action and signs with Authorization; V1 puts
// everything in query or form parameters.
func (s *Server) readCall(w http.ResponseWriter, r *http.Request) (*call, *apiError) {
	if r.URL.Path != "/" || (r.Method != http.MethodGet && r.Method != http.MethodPost) {
		return nil, newAPIError(http.StatusNotFound, "InvalidApi.NotFound", msgApiNotFound)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	if err != nil {
		return nil, newAPIError(http.StatusBadRequest, codeInvalidParameter,
			fmt.Sprintf("The request body could not be read: %v.", err))
	}
	sum := sha256.Sum256(body)
	c := &call{
		method:      r.Method,
		path:        r.URL.Path,
		host:        r.Host,
		header:      r.Header,
		payloadHash: hex.EncodeToString(sum[:]),
	}
	c.query, err = url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, newAPIError(http.StatusBadRequest, codeInvalidParameter,
			fmt.Sprintf("The query string is not valid: %v.", err))
	}
	c.params = maps.Clone(c.query)
	if len(body) > 0 {
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
			form, err := url.ParseQuery(string(body))
			if err != nil {
				return nil, newAPIError(http.StatusBadRequest, codeInvalidParameter,
					fmt.Sprintf("The form body is not valid: %v.", err))
			}
			for k, v := range form {
				c.params[k] = append(c.params[k], v...)
			}
		}
	}
	c.v3 = signedV3(r.Header.Get("Authorization"), c.params, r.Header.Get(headerAction))
	if c.v3 {
		c.action, c.version = r.Header.Get(headerAction), r.Header.Get(headerVersion)
	} else {
		c.action, c.version = c.params.Get("Action"), c.params.Get("Version")
	}
	if !isServed(c.action) {
		a := c.action
		c.action = ""
		return c, newAPIError(http.StatusBadRequest, "InvalidAction.NotFound",
			fmt.Sprintf("%s Action %q is not served by %s %s.", msgApiNotFound, shorten(a), productName, apiVersion))
	}
	switch c.version {
	case apiVersion:
	case "":
		if c.v3 {
			return c, newAPIError(http.StatusBadRequest, "IncompleteSignature",
				fmt.Sprintf("%s The %s header is missing.", msgIncomplete, headerVersion))
		}
		return c, missingParameter("Version")
	default:
		return c, newAPIError(http.StatusBadRequest, "InvalidVersion",
			fmt.Sprintf("Specified parameter Version is not valid: %q; %s is served at %s.", shorten(c.version), productName, apiVersion))
	}
	return c, nil
}

// signedV3 tells the two signatures apart by what the request carries: an
// ACS3-HMAC-SHA256 Authorization header is V3, a Signature parameter V1.
// Current SDKs send x-acs-action with V1 requests too, so that header alone
// decides only a request that carries neither signature (and is then told
// which part of V3 it lacks).
func signedV3(authorization string, params url.Values, actionHeader string) bool {
	switch {
	case strings.HasPrefix(authorization, algorithmV3+" "):
		return true
	case params.Has("Signature"):
		return false
	}
	return authorization != "" || actionHeader != ""
}

func isServed(action string) bool {
	for _, a := range servedActions {
		if a == action {
			return true
		}
	}
	return false
}

// wait applies the configured and injected latency; false if the client
// gave up meanwhile.
func (s *Server) wait(r *http.Request, action string) bool {
	d := s.latency + s.faults.latencyFor(action)
	if d <= 0 {
		return r.Context().Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// dropConn closes the connection without an answer.
func dropConn(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	// net/http's documented way to abort a response: the server closes the
	// connection and logs nothing.
	panic(http.ErrAbortHandler)
}

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
	err := enc.Encode(successBody{Code: ans.code, Message: ans.msg, RequestID: requestID, Success: true, Data: ans.data})
	if err != nil {
		// Only a World producing an unencodable value gets here.
		s.replyError(w, r, requestID, action, newAPIError(http.StatusInternalServerError, codeInternalError,
			msgInternalError+" "+err.Error()))
		return
	}
	for _, f := range ans.faults {
		s.stats.fault(f)
	}
	body, err := s.dialect.rewrite(buf.Bytes(), requestID)
	if err != nil {
		s.replyError(w, r, requestID, action, newAPIError(http.StatusInternalServerError, codeInternalError,
			msgInternalError+" "+err.Error()))
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

func shorten(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

// Running is a Server listening on a loopback port.
type Running struct {
	// URL is the endpoint, http://127.0.0.1:port.
	URL string
	// Host is 127.0.0.1:port, for clients that take an endpoint without a scheme.
	Host   string
	Server *Server
	srv    *http.Server
	done   chan struct{}
}

// Start serves a new Server on 127.0.0.1 with a free port.
func Start(cfg Config) (*Running, error) {
	s, err := NewServer(cfg)
	if err != nil {
		return nil, err
	}
	return serve(s)
}

func serve(s *Server) (*Running, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bsssim: listening on 127.0.0.1: %w", err)
	}
	run := &Running{
		URL:    "http://" + ln.Addr().String(),
		Host:   ln.Addr().String(),
		Server: s,
		srv:    NewHTTPServer(s),
		done:   make(chan struct{}),
	}
	go func() {
		defer close(run.done)
		_ = run.srv.Serve(ln) // returns ErrServerClosed after Close
	}()
	return run, nil
}

// Close stops listening and ends open connections, waiting answers included.
func (r *Running) Close() error {
	err := r.srv.Close()
	<-r.done
	return err
}

// The HTTP server's timeouts: a client that opens connections and sends
// nothing, sends a body byte by byte, or leaves keep-alive connections idle
// cannot hold a connection (and its goroutine and file descriptor) forever.
const (
	DefaultReadTimeout = 30 * time.Second // headers and body: a body is at most 1 MiB
	DefaultIdleTimeout = 2 * time.Minute  // keep-alive between requests
	readHeaderTimeout  = 10 * time.Second
	// writeTimeout leaves room for the longest answer delay: configured
	// latency plus a latency fault, each at most MaxLatency.
	writeTimeout = 2*MaxLatency + time.Minute
)

// MaxLatency is the longest delay Config.Latency or a latency fault may add.
const MaxLatency = 5 * time.Minute

// NewHTTPServer wraps a handler in an http.Server with the simulator's
// timeouts. Shutting it down cancels waiting answers.
func NewHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       DefaultReadTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       DefaultIdleTimeout,
	}
}

// ---------------------------------------------------------------------------
// Parameters

// billParams are the parameters the bill actions share.
type billParams struct {
	cycle            Cycle
	granularity      Granularity
	date             Day
	productCode      string
	subscriptionType string
	instanceID       string
	splitItemID      string
	ownerID          int64
	groupByProduct   bool
	billingItem      bool
	hideZeroCharge   bool
}

// readBillParams validates what BSS validates: BillingCycle is required,
// YYYY-MM, within the last 18 months (12 for split bills) and not in the
// future; BillingDate goes with Granularity=DAILY only and lies in the cycle.
func readBillParams(p url.Values, kind DataKind, at time.Time) (billParams, *apiError) {
	var bp billParams
	var e *apiError
	if bp.cycle, e = readBillingCycle(p, kind, at); e != nil {
		return bp, e
	}
	switch g := p.Get("Granularity"); {
	case g == "" || strings.EqualFold(g, string(Monthly)):
		bp.granularity = Monthly
	case strings.EqualFold(g, string(Daily)):
		bp.granularity = Daily
	default:
		return bp, invalidParameter("Granularity", g, "is not one of MONTHLY, DAILY")
	}
	if bp.date, e = readBillingDate(p, bp.granularity, bp.cycle); e != nil {
		return bp, e
	}
	if v := p.Get("BillOwnerId"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return bp, invalidParameter("BillOwnerId", v, "is not an account ID")
		}
		bp.ownerID = id
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"IsGroupByProduct", &bp.groupByProduct}, {"IsBillingItem", &bp.billingItem}, {"IsHideZeroCharge", &bp.hideZeroCharge}} {
		switch v := p.Get(b.name); {
		case v == "" || strings.EqualFold(v, "false"):
		case strings.EqualFold(v, "true"):
			*b.dst = true
		default:
			return bp, invalidParameter(b.name, v, "is not true or false")
		}
	}
	bp.productCode = p.Get("ProductCode")
	bp.subscriptionType = p.Get("SubscriptionType")
	bp.instanceID = p.Get("InstanceID")
	bp.splitItemID = p.Get("SplitItemID")
	return bp, nil
}

// readBillingCycle reads the required BillingCycle: YYYY-MM, within the
// retention of kind, and not in the future.
func readBillingCycle(p url.Values, kind DataKind, at time.Time) (Cycle, *apiError) {
	raw := p.Get("BillingCycle")
	if raw == "" {
		return Cycle{}, missingAPIParameter("BillingCycle")
	}
	cycle, err := parseCycle(raw)
	if err != nil || cycle.String() != raw {
		return Cycle{}, invalidParameter("BillingCycle", raw, "is not a billing cycle in the YYYY-MM format")
	}
	if oldest := oldestQueryable(at, kind); cycle.Before(oldest) {
		return Cycle{}, invalidParameter("BillingCycle", raw,
			fmt.Sprintf("is older than the latest %d billing cycles (the oldest queryable is %s)", delays[kind].retention, oldest))
	}
	if current := cycleOf(at); current.Before(cycle) {
		return Cycle{}, invalidParameter("BillingCycle", raw, fmt.Sprintf("is in the future (the current billing cycle is %s)", current))
	}
	return cycle, nil
}

// readBillingDate reads BillingDate, which goes with Granularity DAILY
// only, and then is required and lies in cycle. Zero for MONTHLY.
func readBillingDate(p url.Values, granularity Granularity, cycle Cycle) (Day, *apiError) {
	raw := p.Get("BillingDate")
	switch {
	case raw == "" && granularity == Daily:
		return Day{}, invalidParameter("BillingDate", raw, "is required when Granularity is DAILY")
	case raw != "" && granularity != Daily:
		return Day{}, invalidParameter("BillingDate", raw, "is accepted only with Granularity DAILY")
	case raw == "":
		return Day{}, nil
	}
	day, err := parseDay(raw)
	if err != nil || day.String() != raw {
		return Day{}, invalidParameter("BillingDate", raw, "is not a date in the YYYY-MM-DD format")
	}
	if day.Cycle() != cycle {
		return Day{}, invalidParameter("BillingDate", raw, "is outside BillingCycle "+cycle.String())
	}
	return day, nil
}

// fingerprint identifies the query a NextToken belongs to: everything but the
// position and the page size.
func (bp billParams) fingerprint(action string) string {
	return strings.Join([]string{
		action, bp.cycle.String(), string(bp.granularity), dayString(bp.date),
		bp.productCode, bp.subscriptionType, bp.instanceID, bp.splitItemID,
		strconv.FormatInt(bp.ownerID, 10),
		strconv.FormatBool(bp.groupByProduct), strconv.FormatBool(bp.billingItem), strconv.FormatBool(bp.hideZeroCharge),
	}, "\x00")
}

func dayString(d Day) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}

// pageSize reads PageSize or MaxResults: default 20, at most 300.
func pageSize(p url.Values, name string) (int, *apiError) {
	v := p.Get(name)
	if v == "" {
		return defaultPageSize, nil
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil || n < 1 || n > maxPageSize {
		return 0, invalidParameter(name, v, fmt.Sprintf("must be an integer from 1 to %d", maxPageSize))
	}
	return int(n), nil
}

// pageNum reads PageNum: default 1.
func pageNum(p url.Values) (int, *apiError) {
	v := p.Get("PageNum")
	if v == "" {
		return 1, nil
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil || n < 1 {
		return 0, invalidParameter("PageNum", v, "must be a positive integer")
	}
	return int(n), nil
}

// ---------------------------------------------------------------------------
// NextToken: stateless and bound to its query. A token is base64 (standard
// alphabet, padded) of a fixed prefix, the offset and an HMAC of the query
// fingerprint and offset under a key private to this server. The prefix is
// chosen so every token contains "+", "/" and "=": a client that does not
// percent-encode the token breaks on the first page, not in production.

var base64Std = base64.StdEncoding.Strict()

func hmacSHA256(key []byte, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

func hmacEqual(a, b []byte) bool { return hmac.Equal(a, b) }

var tokenPrefix = []byte{0x08, 0x01, 0x12, 0xfb, 0xff, 0xbf} // "CAES+/+/"

const (
	tokenMACLen = 16
	tokenLen    = 6 + 4 + tokenMACLen // 26 bytes: not a multiple of 3, so always padded
)

func (s *Server) tokenMAC(fingerprint string, offset uint32) []byte {
	var off [4]byte
	off[0], off[1], off[2], off[3] = byte(offset>>24), byte(offset>>16), byte(offset>>8), byte(offset)
	m := hmacSHA256(s.tokenKey, []byte(fingerprint), off[:])
	return m[:tokenMACLen]
}

func (s *Server) issueToken(fingerprint string, offset int) string {
	b := make([]byte, 0, tokenLen)
	b = append(b, tokenPrefix...)
	o := uint32(offset)
	b = append(b, byte(o>>24), byte(o>>16), byte(o>>8), byte(o))
	b = append(b, s.tokenMAC(fingerprint, o)...)
	return base64Std.EncodeToString(b)
}

// readToken returns the offset a NextToken stands for: 0 for none.
func (s *Server) readToken(p url.Values, fingerprint string) (int, *apiError) {
	t := p.Get("NextToken")
	if t == "" {
		return 0, nil
	}
	bad := invalidParameter("NextToken", t, "is not the NextToken returned by the previous call of this query")
	b, err := base64Std.DecodeString(t)
	if err != nil || len(b) != tokenLen || !bytes.Equal(b[:len(tokenPrefix)], tokenPrefix) {
		return 0, bad
	}
	o := uint32(b[6])<<24 | uint32(b[7])<<16 | uint32(b[8])<<8 | uint32(b[9])
	if !hmacEqual(b[10:], s.tokenMAC(fingerprint, o)) {
		return 0, bad
	}
	return int(o), nil
}

// ---------------------------------------------------------------------------
// Actions

func (s *Server) queryAccountBill(c *call, at time.Time) (answer, *apiError) {
	bp, e := readBillParams(c.params, KindAmounts, at)
	if e != nil {
		return answer{}, e
	}
	items := s.world.AccountBill(AccountBillRequest{
		BillingCycle:     bp.cycle,
		Granularity:      bp.granularity,
		BillingDate:      bp.date,
		IsGroupByProduct: bp.groupByProduct,
		ProductCode:      bp.productCode,
		BillOwnerID:      bp.ownerID,
	}, at)
	total := len(items)
	num, size, lo, hi, e := pageRange(c.params, total)
	if e != nil {
		return answer{}, e
	}

	ans := successAnswer(true)
	data := &AccountBillData{
		AccountID:    s.world.AccountID(),
		AccountName:  s.world.AccountName(),
		BillingCycle: bp.cycle.String(),
		PageNum:      num,
		PageSize:     size,
		TotalCount:   s.driftTotal(c, total, &ans),
	}
	data.Items.Item = nonNil(items[lo:hi])
	ans.data, ans.rows = data, hi-lo
	return ans, nil
}

// pageRange reads PageNum and PageSize and returns the rows [lo, hi) that
// page holds of the reachable rows.
func pageRange(p url.Values, reachable int) (num, size, lo, hi int, e *apiError) {
	if num, e = pageNum(p); e != nil {
		return 0, 0, 0, 0, e
	}
	if size, e = pageSize(p, "PageSize"); e != nil {
		return 0, 0, 0, 0, e
	}
	lo = min((num-1)*size, reachable)
	return num, size, lo, min(lo+size, reachable), nil
}

func instanceBillRequest(bp billParams) InstanceBillRequest {
	return InstanceBillRequest{
		BillingCycle:     bp.cycle,
		Granularity:      bp.granularity,
		BillingDate:      bp.date,
		IsBillingItem:    bp.billingItem,
		IsHideZeroCharge: bp.hideZeroCharge,
		ProductCode:      bp.productCode,
		SubscriptionType: bp.subscriptionType,
		InstanceID:       bp.instanceID,
		BillOwnerID:      bp.ownerID,
	}
}

// queryInstanceBill is the old PageNum API; it "no longer queries data
// beyond the 50,000th row" while TotalCount stays the true count.
func (s *Server) queryInstanceBill(c *call, at time.Time) (answer, *apiError) {
	bp, e := readBillParams(c.params, KindAmounts, at)
	if e != nil {
		return answer{}, e
	}
	req := instanceBillRequest(bp)
	total := s.world.InstanceBillCount(req, at)
	num, size, lo, hi, e := pageRange(c.params, min(total, queryInstanceBillRowCap))
	if e != nil {
		return answer{}, e
	}
	var rows []InstanceBillItem
	if hi > lo {
		rows = s.world.InstanceBillRows(req, at, lo, hi-lo)
	}

	ans := successAnswer(true)
	data := &QueryInstanceBillData{
		AccountID:    s.world.AccountID(),
		AccountName:  s.world.AccountName(),
		BillingCycle: bp.cycle.String(),
		PageNum:      num,
		PageSize:     size,
		TotalCount:   s.driftTotal(c, total, &ans),
	}
	data.Items.Item = nonNil(rows)
	ans.data, ans.rows = data, len(rows)
	return ans, nil
}

func (s *Server) describeInstanceBill(c *call, at time.Time) (answer, *apiError) {
	bp, e := readBillParams(c.params, KindAmounts, at)
	if e != nil {
		return answer{}, e
	}
	req := instanceBillRequest(bp)
	page, e := tokenPage(s, c, bp, s.world.InstanceBillCount(req, at), func(offset, limit int) []InstanceBillItem {
		return s.world.InstanceBillRows(req, at, offset, limit)
	})
	if e != nil {
		return answer{}, e
	}
	page.ans.data = &InstanceBillData{
		AccountID: s.world.AccountID(), AccountName: s.world.AccountName(), BillingCycle: bp.cycle.String(),
		MaxResults: page.size, NextToken: page.nextToken, TotalCount: page.totalCount, Items: page.rows,
	}
	return page.ans, nil
}

// tokenAnswer is one page of a NextToken/MaxResults action, with the
// faults that apply to it already applied.
type tokenAnswer[T any] struct {
	ans              answer
	rows             []T
	size, totalCount int
	nextToken        string
}

// tokenPage reads MaxResults and NextToken and returns the page of a
// NextToken-paged walk over total rows, read with rows(offset, limit).
func tokenPage[T any](s *Server, c *call, bp billParams, total int, rows func(offset, limit int) []T) (tokenAnswer[T], *apiError) {
	size, e := pageSize(c.params, "MaxResults")
	if e != nil {
		return tokenAnswer[T]{}, e
	}
	fingerprint := bp.fingerprint(c.action)
	offset, e := s.readToken(c.params, fingerprint)
	if e != nil {
		return tokenAnswer[T]{}, e
	}
	var page []T
	if offset < total {
		page = rows(offset, min(size, total-offset))
	}
	t := tokenAnswer[T]{ans: successAnswer(true), rows: nonNil(page), size: size}
	t.nextToken = s.nextToken(c, fingerprint, offset+len(page), total, &t.ans)
	t.totalCount = s.driftTotal(c, total, &t.ans)
	t.ans.rows = len(page)
	return t, nil
}

func (s *Server) describeSplitItemBill(c *call, at time.Time) (answer, *apiError) {
	if !s.world.SplitBillEnabled() {
		return answer{}, newAPIError(http.StatusBadRequest, codeSplitBillNotEnabled,
			"Split Bill is not enabled for this account. Enable Split Bill in the User Center console "+
				"(Cost Allocation > Split Bill) before calling DescribeSplitItemBill; data appears 24 hours after enabling.")
	}
	bp, e := readBillParams(c.params, KindSplitItems, at)
	if e != nil {
		return answer{}, e
	}
	req := SplitItemBillRequest{
		BillingCycle:     bp.cycle,
		Granularity:      bp.granularity,
		BillingDate:      bp.date,
		IsHideZeroCharge: bp.hideZeroCharge,
		ProductCode:      bp.productCode,
		SubscriptionType: bp.subscriptionType,
		InstanceID:       bp.instanceID,
		SplitItemID:      bp.splitItemID,
		BillOwnerID:      bp.ownerID,
	}
	page, e := tokenPage(s, c, bp, s.world.SplitItemBillCount(req, at), func(offset, limit int) []SplitItemBillItem {
		return s.world.SplitItemBillRows(req, at, offset, limit)
	})
	if e != nil {
		return answer{}, e
	}
	page.ans.data = &SplitItemBillData{
		AccountID: s.world.AccountID(), AccountName: s.world.AccountName(), BillingCycle: bp.cycle.String(),
		MaxResults: page.size, NextToken: page.nextToken, TotalCount: page.totalCount, Items: page.rows,
	}
	return page.ans, nil
}

func (s *Server) queryBillToOSSSubscription() answer {
	data := &BillSubscriptionData{AccountID: s.world.AccountID(), AccountName: s.world.AccountName()}
	data.Items.Item = nonNil(s.world.Subscriptions())
	ans := successAnswer(false)
	ans.data = data
	return ans
}

// queryAccountBalance answers with Code "200" and Message "success", as the
// API page's example does, not the bills' "Success".
func (s *Server) queryAccountBalance(at time.Time) answer {
	b := s.world.Balance(at)
	return answer{
		code: "200",
		msg:  "success",
		data: &balanceData{
			AvailableAmount:     b.AvailableAmount.String(),
			AvailableCashAmount: b.AvailableCashAmount.String(),
			CreditAmount:        b.CreditAmount.String(),
			MybankCreditAmount:  b.MybankCreditAmount.String(),
			Currency:            b.Currency,
			QuotaLimit:          b.QuotaLimit.String(),
		},
	}
}

func successAnswer(paged bool) answer {
	return answer{code: "Success", msg: "Successful!", paged: paged}
}

// driftTotal applies the drift-total fault to a page's TotalCount. Only
// pages after a walk's first drift: the fault models a bill that changes
// while it is being walked, which a walk can see only against its first page.
func (s *Server) driftTotal(c *call, total int, ans *answer) int {
	continuation := c.params.Get("NextToken") != "" || (c.params.Get("PageNum") != "" && c.params.Get("PageNum") != "1")
	if continuation && s.faults.take(c.action, faultDriftTotal) {
		ans.faults = append(ans.faults, faultDriftTotal)
		return total + 1
	}
	return total
}

// nextToken is "" on the last page, else the token for the next offset. The
// repeat-token fault answers the request's own token instead.
func (s *Server) nextToken(c *call, fingerprint string, next, total int, ans *answer) string {
	if sent := c.params.Get("NextToken"); sent != "" && s.faults.take(c.action, faultRepeatToken) {
		ans.faults = append(ans.faults, faultRepeatToken)
		return sent
	}
	if next >= total {
		return ""
	}
	return s.issueToken(fingerprint, next)
}

// nonNil makes an empty page encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// ---------------------------------------------------------------------------
// Stats

// Stats counts what the server answered since it started or was last reset.
type Stats struct {
	// Requests per action asked for; unknown actions count under "(unknown)".
	Requests map[string]int64
	// Codes per answered Code. Every success counts as "Success",
	// QueryAccountBalance's "200" included. Dropped, malformed and
	// truncated answers count only in Faults.
	Codes map[string]int64
	// Throttled counts Throttling.User answers, from the quota or a fault.
	Throttled int64
	// Pages counts successful answers of the four paged bill actions, and
	// Rows the bill rows in them.
	Pages, Rows int64
	// Faults counts injected faults by their ParseFaults name.
	Faults map[string]int64
}

// TotalRequests is the sum of Requests.
func (st Stats) TotalRequests() int64 {
	var n int64
	for _, v := range st.Requests {
		n += v
	}
	return n
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats { return s.stats.snapshot() }

// ResetStats zeroes the counters.
func (s *Server) ResetStats() { s.stats.reset() }

type statsRecorder struct {
	mu sync.Mutex
	st Stats
}

const unknownAction = "(unknown)"

func (r *statsRecorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.st = Stats{Requests: map[string]int64{}, Codes: map[string]int64{}, Faults: map[string]int64{}}
}

func (r *statsRecorder) snapshot() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.st
	st.Requests, st.Codes, st.Faults = maps.Clone(st.Requests), maps.Clone(st.Codes), maps.Clone(st.Faults)
	return st
}

func (r *statsRecorder) request(action string) {
	if action == "" {
		action = unknownAction
	}
	r.mu.Lock()
	r.st.Requests[action]++
	r.mu.Unlock()
}

func (r *statsRecorder) code(code string) {
	r.mu.Lock()
	r.st.Codes[code]++
	r.mu.Unlock()
}

func (r *statsRecorder) throttled() {
	r.mu.Lock()
	r.st.Throttled++
	r.mu.Unlock()
}

func (r *statsRecorder) fault(name string) {
	r.mu.Lock()
	r.st.Faults[name]++
	r.mu.Unlock()
}

func (r *statsRecorder) success(paged bool, rows int) {
	r.mu.Lock()
	r.st.Codes["Success"]++
	if paged {
		r.st.Pages++
		r.st.Rows += int64(rows)
	}
	r.mu.Unlock()
}
