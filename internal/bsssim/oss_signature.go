package bsssim

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The simulator's own reading of OSS's two header signatures, written from
// the public OSS documentation, not from any client:
//   - V4 (OSS4-HMAC-SHA256, the Go SDK v2's default):
//     https://www.alibabacloud.com/help/en/oss/developer-reference/recommend-to-use-signature-version-4
//   - V1 (OSS AccessKeyId:Signature, HMAC-SHA1):
//     https://www.alibabacloud.com/help/en/oss/developer-reference/include-signatures-in-the-authorization-header
//
// Alibaba's OSS Go SDK v2 signing requests to the simulator is the
// acceptance test of this file (oss_sdk_test.go); oss_signature_test.go
// holds fixed vectors published with that SDK.

const (
	ossAlgorithmV4   = "OSS4-HMAC-SHA256"
	ossV1Prefix      = "OSS "
	ossScopeTerminal = "aliyun_v4_request"
	ossProduct       = "oss"
	ossUnsigned      = "UNSIGNED-PAYLOAD"
	ossDateLayoutV4  = "20060102T150405Z"
	ossDayLayoutV4   = "20060102"

	headerOSSDate          = "x-oss-date"
	headerOSSContentSHA256 = "x-oss-content-sha256"
	headerOSSSecurityToken = "x-oss-security-token"
)

// ossRequest is what both signatures cover: the method, the bucket and key
// as decoded from the path or host, the query and the headers.
type ossRequest struct {
	method      string
	bucket, key string
	query       url.Values
	header      http.Header
}

// ossResource is "/bucket/key", or "/bucket/" for a bucket operation.
func (r *ossRequest) resource() string {
	if r.bucket == "" {
		return "/"
	}
	return "/" + r.bucket + "/" + r.key
}

// canonicalQueryV4 encodes each name and value, sorts by the encoded name
// and writes "name=value", or the name alone when the value is empty.
func canonicalQueryV4(q url.Values) string {
	type pair struct{ k, v string }
	var pairs []pair
	for k, vs := range q {
		for _, v := range vs {
			pairs = append(pairs, pair{percentEncode(k), percentEncode(v)})
		}
	}
	slices.SortFunc(pairs, func(a, b pair) int { return strings.Compare(a.k+"="+a.v, b.k+"="+b.v) })
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = p.k
		if p.v != "" {
			parts[i] += "=" + p.v
		}
	}
	return strings.Join(parts, "&")
}

// signedByDefaultV4 are the headers V4 signs without being listed in
// AdditionalHeaders: every x-oss-* header, Content-Type and Content-MD5.
func signedByDefaultV4(lower string) bool {
	return strings.HasPrefix(lower, "x-oss-") || lower == "content-type" || lower == "content-md5"
}

// canonicalHeadersV4 writes the default-signed headers and the additional ones.
func canonicalHeadersV4(h http.Header, additional []string) string {
	return headerLines(h, func(low string) bool { return signedByDefaultV4(low) || slices.Contains(additional, low) })
}

// headerLines writes "name:value\n" for the headers whose lower-case name
// keep accepts, names sorted, values trimmed and joined by ",": V4's
// canonical headers and V1's x-oss-* headers.
func headerLines(h http.Header, keep func(lower string) bool) string {
	var names []string
	for k := range h {
		if low := strings.ToLower(k); keep(low) {
			names = append(names, low)
		}
	}
	slices.Sort(names)
	var b strings.Builder
	for _, name := range names {
		vs := slices.Clone(h.Values(name))
		for i := range vs {
			vs[i] = strings.TrimSpace(vs[i])
		}
		b.WriteString(name + ":" + strings.Join(vs, ",") + "\n")
	}
	return b.String()
}

// canonicalRequestOSS4 is method, URI, query, headers, additional header
// names and the payload hash, one per line.
func canonicalRequestOSS4(r *ossRequest, additional []string) string {
	payload := r.header.Get(headerOSSContentSHA256)
	if payload == "" {
		payload = ossUnsigned
	}
	return strings.Join([]string{
		r.method, escapePath(r.resource()), canonicalQueryV4(r.query),
		canonicalHeadersV4(r.header, additional), strings.Join(additional, ";"), payload,
	}, "\n")
}

