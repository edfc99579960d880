package bsssim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The moments every test stands at: billing time mid-June 2024 (UTC+8), and
// a wall clock of its own so signature timestamps, nonces and the quota
// window are deterministic.
var (
	testBillingNow = time.Date(2024, 6, 15, 12, 0, 0, 0, billingZone)
	testWallNow    = time.Date(2024, 6, 15, 4, 0, 0, 0, time.UTC)
	testCred       = signingKey{AccessKeyID: TestAccessKeyID, AccessKeySecret: TestAccessKeySecret}
)

// testEnv is a running simulator with manual clocks.
type testEnv struct {
	t       *testing.T
	run     *Running
	server  *Server
	world   billingWorld
	wall    *ManualClock
	billing *ManualClock
	faults  *Faults
	client  *http.Client
}

type envOption func(*Config)

func withQuota(n int) envOption { return func(c *Config) { c.QuotaPerSecond = n } }

func withCredentials(creds ...Credential) envOption {
	return func(c *Config) { c.Credentials = creds }
}

// newEnv starts a simulator over world (the fake by default) with an
// unlimited quota unless an option says otherwise.
func newEnv(t *testing.T, world billingWorld, opts ...envOption) *testEnv {
	t.Helper()
	if world == nil {
		world = newFakeWorld(45, 37, true)
	}
	e := &testEnv{
		t:       t,
		world:   world,
		wall:    NewManualClock(testWallNow),
		billing: NewManualClock(testBillingNow),
		faults:  NewFaults(),
		client:  &http.Client{Timeout: 10 * time.Second},
	}
	cfg := Config{Clock: e.billing, WallClock: e.wall.Now, QuotaPerSecond: -1, Faults: e.faults}
	for _, o := range opts {
		o(&cfg)
	}
	s, err := newServer(cfg, world)
	if err != nil {
		t.Fatalf("newServer: %v", err)
	}
	run, err := serve(s)
	if err != nil {
		t.Fatalf("serve: %v", err)
	}
	t.Cleanup(func() {
		if err := run.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		e.client.CloseIdleConnections()
	})
	e.run, e.server = run, s
	return e
}

// v3Request builds a V3-signed POST with the params in the URL query, as the
// generated SDK sends it.
func (e *testEnv) v3Request(action string, params url.Values, cred signingKey, date time.Time, nonce string) *http.Request {
	e.t.Helper()
	u := e.run.URL + "/"
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	req, err := http.NewRequest(http.MethodPost, u, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	signRequestV3(req, action, apiVersion, cred, date, nonce)
	return req
}

// v1Request builds a V1-signed request: GET with the params in the query,
// POST with them in a form body.
func (e *testEnv) v1Request(method, action string, params url.Values, cred signingKey, date time.Time, nonce string) *http.Request {
	e.t.Helper()
	p := url.Values{}
	for k, v := range params {
		p[k] = slices.Clone(v)
	}
	signParamsV1(method, p, action, apiVersion, cred, date, nonce)
	var req *http.Request
	var err error
	if method == http.MethodGet {
		req, err = http.NewRequest(method, e.run.URL+"/?"+p.Encode(), nil)
	} else {
		req, err = http.NewRequest(method, e.run.URL+"/", strings.NewReader(p.Encode()))
		if req != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return req
}

// response is an answer read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (e *testEnv) do(req *http.Request) response {
	e.t.Helper()
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s: %v", req.Header.Get("x-acs-action"), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("reading body: %v", err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: body}
}

// callV3 signs with the test key at the wall clock's time and a fresh nonce.
func (e *testEnv) callV3(action string, params url.Values) response {
	e.t.Helper()
	return e.do(e.v3Request(action, params, testCred, e.wall.Now(), newNonce()))
}

var requestIDPattern = regexp.MustCompile(`^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$`)

// successEnvelope checks the success envelope and returns Data.
func (r response) successEnvelope(t *testing.T, wantCode, wantMessage string) json.RawMessage {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("HTTP %d, want 200; body %s", r.status, r.body)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &fields); err != nil {
		t.Fatalf("body is not JSON: %v; %s", err, r.body)
	}
	if got, want := sortedKeys(fields), []string{"Code", "Data", "Message", "RequestId", "Success"}; !slices.Equal(got, want) {
		t.Errorf("success keys %v, want %v", got, want)
	}
	var env struct {
		Code, Message, RequestID string
		Success                  bool
	}
	env.RequestID = unquote(t, fields["RequestId"])
	env.Code = unquote(t, fields["Code"])
	env.Message = unquote(t, fields["Message"])
	if err := json.Unmarshal(fields["Success"], &env.Success); err != nil || !env.Success {
		t.Errorf("Success = %s, want true", fields["Success"])
	}
	if env.Code != wantCode || env.Message != wantMessage {
		t.Errorf("Code/Message = %q/%q, want %q/%q", env.Code, env.Message, wantCode, wantMessage)
	}
	if !requestIDPattern.MatchString(env.RequestID) {
		t.Errorf("RequestId %q is not an uppercase UUID", env.RequestID)
	}
	if got := r.header.Get("x-acs-request-id"); got != env.RequestID {
		t.Errorf("x-acs-request-id header %q, body RequestId %q", got, env.RequestID)
	}
	return fields["Data"]
}

