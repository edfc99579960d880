package bssclient

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"golang.org/x/time/rate"
)

// Observer is told what each call costs, so the exporter can publish it.
// Implementations must be safe for concurrent use.
type Observer interface {
	// RequestDone is called once per HTTP attempt; outcome is "ok" or the
	// error code (ErrorCode). Credential failures and waits cut short by the
	// context send nothing, so no attempt is reported.
	RequestDone(action, outcome string, d time.Duration)
	// Retried is called when a retry is about to happen after an error with
	// that code.
	Retried(action, code string)
	// Throttled is called when BSS answered Throttling*.
	Throttled(action string)
}

// UnexpectedValueObserver is an Observer that also wants to know each value
// the tolerant reader accepted in a form the API reference does not
// declare (reader.go): field is its path in Data, rows as "[]". The Client
// checks for it with a type assertion, as for ClockObserver.
type UnexpectedValueObserver interface {
	UnexpectedValue(action, field string)
}

// ClockObserver is an Observer that also wants the host clock's skew: how far
// the clock that dates signed requests (Config.Now) runs ahead of BSS's
// (negative: behind), from the Date header of each answer that carries one.
// The Client checks for it with a type assertion, so that Observers written
// before it keep compiling.
type ClockObserver interface {
	ClockSkew(skew time.Duration)
}

// MaxClockSkew is how far the host clock may drift from BSS's before the
// Client warns. BSS refuses a request dated more than 15 minutes off
// (InvalidTimeStamp.Expired, https://help.aliyun.com/en/document_detail/434846.html),
// and a fast clock reads a day's bill before BSS has settled it. A minute is
// well above the Date header's one-second resolution plus network delay, and
// well below the 15 minutes BSS tolerates.
const MaxClockSkew = time.Minute

// Defaults for the zero values of Config.
const (
	// DefaultRateLimit is in requests per second per account
	// (https://alibabacloud.com/help/en/user-center/developer-reference/api-bssopenapi-2017-12-14-quota).
	DefaultRateLimit   = 10
	DefaultBurst       = 1
	DefaultMaxAttempts = 4
	DefaultBackoffBase = 200 * time.Millisecond
	DefaultBackoffMax  = 10 * time.Second
	DefaultTimeout     = 30 * time.Second
	DefaultUserAgent   = "aliyun-billing-exporter"
)

// MaxResponseBytes caps how much of one response body is read. A full page
// of 300 rows is a few hundred KiB; anything near this is not a BSS answer.
const MaxResponseBytes = 64 << 20

// errorBodyQuote is how many bytes of an unusable body an error quotes.
const errorBodyQuote = 100

// Headers carrying the throttling window, value
// "Limit:1,Remain:0,TimeLeft:2000,Reset:1234", as darabonba-openapi reads them
// (GetThrottlingTimeLeft in
// https://github.com/alibabacloud-go/darabonba-openapi/blob/master/utils/client.go).
const (
	headerRateLimitUserAPI = "x-ratelimit-user-api"
	headerRateLimitUser    = "x-ratelimit-user"
)

// timeLeftUnit is the unit of TimeLeft. INFERRED, not documented: darabonba
// parses it as an integer and the examples only make sense as milliseconds.
const timeLeftUnit = time.Millisecond

// Config configures a Client. Only Credentials is required.
type Config struct {
	// Endpoint is a host ("business.aliyuncs.com",
	// "business.ap-southeast-1.aliyuncs.com"), which means https, or a URL
	// with scheme http or https ("http://127.0.0.1:8417" for the simulator).
	// Empty means EndpointChina.
	Endpoint    string
	Credentials CredentialsProvider // required
	// RateLimit is requests per second for this account; default 10. Must be > 0.
	RateLimit float64
	// Burst is the limiter's burst; default 1.
	Burst int
	// Limiter, when set, is shared with other Clients of the same account and
	// RateLimit and Burst are ignored: BSS counts the quota per account.
	Limiter *Limiter
	// MaxAttempts per request, including the first; default 4.
	MaxAttempts int
	// BackoffBase is the first retry's backoff ceiling (default 200ms); it
	// doubles per attempt with full jitter, capped by BackoffMax (default
	// 10s). A throttled retry waits the TimeLeft BSS announces instead, when
	// it announces one, also capped by BackoffMax.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// Timeout bounds one attempt, body included; default 30s.
	Timeout          time.Duration
	SignatureVersion SignatureVersion
	// HTTPClient defaults to a dedicated client with transport timeouts.
	HTTPClient *http.Client
	Observer   Observer // nil: none; may also implement ClockObserver
	// Logger gets retries and page walks at debug level, and a warning when
	// the host clock drifts past MaxClockSkew; nil: none. Nothing logged
	// carries credentials or signed query strings.
	Logger log.Logger
	// Now is the wall clock for x-acs-date / Timestamp; default time.Now.
	Now       func() time.Time
	UserAgent string
}

