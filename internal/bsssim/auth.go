package bsssim

import (
	"crypto/hmac"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// The simulator's own fake test key: the default credential when
// Config.Credentials is empty. It opens nothing but a simulator.
const (
	TestAccessKeyID     = "LTAI5tSimulatorKey0001"
	TestAccessKeySecret = "SimulatorSecret0000000000000001"
)

// Credential is one AccessKey the simulated account accepts.
type Credential struct {
	AccessKeyID, AccessKeySecret string
	// SecurityToken set makes this a temporary (STS) credential: every
	// request must carry exactly this token.
	SecurityToken string
	// Expires ends a temporary credential: after it, by the wall clock,
	// requests are answered InvalidSecurityToken.Expired. Zero: never.
	Expires time.Time
	// DeniedActions are answered NoPermission (HTTP 403) with an
	// AccessDeniedDetail: a RAM member lacking bssapi:<Action>.
	DeniedActions []string
}

// String never shows the secret or the token.
func (c Credential) String() string {
	kind := "AccessKey"
	if c.SecurityToken != "" {
		kind = "STS token"
	}
	return fmt.Sprintf("%s %s", kind, c.AccessKeyID)
}

// GoString keeps %#v from printing the secret.
func (c Credential) GoString() string { return "bsssim.Credential{" + c.String() + "}" }

// Gateway limits (https://www.alibabacloud.com/help/en/sdk/product-overview/v3-request-structure-and-signature): a request's time may be at most 15
// minutes off the server's, and a nonce may not be used again within that span.
const (
	maxClockSkew = 15 * time.Minute
	nonceTTL     = maxClockSkew
	// maxNonces bounds the nonce memory even under an unlimited quota; the
	// oldest nonces are forgotten first.
	maxNonces = 1 << 20
)

// timestampLayout is the UTC layout of the V1 Timestamp and of x-acs-date.
const timestampLayout = "2006-01-02T15:04:05Z"

// Gateway messages, as documented (https://www.alibabacloud.com/help/en/openapi/user-guide/api-error-diagnosis).
const (
	msgSignatureMismatch = "Specified signature is not matched with our calculation. server string to sign is:"
	msgAccessKeyNotFound = "Specified access key is not found."
	msgTimeStampExpired  = "Specified time stamp or date value is expired."
	msgTimeStampFormat   = "Specified time stamp or date value is not well formatted."
	msgNonceUsed         = "Specified signature nonce was used already."
	msgIncomplete        = "The request signature does not conform to Aliyun standards."
)

// V3 headers (lower case, as signed).
const (
	headerAction        = "x-acs-action"
	headerVersion       = "x-acs-version"
	headerDate          = "x-acs-date"
	headerNonce         = "x-acs-signature-nonce"
	headerSecurityToken = "x-acs-security-token"
)

// authenticate checks a request's signature the way the gateway does, in the
// gateway's order: key, timestamp, nonce, signature, token, permission.
func (s *Server) authenticate(c *call) *apiError {
	var (
		keyID, nonce, dateText, token string
		verify                        func(secret string) (ok bool, stringToSign string)
		apiErr                        *apiError
	)
	if c.v3 {
		keyID, nonce, dateText, token, verify, apiErr = s.prepareV3(c)
	} else {
		keyID, nonce, dateText, token, verify, apiErr = prepareV1(c)
	}
	if apiErr != nil {
		return apiErr
	}

	cred, ok := s.creds[keyID]
	if !ok {
		return newAPIError(http.StatusNotFound, codeInvalidAccessKeyID, msgAccessKeyNotFound)
	}

	now := s.now()
	sent, err := time.Parse(time.RFC3339, dateText)
	if err != nil {
		return newAPIError(http.StatusBadRequest, "InvalidTimeStamp.Format",
			fmt.Sprintf("%s %q", msgTimeStampFormat, shorten(dateText)))
	}
	if skew := now.Sub(sent); skew > maxClockSkew || skew < -maxClockSkew {
		return newAPIError(http.StatusBadRequest, codeInvalidTimeStampExpired,
			fmt.Sprintf("%s The request time %s differs from the server time %s by more than %s.",
				msgTimeStampExpired, sent.UTC().Format(timestampLayout), now.UTC().Format(timestampLayout), maxClockSkew))
	}

	if s.nonces.seen(keyID, nonce, now) {
		return newAPIError(http.StatusBadRequest, codeSignatureNonceUsed, msgNonceUsed)
	}
	if ok, stringToSign := verify(cred.AccessKeySecret); !ok {
		return newAPIError(http.StatusBadRequest, codeSignatureDoesNotMatch, msgSignatureMismatch+stringToSign)
	}
	// Only a verified request spends its nonce, so a forged request cannot
	// burn the nonce of a genuine one.
	if !s.nonces.record(keyID, nonce, now) {
		return newAPIError(http.StatusBadRequest, codeSignatureNonceUsed, msgNonceUsed)
	}

	switch {
	case cred.SecurityToken == "" && token != "":
		return newAPIError(securityTokenHTTPStatus, codeSecurityTokenMalformed,
			"Specified SecurityToken is malformed: this AccessKey is not a temporary credential and takes no SecurityToken.")
	case cred.SecurityToken != "" && token == "":
		return newAPIError(securityTokenHTTPStatus, codeSecurityTokenMalformed,
			"Specified SecurityToken is malformed: this temporary AccessKey needs its SecurityToken.")
	case cred.SecurityToken != "" && !hmac.Equal([]byte(token), []byte(cred.SecurityToken)):
		return newAPIError(securityTokenHTTPStatus, codeSecurityTokenMalformed,
			"Specified SecurityToken is malformed: it does not belong to this AccessKey.")
	case cred.SecurityToken != "" && !cred.Expires.IsZero() && now.After(cred.Expires):
		return newAPIError(securityTokenHTTPStatus, codeSecurityTokenExpired,
			fmt.Sprintf("Specified SecurityToken is expired: it expired at %s.", cred.Expires.UTC().Format(timestampLayout)))
	}

	if slices.Contains(cred.DeniedActions, c.action) {
		return s.noPermission(keyID, c.action)
	}
	switch s.faults.callerFault(c.action) {
	case codeNoPermission:
		s.stats.fault(faultNoPermission)
		return s.noPermission(keyID, c.action)
	case codeSecurityTokenExpired:
		s.stats.fault(faultSTSExpired)
		return newAPIError(securityTokenHTTPStatus, codeSecurityTokenExpired,
			"Specified SecurityToken is expired.")
	}
	return nil
}

// noPermission is the gateway's answer to a RAM user lacking bssapi:<action>.
func (s *Server) noPermission(keyID, action string) *apiError {
	e := newAPIError(http.StatusForbidden, codeNoPermission,
		fmt.Sprintf("You are not authorized to do this operation. Action: %s%s.", ramActionPrefix, action))
	e.denied = &accessDeniedDetail{
		AuthAction:               ramActionPrefix + action,
		AuthPrincipalDisplayName: "simulator-member-" + lastChars(keyID, 4),
		AuthPrincipalOwnerID:     s.world.AccountID(),
		AuthPrincipalType:        "SubUser",
		NoPermissionType:         "ImplicitDeny",
		PolicyType:               "AccountLevelIdentityBasedPolicy",
	}
	return e
}

// codeSecurityTokenMalformed answers a token that does not match its key.
// INFERRED: the InvalidSecurityToken.* codes and their HTTP status are not
// documented; clients key on the Code prefix.
const (
	codeSecurityTokenMalformed = "InvalidSecurityToken.Malformed"
	securityTokenHTTPStatus    = http.StatusBadRequest
)

// ramActionPrefix is the RAM namespace of the BSS read actions (the
// "Authorization information" of https://www.alibabacloud.com/help/en/boa/latest/api-bssopenapi-2017-12-14-queryaccountbill).
const ramActionPrefix = "bssapi:"

// accessDeniedDetail is the gateway's explanation of a RAM denial
// (https://www.alibabacloud.com/help/en/openapi/user-guide/api-error-diagnosis).
type accessDeniedDetail struct {
	AuthAction               string `json:"AuthAction"`
	AuthPrincipalDisplayName string `json:"AuthPrincipalDisplayName"`
	AuthPrincipalOwnerID     string `json:"AuthPrincipalOwnerId"`
	AuthPrincipalType        string `json:"AuthPrincipalType"`
	NoPermissionType         string `json:"NoPermissionType"`
	PolicyType               string `json:"PolicyType"`
}

// prepareV1 reads the V1 common parameters (https://help.aliyun.com/en/user-center/developer-reference/common-parameters).
func prepareV1(c *call) (keyID, nonce, date, token string, verify func(string) (bool, string), apiErr *apiError) {
	for _, name := range []string{"Signature", "AccessKeyId", "SignatureMethod", "SignatureVersion", "SignatureNonce", "Timestamp"} {
		if c.params.Get(name) == "" {
			return "", "", "", "", nil, missingParameter(name)
		}
	}
	if m := c.params.Get("SignatureMethod"); m != "HMAC-SHA1" {
		return "", "", "", "", nil, incompleteSignature("SignatureMethod %q is not supported; use HMAC-SHA1.", shorten(m))
	}
	if v := c.params.Get("SignatureVersion"); v != "1.0" {
		return "", "", "", "", nil, incompleteSignature("SignatureVersion %q is not supported; use 1.0.", shorten(v))
	}
	verify = func(secret string) (bool, string) {
		stringToSign := stringToSignV1(c.method, c.params)
		want := signatureV1(secret, stringToSign)
		return hmac.Equal([]byte(want), []byte(c.params.Get("Signature"))), stringToSign
	}
	return c.params.Get("AccessKeyId"), c.params.Get("SignatureNonce"), c.params.Get("Timestamp"),
		c.params.Get("SecurityToken"), verify, nil
}

// requiredSignedV3 are the headers a V3 signature must cover: without them
// a captured request could be replayed with another action, time or nonce.
var requiredSignedV3 = []string{headerAction, headerDate, headerNonce, headerVersion}

// prepareV3 reads the ACS3-HMAC-SHA256 Authorization header (https://www.alibabacloud.com/help/en/sdk/product-overview/v3-request-structure-and-signature).
func (s *Server) prepareV3(c *call) (keyID, nonce, date, token string, verify func(string) (bool, string), apiErr *apiError) {
	h := c.header.Get("Authorization")
	if h == "" {
		return "", "", "", "", nil, incompleteSignature("The Authorization header is missing.")
	}
	keyID, signed, signature, err := parseAuthorizationV3(h)
	if err != nil {
		return "", "", "", "", nil, incompleteSignature("%s.", err)
	}
	for _, name := range requiredSignedV3 {
		if c.header.Get(name) == "" {
			return "", "", "", "", nil, incompleteSignature("The %s header is missing.", name)
		}
		if !slices.Contains(signed, name) {
			return "", "", "", "", nil, incompleteSignature("The %s header must be signed.", name)
		}
	}
	token = c.header.Get(headerSecurityToken)
	if token != "" && !slices.Contains(signed, headerSecurityToken) {
		return "", "", "", "", nil, incompleteSignature("The %s header must be signed.", headerSecurityToken)
	}

	verify = func(secret string) (bool, string) {
		// Sign exactly the headers the client listed: take only those from
		// the request and let CanonicalRequestV3 order them.
		subset := make(http.Header, len(signed))
		host := ""
		for _, name := range signed {
			if name == "host" {
				host = c.host
				continue
			}
			if values := c.header.Values(name); len(values) > 0 {
				subset[http.CanonicalHeaderKey(name)] = values
			}
		}
		canonical, serverSigned := canonicalRequestV3(c.method, c.path, c.query, subset, host, c.payloadHash)
		stringToSign := stringToSignV3(canonical)
		if serverSigned != strings.Join(signed, ";") {
			// A listed header is absent, not signable (only x-acs-*, host
			// and content-type are), or the list is not sorted.
			return false, stringToSign
		}
		want := signatureV3(secret, stringToSign)
		return hmac.Equal([]byte(want), []byte(signature)), stringToSign
	}
	return keyID, c.header.Get(headerNonce), c.header.Get(headerDate), token, verify, nil
}

// nonceStore remembers the nonces of verified requests for nonceTTL.
type nonceStore struct {
	mu      sync.Mutex
	expires map[string]time.Time
	order   []nonceEntry // insertion order; the wall clock only moves forward in production
	head    int
}

type nonceEntry struct {
	key     string
	expires time.Time
}

func newNonceStore() *nonceStore { return &nonceStore{expires: make(map[string]time.Time)} }

func nonceKey(keyID, nonce string) string { return keyID + "\x00" + nonce }

// seen reports whether the nonce was used within nonceTTL before now.
func (n *nonceStore) seen(keyID, nonce string, now time.Time) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.expire(now)
	exp, ok := n.expires[nonceKey(keyID, nonce)]
	return ok && now.Before(exp)
}

