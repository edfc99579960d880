package bssclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
)

// ErrorClass groups failures by what a caller should do about them.
type ErrorClass string

const (
	ClassThrottled       ErrorClass = "throttled"        // slow down and retry
	ClassAuthentication  ErrorClass = "authentication"   // key, secret, token, signature or clock is wrong
	ClassAuthorization   ErrorClass = "authorization"    // the identity may not call this API
	ClassBadRequest      ErrorClass = "bad_request"      // our parameters are wrong; retrying will not help
	ClassServer          ErrorClass = "server"           // BSS failed; retry later
	ClassTransport       ErrorClass = "transport"        // no usable HTTP exchange: DNS, connect, reset, timeout
	ClassInvalidResponse ErrorClass = "invalid_response" // a reply we cannot trust: bad JSON, inconsistent pages
)

// Well-known BSS and gateway error codes
// (https://help.aliyun.com/document_detail/48054.html,
// https://alibabacloud.com/help/en/openapi/user-guide/api-error-diagnosis).
const (
	CodeThrottlingUser          = "Throttling.User"
	CodeSignatureDoesNotMatch   = "SignatureDoesNotMatch"
	CodeInvalidAccessKeyID      = "InvalidAccessKeyId.NotFound"
	CodeInvalidTimeStampExpired = "InvalidTimeStamp.Expired"
	CodeSignatureNonceUsed      = "SignatureNonceUsed"
	CodeSecurityTokenExpired    = "InvalidSecurityToken.Expired"
	CodeInvalidParameter        = "InvalidParameter"
	CodeMissingParameter        = "MissingParameter"
	CodeForbiddenRAM            = "Forbidden.RAM"
	CodeNoPermission            = "NoPermission"
	CodeInternalError           = "InternalError"
	CodeServiceUnavailable      = "ServiceUnavailable"

	// CodeSplitBillNotEnabled is what DescribeSplitItemBill answers when the
	// account has not enabled Split Bill in the console. INFERRED: the docs
	// say only that split bills need the service enabled; the real code is
	// unknown. The collector and the simulator both use this constant, so a
	// live observation changes one line.
	CodeSplitBillNotEnabled = "NotApplicable"
)

// Codes the client makes up for failures that carry no BSS code, so that
// metrics count every error by a code.
const (
	CodeTransport       = "Transport"
	CodeTimeout         = "Timeout"
	CodeInvalidResponse = "InvalidResponse"
	CodeRepeatedToken   = "Pagination.RepeatedNextToken"
	CodeTotalCountDrift = "Pagination.TotalCountChanged"
	CodeEmptyPage       = "Pagination.EmptyPage"
	CodeCredentials     = "Credentials"
)

// APIError is an error answered by BSS: an HTTP 4xx/5xx with the error body,
// or an HTTP 200 whose envelope says Success:false.
type APIError struct {
	Action     string
	HTTPStatus int
	Code       string
	Message    string
	RequestID  string
	HostID     string
	Recommend  string
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("BSS %s: %s: %s (HTTP %d", e.Action, e.Code, e.Message, e.HTTPStatus)
	if e.RequestID != "" {
		s += ", RequestId " + e.RequestID
	}
	return s + ")"
}

