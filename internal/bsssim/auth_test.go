package bsssim

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Known-answer vectors, derived with Alibaba's openapi-util and
// darabonba-openapi for BSS requests (V1 per
// https://www.alibabacloud.com/help/doc-detail/50286.html, V3 per
// https://www.alibabacloud.com/help/en/sdk/product-overview/v3-request-structure-and-signature), sent byte for byte.
func TestReferenceVectorsVerify(t *testing.T) {
	vectorTime := time.Date(2024, 6, 1, 8, 30, 0, 0, time.UTC)
	newVectorServer := func(t *testing.T, cred Credential) *Server {
		t.Helper()
		s, err := newServer(Config{
			Credentials: []Credential{cred},
			Clock:       NewManualClock(vectorTime),
			WallClock:   NewManualClock(vectorTime).Now,
		}, newFakeWorld(5, 5, true))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	v3 := func(sts bool) *http.Request {
		req := httptest.NewRequest(http.MethodPost, "https://business.aliyuncs.com/?BillingCycle=2024-05&BillingDate=2024-05-31&Granularity=DAILY&MaxResults=300&NextToken=CAESEgoQCg4KCm%2F%2B%3D", nil)
		req.Header.Set("x-acs-action", "DescribeInstanceBill")
		req.Header.Set("x-acs-version", "2017-12-14")
		req.Header.Set("x-acs-date", "2024-06-01T08:30:00Z")
		req.Header.Set("x-acs-signature-nonce", "0b5f1d6c9e2a4f7b8c3d2e1f0a9b8c7d")
		req.Header.Set("x-acs-content-sha256", emptyPayloadHash)
		req.Header.Set("User-Agent", "AlibabaCloud (linux; amd64) Go/1.26 Core/1.0.0 TeaDSL/1")
		req.Header.Set("Accept", "application/json")
		if sts {
			req.Header.Set("x-acs-accesskey-id", "testid")
			req.Header.Set("x-acs-security-token", "test-sts-token")
			req.Header.Set("Authorization", "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-accesskey-id;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-security-token;x-acs-signature-nonce;x-acs-version,Signature=41fca07b4060cc0868d3076b8d650420f283fbf33fdbe6af35fd38cdf76082ea")
		} else {
			req.Header.Set("Authorization", "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=6400d4a5894c37285d00bf2897682c324e078dc2f67ed5b529c2d7ee3dd036b6")
		}
		return req
	}
	v1 := func(sts bool) *http.Request {
		q := "AccessKeyId=testid&Action=QueryAccountBill&BillingCycle=2024-05&Format=JSON&IsGroupByProduct=true&SignatureMethod=HMAC-SHA1&SignatureNonce=6a8a4f02-3c1e-4d0b-9c55-0f0e2b7d1a11&SignatureVersion=1.0&Timestamp=2024-06-01T08%3A30%3A00Z&Version=2017-12-14"
		if sts {
			q += "&SecurityToken=test-sts-token&Signature=" + url.QueryEscape("hjbnX8Wg2hCFsE9GVfdZVhp8cP8=")
		} else {
			q += "&Signature=" + url.QueryEscape("OH0ExN3PIUO1H84/DOim0yKyYeg=")
		}
		return httptest.NewRequest(http.MethodPost, "https://business.aliyuncs.com/?"+q, nil)
	}
	plain := Credential{AccessKeyID: "testid", AccessKeySecret: "testsecret"}
	temporary := Credential{AccessKeyID: "testid", AccessKeySecret: "testsecret", SecurityToken: "test-sts-token"}
	for _, tc := range []struct {
		name string
		cred Credential
		req  *http.Request
		// A verified V3 vector reaches parameter checks: its NextToken is
		// the vector's, not one this server issued.
		status int
		code   string
	}{
		{"V3", plain, v3(false), http.StatusBadRequest, codeInvalidParameter},
		{"V3 STS", temporary, v3(true), http.StatusBadRequest, codeInvalidParameter},
		{"V1", plain, v1(false), http.StatusOK, "Success"},
		{"V1 STS", temporary, v1(true), http.StatusOK, "Success"},
		{"V3 wrong secret", Credential{AccessKeyID: "testid", AccessKeySecret: "other"}, v3(false), http.StatusBadRequest, codeSignatureDoesNotMatch},
		{"V1 wrong secret", Credential{AccessKeyID: "testid", AccessKeySecret: "other"}, v1(false), http.StatusBadRequest, codeSignatureDoesNotMatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			newVectorServer(t, tc.cred).ServeHTTP(rec, tc.req)
			r := response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
			if tc.status == http.StatusOK {
				r.successEnvelope(t, tc.code, "Successful!")
				return
			}
			g := r.errorEnvelope(t, tc.status, tc.code)
			if tc.code == codeInvalidParameter && !strings.Contains(g.Message, "NextToken") {
				t.Errorf("message %q should be about NextToken", g.Message)
			}
		})
	}
}