// gatewayError is the error body, read field by field.
type gatewayError struct {
	RequestID, HostID, Code, Message, Recommend string
	AccessDeniedDetail                          map[string]any
	keys                                        []string
}

// errorEnvelope checks the status and the error body's shape.
func (r response) errorEnvelope(t *testing.T, wantStatus int, wantCode string) gatewayError {
	t.Helper()
	if r.status != wantStatus {
		t.Errorf("HTTP %d, want %d; body %s", r.status, wantStatus, r.body)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &fields); err != nil {
		t.Fatalf("error body is not JSON: %v; %s", err, r.body)
	}
	g := gatewayError{keys: sortedKeys(fields)}
	g.RequestID = unquote(t, fields["RequestId"])
	g.HostID = unquote(t, fields["HostId"])
	g.Code = unquote(t, fields["Code"])
	g.Message = unquote(t, fields["Message"])
	g.Recommend = unquote(t, fields["Recommend"])
	if raw, ok := fields["AccessDeniedDetail"]; ok {
		if err := json.Unmarshal(raw, &g.AccessDeniedDetail); err != nil {
			t.Errorf("AccessDeniedDetail: %v", err)
		}
	}
	want := []string{"Code", "HostId", "Message", "Recommend", "RequestId"}
	if wantCode == codeNoPermission {
		want = []string{"AccessDeniedDetail", "Code", "HostId", "Message", "Recommend", "RequestId"}
	}
	if !slices.Equal(g.keys, want) {
		t.Errorf("error keys %v, want %v", g.keys, want)
	}
	if g.Code != wantCode {
		t.Errorf("Code %q, want %q (Message %q)", g.Code, wantCode, g.Message)
	}
	if g.HostID != "business.aliyuncs.com" {
		t.Errorf("HostId %q", g.HostID)
	}
	if !requestIDPattern.MatchString(g.RequestID) {
		t.Errorf("RequestId %q is not an uppercase UUID", g.RequestID)
	}
	wantRecommend := "https://api.alibabacloud.com/troubleshoot?q=" + url.QueryEscape(wantCode) +
		"&product=BssOpenApi&requestId=" + g.RequestID
	if g.Recommend != wantRecommend {
		t.Errorf("Recommend %q, want %q", g.Recommend, wantRecommend)
	}
	return g
}