// Class classifies the error by its Code. The HTTP status is consulted only
// for codes this package does not know, because BSS and its gateway disagree
// about statuses (Throttling.User is documented as 400 and observed as 429).
func (e *APIError) Class() ErrorClass {
	c := e.Code
	switch {
	case strings.HasPrefix(c, "Throttling"):
		return ClassThrottled
	case strings.HasPrefix(c, "InvalidAccessKeyId"),
		strings.HasPrefix(c, "InvalidSecurityToken"),
		strings.HasPrefix(c, "InvalidTimeStamp"),
		c == CodeSignatureDoesNotMatch, c == "IncompleteSignature", c == CodeSignatureNonceUsed,
		c == "InvalidAccessKeySecret":
		return ClassAuthentication
	case strings.HasPrefix(c, "Forbidden"), c == CodeNoPermission, c == "NotAuthorized",
		c == "NotApplicable", c == "AccessDenied":
		return ClassAuthorization
	case strings.HasPrefix(c, "InvalidParameter"), strings.HasPrefix(c, "Missing"),
		strings.HasPrefix(c, "InvalidAction"), strings.HasPrefix(c, "InvalidApi"),
		strings.HasPrefix(c, "InvalidBillingCycle"), strings.HasPrefix(c, "InvalidBillingDate"):
		return ClassBadRequest
	case c == CodeInternalError, c == CodeServiceUnavailable, strings.HasPrefix(c, "InternalError"),
		strings.HasPrefix(c, "ServiceUnavailable"):
		return ClassServer
	}
	switch {
	case e.HTTPStatus >= 500:
		return ClassServer
	case e.HTTPStatus == http.StatusTooManyRequests:
		// A gateway's 429 without a BSS code is throttling too.
		return ClassThrottled
	}
	return ClassBadRequest
}

// TransportError is a request that got no usable HTTP answer.
type TransportError struct {
	Action string
	Err    error
}

func (e *TransportError) Error() string { return fmt.Sprintf("BSS %s: %v", e.Action, e.Err) }
func (e *TransportError) Unwrap() error { return e.Err }

// ResponseError is an answer we cannot trust: malformed or truncated JSON, a
// missing envelope, or a paginated walk that contradicts itself.
type ResponseError struct {
	Action string
	Code   string // CodeInvalidResponse or one of the Pagination codes
	Detail string
}

func (e *ResponseError) Error() string {
	return fmt.Sprintf("BSS %s: %s: %s", e.Action, e.Code, e.Detail)
}

// CredentialsError is a failure to obtain credentials. It never carries the
// credentials themselves.
type CredentialsError struct{ Err error }

func (e *CredentialsError) Error() string { return "obtaining credentials: " + e.Err.Error() }
func (e *CredentialsError) Unwrap() error { return e.Err }

// Classify returns the class of any error returned by this package.
func Classify(err error) ErrorClass {
	var apiErr *APIError
	var respErr *ResponseError
	var credErr *CredentialsError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &apiErr):
		return apiErr.Class()
	case errors.As(err, &respErr):
		return ClassInvalidResponse
	case errors.As(err, &credErr):
		return ClassAuthentication
	}
	return ClassTransport
}

// ErrorCode returns the code to count an error under: the BSS Code when there
// is one, else one of the client's own codes.
func ErrorCode(err error) string {
	var apiErr *APIError
	var respErr *ResponseError
	var credErr *CredentialsError
	var netErr net.Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &apiErr):
		if apiErr.Code == "" {
			return fmt.Sprintf("HTTP%d", apiErr.HTTPStatus)
		}
		return apiErr.Code
	case errors.As(err, &respErr):
		return respErr.Code
	case errors.As(err, &credErr):
		return CodeCredentials
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return CodeTimeout
	case errors.Is(err, context.Canceled):
		return "Canceled"
	}
	return CodeTransport
}

// The one classification of failures by what to do next. Everything that
// retries (the client's attempts, the collectors' refreshes, readiness) asks
// these three.

// IsTransient reports a failure that may go away by itself: throttling, a
// server or network failure, an answer that could not be trusted. The rest
// (authentication, permission, bad requests) need a person to act, and a
// cancelled context is no failure of BSS's.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	switch Classify(err) {
	case ClassThrottled, ClassServer, ClassTransport, ClassInvalidResponse:
		return true
	}
	return false
}

// IsBrokenWalk reports a paginated walk that contradicted itself: TotalCount
// changed, a token repeated, a page came back empty. The walk is restarted
// from its first page, not retried page by page.
func IsBrokenWalk(err error) bool {
	var respErr *ResponseError
	return errors.As(err, &respErr) && respErr.Code != CodeInvalidResponse
}

// IsRetryable reports whether trying the same request again may succeed: a
// transient failure of that request, not of the walk it belongs to.
func IsRetryable(err error) bool {
	return IsTransient(err) && !IsBrokenWalk(err)
}