func TestSignatureMismatchShowsTheServerStringToSign(t *testing.T) {
	e := newEnv(t, nil)
	wrong := signingKey{AccessKeyID: TestAccessKeyID, AccessKeySecret: "NotTheSecret"}
	params := vals("BillingCycle", "2024-05", "NextToken", "a+b/c=")

	t.Run("V1", func(t *testing.T) {
		p := url.Values{}
		for k, v := range params {
			p[k] = v
		}
		signParamsV1(http.MethodGet, p, actionQueryAccountBill, apiVersion, wrong, e.wall.Now(), "nonce-v1")
		req, _ := http.NewRequest(http.MethodGet, e.run.URL+"/?"+p.Encode(), nil)
		g := e.do(req).errorEnvelope(t, http.StatusBadRequest, codeSignatureDoesNotMatch)
		want := "server string to sign is:" + stringToSignV1(http.MethodGet, p)
		if !strings.HasSuffix(g.Message, want) {
			t.Errorf("message %q\nwant it to end with %q", g.Message, want)
		}
		checkNoSecret(t, g.Message)
	})
	t.Run("V3", func(t *testing.T) {
		req := e.v3Request(actionQueryAccountBill, params, wrong, e.wall.Now(), "nonce-v3")
		canonical, _ := canonicalRequestV3(req.Method, "/", req.URL.Query(), req.Header, req.URL.Host, emptyPayloadHash)
		g := e.do(req).errorEnvelope(t, http.StatusBadRequest, codeSignatureDoesNotMatch)
		want := "server string to sign is:" + stringToSignV3(canonical)
		if !strings.HasSuffix(g.Message, want) {
			t.Errorf("message %q\nwant it to end with %q", g.Message, want)
		}
		checkNoSecret(t, g.Message)
	})
	t.Run("tampered parameter", func(t *testing.T) {
		req := e.v3Request(actionQueryAccountBill, params, testCred, e.wall.Now(), "nonce-tampered")
		req.URL.RawQuery = strings.Replace(req.URL.RawQuery, "2024-05", "2024-04", 1)
		e.do(req).errorEnvelope(t, http.StatusBadRequest, codeSignatureDoesNotMatch)
	})
	t.Run("tampered signed header", func(t *testing.T) {
		req := e.v3Request(actionQueryAccountBill, params, testCred, e.wall.Now(), "nonce-tampered-header")
		req.Header.Set("x-acs-date", e.wall.Now().Add(time.Minute).UTC().Format(timestampLayout))
		e.do(req).errorEnvelope(t, http.StatusBadRequest, codeSignatureDoesNotMatch)
	})
	t.Run("a forged request does not spend the nonce", func(t *testing.T) {
		e.do(e.v3Request(actionQueryAccountBalance, nil, wrong, e.wall.Now(), "shared-nonce")).
			errorEnvelope(t, http.StatusBadRequest, codeSignatureDoesNotMatch)
		e.do(e.v3Request(actionQueryAccountBalance, nil, testCred, e.wall.Now(), "shared-nonce")).
			successEnvelope(t, "200", "success")
	})
}

func checkNoSecret(t *testing.T, s string) {
	t.Helper()
	for _, secret := range []string{TestAccessKeySecret, "NotTheSecret"} {
		if strings.Contains(s, secret) {
			t.Errorf("%q shows a secret", s)
		}
	}
}

