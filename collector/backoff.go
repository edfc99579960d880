package collector

import (
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

// How soon a failed refresh is tried again. A refresh re-reads only what is
// still missing (every day or cycle it booked stays booked), so a retry
// costs the failed walks and nothing else.
//
//   - A walk broken by a restatement (Pagination.*) usually succeeds at
//     once: BSS restated one row, and the next walk reads the new version.
//   - Throttling, 5xx and network errors are transient too, but may last a
//     little longer.
//   - Authentication, permission and bad-request errors need a person to
//     change something; retrying them often only fills the logs and spends
//     quota shared with the account's other tools.
//
// Each consecutive failure doubles the delay, up to the collector's own
// interval, so a long outage costs no more than the normal schedule.
const (
	retryAfterBrokenWalk = 30 * time.Second
	retryAfterTransient  = 60 * time.Second
	retryAfterPermanent  = 5 * time.Minute
)

// retryDelay is how long to wait after the failures-th consecutive failed
// refresh (failures ≥ 1), whose error was err.
func retryDelay(err error, failures int, interval time.Duration) time.Duration {
	base := retryAfterPermanent
	switch {
	case bssclient.IsBrokenWalk(err):
		base = retryAfterBrokenWalk
	case bssclient.IsTransient(err):
		base = retryAfterTransient
	}
	d := base
	for i := 1; i < failures && d < interval; i++ {
		d *= 2
	}
	return min(d, interval)
}