func unquote(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	if raw == nil {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Errorf("%s is not a JSON string", raw)
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func decodeStrict(t *testing.T, raw []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decoding %T: %v; %.300s", v, err, raw)
	}
}

func vals(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// fakeWorld is a small deterministic stand-in for World: row i of every bill
// is identified by its index, so walks can be checked row by row and the
// 50,000-row cap reached without generating a real bill that large.
type fakeWorld struct {
	instanceRows, splitRows int
	split                   bool

	mu              sync.Mutex
	lastAccountReq  AccountBillRequest
	lastInstanceReq InstanceBillRequest
	lastSplitReq    SplitItemBillRequest
	lastAt          time.Time
}

func newFakeWorld(instanceRows, splitRows int, split bool) *fakeWorld {
	return &fakeWorld{instanceRows: instanceRows, splitRows: splitRows, split: split}
}

func (w *fakeWorld) AccountID() string      { return "1857000000000489" }
func (w *fakeWorld) AccountName() string    { return "test@test.aliyunid.com" }
func (w *fakeWorld) SplitBillEnabled() bool { return w.split }

func (w *fakeWorld) AccountBill(req AccountBillRequest, at time.Time) []AccountBillItem {
	w.mu.Lock()
	w.lastAccountReq, w.lastAt = req, at
	w.mu.Unlock()
	items := make([]AccountBillItem, 25)
	for i := range items {
		items[i] = AccountBillItem{
			BillingDate: dayString(req.BillingDate), BillAccountID: w.AccountID(), OwnerID: fmt.Sprintf("owner-%02d", i),
			Currency: "CNY", Amounts: Amounts{PretaxAmount: Money(int64(i) * 1_234_567)},
		}
	}
	return items
}

func (w *fakeWorld) InstanceBillCount(req InstanceBillRequest, at time.Time) int {
	w.mu.Lock()
	w.lastInstanceReq, w.lastAt = req, at
	w.mu.Unlock()
	return w.instanceRows
}

func (w *fakeWorld) InstanceBillRows(req InstanceBillRequest, at time.Time, offset, limit int) []InstanceBillItem {
	var rows []InstanceBillItem
	for i := offset; i < min(offset+limit, w.instanceRows); i++ {
		rows = append(rows, InstanceBillItem{
			InstanceID: fmt.Sprintf("i-%06d", i), Currency: "CNY", DeductedByResourcePackage: "0.1",
			Amounts: Amounts{PretaxAmount: Money(int64(i))},
		})
	}
	return rows
}

func (w *fakeWorld) SplitItemBillCount(req SplitItemBillRequest, at time.Time) int {
	w.mu.Lock()
	w.lastSplitReq, w.lastAt = req, at
	w.mu.Unlock()
	return w.splitRows
}

func (w *fakeWorld) SplitItemBillRows(req SplitItemBillRequest, at time.Time, offset, limit int) []SplitItemBillItem {
	var rows []SplitItemBillItem
	for i := offset; i < min(offset+limit, w.splitRows); i++ {
		rows = append(rows, SplitItemBillItem{SplitItemID: fmt.Sprintf("bucket-%06d", i), Currency: "CNY"})
	}
	return rows
}

func (w *fakeWorld) Subscriptions() []BillSubscription {
	return []BillSubscription{{SubscribeBucket: "billingtestbucket", BucketOwnerID: 1369168081849304,
		SubscribeType: "BillingItemDetailForBillingPeriod", SubscribeTime: "2019-10-30 15:40:11", RowLimitPerFile: 300000}}
}

func (w *fakeWorld) BillOverview(req BillOverviewRequest, at time.Time) []BillOverviewItem {
	return []BillOverviewItem{{OwnerID: "1857000000000489", ProductCode: "ecs", SubscriptionType: "PayAsYouGo",
		Item: "PayAsYouGoBill", Currency: "CNY", Amounts: Amounts{PretaxAmount: mustParseMoney("106.5")},
		Tax: mustParseMoney("6.39"), AfterTaxAmount: mustParseMoney("100.11")}}
}

func (w *fakeWorld) Balance(at time.Time) AccountBalance {
	return AccountBalance{AvailableAmount: mustParseMoney("10000"), AvailableCashAmount: mustParseMoney("9000.5"), Currency: "CNY"}
}

// successCases are one request per action; check decodes Data into the
// contract type, so a misspelt JSON name fails.
var successCases = []struct {
	action string
	params url.Values
	check  func(t *testing.T, e *testEnv, data json.RawMessage)
}{
	{actionQueryAccountBill, vals("BillingCycle", "2024-05", "IsGroupByProduct", "true", "PageSize", "300"),
		func(t *testing.T, e *testEnv, data json.RawMessage) {
			var d AccountBillData
			decodeStrict(t, data, &d)
			if d.AccountID != e.world.AccountID() || d.BillingCycle != "2024-05" || d.PageNum != 1 || d.PageSize != 300 {
				t.Errorf("header %+v", d)
			}
			if d.TotalCount == 0 || len(d.Items.Item) != min(d.TotalCount, 300) {
				t.Errorf("TotalCount %d with %d items", d.TotalCount, len(d.Items.Item))
			}
		}},
	{actionQueryAccountBill, vals("BillingCycle", "2024-06", "Granularity", "DAILY", "BillingDate", "2024-06-10"),
		func(t *testing.T, e *testEnv, data json.RawMessage) {
			var d AccountBillData
			decodeStrict(t, data, &d)
			if d.PageSize != 20 || d.PageNum != 1 {
				t.Errorf("default paging %d/%d, want 1/20", d.PageNum, d.PageSize)
			}
			for _, it := range d.Items.Item {
				if it.BillingDate != "2024-06-10" {
					t.Errorf("BillingDate %q", it.BillingDate)
				}
			}
		}},
	{actionDescribeInstanceBill, vals("BillingCycle", "2024-05", "MaxResults", "300"),
		func(t *testing.T, e *testEnv, data json.RawMessage) {
			var d InstanceBillData
			decodeStrict(t, data, &d)
			if d.AccountID != e.world.AccountID() || d.MaxResults != 300 || d.TotalCount == 0 || len(d.Items) == 0 {
				t.Errorf("page %+v", d)
			}
			if (d.NextToken == "") != (len(d.Items) == d.TotalCount) {
				t.Errorf("NextToken %q with %d of %d rows", d.NextToken, len(d.Items), d.TotalCount)
			}
		}},
	{actionQueryInstanceBill, vals("BillingCycle", "2024-05", "PageSize", "300", "IsBillingItem", "true"),
		func(t *testing.T, e *testEnv, data json.RawMessage) {
			var d QueryInstanceBillData
			decodeStrict(t, data, &d)
			if d.TotalCount == 0 || len(d.Items.Item) != min(d.TotalCount, 300) {
				t.Errorf("TotalCount %d with %d items", d.TotalCount, len(d.Items.Item))
			}
		}},
	{actionDescribeSplitItemBill, vals("BillingCycle", "2024-05", "MaxResults", "300"),
		func(t *testing.T, e *testEnv, data json.RawMessage) {
			var d SplitItemBillData
			decodeStrict(t, data, &d)
			if d.AccountID != e.world.AccountID() || d.TotalCount == 0 || len(d.Items) == 0 {
				t.Errorf("page %+v", d)
			}
		}},
	{actionQueryBillToOSSSubscription, nil,
		func(t *testing.T, e *testEnv, data json.RawMessage) {
			var d BillSubscriptionData
			decodeStrict(t, data, &d)
			if d.AccountID != e.world.AccountID() || len(d.Items.Item) != len(e.world.Subscriptions()) {
				t.Errorf("data %+v", d)
			}
		}},
	{actionQueryBillOverview, vals("BillingCycle", "2024-05"),
		func(t *testing.T, e *testEnv, data json.RawMessage) {
			var d BillOverviewData
			decodeStrict(t, data, &d)
			want := e.world.BillOverview(BillOverviewRequest{BillingCycle: Cycle{Year: 2024, Month: 5}}, e.billing.Now())
			if d.BillingCycle != "2024-05" || len(want) == 0 || !reflect.DeepEqual(d.Items.Item, want) {
				t.Errorf("data %+v, want the items %+v", d, want)
			}
			// Overview amounts are JSON numbers, as bills' are.
			if !regexp.MustCompile(`"Tax":-?[0-9]`).Match(data) || !regexp.MustCompile(`"AfterTaxAmount":-?[0-9]`).Match(data) {
				t.Errorf("amounts are not numbers: %.300s", data)
			}
		}},
	{actionQueryAccountBalance, nil,
		func(t *testing.T, e *testEnv, data json.RawMessage) {
			var fields map[string]any
			decodeStrict(t, data, &fields)
			want := e.world.Balance(e.billing.Now())
			for name, m := range map[string]Money{
				"AvailableAmount": want.AvailableAmount, "AvailableCashAmount": want.AvailableCashAmount,
				"CreditAmount": want.CreditAmount, "MybankCreditAmount": want.MybankCreditAmount, "QuotaLimit": want.QuotaLimit,
			} {
				// Balance amounts are JSON strings, unlike bills.
				if s, ok := fields[name].(string); !ok || s != m.String() {
					t.Errorf("%s = %#v, want the string %q", name, fields[name], m.String())
				}
			}
			if fields["Currency"] != want.Currency {
				t.Errorf("Currency %v, want %q", fields["Currency"], want.Currency)
			}
			var b AccountBalance
			decodeStrict(t, data, &b)
			if b != want {
				t.Errorf("decoded %+v, want %+v", b, want)
			}
		}},
}

func TestEveryActionSucceedsWithV3AndV1(t *testing.T) {
	for _, world := range testWorlds(t) {
		e := newEnv(t, world.w)
		for _, tc := range successCases {
			for _, signing := range []string{"v3", "v1-get", "v1-post"} {
				t.Run(world.name+"/"+tc.action+"/"+signing, func(t *testing.T) {
					var req *http.Request
					switch signing {
					case "v3":
						req = e.v3Request(tc.action, tc.params, testCred, e.wall.Now(), newNonce())
					case "v1-get":
						req = e.v1Request(http.MethodGet, tc.action, tc.params, testCred, e.wall.Now(), newNonce())
					case "v1-post":
						req = e.v1Request(http.MethodPost, tc.action, tc.params, testCred, e.wall.Now(), newNonce())
					}
					r := e.do(req)
					code, msg := "Success", "Successful!"
					if tc.action == actionQueryAccountBalance {
						code, msg = "200", "success" // as the API page's example
					}
					data := r.successEnvelope(t, code, msg)
					tc.check(t, e, data)
				})
			}
		}
	}
}

func TestBillMoneyIsWrittenExactly(t *testing.T) {
	e := newEnv(t, nil)
	r := e.callV3(actionQueryAccountBill, vals("BillingCycle", "2024-05", "PageSize", "300"))
	data := r.successEnvelope(t, "Success", "Successful!")
	// Row 3 of the fake has PretaxAmount 3 × 1,234,567 units = 0.03703701.
	if !bytes.Contains(data, []byte(`"PretaxAmount":0.03703701`)) {
		t.Errorf("PretaxAmount not written as an exact JSON number: %.400s", data)
	}
	r = e.callV3(actionDescribeInstanceBill, vals("BillingCycle", "2024-05"))
	if data := r.successEnvelope(t, "Success", "Successful!"); !bytes.Contains(data, []byte(`"DeductedByResourcePackage":"0.1"`)) {
		t.Errorf("DeductedByResourcePackage not written as a string: %.400s", data)
	}
}

func TestRequestParametersReachTheWorld(t *testing.T) {
	w := newFakeWorld(5, 5, true)
	e := newEnv(t, w)
	r := e.callV3(actionDescribeInstanceBill, vals("BillingCycle", "2024-05", "Granularity", "daily",
		"BillingDate", "2024-05-31", "IsBillingItem", "true", "IsHideZeroCharge", "TRUE", "ProductCode", "ecs",
		"SubscriptionType", "PayAsYouGo", "InstanceID", "i-abc", "BillOwnerId", "1234567890"))
	r.successEnvelope(t, "Success", "Successful!")
	want := InstanceBillRequest{
		BillingCycle: Cycle{Year: 2024, Month: 5}, Granularity: Daily,
		BillingDate: Day{Year: 2024, Month: 5, Day: 31}, IsBillingItem: true, IsHideZeroCharge: true,
		ProductCode: "ecs", SubscriptionType: "PayAsYouGo", InstanceID: "i-abc", BillOwnerID: 1234567890,
	}
	w.mu.Lock()
	got, at := w.lastInstanceReq, w.lastAt
	w.mu.Unlock()
	if got != want {
		t.Errorf("world asked %+v, want %+v", got, want)
	}
	if !at.Equal(testBillingNow) {
		t.Errorf("world asked at %v, want the billing clock %v", at, testBillingNow)
	}

	r = e.callV3(actionDescribeSplitItemBill, vals("BillingCycle", "2024-05", "Granularity", "Monthly",
		"SplitItemID", "bucket-1", "BillOwnerId", "42"))
	r.successEnvelope(t, "Success", "Successful!")
	w.mu.Lock()
	split := w.lastSplitReq
	w.mu.Unlock()
	if split.SplitItemID != "bucket-1" || split.BillOwnerID != 42 || split.Granularity != Monthly {
		t.Errorf("split request %+v", split)
	}

	e.billing.Advance(24 * time.Hour)
	r = e.callV3(actionQueryAccountBill, vals("BillingCycle", "2024-06", "IsGroupByProduct", "true", "ProductCode", "oss", "BillOwnerId", "7"))
	r.successEnvelope(t, "Success", "Successful!")
	w.mu.Lock()
	acct, at := w.lastAccountReq, w.lastAt
	w.mu.Unlock()
	if !acct.IsGroupByProduct || acct.ProductCode != "oss" || acct.BillOwnerID != 7 || acct.Granularity != Monthly {
		t.Errorf("account request %+v", acct)
	}
	if !at.Equal(testBillingNow.Add(24 * time.Hour)) {
		t.Errorf("billing clock not followed: asked at %v", at)
	}
}

func TestParameterErrors(t *testing.T) {
	e := newEnv(t, nil)
	other := newEnv(t, nil) // for a token issued by another server
	foreignToken := firstToken(t, other, vals("BillingCycle", "2024-05", "MaxResults", "5"))
	otherQueryToken := firstToken(t, e, vals("BillingCycle", "2024-04", "MaxResults", "5"))
	goodToken := firstToken(t, e, vals("BillingCycle", "2024-05", "MaxResults", "5"))
	forged := []byte(goodToken)
	forged[len(forged)-4] ^= 1 // flip a bit of the MAC

	tests := []struct {
		name    string
		action  string
		params  url.Values
		code    string
		mention string // the message must name this
	}{
		{"PageSize too big", actionQueryAccountBill, vals("BillingCycle", "2024-05", "PageSize", "301"), "InvalidParameter", "PageSize"},
		{"PageSize zero", actionQueryInstanceBill, vals("BillingCycle", "2024-05", "PageSize", "0"), "InvalidParameter", "PageSize"},
		{"PageSize not a number", actionQueryAccountBill, vals("BillingCycle", "2024-05", "PageSize", "ten"), "InvalidParameter", "PageSize"},
		{"MaxResults too big", actionDescribeInstanceBill, vals("BillingCycle", "2024-05", "MaxResults", "500"), "InvalidParameter", "MaxResults"},
		{"MaxResults zero", actionDescribeSplitItemBill, vals("BillingCycle", "2024-05", "MaxResults", "0"), "InvalidParameter", "MaxResults"},
		{"PageNum zero", actionQueryAccountBill, vals("BillingCycle", "2024-05", "PageNum", "0"), "InvalidParameter", "PageNum"},
		{"BillingCycle missing", actionDescribeInstanceBill, vals("MaxResults", "5"), "MissingBillingCycle", "BillingCycle"},
		{"BillingCycle malformed", actionQueryAccountBill, vals("BillingCycle", "2024-5"), "InvalidParameter", "BillingCycle"},
		{"BillingCycle not a month", actionQueryAccountBill, vals("BillingCycle", "2024-13"), "InvalidParameter", "BillingCycle"},
		{"BillingCycle 18 months back", actionDescribeInstanceBill, vals("BillingCycle", "2022-12"), "InvalidParameter", "BillingCycle"},
		{"BillingCycle in the future", actionQueryAccountBill, vals("BillingCycle", "2024-07"), "InvalidParameter", "BillingCycle"},
		{"split cycle 12 months back", actionDescribeSplitItemBill, vals("BillingCycle", "2023-06"), "InvalidParameter", "BillingCycle"},
		{"BillingDate without DAILY", actionQueryAccountBill, vals("BillingCycle", "2024-05", "BillingDate", "2024-05-02"), "InvalidParameter", "BillingDate"},
		{"DAILY without BillingDate", actionDescribeInstanceBill, vals("BillingCycle", "2024-05", "Granularity", "DAILY"), "InvalidParameter", "BillingDate"},
		{"BillingDate outside cycle", actionDescribeSplitItemBill, vals("BillingCycle", "2024-05", "Granularity", "DAILY", "BillingDate", "2024-06-01"), "InvalidParameter", "BillingDate"},
		{"BillingDate malformed", actionQueryInstanceBill, vals("BillingCycle", "2024-05", "Granularity", "DAILY", "BillingDate", "2024/05/02"), "InvalidParameter", "BillingDate"},
		{"Granularity unknown", actionQueryAccountBill, vals("BillingCycle", "2024-05", "Granularity", "HOURLY"), "InvalidParameter", "Granularity"},
		{"boolean malformed", actionQueryAccountBill, vals("BillingCycle", "2024-05", "IsGroupByProduct", "yes"), "InvalidParameter", "IsGroupByProduct"},
		{"BillOwnerId malformed", actionDescribeInstanceBill, vals("BillingCycle", "2024-05", "BillOwnerId", "abc"), "InvalidParameter", "BillOwnerId"},
		{"NextToken from another server", actionDescribeInstanceBill, vals("BillingCycle", "2024-05", "MaxResults", "5", "NextToken", foreignToken), "InvalidParameter", "NextToken"},
		{"NextToken from another query", actionDescribeInstanceBill, vals("BillingCycle", "2024-05", "MaxResults", "5", "NextToken", otherQueryToken), "InvalidParameter", "NextToken"},
		{"NextToken of another action", actionDescribeSplitItemBill, vals("BillingCycle", "2024-05", "MaxResults", "5", "NextToken", goodToken), "InvalidParameter", "NextToken"},
		{"NextToken forged", actionDescribeInstanceBill, vals("BillingCycle", "2024-05", "MaxResults", "5", "NextToken", string(forged)), "InvalidParameter", "NextToken"},
		{"NextToken garbage", actionDescribeInstanceBill, vals("BillingCycle", "2024-05", "NextToken", "CAESEgoQCg4KCm"), "InvalidParameter", "NextToken"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.callV3(tc.action, tc.params)
			g := r.errorEnvelope(t, http.StatusBadRequest, tc.code)
			if !strings.Contains(g.Message, tc.mention) {
				t.Errorf("message %q does not name %s", g.Message, tc.mention)
			}
		})
	}
}

// firstToken returns the NextToken of the first DescribeInstanceBill page.
func firstToken(t *testing.T, e *testEnv, params url.Values) string {
	t.Helper()
	var d InstanceBillData
	decodeStrict(t, e.callV3(actionDescribeInstanceBill, params).successEnvelope(t, "Success", "Successful!"), &d)
	if d.NextToken == "" {
		t.Fatalf("first page has no NextToken (%d rows of %d)", len(d.Items), d.TotalCount)
	}
	return d.NextToken
}

func TestRetentionBoundariesAreAccepted(t *testing.T) {
	e := newEnv(t, nil)
	for _, tc := range []struct{ action, cycle string }{
		{actionDescribeInstanceBill, "2023-01"},  // 18th cycle counting June 2024
		{actionDescribeSplitItemBill, "2023-07"}, // 12th
		{actionQueryAccountBill, "2024-06"},      // the current one
	} {
		r := e.callV3(tc.action, vals("BillingCycle", tc.cycle))
		r.successEnvelope(t, "Success", "Successful!")
	}
}

func TestSplitBillNotEnabled(t *testing.T) {
	e := newEnv(t, newFakeWorld(3, 3, false))
	r := e.callV3(actionDescribeSplitItemBill, vals("BillingCycle", "2024-05"))
	g := r.errorEnvelope(t, http.StatusBadRequest, codeSplitBillNotEnabled)
	if !strings.Contains(g.Message, "Split Bill") || !strings.Contains(g.Message, "console") {
		t.Errorf("message %q does not say Split Bill must be enabled in the console", g.Message)
	}
}

func TestTokenWalkVisitsEveryRowOnce(t *testing.T) {
	for _, world := range testWorlds(t) {
		for _, action := range []string{actionDescribeInstanceBill, actionDescribeSplitItemBill} {
			for _, signing := range []string{"v3", "v1-get", "v1-post"} {
				t.Run(world.name+"/"+action+"/"+signing, func(t *testing.T) {
					e := newEnv(t, world.w)
					params := vals("BillingCycle", "2024-05", "MaxResults", "7")
					var want []string
					switch action {
					case actionDescribeInstanceBill:
						req := InstanceBillRequest{BillingCycle: Cycle{Year: 2024, Month: 5}, Granularity: Monthly}
						for _, r := range e.world.InstanceBillRows(req, testBillingNow, 0, e.world.InstanceBillCount(req, testBillingNow)) {
							want = append(want, rowKey(r))
						}
					default:
						req := SplitItemBillRequest{BillingCycle: Cycle{Year: 2024, Month: 5}, Granularity: Monthly}
						for _, r := range e.world.SplitItemBillRows(req, testBillingNow, 0, e.world.SplitItemBillCount(req, testBillingNow)) {
							want = append(want, rowKey(r))
						}
					}
					if len(want) < 15 {
						t.Fatalf("world has only %d rows; the walk would not span pages", len(want))
					}
					got, pages := walkTokens(t, e, action, params, signing)
					if !slices.Equal(got, want) {
						t.Errorf("walk saw %d rows, want %d in order", len(got), len(want))
					}
					if wantPages := (len(want) + 6) / 7; pages != wantPages {
						t.Errorf("walk took %d pages, want %d", pages, wantPages)
					}
				})
			}
		}
	}
}

func rowKey(row any) string {
	b, _ := json.Marshal(row)
	return string(b)
}

// walkTokens follows NextToken to the end, checking every token.
func walkTokens(t *testing.T, e *testEnv, action string, params url.Values, signing string) (rows []string, pages int) {
	t.Helper()
	p := url.Values{}
	for k, v := range params {
		p[k] = v
	}
	seen := map[string]bool{}
	firstTotal := -1
	for pages < 1000 {
		var r response
		switch signing {
		case "v3":
			r = e.callV3(action, p)
		case "v1-get":
			r = e.do(e.v1Request(http.MethodGet, action, p, testCred, e.wall.Now(), newNonce()))
		case "v1-post":
			r = e.do(e.v1Request(http.MethodPost, action, p, testCred, e.wall.Now(), newNonce()))
		}
		data := r.successEnvelope(t, "Success", "Successful!")
		pages++
		var page struct {
			NextToken  string
			TotalCount int
			MaxResults int
			Items      []json.RawMessage
		}
		if err := json.Unmarshal(data, &page); err != nil {
			t.Fatal(err)
		}
		if firstTotal < 0 {
			firstTotal = page.TotalCount
		} else if page.TotalCount != firstTotal {
			t.Errorf("TotalCount moved from %d to %d", firstTotal, page.TotalCount)
		}
		for _, raw := range page.Items {
			var v any
			switch action {
			case actionDescribeInstanceBill:
				var it InstanceBillItem
				decodeStrict(t, raw, &it)
				v = it
			default:
				var it SplitItemBillItem
				decodeStrict(t, raw, &it)
				v = it
			}
			rows = append(rows, rowKey(v))
		}
		if page.NextToken == "" {
			if len(rows) != firstTotal {
				t.Errorf("walk ended with %d rows, TotalCount %d", len(rows), firstTotal)
			}
			return rows, pages
		}
		if seen[page.NextToken] {
			t.Fatalf("NextToken %q repeated", page.NextToken)
		}
		seen[page.NextToken] = true
		// Tokens carry base64's special characters so clients must encode them.
		if !strings.ContainsAny(page.NextToken, "+") || !strings.Contains(page.NextToken, "/") || !strings.HasSuffix(page.NextToken, "=") {
			t.Errorf("NextToken %q lacks +, / or =", page.NextToken)
		}
		p.Set("NextToken", page.NextToken)
	}
	t.Fatal("walk did not end")
	return nil, 0
}

func TestPageNumWalks(t *testing.T) {
	e := newEnv(t, nil)
	// QueryAccountBill: 25 rows in pages of 10.
	var owners []string
	for num := 1; num <= 4; num++ {
		var d AccountBillData
		r := e.callV3(actionQueryAccountBill, vals("BillingCycle", "2024-05", "PageSize", "10", "PageNum", fmt.Sprint(num)))
		decodeStrict(t, r.successEnvelope(t, "Success", "Successful!"), &d)
		if d.TotalCount != 25 || d.PageNum != num || d.PageSize != 10 {
			t.Errorf("page %d header %+v", num, d)
		}
		wantLen := []int{10, 10, 5, 0}[num-1]
		if len(d.Items.Item) != wantLen {
			t.Errorf("page %d has %d items, want %d", num, len(d.Items.Item), wantLen)
		}
		if num == 4 && !bytes.Contains(r.body, []byte(`"Item":[]`)) {
			t.Errorf("empty page must say \"Item\":[], got %s", r.body)
		}
		for _, it := range d.Items.Item {
			owners = append(owners, it.OwnerID)
		}
	}
	if len(owners) != 25 || len(slices.Compact(slices.Sorted(slices.Values(owners)))) != 25 {
		t.Errorf("walk saw %d rows, want 25 distinct", len(owners))
	}
}

func TestQueryInstanceBillStopsAtTheRowCap(t *testing.T) {
	total := queryInstanceBillRowCap + 123
	e := newEnv(t, newFakeWorld(total, 0, true))
	for _, tc := range []struct {
		pageNum   int
		wantRows  int
		wantFirst string
	}{
		{166, 300, "i-049500"},
		{167, 200, "i-049800"}, // the page straddling 50,000 ends there
		{168, 0, ""},
	} {
		var d QueryInstanceBillData
		r := e.callV3(actionQueryInstanceBill, vals("BillingCycle", "2024-05", "PageSize", "300", "PageNum", fmt.Sprint(tc.pageNum)))
		decodeStrict(t, r.successEnvelope(t, "Success", "Successful!"), &d)
		if d.TotalCount != total {
			t.Errorf("page %d: TotalCount %d, want the true count %d", tc.pageNum, d.TotalCount, total)
		}
		if len(d.Items.Item) != tc.wantRows {
			t.Errorf("page %d: %d rows, want %d", tc.pageNum, len(d.Items.Item), tc.wantRows)
		}
		if tc.wantRows > 0 && d.Items.Item[0].InstanceID != tc.wantFirst {
			t.Errorf("page %d starts at %s, want %s", tc.pageNum, d.Items.Item[0].InstanceID, tc.wantFirst)
		}
	}
	// DescribeInstanceBill has no cap: a token deep in the bill still answers.
	var d InstanceBillData
	decodeStrict(t, e.callV3(actionDescribeInstanceBill, vals("BillingCycle", "2024-05",
		"NextToken", e.server.issueToken(billParams{cycle: Cycle{Year: 2024, Month: 5}, granularity: Monthly}.fingerprint(actionDescribeInstanceBill), 50_100))).
		successEnvelope(t, "Success", "Successful!"), &d)
	if len(d.Items) != 20 || d.Items[0].InstanceID != "i-050100" {
		t.Errorf("deep DescribeInstanceBill page: %d rows starting %+v", len(d.Items), d.Items)
	}
}

func TestRequestsOutsideTheAPI(t *testing.T) {
	e := newEnv(t, nil)
	for _, tc := range []struct {
		name, method, path string
		status             int
		code               string
	}{
		{"other path", http.MethodPost, "/v1/bills", http.StatusNotFound, "InvalidApi.NotFound"},
		{"other method", http.MethodPut, "/", http.StatusNotFound, "InvalidApi.NotFound"},
		{"no action", http.MethodGet, "/", http.StatusBadRequest, "InvalidAction.NotFound"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, e.run.URL+tc.path, nil)
			e.do(req).errorEnvelope(t, tc.status, tc.code)
		})
	}
}