func TestAuthenticationErrors(t *testing.T) {
	expires := testWallNow.Add(time.Hour)
	temporary := Credential{AccessKeyID: "STS.Temporary0001", AccessKeySecret: "TemporarySecret", SecurityToken: "token-0001", Expires: expires}
	member := Credential{AccessKeyID: "LTAI5tMember0001", AccessKeySecret: "MemberSecret", DeniedActions: []string{actionQueryAccountBalance}}
	e := newEnv(t, nil, withCredentials(Credential{AccessKeyID: TestAccessKeyID, AccessKeySecret: TestAccessKeySecret}, temporary, member))
	tempCred := signingKey{AccessKeyID: temporary.AccessKeyID, AccessKeySecret: temporary.AccessKeySecret, SecurityToken: temporary.SecurityToken}
	memberCred := signingKey{AccessKeyID: member.AccessKeyID, AccessKeySecret: member.AccessKeySecret}
	balance := actionQueryAccountBalance

	// v1Without signs V1 params and then removes one.
	v1Without := func(name string) *http.Request {
		p := url.Values{}
		signParamsV1(http.MethodGet, p, balance, apiVersion, testCred, e.wall.Now(), newNonce())
		p.Del(name)
		req, _ := http.NewRequest(http.MethodGet, e.run.URL+"/?"+p.Encode(), nil)
		return req
	}
	// v1With signs V1 params after overriding one.
	v1With := func(cred signingKey, name, value string) *http.Request {
		p := url.Values{}
		signParamsV1(http.MethodGet, p, balance, apiVersion, cred, e.wall.Now(), newNonce())
		p.Set(name, value)
		p.Del("Signature")
		p.Set("Signature", signatureV1(cred.AccessKeySecret, stringToSignV1(http.MethodGet, p)))
		req, _ := http.NewRequest(http.MethodGet, e.run.URL+"/?"+p.Encode(), nil)
		return req
	}
	v3At := func(cred signingKey, d time.Duration) *http.Request {
		return e.v3Request(balance, nil, cred, e.wall.Now().Add(d), newNonce())
	}
	unknown := signingKey{AccessKeyID: "LTAI5tNobody", AccessKeySecret: "x"}

	tests := []struct {
		name    string
		req     func() *http.Request
		status  int
		code    string
		mention string
	}{
		{"unknown action V3", func() *http.Request {
			return e.v3Request("DescribeRegions", nil, testCred, e.wall.Now(), newNonce())
		}, 400, "InvalidAction.NotFound", "DescribeRegions"},
		{"unknown action V1", func() *http.Request { return v1With(testCred, "Action", "QueryBill") }, 400, "InvalidAction.NotFound", "QueryBill"},
		{"wrong version", func() *http.Request { return v1With(testCred, "Version", "2014-05-26") }, 400, "InvalidVersion", "Version"},
		{"V1 missing Signature", func() *http.Request { return v1Without("Signature") }, 400, codeMissingParameter, `"Signature"`},
		{"V1 missing AccessKeyId", func() *http.Request { return v1Without("AccessKeyId") }, 400, codeMissingParameter, `"AccessKeyId"`},
		{"V1 missing SignatureNonce", func() *http.Request { return v1Without("SignatureNonce") }, 400, codeMissingParameter, `"SignatureNonce"`},
		{"V1 wrong SignatureMethod", func() *http.Request { return v1With(testCred, "SignatureMethod", "HMAC-SHA256") }, 400, "IncompleteSignature", "SignatureMethod"},
		{"V3 missing Authorization", func() *http.Request {
			req := v3At(testCred, 0)
			req.Header.Del("Authorization")
			return req
		}, 400, "IncompleteSignature", "Authorization"},
		{"V3 malformed Authorization", func() *http.Request {
			req := v3At(testCred, 0)
			req.Header.Set("Authorization", "ACS3-HMAC-SHA256 Credential=x")
			return req
		}, 400, "IncompleteSignature", "SignedHeaders"},
		{"V3 date not signed", func() *http.Request {
			req := v3At(testCred, 0)
			req.Header.Set("Authorization", strings.Replace(req.Header.Get("Authorization"), "x-acs-date;", "", 1))
			return req
		}, 400, "IncompleteSignature", "x-acs-date"},
		{"unknown key V3", func() *http.Request { return v3At(unknown, 0) }, 404, codeInvalidAccessKeyID, "access key"},
		{"unknown key V1", func() *http.Request { return v1With(unknown, "Format", "JSON") }, 404, codeInvalidAccessKeyID, "access key"},
		{"timestamp 16 minutes late", func() *http.Request { return v3At(testCred, -16*time.Minute) }, 400, codeInvalidTimeStampExpired, "expired"},
		{"timestamp 16 minutes early", func() *http.Request { return v3At(testCred, 16*time.Minute) }, 400, codeInvalidTimeStampExpired, "expired"},
		{"timestamp malformed", func() *http.Request { return v1With(testCred, "Timestamp", "2024-06-15 04:00:00") }, 400, "InvalidTimeStamp.Format", "2024-06-15 04:00:00"},
		{"STS token missing", func() *http.Request {
			return v3At(signingKey{AccessKeyID: tempCred.AccessKeyID, AccessKeySecret: tempCred.AccessKeySecret}, 0)
		}, 400, "InvalidSecurityToken.Malformed", "SecurityToken"},
		{"STS token wrong", func() *http.Request {
			c := tempCred
			c.SecurityToken = "token-9999"
			return v3At(c, 0)
		}, 400, "InvalidSecurityToken.Malformed", "SecurityToken"},
		{"token with a long-term key", func() *http.Request {
			c := testCred
			c.SecurityToken = "token-0001"
			return v3At(c, 0)
		}, 400, "InvalidSecurityToken.Malformed", "SecurityToken"},
		{"denied action", func() *http.Request { return v3At(memberCred, 0) }, 403, codeNoPermission, "bssapi:QueryAccountBalance"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := e.do(tc.req()).errorEnvelope(t, tc.status, tc.code)
			if !strings.Contains(g.Message, tc.mention) {
				t.Errorf("message %q does not mention %q", g.Message, tc.mention)
			}
			for _, secret := range []string{TestAccessKeySecret, temporary.AccessKeySecret, temporary.SecurityToken, "token-9999", member.AccessKeySecret} {
				if strings.Contains(g.Message, secret) {
					t.Errorf("message %q shows a secret", g.Message)
				}
			}
			if tc.code == codeNoPermission {
				if g.AccessDeniedDetail["AuthAction"] != "bssapi:QueryAccountBalance" {
					t.Errorf("AccessDeniedDetail %v", g.AccessDeniedDetail)
				}
			}
		})
	}

	t.Run("allowed actions of a restricted member", func(t *testing.T) {
		e.do(e.v3Request(actionQueryBillToOSSSubscription, nil, memberCred, e.wall.Now(), newNonce())).
			successEnvelope(t, "Success", "Successful!")
	})
	t.Run("timestamp 14 minutes off is accepted", func(t *testing.T) {
		e.do(v3At(testCred, 14*time.Minute)).successEnvelope(t, "200", "success")
		e.do(v3At(testCred, -14*time.Minute)).successEnvelope(t, "200", "success")
	})
	t.Run("STS until it expires", func(t *testing.T) {
		e.do(v3At(tempCred, 0)).successEnvelope(t, "200", "success")
		p := url.Values{}
		signParamsV1(http.MethodPost, p, balance, apiVersion, tempCred, e.wall.Now(), newNonce())
		req, _ := http.NewRequest(http.MethodPost, e.run.URL+"/?"+p.Encode(), nil)
		e.do(req).successEnvelope(t, "200", "success")

		e.wall.Set(expires.Add(time.Second))
		defer e.wall.Set(testWallNow)
		g := e.do(v3At(tempCred, 0)).errorEnvelope(t, http.StatusBadRequest, codeSecurityTokenExpired)
		if strings.Contains(g.Message, temporary.SecurityToken) {
			t.Errorf("message %q shows the token", g.Message)
		}
	})
}

