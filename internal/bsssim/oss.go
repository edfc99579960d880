package bsssim

import (
	"cmp"
	"crypto/hmac"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// OSSConfig describes the simulated OSS endpoint that holds the bill files
// of the World's subscriptions (QueryBillToOSSSubscription).
type OSSConfig struct {
	// Credentials are the AccessKeys accepted, as Config.Credentials (the
	// same pairs and STS tokens the BSS endpoint takes). A credential's
	// DeniedActions may name "oss:ListObjects" or "oss:GetObject" (the RAM
	// actions), answered AccessDenied. Default: TestAccessKeyID.
	Credentials []Credential
	// Clock is billing time, which decides which files exist and what they
	// hold; share the BSS Server's clock so both answer the same moment.
	// Default: real time.
	Clock Clock
	// WallClock is real time for the signature time checks. Default: time.Now.
	WallClock func() time.Time
	// Region is the region the bucket lives in, which V4 signatures must
	// name in their scope. Default: DefaultOSSRegion.
	Region string
	// RowLimitPerFile, if positive, replaces every subscription's
	// RowLimitPerFile (300000), so a test can see zipped files cheaply.
	RowLimitPerFile int
	// Faults makes files missing or drops a column; nil injects none.
	Faults *OSSFaults
}

// DefaultOSSRegion is the region of the simulated bucket.
const DefaultOSSRegion = "cn-hangzhou"

// ossMaxClockSkew: OSS refuses a request whose time is more than 15 minutes
// off its own (RequestTimeTooSkewed).
const ossMaxClockSkew = 15 * time.Minute

// RAM actions of the served operations.
const (
	ramListObjects = "oss:ListObjects"
	ramGetObject   = "oss:GetObject"
)

// OSSServer is the simulated OSS endpoint. It serves GET and HEAD only:
// ListObjectsV2 on a bucket, GetObject (whole, or one byte range) and
// HeadObject on an object, addressed path-style (/bucket/key) or
// virtual-hosted (Host: bucket.<anything>).
type OSSServer struct {
	world    *World
	creds    map[string]Credential
	clock    Clock
	wall     func() time.Time
	region   string
	rowLimit int
	faults   *OSSFaults
	sizes    *boundedCache[string, int64] // object size by ETag
}

// NewOSSHandler checks cfg and returns the endpoint serving world's files.
func NewOSSHandler(world *World, cfg OSSConfig) (*OSSServer, error) {
	if world == nil {
		return nil, errors.New("bsssim: NewOSSHandler needs a World")
	}
	s := &OSSServer{world: world, region: cmp.Or(cfg.Region, DefaultOSSRegion), rowLimit: cfg.RowLimitPerFile,
		faults: cmp.Or(cfg.Faults, NewOSSFaults()), sizes: newBoundedCache[string, int64](4096)}
	creds := credentialsOrTest(cfg.Credentials)
	s.creds = make(map[string]Credential, len(creds))
	for _, c := range creds {
		if c.AccessKeyID == "" || c.AccessKeySecret == "" {
			return nil, fmt.Errorf("bsssim: OSS credential %q lacks its ID or secret", c.AccessKeyID)
		}
		s.creds[c.AccessKeyID] = c
	}
	s.clock, s.wall = clocksOrReal(cfg.Clock, cfg.WallClock)
	return s, nil
}

// Faults returns the endpoint's fault switches, to change at run time.
func (s *OSSServer) Faults() *OSSFaults { return s.faults }

// ossError is an error answer, written as OSS writes them.
type ossError struct {
	status  int
	code    string
	message string
	extra   []xmlField // BucketName, Key, StringToSign, …
}

type xmlField struct{ name, value string }

func newOSSError(status int, code, message string) *ossError {
	return &ossError{status: status, code: code, message: message}
}

func (e *ossError) with(name, value string) *ossError {
	e.extra = append(e.extra, xmlField{name, value})
	return e
}

// OSS error codes (https://www.alibabacloud.com/help/en/oss/support/http-status-code-4xx).
const (
	ossAccessDenied          = "AccessDenied"
	ossInvalidArgument       = "InvalidArgument"
	ossInvalidAccessKeyID    = "InvalidAccessKeyId"
	ossSignatureDoesNotMatch = "SignatureDoesNotMatch"
	ossRequestTimeTooSkewed  = "RequestTimeTooSkewed"
	ossNoSuchBucket          = "NoSuchBucket"
	ossNoSuchKey             = "NoSuchKey"
	ossInvalidRange          = "InvalidRange"
	ossMethodNotAllowed      = "MethodNotAllowed"
	ossNotImplemented        = "NotImplemented"
	// INFERRED: the codes OSS answers a bad or expired STS token with.
	ossInvalidSecurityToken = "InvalidSecurityToken"
	ossSecurityTokenExpired = "SecurityTokenExpired"
)

// ServeHTTP answers one OSS request.
func (s *OSSServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := newOSSRequestID()
	h := w.Header()
	h.Set("x-oss-request-id", requestID)
	h.Set("Server", "AliyunOSS")
	h.Set("Date", s.wall().UTC().Format(http.TimeFormat))
	req, e := s.readOSSRequest(r)
	if e == nil {
		e = s.authenticate(req, r.Header.Get("Authorization"))
	}
	if e == nil {
		e = s.route(w, r, req)
	}
	if e != nil {
		s.replyOSSError(w, r, requestID, e)
	}
}

// readOSSRequest finds the bucket and key in the host or the path.
func (s *OSSServer) readOSSRequest(r *http.Request) (*ossRequest, *ossError) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return nil, newOSSError(http.StatusMethodNotAllowed, ossMethodNotAllowed,
			"The specified method is not allowed against this resource.").with("Method", r.Method)
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, newOSSError(http.StatusBadRequest, ossInvalidArgument, "The query string is not valid.")
	}
	req := &ossRequest{method: r.Method, query: q, header: r.Header}
	path := strings.TrimPrefix(r.URL.Path, "/")
	if b := s.virtualHostBucket(r.Host); b != "" {
		req.bucket, req.key = b, path
	} else {
		req.bucket, req.key, _ = strings.Cut(path, "/")
	}
	return req, nil
}