// Limiter is a token bucket of requests per second. One Limiter per account,
// shared by every Client of that account, keeps the exporter itself from
// triggering Throttling.User. It is safe for concurrent use.
type Limiter struct {
	bucket *rate.Limiter
}

// arrivalJitterAllowance is how much network jitter the limiter absorbs.
// BSS counts "10 queries per second" per account, over a sliding second
// (INFERRED; the simulator does the same). Requests sent exactly 1/N s apart
// can arrive with N+1 inside one such second when an early one is delayed.
// Spacing them (1 s + allowance)/N apart keeps every window at N or fewer for
// up to this much jitter, at 1/(1+allowance) of the quota: 93% for 75 ms,
// chosen after a benchmark run saw one stall past 50 ms on a loaded machine.
const arrivalJitterAllowance = 75 * time.Millisecond

// NewLimiter returns a limiter that lets at most ratePerSecond requests
// arrive in any second, with the given burst. A non-positive or non-finite
// rate means DefaultRateLimit and a burst below 1 means 1: a limiter that
// never admits a request would hang every call.
func NewLimiter(ratePerSecond float64, burst int) *Limiter {
	if !(ratePerSecond > 0) || math.IsInf(ratePerSecond, 0) {
		ratePerSecond = DefaultRateLimit
	}
	burst = max(burst, 1)
	spaced := ratePerSecond / (1 + arrivalJitterAllowance.Seconds())
	return &Limiter{bucket: rate.NewLimiter(rate.Limit(spaced), burst)}
}

// Client calls the BSS OpenAPI. It is safe for concurrent use.
type Client struct {
	baseURL     *url.URL
	credentials CredentialsProvider
	limiter     *Limiter
	maxAttempts int
	backoffBase time.Duration
	backoffMax  time.Duration
	timeout     time.Duration
	signature   SignatureVersion
	httpClient  *http.Client
	observer    Observer
	logger      log.Logger
	now         func() time.Time
	userAgent   string
	clockOff    atomic.Bool // the last answer's Date was more than MaxClockSkew off
	surprises   sync.Map    // action+field already logged by unexpected
	payerMu     sync.Mutex  // one request learns the payer (payer.go)
	payer       Payer

	// Seams for tests, so that they neither sleep nor depend on chance.
	sleep     func(ctx context.Context, d time.Duration) error
	randInt64 func(n int64) int64 // uniform in [0, n)
	stopwatch func() time.Time    // monotonic clock for durations and deadlines
	newNonce  func() string
	maxBody   int64 // MaxResponseBytes
}

