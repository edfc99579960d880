package bssclient

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// SignatureVersion selects how requests are signed.
//
// The constants below are the version names; the functions computing a
// signature are computeSignatureV3 and computeSignatureV1 (the names
// SignatureV3/SignatureV1 cannot be both a constant and a function).
type SignatureVersion int

const (
	// SignatureV3 is ACS3-HMAC-SHA256, what the current generated SDKs send
	// by default (https://www.alibabacloud.com/help/en/sdk/product-overview/v3-request-structure-and-signature).
	SignatureV3 SignatureVersion = iota
	// SignatureV1 is the HMAC-SHA1 RPC signature of the old SDK and the
	// aliyun CLI (https://www.alibabacloud.com/help/doc-detail/50286.html).
	SignatureV1
)

func (v SignatureVersion) String() string {
	switch v {
	case SignatureV3:
		return "v3"
	case SignatureV1:
		return "v1"
	}
	return fmt.Sprintf("SignatureVersion(%d)", int(v))
}

// ParseSignatureVersion parses "v3" or "v1", ignoring case.
func ParseSignatureVersion(s string) (SignatureVersion, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "v3":
		return SignatureV3, nil
	case "v1":
		return SignatureV1, nil
	}
	return 0, fmt.Errorf("unknown signature version %q: want v3 or v1", truncateForError(s))
}

// timestampLayout is the UTC layout of x-acs-date and the V1 Timestamp param.
const timestampLayout = "2006-01-02T15:04:05Z"

// percentEncode is RFC 3986 percent-encoding as Alibaba signs it: only
// A-Z a-z 0-9 - _ . ~ stay as they are; every other byte of the UTF-8 form
// becomes %XX with uppercase hex, so a space is %20 (never +).
// url.QueryEscape leaves the same unreserved set and writes uppercase hex;
// a space, which it writes "+", is the one difference ("+" itself is %2B).
func percentEncode(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

// canonicalQuery sorts params by name (byte order) and, within one name, by
// value, percent-encodes both and joins "k=v" pairs with "&". skip names a
// parameter to leave out ("" for none).
func canonicalQuery(q url.Values, skip string) string {
	var pairs []string
	for _, k := range slices.Sorted(maps.Keys(q)) {
		if k == skip && skip != "" {
			continue
		}
		values := slices.Sorted(slices.Values(q[k]))
		if len(values) == 0 {
			values = []string{""}
		}
		for _, v := range values {
			pairs = append(pairs, percentEncode(k)+"="+percentEncode(v))
		}
	}
	return strings.Join(pairs, "&")
}

// ---------------------------------------------------------------------------
// V3: ACS3-HMAC-SHA256

// algorithmV3 is the V3 signature algorithm name, first in StringToSign and
// in the Authorization header.
const algorithmV3 = "ACS3-HMAC-SHA256"

// emptyPayloadHash is hex(sha256("")), the x-acs-content-sha256 of the empty
// body every RPC-style BSS call sends.
const emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// Header names the V3 signature uses (lower case, as signed).
const (
	headerAction        = "x-acs-action"
	headerVersion       = "x-acs-version"
	headerDate          = "x-acs-date"
	headerNonce         = "x-acs-signature-nonce"
	headerContentSHA256 = "x-acs-content-sha256"
	headerSecurityToken = "x-acs-security-token"
	headerAccessKeyID   = "x-acs-accesskey-id"
	headerAuthorization = "Authorization"
)

// canonicalQueryV3 is the CanonicalQueryString of a V3 canonical request.
func canonicalQueryV3(q url.Values) string { return canonicalQuery(q, "") }

// canonicalURI encodes each path segment; an empty path is "/" (the RPC
// style path).
func canonicalURI(path string) string {
	if path == "" {
		return "/"
	}
	segments := strings.Split(path, "/")
	for i, s := range segments {
		segments[i] = percentEncode(s)
	}
	return strings.Join(segments, "/")
}

// canonicalRequestV3 builds the V3 canonical request and its SignedHeaders.
// Header names match case-insensitively. Signed are every x-acs-* header,
// plus host and content-type when present; host, when not empty, is the
// host header's value. Values of one name are trimmed, sorted and joined
// with "," (as darabonba does).
func canonicalRequestV3(method, path string, query url.Values, header http.Header, host string, payloadHash string) (canonical, signedHeaders string) {
	merged := make(map[string][]string)
	for k, values := range header {
		name := strings.ToLower(k)
		if !strings.HasPrefix(name, "x-acs-") && name != "host" && name != "content-type" {
			continue
		}
		if name == "host" && host != "" {
			continue
		}
		for _, v := range values {
			merged[name] = append(merged[name], strings.TrimSpace(v))
		}
	}
	if host != "" {
		merged["host"] = []string{strings.TrimSpace(host)}
	}
	names := slices.Sorted(maps.Keys(merged))

	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%s\n%s\n", strings.ToUpper(method), canonicalURI(path), canonicalQueryV3(query))
	for _, name := range names {
		slices.Sort(merged[name])
		fmt.Fprintf(&b, "%s:%s\n", name, strings.Join(merged[name], ","))
	}
	signedHeaders = strings.Join(names, ";")
	fmt.Fprintf(&b, "\n%s\n%s", signedHeaders, payloadHash)
	return b.String(), signedHeaders
}

// stringToSignV3 is algorithmV3, a newline and hex(sha256(canonicalRequest)).
func stringToSignV3(canonicalRequest string) string {
	return algorithmV3 + "\n" + hashHex([]byte(canonicalRequest))
}

// computeSignatureV3 is lowercase hex HMAC-SHA256 keyed with the secret itself
// (V3 adds no "&", unlike V1).
func computeSignatureV3(secret, stringToSign string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(stringToSign))
	return hex.EncodeToString(mac.Sum(nil))
}