// stringToSignOSS4 is the algorithm, the x-oss-date time, the scope and
// hex(SHA-256(canonical request)), one per line.
func stringToSignOSS4(datetime, scope, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return ossAlgorithmV4 + "\n" + datetime + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
}

// signatureOSS4 derives the signing key from "aliyun_v4"+secret through the
// scope's date, region, product and terminal, then signs the string.
func signatureOSS4(secret, day, region, product, stringToSign string) string {
	key := []byte("aliyun_v4" + secret)
	for _, part := range []string{day, region, product, ossScopeTerminal, stringToSign} {
		key = hmacSum(sha256.New, key, []byte(part))
	}
	return hex.EncodeToString(key)
}

// authV4 is a parsed "OSS4-HMAC-SHA256 Credential=<id>/<day>/<region>/oss/
// aliyun_v4_request,AdditionalHeaders=<a;b>,Signature=<hex>".
type authV4 struct {
	keyID, day, region, product string
	additional                  []string
	signature                   string
}

func (a *authV4) scope() string {
	return a.day + "/" + a.region + "/" + a.product + "/" + ossScopeTerminal
}

// parseAuthV4 reads the Authorization header; the error says what is wrong.
func parseAuthV4(h string) (authV4, error) {
	rest, ok := strings.CutPrefix(h, ossAlgorithmV4+" ")
	if !ok {
		return authV4{}, errors.New("the authorization does not start with " + ossAlgorithmV4)
	}
	var a authV4
	for part := range strings.SplitSeq(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			fields := strings.Split(v, "/")
			if len(fields) != 5 || fields[4] != ossScopeTerminal {
				return authV4{}, fmt.Errorf("the credential %q is not <AccessKeyId>/<date>/<region>/oss/%s", shorten(v), ossScopeTerminal)
			}
			a.keyID, a.day, a.region, a.product = fields[0], fields[1], fields[2], fields[3]
		case "AdditionalHeaders":
			a.additional = strings.Split(strings.ToLower(v), ";")
		case "Signature":
			a.signature = v
		default:
			return authV4{}, fmt.Errorf("the authorization has an unknown part %q", shorten(k))
		}
	}
	if a.keyID == "" || a.signature == "" {
		return authV4{}, errors.New("the authorization lacks Credential or Signature")
	}
	return a, nil
}

// v1SignedSubresources are the query parameters V1's CanonicalizedResource
// includes (the document's list, as far as the served operations go);
// x-oss-* parameters are included too.
var v1SignedSubresources = []string{
	"acl", "append", "bucketInfo", "callback", "callback-var", "cname", "comp", "continuation-token", "cors",
	"delete", "lifecycle", "location", "logging", "objectMeta", "partNumber", "position", "qos", "referer",
	"replication", "response-cache-control", "response-content-disposition", "response-content-encoding",
	"response-content-language", "response-content-type", "response-expires", "restore", "security-token",
	"stat", "symlink", "tagging", "uploadId", "uploads", "versionId", "versioning", "versions", "website",
}

// stringToSignOSS1 is VERB, Content-MD5, Content-Type, Date, the x-oss-*
// headers and the canonicalized resource.
func stringToSignOSS1(r *ossRequest) string {
	var b strings.Builder
	b.WriteString(r.method + "\n" + r.header.Get("Content-MD5") + "\n" + r.header.Get("Content-Type") + "\n" +
		r.header.Get("Date") + "\n")
	b.WriteString(headerLines(r.header, func(low string) bool { return strings.HasPrefix(low, "x-oss-") }))
	b.WriteString(r.resource())
	var sub []string
	for k := range r.query {
		if slices.Contains(v1SignedSubresources, k) || strings.HasPrefix(k, "x-oss-") {
			sub = append(sub, k)
		}
	}
	slices.Sort(sub)
	for i, k := range sub {
		if v := r.query.Get(k); v != "" {
			sub[i] = k + "=" + v
		}
	}
	if len(sub) > 0 {
		b.WriteString("?" + strings.Join(sub, "&"))
	}
	return b.String()
}