// New validates cfg and returns a Client. Errors name the field and quote
// the bad value.
func New(cfg Config) (*Client, error) {
	endpoint := cfg.Endpoint
	if strings.TrimSpace(endpoint) == "" {
		endpoint = EndpointChina
	}
	base, err := ParseEndpoint(endpoint)
	if err != nil {
		return nil, fmt.Errorf("bssclient: Config.Endpoint: %w", err)
	}
	if cfg.Credentials == nil {
		return nil, errors.New("bssclient: Config.Credentials is required")
	}
	limiter, err := limiterOf(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.BackoffMax == 0 && cfg.BackoffBase > DefaultBackoffMax {
		cfg.BackoffMax = cfg.BackoffBase // a long base alone asks for long backoffs
	}
	maxAttempts, errAttempts := orDefault("MaxAttempts", cfg.MaxAttempts, DefaultMaxAttempts)
	backoffBase, errBase := orDefault("BackoffBase", cfg.BackoffBase, DefaultBackoffBase)
	backoffMax, errMax := orDefault("BackoffMax", cfg.BackoffMax, DefaultBackoffMax)
	timeout, errTimeout := orDefault("Timeout", cfg.Timeout, DefaultTimeout)
	if err := cmp.Or(errAttempts, errBase, errMax, errTimeout); err != nil {
		return nil, err
	}
	if backoffMax < backoffBase {
		return nil, fmt.Errorf("bssclient: Config.BackoffMax %v is less than Config.BackoffBase %v", backoffMax, backoffBase)
	}
	if cfg.SignatureVersion != SignatureV3 && cfg.SignatureVersion != SignatureV1 {
		return nil, fmt.Errorf("bssclient: Config.SignatureVersion %v: want SignatureV3 or SignatureV1", cfg.SignatureVersion)
	}
	c := &Client{
		baseURL:     base,
		credentials: cfg.Credentials,
		limiter:     limiter,
		maxAttempts: maxAttempts,
		backoffBase: backoffBase,
		backoffMax:  backoffMax,
		timeout:     timeout,
		signature:   cfg.SignatureVersion,
		httpClient:  cfg.HTTPClient,
		observer:    cmp.Or[Observer](cfg.Observer, noObserver{}),
		logger:      cmp.Or(cfg.Logger, log.NewNopLogger()),
		now:         cfg.Now,
		userAgent:   cmp.Or(cfg.UserAgent, DefaultUserAgent),
		sleep:       sleepContext,
		randInt64:   rand.Int64N,
		stopwatch:   time.Now,
		newNonce:    newNonce,
		maxBody:     MaxResponseBytes,
	}
	if c.httpClient == nil {
		c.httpClient = defaultHTTPClient()
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// limiterOf returns cfg.Limiter, or a limiter of its own from RateLimit and
// Burst (zero meaning the defaults).
func limiterOf(cfg Config) (*Limiter, error) {
	if cfg.Limiter != nil {
		return cfg.Limiter, nil
	}
	rps := cfg.RateLimit
	switch {
	case rps == 0:
		rps = DefaultRateLimit
	case !(rps > 0) || math.IsInf(rps, 0):
		return nil, fmt.Errorf("bssclient: Config.RateLimit %v: must be a positive number of requests per second", cfg.RateLimit)
	}
	burst, err := orDefault("Burst", cfg.Burst, DefaultBurst)
	if err != nil {
		return nil, err
	}
	return NewLimiter(rps, burst), nil
}

// orDefault is the Config field name's value, or def when it is zero; a
// negative value is an error.
func orDefault[N int | time.Duration](name string, value, def N) (N, error) {
	switch {
	case value == 0:
		return def, nil
	case value < 0:
		return 0, fmt.Errorf("bssclient: Config.%s %v: must not be negative", name, value)
	}
	return value, nil
}

// Endpoint returns the base URL calls go to, e.g. "https://business.aliyuncs.com".
func (c *Client) Endpoint() string { return c.baseURL.String() }

// ParseEndpoint is the one parser of a BSS endpoint: a host name
// ("business.aliyuncs.com"), which means HTTPS
// (https://help.aliyun.com/en/user-center/developer-reference/common-parameters),
// or an http(s) URL of scheme, host and optional port only: RPC-style calls
// all go to "/", as the generated SDK sends them
// (https://github.com/alibabacloud-go/bssopenapi-20171214/blob/master/client/client.go).
// It returns scheme and host. Errors quote the endpoint through RedactURL:
// a password in it must not reach a log.
func ParseEndpoint(endpoint string) (*url.URL, error) {
	shown := Quote(RedactURL(endpoint))
	raw := strings.TrimSpace(endpoint)
	if !strings.Contains(raw, "://") {
		if raw == "" || strings.ContainsAny(raw, "/ ?#@") {
			return nil, fmt.Errorf("%s is neither a host name nor an http(s) URL", shown)
		}
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s is not a valid URL", shown)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%s: scheme must be http or https", shown)
	case u.Hostname() == "":
		return nil, fmt.Errorf("%s has no host", shown)
	case u.User != nil:
		return nil, fmt.Errorf("%s: user info is not allowed; credentials go under credentials", shown)
	case u.Path != "" && u.Path != "/":
		return nil, fmt.Errorf("%s: BSS is served at /, remove the path %s", shown, Quote(u.Path))
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fmt.Errorf("%s: remove the query or fragment; BSS is served at /", shown)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("%s: port %s is not between 1 and 65535", shown, Quote(p))
		}
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

// maxQuoted is how much of a value an error quotes.
const maxQuoted = 64

// Quote quotes a value for an error message, cut to maxQuoted bytes (on a
// rune boundary) with its length said: the one quoting of values the
// project's messages use, so that no message echoes a huge or binary value.
func Quote(s string) string { return QuoteUpTo(s, maxQuoted) }

// QuoteUpTo is Quote cut to at most n bytes.
func QuoteUpTo(s string, n int) string {
	if len(s) <= n {
		return strconv.Quote(s)
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%q… (%d bytes)", s[:cut], len(s))
}

func defaultHTTPClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy: http.ProxyFromEnvironment,
			DialContext: (&net.Dialer{
				Timeout:   10 * time.Second,
				KeepAlive: 30 * time.Second,
			}).DialContext,
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
			MaxIdleConns:          16,
			MaxIdleConnsPerHost:   16,
			IdleConnTimeout:       90 * time.Second,
		},
		// BSS never redirects an API call; following one would re-send a
		// signed request to a host we did not choose.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

type noObserver struct{}

func (noObserver) RequestDone(string, string, time.Duration) {}
func (noObserver) Retried(string, string)                    {}
func (noObserver) Throttled(string)                          {}

// call does one signed call of action with params (the API's own parameter
// names), retrying what is worth retrying, and returns the answer's Data
// decoded as T. Each attempt decodes into a fresh T, so a retry never merges
// into a half-decoded answer.
//
// Errors: *APIError for answers from BSS, *ResponseError for answers that
// cannot be trusted, *TransportError for no usable answer, *CredentialsError
// when credentials cannot be obtained, and the context's error (wrapped, with
// the action) when ctx ends first.
func call[T any](ctx context.Context, c *Client, action string, params url.Values) (*T, error) {
	var data *T
	err := c.retry(ctx, action, params, func(status int, body []byte) error {
		var err error
		data, err = decodeResponseReporting[T](action, status, body, func(field string) { c.unexpected(action, field) })
		return err
	})
	return data, err // nil after a failed attempt: decodeResponseReporting returns nil with its error
}

// Call is call for actions without a typed method of their own: it decodes
// the answer's Data into out (nil: discard) with encoding/json. A Data that
// does not fit out is a *ResponseError and is not retried: the answer was
// BSS's, the mismatch is the caller's type. params is not modified.
func (c *Client) Call(ctx context.Context, action string, params url.Values, out any) error {
	data, err := call[json.RawMessage](ctx, c, action, params)
	if err != nil || out == nil {
		return err
	}
	if err := json.Unmarshal(*data, out); err != nil {
		return &ResponseError{Action: action, Code: CodeInvalidResponse, Detail: fmt.Sprintf("decoding Data into %T: %v", out, err)}
	}
	return nil
}

// decodeFunc turns one HTTP answer into a result kept by its caller, an
// *APIError or a *ResponseError.
type decodeFunc func(status int, body []byte) error

// retry makes attempts until one succeeds, fails for good, or ctx ends.
func (c *Client) retry(ctx context.Context, action string, params url.Values, decode decodeFunc) error {
	for attempt := 1; ; attempt++ {
		res := c.attempt(ctx, action, params, decode)
		if res.err == nil {
			return nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return contextError(action, ctxErr, res.err)
		}
		if res.stop || attempt >= c.maxAttempts || !IsRetryable(res.err) {
			return res.err
		}
		wait := c.backoff(attempt, res)
		if dl, ok := ctx.Deadline(); ok && c.stopwatch().Add(wait).After(dl) {
			// Sleeping past the deadline cannot end in a successful call.
			return contextError(action, context.DeadlineExceeded, res.err)
		}
		c.observer.Retried(action, ErrorCode(res.err))
		level.Debug(c.logger).Log("msg", "retrying BSS request", "action", action, "attempt", attempt+1,
			"max_attempts", c.maxAttempts, "wait", wait, "code", ErrorCode(res.err), "err", res.err)
		if err := c.sleep(ctx, wait); err != nil {
			return contextError(action, err, res.err)
		}
	}
}

// contextError reports that ctx ended the call, keeping the last attempt's
// error as text only: errors.Is(err, context.Canceled) holds, and Classify
// does not mistake the call for the last attempt's failure.
func contextError(action string, ctxErr, last error) error {
	if last == nil || errors.Is(last, ctxErr) {
		return fmt.Errorf("BSS %s: %w", action, ctxErr)
	}
	return fmt.Errorf("BSS %s: %w (last attempt: %v)", action, ctxErr, last)
}

// backoff is how long to wait before attempt+1: the TimeLeft BSS announced
// for a throttled answer, else exponential backoff with full jitter; both
// capped by backoffMax.
func (c *Client) backoff(attempt int, res attemptResult) time.Duration {
	if res.timeLeft > 0 {
		return min(res.timeLeft, c.backoffMax)
	}
	ceiling := c.backoffMax
	if shift := attempt - 1; shift < 62 && c.backoffBase <= c.backoffMax>>shift {
		ceiling = c.backoffBase << shift
	}
	if ceiling <= 0 {
		return 0
	}
	return time.Duration(c.randInt64(int64(ceiling) + 1))
}

func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

type attemptResult struct {
	err      error
	timeLeft time.Duration // announced by a throttled answer; 0 if none
	stop     bool          // the context cannot allow another attempt
}

// attempt makes one HTTP exchange: credentials, limiter, sign, send, decode.
func (c *Client) attempt(ctx context.Context, action string, params url.Values, decode decodeFunc) attemptResult {
	cred, err := c.credentials.Credentials(ctx)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return attemptResult{err: ctxErr}
		}
		if _, ok := errors.AsType[*CredentialsError](err); !ok {
			err = &CredentialsError{Err: err}
		}
		return attemptResult{err: err}
	}
	if err := c.limiter.bucket.Wait(ctx); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return attemptResult{err: ctxErr}
		}
		// rate.Limiter refuses at once when the wait would pass the deadline.
		return attemptResult{stop: true, err: fmt.Errorf("BSS %s: waiting for the rate limiter would pass the context deadline: %w", action, context.DeadlineExceeded)}
	}

	attemptCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := c.newRequest(attemptCtx, action, params, cred)
	if err != nil {
		return attemptResult{err: &TransportError{Action: action, Err: err}}
	}

	start := c.stopwatch()
	status, header, body, err := c.exchange(req)
	switch {
	case err == nil:
		c.observeClock(header)
		err = decode(status, body)
	case errors.Is(err, errBodyTooLarge):
		err = &ResponseError{Action: action, Code: CodeInvalidResponse, Detail: fmt.Sprintf("HTTP %d: %v", status, err)}
	case ctx.Err() != nil:
		// The caller gave up; the attempt is not the server's fault.
		err = ctx.Err()
	default:
		err = &TransportError{Action: action, Err: c.redactURLError(err)}
	}
	c.observer.RequestDone(action, outcome(err), c.stopwatch().Sub(start))
	countRequest(ctx)

	res := attemptResult{err: err}
	if apiErr, ok := errors.AsType[*APIError](err); ok && apiErr.Class() == ClassThrottled {
		c.observer.Throttled(action)
		res.timeLeft = throttlingTimeLeft(header)
	}
	return res
}

