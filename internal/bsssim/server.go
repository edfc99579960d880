package bsssim

import (
	"cmp"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
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
	BillOverview(req BillOverviewRequest, at time.Time) []BillOverviewItem
}

// NewServer checks cfg and fills in its defaults.
func NewServer(cfg Config) (*Server, error) {
	if cfg.World == nil {
		return nil, errors.New("bsssim: Config.World is required")
	}
	return newServer(cfg, cfg.World)
}

func newServer(cfg Config, world billingWorld) (*Server, error) {
	creds := credentialsOrTest(cfg.Credentials)
	s := &Server{
		world:    world,
		creds:    make(map[string]Credential, len(creds)),
		latency:  min(max(cfg.Latency, 0), MaxLatency),
		faults:   cmp.Or(cfg.Faults, NewFaults()),
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
	s.clock, s.wall = clocksOrReal(cfg.Clock, cfg.WallClock)
	s.quota = newQuota(cmp.Or(cfg.QuotaPerSecond, DefaultQuotaPerSecond))
	_, _ = rand.Read(s.tokenKey) // crypto/rand.Read never fails (Go ≥ 1.24)
	s.stats.reset()
	return s, nil
}

// credentialsOrTest are creds, or the test key alone when there are none.
func credentialsOrTest(creds []Credential) []Credential {
	if len(creds) == 0 {
		return []Credential{{AccessKeyID: TestAccessKeyID, AccessKeySecret: TestAccessKeySecret}}
	}
	return creds
}

// clocksOrReal are the billing clock and the wall clock, real time for
// either left nil.
func clocksOrReal(clock Clock, wall func() time.Time) (Clock, func() time.Time) {
	if clock == nil {
		clock = systemClock{}
	}
	if wall == nil {
		wall = time.Now
	}
	return clock, wall
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

// servedActions are the BSS actions the simulator answers, in the order
// errors list them.
var servedActions = slices.Concat([]string{
	actionQueryAccountBill,
	actionDescribeInstanceBill,
	actionQueryInstanceBill,
	actionDescribeSplitItemBill,
	actionQueryBillToOSSSubscription,
	actionQueryAccountBalance,
}, AmortizedActions, CommitmentActions, []string{actionQueryBillOverview})

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

// throttled is Throttling.User, to be retried after retryAfter.
func throttled(retryAfter time.Duration) *apiError {
	return &apiError{status: throttlingHTTPStatus, code: codeThrottlingUser, message: msgThrottling, retryAfter: retryAfter}
}

// internalError is HTTP 500 InternalError; err, if any, follows the message.
func internalError(err error) *apiError {
	msg := msgInternalError
	if err != nil {
		msg += " " + err.Error()
	}
	return newAPIError(http.StatusInternalServerError, codeInternalError, msg)
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
	if apiErr := s.authenticate(c); apiErr != nil {
		s.replyError(w, r, requestID, action, apiErr)
		return
	}
	if ok, retryAfter := s.quota.admit(s.wall()); !ok {
		s.replyError(w, r, requestID, action, throttled(retryAfter))
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
		s.replyError(w, r, requestID, action, throttled(quotaWindow))
		return
	case unavailableAnswer:
		s.stats.fault(fault5xx)
		s.replyError(w, r, requestID, action, newAPIError(http.StatusServiceUnavailable, codeServiceUnavailable, msgUnavailable))
		return
	case internalErrAnswer:
		s.stats.fault(fault5xx)
		s.replyError(w, r, requestID, action, internalError(nil))
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
	case actionDescribeProductAmortizedCost, actionDescribeInstanceAmortizedCost:
		ans, apiErr = s.serveAmortized(c, at) // server_amortized.go
	case actionQueryBillOverview:
		ans, apiErr = s.queryBillOverview(c, at)
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
	if !slices.Contains(servedActions, c.action) {
		a := c.action
		c.action = ""
		return c, newAPIError(http.StatusBadRequest, "InvalidAction.NotFound",
			fmt.Sprintf("%s Action %q is not served by %s %s.", msgApiNotFound, shorten(a), productName, apiVersion))
	}
	switch c.version {
	case apiVersion:
	case "":
		if c.v3 {
			return c, incompleteSignature("The %s header is missing.", headerVersion)
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

// Running is a Server listening on a loopback port.
type Running struct {
	// URL is the endpoint, http://127.0.0.1:port.
	URL string
	// Host is 127.0.0.1:port, for clients that take an endpoint without a scheme.
	Host   string
	Server *Server
	loop   *loopback
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
	loop, err := serveLoopback(s)
	if err != nil {
		return nil, err
	}
	return &Running{URL: "http://" + loop.addr, Host: loop.addr, Server: s, loop: loop}, nil
}

// Close stops listening and ends open connections, waiting answers included.
func (r *Running) Close() error { return r.loop.close() }

// loopback is a handler served on 127.0.0.1 with a free port.
type loopback struct {
	addr string
	srv  *http.Server
	done chan struct{}
}

func serveLoopback(h http.Handler) (*loopback, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bsssim: listening on 127.0.0.1: %w", err)
	}
	l := &loopback{addr: ln.Addr().String(), srv: NewHTTPServer(h), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		_ = l.srv.Serve(ln) // returns ErrServerClosed after Close
	}()
	return l, nil
}

func (l *loopback) close() error {
	err := l.srv.Close()
	<-l.done
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