// authorizationV3 is the value of the Authorization header.
func authorizationV3(accessKeyID, signedHeaders, signature string) string {
	return algorithmV3 + " Credential=" + accessKeyID + ",SignedHeaders=" + signedHeaders + ",Signature=" + signature
}

// signRequestV3 signs an RPC-style BSS call (POST /, API params in the URL
// query, empty body): it sets the x-acs-* headers the SDK sends
// (darabonba-openapi's DoRequest) and then Authorization. Re-signing a request
// (a retry) replaces every header set by an earlier signing.
func signRequestV3(req *http.Request, action, version string, cred Credentials, date time.Time, nonce string) {
	host := req.Host
	if host == "" && req.URL != nil {
		host = req.URL.Host
	}
	req.Host = host
	if req.Header == nil {
		req.Header = make(http.Header)
	}
	payloadHash := payloadSHA256(req)
	req.Header.Set(headerAction, action)
	req.Header.Set(headerVersion, version)
	req.Header.Set(headerDate, date.UTC().Format(timestampLayout))
	req.Header.Set(headerNonce, nonce)
	req.Header.Set(headerContentSHA256, payloadHash)
	if cred.SecurityToken != "" {
		// darabonba signs both the token and the key id with STS credentials.
		req.Header.Set(headerSecurityToken, cred.SecurityToken)
		req.Header.Set(headerAccessKeyID, cred.AccessKeyID)
	} else {
		req.Header.Del(headerSecurityToken)
		req.Header.Del(headerAccessKeyID)
	}
	req.Header.Del(headerAuthorization)

	path, query := "/", url.Values{}
	if req.URL != nil {
		path, query = req.URL.Path, req.URL.Query()
	}
	canonical, signedHeaders := canonicalRequestV3(req.Method, path, query, req.Header, host, payloadHash)
	signature := computeSignatureV3(cred.AccessKeySecret, stringToSignV3(canonical))
	req.Header.Set(headerAuthorization, authorizationV3(cred.AccessKeyID, signedHeaders, signature))
}

// payloadSHA256 hashes the request body without consuming it.
func payloadSHA256(req *http.Request) string {
	if req.Body == nil || req.Body == http.NoBody {
		return emptyPayloadHash
	}
	var body []byte
	if req.GetBody != nil {
		if rc, err := req.GetBody(); err == nil {
			body, err = io.ReadAll(rc)
			rc.Close()
			if err == nil {
				return hashHex(body)
			}
		}
	}
	// No way to re-read it: read once and put a replayable copy back.
	body, _ = io.ReadAll(req.Body)
	req.Body.Close()
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	req.ContentLength = int64(len(body))
	return hashHex(body)
}

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// ---------------------------------------------------------------------------
// V1: HMAC-SHA1, RPC style

// stringToSignV1 is method & %2F & percentEncode(canonicalized query), the
// canonicalized query holding every param except Signature.
func stringToSignV1(method string, params url.Values) string {
	return strings.ToUpper(method) + "&" + percentEncode("/") + "&" + percentEncode(canonicalQuery(params, "Signature"))
}

// computeSignatureV1 is base64 HMAC-SHA1 keyed with secret + "&".
func computeSignatureV1(secret, stringToSign string) string {
	return hmacSHA1Base64(secret+"&", stringToSign)
}

func hmacSHA1Base64(key, data string) string {
	mac := hmac.New(sha1.New, []byte(key))
	mac.Write([]byte(data))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// signParamsV1 adds the common RPC params and the Signature to params. BSS
// defaults Format to XML, so Format=JSON is always sent
// (https://help.aliyun.com/en/user-center/developer-reference/common-parameters).
func signParamsV1(method string, params url.Values, action, version string, cred Credentials, date time.Time, nonce string) {
	params.Set("Action", action)
	params.Set("Version", version)
	params.Set("Format", "JSON")
	params.Set("Timestamp", date.UTC().Format(timestampLayout))
	params.Set("SignatureMethod", "HMAC-SHA1")
	params.Set("SignatureVersion", "1.0")
	params.Set("SignatureNonce", nonce)
	params.Set("AccessKeyId", cred.AccessKeyID)
	if cred.SecurityToken != "" {
		params.Set("SecurityToken", cred.SecurityToken)
	} else {
		params.Del("SecurityToken")
	}
	params.Del("Signature")
	params.Set("Signature", computeSignatureV1(cred.AccessKeySecret, stringToSignV1(method, params)))
}

// newNonce returns 32 random hex characters; BSS rejects a reused nonce
// (SignatureNonceUsed), so it comes from crypto/rand.
func newNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return hex.EncodeToString(b[:])
}