func outcome(err error) string {
	if err == nil {
		return "ok"
	}
	return ErrorCode(err)
}

// newRequest builds the RPC-style request: POST "/" with the API params in
// the URL query and an empty body, as the generated SDK sends it
// (https://github.com/alibabacloud-go/bssopenapi-20171214/blob/master/client/client.go),
// signed with a fresh date and nonce.
func (c *Client) newRequest(ctx context.Context, action string, params url.Values, cred Credentials) (*http.Request, error) {
	query := make(url.Values, len(params)+12)
	for k, v := range params {
		query[k] = append([]string(nil), v...)
	}
	date := c.now()
	nonce := c.newNonce()
	if c.signature == SignatureV1 {
		signParamsV1(http.MethodPost, query, action, APIVersion, cred, date, nonce)
	}
	u := *c.baseURL
	u.Path = "/"
	u.RawQuery = encodeQuery(query)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), http.NoBody)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if c.signature == SignatureV3 {
		signRequestV3(req, action, APIVersion, cred, date, nonce)
	}
	return req, nil
}

// encodeQuery writes params as the SDKs do: sorted, RFC 3986 encoded (a
// space is %20, never +), so a token with "/+=" survives.
func encodeQuery(q url.Values) string {
	var pairs []string
	for _, k := range slices.Sorted(maps.Keys(q)) {
		for _, v := range q[k] {
			pairs = append(pairs, percentEncode(k)+"="+percentEncode(v))
		}
	}
	return strings.Join(pairs, "&")
}

