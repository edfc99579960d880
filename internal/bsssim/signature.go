package bsssim

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// The simulator's own reading of Alibaba Cloud's two request signatures,
// written from the public documents, not from the client:
//   - V1 (HMAC-SHA1, RPC style):
//     https://www.alibabacloud.com/help/doc-detail/50286.html and
//     https://help.aliyun.com/en/user-center/developer-reference/common-parameters
//   - V3 (ACS3-HMAC-SHA256):
//     https://www.alibabacloud.com/help/en/sdk/product-overview/v3-request-structure-and-signature
//
// Alibaba's official SDKs signing requests to the simulator are the
// acceptance test of this file (sdk_test.go).

// algorithmV3 opens a V3 Authorization header and a V3 string to sign.
const algorithmV3 = "ACS3-HMAC-SHA256"

// percentEncode is RFC 3986 encoding as both signatures use it: only
// A-Z a-z 0-9 - _ . ~ stay; every other byte is %XX in upper-case hex.
func percentEncode(s string) string {
	// url.QueryEscape leaves the same unreserved set and writes upper-case
	// hex; it writes a space as "+" and leaves nothing else differing.
	e := url.QueryEscape(s)
	return strings.ReplaceAll(e, "+", "%20")
}

// escapePath percent-encodes each segment of a path and keeps the "/"s: the
// canonical URI of V3 and of OSS V4.
func escapePath(path string) string {
	segments := strings.Split(path, "/")
	for i := range segments {
		segments[i] = percentEncode(segments[i])
	}
	return strings.Join(segments, "/")
}

// canonicalQuery sorts parameters by name and then value, encodes both and
// joins "name=value" with "&", leaving out skip (V1's Signature).
func canonicalQuery(q url.Values, skip string) string {
	names := slices.DeleteFunc(slices.Sorted(maps.Keys(q)), func(name string) bool { return skip != "" && name == skip })
	var parts []string
	for _, name := range names {
		values := slices.Clone(q[name])
		if len(values) == 0 {
			values = []string{""}
		}
		slices.Sort(values)
		for _, v := range values {
			parts = append(parts, percentEncode(name)+"="+percentEncode(v))
		}
	}
	return strings.Join(parts, "&")
}

// stringToSignV1 is METHOD&%2F&encode(canonical query without Signature).
func stringToSignV1(method string, params url.Values) string {
	return strings.ToUpper(method) + "&%2F&" + percentEncode(canonicalQuery(params, "Signature"))
}

// signatureV1 is base64(HMAC-SHA1(secret + "&", stringToSign)).
func signatureV1(secret, stringToSign string) string {
	return base64.StdEncoding.EncodeToString(hmacSum(sha1.New, []byte(secret+"&"), []byte(stringToSign)))
}

// hmacSum is the HMAC of parts, in order, under key with the hash h.
func hmacSum(h func() hash.Hash, key []byte, parts ...[]byte) []byte {
	m := hmac.New(h, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// canonicalRequestV3 builds the V3 canonical request over the given headers
// (already reduced to those the client lists) and returns it with the
// headers it signs: every x-acs-* header, host and content-type.
func canonicalRequestV3(method, path string, query url.Values, header http.Header, host, payloadHash string) (canonical, signedHeaders string) {
	values := map[string][]string{}
	for k, vs := range header {
		name := strings.ToLower(k)
		if name == "host" || (!strings.HasPrefix(name, "x-acs-") && name != "content-type") {
			continue
		}
		for _, v := range vs {
			values[name] = append(values[name], strings.TrimSpace(v))
		}
	}
	if host != "" {
		values["host"] = []string{host}
	}
	names := slices.Sorted(maps.Keys(values))
	var headers strings.Builder
	for _, name := range names {
		vs := values[name]
		slices.Sort(vs)
		headers.WriteString(name + ":" + strings.Join(vs, ",") + "\n")
	}
	if path == "" {
		path = "/"
	}
	signedHeaders = strings.Join(names, ";")
	canonical = strings.Join([]string{
		strings.ToUpper(method), escapePath(path), canonicalQuery(query, ""),
		headers.String(), signedHeaders, payloadHash,
	}, "\n")
	return canonical, signedHeaders
}

// stringToSignV3 is the algorithm, a newline and hex(SHA-256(canonical)).
func stringToSignV3(canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return algorithmV3 + "\n" + hex.EncodeToString(sum[:])
}

// signatureV3 is hex(HMAC-SHA256(secret, stringToSign)); no "&" unlike V1.
func signatureV3(secret, stringToSign string) string {
	return hex.EncodeToString(hmacSum(sha256.New, []byte(secret), []byte(stringToSign)))
}

// parseAuthorizationV3 reads
// "ACS3-HMAC-SHA256 Credential=<key>,SignedHeaders=<a;b>,Signature=<hex>".
// The error names the malformed part.
func parseAuthorizationV3(h string) (keyID string, signed []string, signature string, err error) {
	algorithm, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if algorithm != algorithmV3 {
		return "", nil, "", fmt.Errorf("the authorization algorithm %q is not %s", shorten(algorithm), algorithmV3)
	}
	fields := map[string]string{}
	for part := range strings.SplitSeq(rest, ",") {
		key, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		switch {
		case !ok:
			return "", nil, "", fmt.Errorf("the authorization part %q is not key=value", shorten(part))
		case key != "Credential" && key != "SignedHeaders" && key != "Signature":
			return "", nil, "", fmt.Errorf("the authorization has an unknown part %q", shorten(key))
		case fields[key] != "":
			return "", nil, "", fmt.Errorf("the authorization has %s twice", key)
		case value == "":
			return "", nil, "", fmt.Errorf("the authorization %s is empty", key)
		}
		fields[key] = value
	}
	for _, key := range []string{"Credential", "SignedHeaders", "Signature"} {
		if fields[key] == "" {
			return "", nil, "", errors.New("the authorization lacks " + key)
		}
	}
	signed = strings.Split(fields["SignedHeaders"], ";")
	for _, name := range signed {
		if name == "" || name != strings.ToLower(name) {
			return "", nil, "", fmt.Errorf("the authorization SignedHeaders %q has an empty or upper-case name", shorten(fields["SignedHeaders"]))
		}
	}
	return fields["Credential"], signed, fields["Signature"], nil
}