// virtualHostBucket is the bucket a virtual-hosted request names in its
// Host ("bucket.oss-cn-hangzhou.aliyuncs.com"), or "" for path style: an
// IP address, or a host whose first label is no bucket of the World.
func (s *OSSServer) virtualHostBucket(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	label, _, ok := strings.Cut(host, ".")
	if !ok || net.ParseIP(host) != nil {
		return ""
	}
	if s.hasBucket(label) {
		return label
	}
	return ""
}

// authenticate checks the signature in OSS's order: key, time, scope,
// signature, security token.
func (s *OSSServer) authenticate(req *ossRequest, authorization string) *ossError {
	signed, e := readOSSSignature(req, authorization, s.region)
	if e != nil {
		return e
	}
	cred, ok := s.creds[signed.keyID]
	if !ok {
		return newOSSError(http.StatusForbidden, ossInvalidAccessKeyID,
			"The OSS Access Key Id you provided does not exist in our records.").with("OSSAccessKeyId", signed.keyID)
	}
	now := s.wall()
	if skew := now.Sub(signed.sent); skew > ossMaxClockSkew || skew < -ossMaxClockSkew {
		return newOSSError(http.StatusForbidden, ossRequestTimeTooSkewed,
			"The difference between the request time and the current time is too large.").
			with("RequestTime", signed.sent.UTC().Format(time.RFC3339)).with("ServerTime", now.UTC().Format(time.RFC3339))
	}
	if signed.scopeErr != nil {
		return signed.scopeErr
	}
	if ok, sts, canonical := signed.verify(cred.AccessKeySecret); !ok {
		e := newOSSError(http.StatusForbidden, ossSignatureDoesNotMatch,
			"The request signature we calculated does not match the signature you provided. Check your key and signing method.").
			with("OSSAccessKeyId", signed.keyID).with("StringToSign", sts)
		if canonical != "" {
			e.with("CanonicalRequest", canonical)
		}
		return e
	}
	return checkOSSToken(cred, req.header.Get(headerOSSSecurityToken), now)
}