// record spends the nonce; false if a concurrent request spent it first.
func (n *nonceStore) record(keyID, nonce string, now time.Time) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	k := nonceKey(keyID, nonce)
	if exp, ok := n.expires[k]; ok && now.Before(exp) {
		return false
	}
	exp := now.Add(nonceTTL)
	n.expires[k] = exp
	n.order = append(n.order, nonceEntry{key: k, expires: exp})
	for len(n.expires) > maxNonces {
		n.evict()
	}
	return true
}

// expire forgets nonces whose time is up.
func (n *nonceStore) expire(now time.Time) {
	for n.head < len(n.order) && !now.Before(n.order[n.head].expires) {
		n.evict()
	}
}

// evict forgets the oldest nonce and compacts the queue now and then.
func (n *nonceStore) evict() {
	e := n.order[n.head]
	n.order[n.head] = nonceEntry{}
	n.head++
	if exp, ok := n.expires[e.key]; ok && exp.Equal(e.expires) {
		delete(n.expires, e.key)
	}
	if n.head > 1024 && n.head*2 > len(n.order) {
		n.order = append(n.order[:0:0], n.order[n.head:]...)
		n.head = 0
	}
}

// incompleteSignature is the gateway's IncompleteSignature answer, its
// message followed by the detail format writes.
func incompleteSignature(format string, a ...any) *apiError {
	return newAPIError(http.StatusBadRequest, "IncompleteSignature", msgIncomplete+" "+fmt.Sprintf(format, a...))
}

// missingParameter is the gateway's answer to an absent common parameter.
func missingParameter(name string) *apiError {
	return newAPIError(http.StatusBadRequest, codeMissingParameter,
		fmt.Sprintf("The input parameter %q that is mandatory for processing this request is not supplied.", name))
}

func lastChars(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