func TestNonceReuse(t *testing.T) {
	second := Credential{AccessKeyID: "LTAI5tSecond", AccessKeySecret: "SecondSecret"}
	e := newEnv(t, nil, withCredentials(Credential{AccessKeyID: TestAccessKeyID, AccessKeySecret: TestAccessKeySecret}, second))
	secondCred := signingKey{AccessKeyID: second.AccessKeyID, AccessKeySecret: second.AccessKeySecret}
	balance := actionQueryAccountBalance

	e.do(e.v3Request(balance, nil, testCred, e.wall.Now(), "nonce-1")).successEnvelope(t, "200", "success")
	e.do(e.v3Request(balance, nil, testCred, e.wall.Now(), "nonce-1")).errorEnvelope(t, http.StatusBadRequest, codeSignatureNonceUsed)
	// V1 shares the memory.
	p := url.Values{}
	signParamsV1(http.MethodGet, p, balance, apiVersion, testCred, e.wall.Now(), "nonce-1")
	req, _ := http.NewRequest(http.MethodGet, e.run.URL+"/?"+p.Encode(), nil)
	e.do(req).errorEnvelope(t, http.StatusBadRequest, codeSignatureNonceUsed)
	// Nonces are per key.
	e.do(e.v3Request(balance, nil, secondCred, e.wall.Now(), "nonce-1")).successEnvelope(t, "200", "success")

	// After 15 minutes the nonce is forgotten (and a timestamp that old is
	// refused anyway, so forgetting is safe).
	e.wall.Advance(nonceTTL + time.Second)
	e.do(e.v3Request(balance, nil, testCred, e.wall.Now(), "nonce-1")).successEnvelope(t, "200", "success")
}