func TestStatsCountAnswers(t *testing.T) {
	e := newEnv(t, nil, withQuota(2))
	e.callV3(actionDescribeInstanceBill, vals("BillingCycle", "2024-05", "MaxResults", "10")).successEnvelope(t, "Success", "Successful!")
	e.callV3(actionQueryAccountBalance, nil).successEnvelope(t, "200", "success")
	e.callV3(actionQueryAccountBalance, nil).errorEnvelope(t, http.StatusBadRequest, codeThrottlingUser)
	e.wall.Advance(time.Second)
	e.callV3("NoSuchAction", nil).errorEnvelope(t, http.StatusBadRequest, "InvalidAction.NotFound")

	st := e.server.Stats()
	want := Stats{
		Requests:  map[string]int64{actionDescribeInstanceBill: 1, actionQueryAccountBalance: 2, "(unknown)": 1},
		Codes:     map[string]int64{"Success": 2, codeThrottlingUser: 1, "InvalidAction.NotFound": 1},
		Throttled: 1, Pages: 1, Rows: 10,
		Faults: map[string]int64{},
	}
	if !statsEqual(st, want) {
		t.Errorf("Stats %+v, want %+v", st, want)
	}
	if st.TotalRequests() != 4 {
		t.Errorf("TotalRequests %d, want 4", st.TotalRequests())
	}
	e.server.ResetStats()
	if st := e.server.Stats(); st.TotalRequests() != 0 || st.Pages != 0 || len(st.Codes) != 0 {
		t.Errorf("after ResetStats %+v", st)
	}
}