// exchange sends req and reads at most maxBody bytes of the answer.
func (c *Client) exchange(req *http.Request) (status int, header http.Header, body []byte, err error) {
	resp, err := c.httpClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	limited := io.LimitReader(resp.Body, c.maxBody+1)
	if n := resp.ContentLength; n > 0 && n <= c.maxBody {
		// One allocation for a page of a few hundred KiB rather than
		// io.ReadAll's growing series; MinRead is room for the read that
		// sees EOF.
		buf := bytes.NewBuffer(make([]byte, 0, n+bytes.MinRead))
		_, err = buf.ReadFrom(limited)
		body = buf.Bytes()
	} else {
		body, err = io.ReadAll(limited)
	}
	if err != nil {
		return 0, nil, nil, fmt.Errorf("reading the response body (HTTP %d): %w", resp.StatusCode, err)
	}
	if int64(len(body)) > c.maxBody {
		return resp.StatusCode, resp.Header, nil, fmt.Errorf("%w of %d bytes", errBodyTooLarge, c.maxBody)
	}
	return resp.StatusCode, resp.Header, body, nil
}

var errBodyTooLarge = errors.New("response body exceeds the cap")

// redactURLError drops the query from a *url.Error: with V1 signing it holds
// the SecurityToken, which must never appear in an error.
func (c *Client) redactURLError(err error) error {
	if urlErr, ok := errors.AsType[*url.Error](err); ok {
		return &url.Error{Op: urlErr.Op, URL: c.baseURL.String() + "/", Err: urlErr.Err}
	}
	return err
}