func TestNonceStoreForgetsExpiredNonces(t *testing.T) {
	n := newNonceStore()
	t0 := testWallNow
	for i := range 3000 {
		if !n.record("k", string(rune('a'+i%26))+strings.Repeat("x", i/26), t0.Add(time.Duration(i)*time.Millisecond)) {
			t.Fatalf("nonce %d refused", i)
		}
	}
	if n.seen("k", "a", t0.Add(nonceTTL-time.Second)) != true {
		t.Error("nonce forgotten before its time")
	}
	if n.seen("k", "a", t0.Add(nonceTTL+time.Hour)) {
		t.Error("nonce remembered after its time")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.expires) != 0 || len(n.order)-n.head != 0 {
		t.Errorf("%d nonces and %d queue entries kept after all expired", len(n.expires), len(n.order)-n.head)
	}
}

func TestCredentialStringHidesSecrets(t *testing.T) {
	c := Credential{AccessKeyID: "STS.key", AccessKeySecret: "the-secret", SecurityToken: "the-token"}
	for _, s := range []string{c.String(), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprint([]Credential{c})} {
		if strings.Contains(s, "the-secret") || strings.Contains(s, "the-token") {
			t.Errorf("%q shows a secret", s)
		}
	}
}

// TestSignatureKindIsToldBySignature: V1 is a Signature parameter, V3 an
// ACS3-HMAC-SHA256 Authorization header. Current SDKs send x-acs-action (and
// other x-acs-* headers) with V1 requests too, which must not make them V3.
func TestSignatureKindIsToldBySignature(t *testing.T) {
	e := newEnv(t, nil)
	balance := actionQueryAccountBalance

	for _, method := range []string{http.MethodGet, http.MethodPost} {
		req := e.v1Request(method, balance, nil, testCred, e.wall.Now(), newNonce())
		req.Header.Set(headerAction, balance)
		req.Header.Set(headerVersion, apiVersion)
		req.Header.Set("x-acs-date", e.wall.Now().UTC().Format(timestampLayout))
		e.do(req).successEnvelope(t, "200", "success")
	}

	unsigned := func(header, value string) *http.Request {
		req, err := http.NewRequest(http.MethodPost, e.run.URL+"/?Action="+balance+"&Version="+apiVersion, nil)
		if err != nil {
			t.Fatal(err)
		}
		if header != "" {
			req.Header.Set(header, value)
			req.Header.Set(headerAction, balance)
			req.Header.Set(headerVersion, apiVersion)
		}
		return req
	}
	for _, tc := range []struct {
		name string
		req  *http.Request
		code string
		says string
	}{
		{"x-acs-action alone", unsigned(headerAction, balance), "IncompleteSignature", "The Authorization header is missing"},
		{"another algorithm", unsigned("Authorization", "Bearer abc"), "IncompleteSignature", `authorization algorithm "Bearer" is not ACS3-HMAC-SHA256`},
		{"nothing", unsigned("", ""), codeMissingParameter, `"Signature"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := e.do(tc.req).errorEnvelope(t, http.StatusBadRequest, tc.code)
			if !strings.Contains(g.Message, tc.says) {
				t.Errorf("message %q does not say %q", g.Message, tc.says)
			}
		})
	}
}