func statsEqual(a, b Stats) bool {
	eq := func(x, y map[string]int64) bool { return len(x) == len(y) && fmt.Sprint(x) == fmt.Sprint(y) }
	return eq(a.Requests, b.Requests) && eq(a.Codes, b.Codes) && eq(a.Faults, b.Faults) &&
		a.Throttled == b.Throttled && a.Pages == b.Pages && a.Rows == b.Rows
}

func TestNewServerChecksConfig(t *testing.T) {
	w := newFakeWorld(1, 1, true)
	for _, tc := range []struct {
		name  string
		cfg   Config
		world billingWorld
		want  string
	}{
		{"no world", Config{}, nil, "World is required"},
		{"key without secret", Config{Credentials: []Credential{{AccessKeyID: "k"}}}, w, "k has no AccessKeySecret"},
		{"secret without key", Config{Credentials: []Credential{{AccessKeySecret: "s"}}}, w, "credential 0 has no AccessKeyID"},
		{"duplicate key", Config{Credentials: []Credential{{AccessKeyID: "k", AccessKeySecret: "a"}, {AccessKeyID: "k", AccessKeySecret: "b"}}}, w, "listed twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.world == nil {
				_, err = NewServer(tc.cfg)
			} else {
				_, err = newServer(tc.cfg, tc.world)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
			if err != nil && (strings.Contains(err.Error(), `"a"`) || strings.Contains(err.Error(), `"s"`)) {
				t.Errorf("error %v shows a secret", err)
			}
		})
	}
}

