package bssclient

import (
	"context"
	"fmt"
	"testing"
)

// TestOneClassificationOfFailures: the client's retries, the collectors'
// refresh delays and readiness all read IsTransient, IsBrokenWalk and
// IsRetryable; their relations hold for every kind of failure.
func TestOneClassificationOfFailures(t *testing.T) {
	for _, tc := range []struct {
		name                          string
		err                           error
		transient, brokenWalk, retrys bool
	}{
		{"throttled", &APIError{Code: CodeThrottlingUser, HTTPStatus: 400}, true, false, true},
		{"gateway 429 without a code", &APIError{HTTPStatus: 429}, true, false, true},
		{"server", &APIError{Code: CodeServiceUnavailable, HTTPStatus: 503}, true, false, true},
		{"transport", &TransportError{Action: "X", Err: fmt.Errorf("reset")}, true, false, true},
		{"undecodable answer", &ResponseError{Code: CodeInvalidResponse}, true, false, true},
		{"TotalCount changed", &ResponseError{Code: CodeTotalCountDrift}, true, true, false},
		{"no permission", &APIError{Code: CodeNoPermission, HTTPStatus: 400}, false, false, false},
		{"bad signature", &APIError{Code: CodeSignatureDoesNotMatch, HTTPStatus: 400}, false, false, false},
		{"bad request", &APIError{Code: CodeInvalidParameter, HTTPStatus: 400}, false, false, false},
		{"cancelled", fmt.Errorf("BSS X: %w", context.Canceled), false, false, false},
		{"nil", nil, false, false, false},
	} {
		if got := IsTransient(tc.err); got != tc.transient {
			t.Errorf("%s: IsTransient = %t", tc.name, got)
		}
		if got := IsBrokenWalk(tc.err); got != tc.brokenWalk {
			t.Errorf("%s: IsBrokenWalk = %t", tc.name, got)
		}
		if got := IsRetryable(tc.err); got != tc.retrys {
			t.Errorf("%s: IsRetryable = %t", tc.name, got)
		}
	}
}