// checkOSSToken: a temporary credential needs its own token, unexpired;
// a permanent one takes none.
func checkOSSToken(cred Credential, token string, now time.Time) *ossError {
	switch {
	case cred.SecurityToken == "" && token == "":
		return nil
	case cred.SecurityToken == "" || !hmac.Equal([]byte(token), []byte(cred.SecurityToken)):
		return newOSSError(http.StatusForbidden, ossInvalidSecurityToken, "The security token you provided is invalid.")
	case !cred.Expires.IsZero() && now.After(cred.Expires):
		return newOSSError(http.StatusForbidden, ossSecurityTokenExpired, "The security token you provided has expired.")
	}
	return nil
}

// route answers a verified request.
func (s *OSSServer) route(w http.ResponseWriter, r *http.Request, req *ossRequest) *ossError {
	if req.bucket == "" {
		return newOSSError(http.StatusNotImplemented, ossNotImplemented, "The simulator serves no ListBuckets; name the bucket.")
	}
	if !s.hasBucket(req.bucket) {
		return newOSSError(http.StatusNotFound, ossNoSuchBucket, "The specified bucket does not exist.").with("BucketName", req.bucket)
	}
	keyID := accessKeyOf(r.Header.Get("Authorization"))
	if req.key == "" {
		if s.denied(keyID, ramListObjects) {
			return accessDenied(ramListObjects)
		}
		return s.listObjectsV2(w, req)
	}
	if s.denied(keyID, ramGetObject) {
		return accessDenied(ramGetObject)
	}
	return s.serveObject(w, r, req)
}

func accessDenied(action string) *ossError {
	return newOSSError(http.StatusForbidden, ossAccessDenied,
		"You have no right to access this object because of bucket acl or RAM policy.").with("Action", action)
}

// accessKeyOf is the AccessKey ID an (already verified) Authorization names.
func accessKeyOf(authorization string) string {
	if a, err := parseAuthV4(authorization); err == nil {
		return a.keyID
	}
	id, _, _ := strings.Cut(strings.TrimPrefix(authorization, ossV1Prefix), ":")
	return id
}

func (s *OSSServer) denied(keyID, action string) bool {
	return slices.Contains(s.creds[keyID].DeniedActions, action)
}

func (s *OSSServer) hasBucket(bucket string) bool {
	return slices.ContainsFunc(s.world.Subscriptions(), func(sub BillSubscription) bool { return sub.SubscribeBucket == bucket })
}

// newOSSRequestID is 24 upper-case hex digits, as OSS's request IDs look.
func newOSSRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// RunningOSS is an OSSServer listening on a loopback port.
type RunningOSS struct {
	// URL is the endpoint, http://127.0.0.1:port; the SDK needs path style
	// (or takes it by itself for an IP endpoint).
	URL string
	// Host is 127.0.0.1:port.
	Host   string
	Server *OSSServer
	loop   *loopback
}

// StartOSS serves world's bill files on 127.0.0.1 with a free port.
func StartOSS(world *World, cfg OSSConfig) (*RunningOSS, error) {
	s, err := NewOSSHandler(world, cfg)
	if err != nil {
		return nil, err
	}
	loop, err := serveLoopback(s)
	if err != nil {
		return nil, err
	}
	return &RunningOSS{URL: "http://" + loop.addr, Host: loop.addr, Server: s, loop: loop}, nil
}

// Close stops listening and ends open connections.
func (r *RunningOSS) Close() error { return r.loop.close() }
