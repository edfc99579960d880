package bsssim

import (
	"cmp"
	"maps"
	"sync"
)

// Stats counts what the server answered since it started or was last reset.
type Stats struct {
	// Requests per action asked for; unknown actions count under "(unknown)".
	Requests map[string]int64
	// Codes per answered Code. Every success counts as "Success",
	// QueryAccountBalance's "200" included. Dropped, malformed and
	// truncated answers count only in Faults.
	Codes map[string]int64
	// Throttled counts Throttling.User answers, from the quota or a fault.
	Throttled int64
	// Pages counts successful answers of the four paged bill actions, and
	// Rows the bill rows in them.
	Pages, Rows int64
	// Faults counts injected faults by their ParseFaults name.
	Faults map[string]int64
}

// TotalRequests is the sum of Requests.
func (st Stats) TotalRequests() int64 {
	var n int64
	for _, v := range st.Requests {
		n += v
	}
	return n
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats { return s.stats.snapshot() }

// ResetStats zeroes the counters.
func (s *Server) ResetStats() { s.stats.reset() }

type statsRecorder struct {
	mu sync.Mutex
	st Stats
}

const unknownAction = "(unknown)"

func (r *statsRecorder) reset() {
	r.update(func(st *Stats) {
		*st = Stats{Requests: map[string]int64{}, Codes: map[string]int64{}, Faults: map[string]int64{}}
	})
}

func (r *statsRecorder) snapshot() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.st
	st.Requests, st.Codes, st.Faults = maps.Clone(st.Requests), maps.Clone(st.Codes), maps.Clone(st.Faults)
	return st
}

// update changes the counters under the lock.
func (r *statsRecorder) update(change func(st *Stats)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	change(&r.st)
}

func (r *statsRecorder) request(action string) {
	r.update(func(st *Stats) { st.Requests[cmp.Or(action, unknownAction)]++ })
}

func (r *statsRecorder) code(code string) { r.update(func(st *Stats) { st.Codes[code]++ }) }

func (r *statsRecorder) throttled() { r.update(func(st *Stats) { st.Throttled++ }) }

func (r *statsRecorder) fault(name string) { r.update(func(st *Stats) { st.Faults[name]++ }) }

func (r *statsRecorder) success(paged bool, rows int) {
	r.update(func(st *Stats) {
		st.Codes["Success"]++
		if paged {
			st.Pages++
			st.Rows += int64(rows)
		}
	})
}