// response is the JSON body of every BSS answer with its Data typed.
// Success answers carry Data; error answers (HTTP 4xx/5xx, or HTTP 200 with
// Success:false) carry Code and Message, and from the gateway HostId and
// Recommend (https://www.alibabacloud.com/help/en/bss-openapi/latest/response-structure).
type response[T any] struct {
	RequestID string       `json:"RequestId"`
	HostID    string       `json:"HostId"`
	Code      string       `json:"Code"`
	Message   string       `json:"Message"`
	Recommend string       `json:"Recommend"`
	Success   *successFlag `json:"Success"` // nil when absent or null
	Data      *T           `json:"Data"`    // nil when absent or null
}

// decodeResponseReporting reads one HTTP answer in one encoding/json pass
// and returns its Data, an *APIError or a *ResponseError. A Data that does
// not fit T strictly is read again by the tolerant reader (reader.go), which
// tells unexpected (nil: no one) each field it tolerated.
func decodeResponseReporting[T any](action string, status int, body []byte, unexpected func(field string)) (*T, error) {
	var resp response[T]
	dataErr := json.Unmarshal(body, &resp)
	if dataErr != nil {
		// encoding/json stops at the first value that does not fit T, so
		// read the envelope alone: an error answer whose Data does not fit
		// is still reported as the error BSS sent.
		var env response[json.RawMessage]
		if err := json.Unmarshal(body, &env); err != nil {
			if status >= 400 {
				// An error page from a proxy or gateway: the status is all we have.
				return nil, &APIError{Action: action, HTTPStatus: status, Message: "undecodable error body " + QuoteUpTo(string(body), errorBodyQuote)}
			}
			return nil, &ResponseError{Action: action, Code: CodeInvalidResponse, Detail: describeBadBody(status, body, err)}
		}
		resp = response[T]{RequestID: env.RequestID, HostID: env.HostID, Code: env.Code, Message: env.Message, Recommend: env.Recommend, Success: env.Success}
		if env.Data == nil {
			dataErr = nil // nothing of T was there to misread
		}
		if err := resp.failure(action, status, env.Data != nil); err != nil {
			return nil, err
		}
		if dataErr != nil {
			data, err := tolerantDecode[T](action, *env.Data, unexpected)
			if err != nil {
				if re, ok := errors.AsType[*ResponseError](err); ok && env.RequestID != "" {
					re.Detail += fmt.Sprintf(" (RequestId %s)", env.RequestID)
				}
				return nil, err
			}
			resp.Data = data
		}
	}
	if err := resp.failure(action, status, resp.Data != nil); err != nil {
		return nil, err
	}
	if resp.Data == nil {
		return nil, &ResponseError{Action: action, Code: CodeInvalidResponse, Detail: fmt.Sprintf("HTTP %d success without Data: %s", status, QuoteUpTo(string(body), errorBodyQuote))}
	}
	return resp.Data, nil
}

