package bssclient

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzDecodeResponse feeds arbitrary bodies and statuses to the decoder of
// every action's answer. Whatever BSS or a proxy sends, the decoder returns
// either decoded Data or a typed error that classifies, and never panics.
// Seeds: the API pages' example bodies and, in testdata/fuzz, answers
// captured from the simulator.
func FuzzDecodeResponse(f *testing.F) {
	for _, body := range []string{seedQueryAccountBill, seedQueryInstanceBill, seedDescribeInstanceBill, seedSubscription, seedBalance, seedErrorBody,
		`{"Success":false,"Code":"Throttling.User","Message":"Request was denied due to user flow control."}`,
		`{"Code":"Success","Success":true,"Data":null}`, `<html>502 Bad Gateway</html>`, ``, `{"Code":"Success","Data":{"Items":{"Item":[{"PretaxAmount":"1e400"}]}}}`,
	} {
		for _, status := range []int{200, 400, 503} {
			f.Add(status, []byte(body))
		}
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		decoders := []func() error{
			func() error { _, err := decodeResponse[AccountBillData]("Fuzz", status, body); return err },
			func() error { _, err := decodeResponse[InstanceBillData]("Fuzz", status, body); return err },
			func() error { _, err := decodeResponse[SplitItemBillData]("Fuzz", status, body); return err },
			func() error { _, err := decodeResponse[BillSubscriptionData]("Fuzz", status, body); return err },
			func() error { _, err := decodeResponse[AccountBalance]("Fuzz", status, body); return err },
		}
		for _, decode := range decoders {
			err := decode()
			if err == nil {
				if status >= 400 {
					t.Fatalf("HTTP %d decoded as a success", status)
				}
				continue
			}
			var apiErr *APIError
			var respErr *ResponseError
			if !errors.As(err, &apiErr) && !errors.As(err, &respErr) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			if Classify(err) == "" || ErrorCode(err) == "" {
				t.Fatalf("error %v has no class or code", err)
			}
			// At most errorBodyQuote bytes of the body are quoted; escaping
			// can make each byte four characters (\x9d), plus the message.
			if respErr != nil && len(respErr.Detail) > 4*errorBodyQuote+300 {
				t.Fatalf("error detail quotes too much of the body: %d bytes", len(respErr.Detail))
			}
		}
	})
}

// FuzzSignatureV3 signs requests with arbitrary parameters, headers and
// paths, then verifies them the way the simulator does: the signature must
// verify, and canonicalisation must never panic.
func FuzzSignatureV3(f *testing.F) {
	f.Add("BillingCycle", "2024-05", "NextToken", "CAESEgoQCg4KCm/+=", "x-acs-extra", "v", "/")
	f.Add("TagFilter.1.TagKey", "成本 中心", "a", "", "content-type", "application/json", "/")
	f.Add("*", "~!@#$%^&*()", "k", "a+b c", "x-acs-date", "  spaced  ", "/a b/c")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, hk, hv, path string) {
		q := url.Values{}
		q.Add(k1, v1)
		q.Add(k2, v2)
		req, err := http.NewRequest(http.MethodPost, "https://business.aliyuncs.com/", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.URL.RawQuery = canonicalQueryV3(q)
		// Only header names HTTP allows (tokens): Go refuses to send others.
		if isHTTPToken(hk) && !strings.ContainsAny(hv, "\r\n") {
			req.Header.Set(hk, hv)
		}
		cred := Credentials{AccessKeyID: "testid", AccessKeySecret: "testsecret"}
		signRequestV3(req, "DescribeInstanceBill", APIVersion, cred, time.Date(2024, 6, 1, 8, 30, 0, 0, time.UTC), "0b5f1d6c9e2a4f7b8c3d2e1f0a9b8c7d")

		id, signed, sig, err := parseAuthorizationV3(req.Header.Get("Authorization"))
		if err != nil || id != "testid" {
			t.Fatalf("own Authorization does not parse: %v", err)
		}
		received, err := url.ParseQuery(req.URL.RawQuery)
		if err != nil {
			t.Fatalf("own query does not parse: %v", err)
		}
		canonical, signedHeaders := canonicalRequestV3(req.Method, req.URL.Path, received, req.Header, req.Host, req.Header.Get("x-acs-content-sha256"))
		if strings.Join(signed, ";") != signedHeaders {
			t.Fatalf("signed headers %q, recomputed %q", signed, signedHeaders)
		}
		if got := computeSignatureV3(cred.AccessKeySecret, stringToSignV3(canonical)); got != sig {
			t.Fatalf("signature does not verify:\n%s", canonical)
		}
		_, _ = canonicalRequestV3(req.Method, path, received, req.Header, req.Host, emptyPayloadHash)
	})
}

// isHTTPToken reports whether s is a valid header field name (RFC 9110 token).
func isHTTPToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// FuzzPercentEncode: the encoding leaves only unreserved characters and
// %XX, and decodes back to its input.
// isUnreserved reports a byte RFC 3986 leaves unescaped.
func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

func FuzzPercentEncode(f *testing.F) {
	for _, s := range []string{"", "a b", "*", "~", "阿里云", "%2F", "\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		enc := percentEncode(s)
		for i := 0; i < len(enc); i++ {
			c := enc[i]
			if c == '%' {
				if i+2 >= len(enc) || !strings.ContainsRune("0123456789ABCDEF", rune(enc[i+1])) || !strings.ContainsRune("0123456789ABCDEF", rune(enc[i+2])) {
					t.Fatalf("bad escape in %q", enc)
				}
				i += 2
				continue
			}
			if !isUnreserved(c) {
				t.Fatalf("%q left %q unescaped", enc, c)
			}
		}
		if dec, err := url.PathUnescape(enc); err != nil || dec != s {
			t.Fatalf("percentEncode(%q) = %q decodes to %q, %v", s, enc, dec, err)
		}
	})
}
