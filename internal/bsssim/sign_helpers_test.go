package bsssim

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"time"

	"github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	"github.com/alibabacloud-go/tea/dara"
)

// The tests sign their requests with Alibaba's own helper module
// (darabonba-openapi's utils, what the V3 SDKs call), never with the
// simulator's verifier or the project's client: a request the simulator
// accepts here is one Alibaba's code signed.

// signingKey is a key a test signs with.
type signingKey struct {
	AccessKeyID, AccessKeySecret, SecurityToken string
}

// emptyPayloadHash is hex(SHA-256("")).
const emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

func newNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// signParamsV1 adds the V1 common parameters and the Signature, computed
// by utils.GetRPCSignature.
func signParamsV1(method string, p url.Values, action, version string, key signingKey, date time.Time, nonce string) {
	p.Set("Action", action)
	p.Set("Version", version)
	p.Set("Format", "JSON")
	p.Set("Timestamp", date.UTC().Format(timestampLayout))
	p.Set("SignatureMethod", "HMAC-SHA1")
	p.Set("SignatureVersion", "1.0")
	p.Set("SignatureNonce", nonce)
	p.Set("AccessKeyId", key.AccessKeyID)
	if key.SecurityToken != "" {
		p.Set("SecurityToken", key.SecurityToken)
	}
	p.Del("Signature")
	signed := map[string]*string{}
	for k := range p {
		signed[k] = dara.String(p.Get(k))
	}
	p.Set("Signature", dara.StringValue(utils.GetRPCSignature(signed, dara.String(method), dara.String(key.AccessKeySecret))))
}

// signRequestV3 sets the headers darabonba sends and the Authorization
// computed by utils.GetAuthorization. The request body must be empty.
func signRequestV3(req *http.Request, action, version string, key signingKey, date time.Time, nonce string) {
	req.Header.Set(headerAction, action)
	req.Header.Set(headerVersion, version)
	req.Header.Set(headerDate, date.UTC().Format(timestampLayout))
	req.Header.Set(headerNonce, nonce)
	req.Header.Set("x-acs-content-sha256", emptyPayloadHash)
	if key.SecurityToken != "" {
		req.Header.Set(headerSecurityToken, key.SecurityToken)
		req.Header.Set("x-acs-accesskey-id", key.AccessKeyID)
	}
	headers := map[string]*string{"host": dara.String(req.URL.Host)}
	for k := range req.Header {
		headers[k] = dara.String(req.Header.Get(k))
	}
	query := map[string]*string{}
	for k := range req.URL.Query() {
		query[k] = dara.String(req.URL.Query().Get(k))
	}
	dr := &dara.Request{Method: dara.String(req.Method), Pathname: dara.String(req.URL.Path), Query: query, Headers: headers}
	req.Header.Set("Authorization", dara.StringValue(utils.GetAuthorization(dr, dara.String(algorithmV3),
		dara.String(emptyPayloadHash), dara.String(key.AccessKeyID), dara.String(key.AccessKeySecret))))
}

func mustParseMoney(s string) Money {
	m, err := parseMoney(s)
	if err != nil {
		panic(err)
	}
	return m
}