// testWorlds are the worlds the end-to-end tests run against: the fake, for
// exact row checks, and a small generated World.
func testWorlds(t *testing.T) []struct {
	name string
	w    billingWorld
} {
	t.Helper()
	w, err := NewWorld(WorldConfig{Seed: 7, Owners: 3, InstancesPerOwner: 8, Currency: "CNY", SplitBillEnabled: true, BucketsPerOSSInstance: 3})
	if err != nil {
		t.Fatalf("NewWorld: %v", err)
	}
	return []struct {
		name string
		w    billingWorld
	}{{"fake", newFakeWorld(45, 37, true)}, {"world", w}}
}

// BenchmarkServeInstanceBillPage measures one signed 300-row
// DescribeInstanceBill page through ServeHTTP; compare it with
// BenchmarkEncodeInstanceBillPage, the JSON encoding alone.
func BenchmarkServeInstanceBillPage(b *testing.B) {
	w := newFakeWorld(100_000, 0, true)
	wall := NewManualClock(testWallNow)
	s, err := newServer(Config{Clock: NewManualClock(testBillingNow), WallClock: wall.Now, QuotaPerSecond: -1}, w)
	if err != nil {
		b.Fatal(err)
	}
	params := vals("BillingCycle", "2024-05", "MaxResults", "300")
	for b.Loop() {
		b.StopTimer()
		req := httptest.NewRequest(http.MethodPost, "http://business.aliyuncs.com/?"+params.Encode(), nil)
		signRequestV3(req, actionDescribeInstanceBill, apiVersion, testCred, testWallNow, newNonce())
		rec := httptest.NewRecorder()
		b.StartTimer()
		s.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("HTTP %d: %s", rec.Code, rec.Body)
		}
	}
}

func BenchmarkEncodeInstanceBillPage(b *testing.B) {
	w := newFakeWorld(100_000, 0, true)
	rows := w.InstanceBillRows(InstanceBillRequest{}, testBillingNow, 0, 300)
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := json.NewEncoder(&buf).Encode(successBody{Data: &InstanceBillData{Items: rows}}); err != nil {
			b.Fatal(err)
		}
	}
}