// signatureOSS1 is base64(HMAC-SHA1(secret, stringToSign)).
func signatureOSS1(secret, stringToSign string) string {
	return base64.StdEncoding.EncodeToString(hmacSum(sha1.New, []byte(secret), []byte(stringToSign)))
}

// ossSigned is a request's signature, read but not yet verified.
type ossSigned struct {
	keyID string
	sent  time.Time // the request's own time, checked against the clock
	// verify recomputes the signature with a secret; it returns the string
	// to sign (and, for V4, the canonical request) for the error answer.
	verify func(secret string) (ok bool, stringToSign, canonical string)
	// scopeErr is a V4 scope that names the wrong date, region or product.
	scopeErr *ossError
}

// readOSSSignature reads either signature from the Authorization header.
// region is the region the endpoint serves, which a V4 scope must name.
func readOSSSignature(r *ossRequest, authorization, region string) (ossSigned, *ossError) {
	switch {
	case strings.HasPrefix(authorization, ossAlgorithmV4+" "):
		return readOSSSignatureV4(r, authorization, region)
	case strings.HasPrefix(authorization, ossV1Prefix):
		return readOSSSignatureV1(r, authorization)
	}
	return ossSigned{}, newOSSError(http.StatusForbidden, ossAccessDenied,
		"The simulator accepts only Authorization-header signatures (OSS4-HMAC-SHA256 or OSS); anonymous and presigned access is denied.")
}

func readOSSSignatureV4(r *ossRequest, authorization, region string) (ossSigned, *ossError) {
	a, err := parseAuthV4(authorization)
	if err != nil {
		return ossSigned{}, newOSSError(http.StatusBadRequest, ossInvalidArgument, "Authorization header is invalid: "+err.Error()+".")
	}
	datetime := r.header.Get(headerOSSDate)
	sent, err := time.Parse(ossDateLayoutV4, datetime)
	if err != nil {
		return ossSigned{}, newOSSError(http.StatusForbidden, ossAccessDenied,
			fmt.Sprintf("The x-oss-date header %q is missing or not in the 20060102T150405Z format.", shorten(datetime)))
	}
	s := ossSigned{keyID: a.keyID, sent: sent}
	switch {
	case a.day != sent.Format(ossDayLayoutV4):
		s.scopeErr = newOSSError(http.StatusBadRequest, ossInvalidArgument, "Invalid signing date in Authorization header.")
	case a.region != region:
		s.scopeErr = newOSSError(http.StatusBadRequest, ossInvalidArgument, "Invalid signing region in Authorization header.")
	case a.product != ossProduct:
		s.scopeErr = newOSSError(http.StatusBadRequest, ossInvalidArgument, "Invalid signing product in Authorization header.")
	}
	s.verify = func(secret string) (bool, string, string) {
		canonical := canonicalRequestOSS4(r, a.additional)
		sts := stringToSignOSS4(datetime, a.scope(), canonical)
		want := signatureOSS4(secret, a.day, a.region, a.product, sts)
		return hmac.Equal([]byte(want), []byte(a.signature)), sts, canonical
	}
	return s, nil
}

func readOSSSignatureV1(r *ossRequest, authorization string) (ossSigned, *ossError) {
	keyID, signature, ok := strings.Cut(strings.TrimPrefix(authorization, ossV1Prefix), ":")
	if !ok || keyID == "" || signature == "" {
		return ossSigned{}, newOSSError(http.StatusBadRequest, ossInvalidArgument, "Authorization header is invalid: want OSS <AccessKeyId>:<Signature>.")
	}
	sent, err := http.ParseTime(r.header.Get("Date"))
	if err != nil {
		return ossSigned{}, newOSSError(http.StatusForbidden, ossAccessDenied, "The Date header is missing or not an HTTP date.")
	}
	return ossSigned{keyID: keyID, sent: sent, verify: func(secret string) (bool, string, string) {
		sts := stringToSignOSS1(r)
		return hmac.Equal([]byte(signatureOSS1(secret, sts)), []byte(signature)), sts, ""
	}}, nil
}