// failure returns the *APIError an answer reports, or nil for a success.
func (r *response[T]) failure(action string, status int, hasData bool) error {
	failed := status >= 400 ||
		(r.Success != nil && !bool(*r.Success)) ||
		// QueryAccountBalance succeeds with Code "200", the bills with "Success".
		(r.Code != "" && r.Code != "Success" && r.Code != "200" && !hasData)
	if !failed {
		return nil
	}
	return &APIError{
		Action:     action,
		HTTPStatus: status,
		Code:       r.Code,
		Message:    withoutStringToSign(r.Message),
		RequestID:  r.RequestID,
		HostID:     r.HostID,
		Recommend:  r.Recommend,
	}
}

// stringToSignQuote is how BSS quotes its own string to sign in a
// SignatureDoesNotMatch message (the SDKs compare it with theirs,
// https://github.com/aliyun/alibaba-cloud-sdk-go/blob/master/sdk/errors/signature_does_not_match_wrapper.go).
const stringToSignQuote = "string to sign is:"

// withoutStringToSign cuts the string to sign from an error message: with
// V1 signing it holds every signed parameter, the security token included,
// and the message ends up in logs.
func withoutStringToSign(message string) string {
	i := strings.Index(message, stringToSignQuote)
	if i < 0 {
		return message
	}
	return message[:i+len(stringToSignQuote)] + " [withheld: it quotes the signed parameters]"
}

func describeBadBody(status int, body []byte, err error) string {
	if len(strings.TrimSpace(string(body))) == 0 {
		return fmt.Sprintf("HTTP %d with an empty body", status)
	}
	return fmt.Sprintf("HTTP %d body is not a JSON envelope (%v): %s", status, err, QuoteUpTo(string(body), errorBodyQuote))
}

// throttlingTimeLeft returns the larger TimeLeft of the two rate-limit
// headers, as darabonba's GetThrottlingTimeLeft does, or 0.
func throttlingTimeLeft(h http.Header) time.Duration {
	var longest time.Duration
	for _, name := range []string{headerRateLimitUserAPI, headerRateLimitUser} {
		for part := range strings.SplitSeq(h.Get(name), ",") {
			key, value, ok := strings.Cut(strings.TrimSpace(part), ":")
			if !ok || !strings.EqualFold(strings.TrimSpace(key), "TimeLeft") {
				continue
			}
			n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
			if err != nil || n <= 0 || n > int64(math.MaxInt64/timeLeftUnit) {
				continue
			}
			longest = max(longest, time.Duration(n)*timeLeftUnit)
		}
	}
	return longest
}

// observeClock hands the host clock's skew against the answer's Date header
// to the Observer, and logs once when it crosses MaxClockSkew either way.
func (c *Client) observeClock(h http.Header) {
	date, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		return // no Date, or one we cannot read: nothing to compare
	}
	// Date has whole seconds; the host's time is cut to match, so that a
	// clock in step never reads as up to a second off.
	skew := c.now().Truncate(time.Second).Sub(date)
	if o, ok := c.observer.(ClockObserver); ok {
		o.ClockSkew(skew)
	}
	off := skew > MaxClockSkew || skew < -MaxClockSkew
	if c.clockOff.Swap(off) == off {
		return
	}
	if off {
		level.Warn(c.logger).Log("msg", "the host clock disagrees with BSS by more than "+MaxClockSkew.String()+
			"; BSS refuses requests dated 15 minutes off, and days are judged settled by this clock", "skew", skew, "bss_date", date.Format(time.RFC3339))
	} else {
		level.Info(c.logger).Log("msg", "the host clock agrees with BSS again", "skew", skew)
	}
}

// unexpected reports a value the tolerant reader accepted: to the observer
// each time, and to the log once per action and field, without the value.
func (c *Client) unexpected(action, field string) {
	if o, ok := c.observer.(UnexpectedValueObserver); ok {
		o.UnexpectedValue(action, field)
	}
	if _, seen := c.surprises.LoadOrStore(action+" "+field, true); !seen {
		level.Info(c.logger).Log("msg", "BSS answered a field in a form its reference does not declare; it was read, and is counted in aliyun_billing_bss_unexpected_values_total",
			"action", action, "field", field)
	}
}
