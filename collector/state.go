package collector

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/atomicfile"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/regularfile"
)

// The state directory keeps the settled days a collector has read, so that
// a restart reads them from disk instead of from BSS. A settled day never
// changes, so what was read once stays right; the file only saves quota.
//
// One file per account and collector, rewritten whole after each refresh
// that booked or dropped a day: a few hundred KiB for the largest, because
// days are kept aggregated (and capped) as they are exposed. Plain JSON
// files serve this better than an embedded database: one writer per file,
// whole-file replacement, and nothing to lock, compact or migrate.
//
// Writes are crash-safe: a temporary file in the same directory, fsync,
// then an atomic rename over the old file (and an fsync of the directory,
// so the rename itself survives a power cut). A reader sees the old file or
// the new one, never half of one.
//
// The file carries a format version, the Identity of what it holds (the
// account label, the BSS site, the payer account as BSS reports it, and
// the options that shape the series: label names and caps) and a SHA-256
// of its payload. A file that is unreadable, corrupt, of another version or
// of another identity is logged once, naming what differs, and ignored: its
// days are read from BSS again and the next write replaces it. It can cost
// requests, never a wrong number. So that a file is never read for, or
// written as, another payer's, nothing is read or written before the
// payer is known (bssclient.Client.Payer: one request per start).
//
// Only a regular file of at most maxStateBytes is read: a named pipe or a
// device at the path is refused like a corrupt file.
//
// The state holds amounts and label values only, never credentials.

// stateVersion is the file format's version; bump it when stateData changes.
// Version 1 files carry no payer, so they are read from BSS again once.
const stateVersion = 2

// maxStateBytes caps what is read of a state file. The largest legitimate
// one (per-instance series at the 1,000 cap over 62 exposed days) is a few
// MiB; anything near this is not a state file.
const maxStateBytes = 64 << 20

// stateFile is the file as written.
type stateFile struct {
	Version int             `json:"version"`
	SHA256  string          `json:"sha256"` // of State, as written
	State   json.RawMessage `json:"state"`
}

// stateData is what a collector keeps.
type stateData struct {
	Identity  Identity    `json:"identity"`
	Collector string      `json:"collector"`
	Days      []stateDay  `json:"days"`
	Cycle     *stateCycle `json:"cycle,omitempty"`
	Total     *stateTotal `json:"total,omitempty"`
}

// stateTotal is a settledCycleSum: a cycle's gauges as of a settled day.
type stateTotal struct {
	Cycle  string        `json:"cycle"`
	AsOf   string        `json:"as_of,omitempty"`
	Series []stateSeries `json:"series"`
}

type stateDay struct {
	Day    string        `json:"day"`
	Series []stateSeries `json:"series"`
	Extra  []stateSeries `json:"extra,omitempty"`
	// Rechecked: the day was read again for late restatements.
	Rechecked bool `json:"rechecked,omitempty"`
}

// stateCycle is a cycleAccumulator: the days summed in, and the sum.
type stateCycle struct {
	Cycle  string        `json:"cycle"`
	Days   []string      `json:"days"`
	Series []stateSeries `json:"series"`
}

// stateSeries is a series with its amounts as exact units of
// bssclient.Money, in the order of Amounts.Columns.
type stateSeries struct {
	Labels []string `json:"l"`
	Units  []int64  `json:"a"`
}

func toStateSeries(ss []series) []stateSeries {
	out := make([]stateSeries, len(ss))
	for i, s := range ss {
		out[i] = stateSeries{Labels: s.labels, Units: make([]int64, 0, bssclient.AmountColumns)}
		for _, m := range s.amounts.Columns() {
			out[i].Units = append(out[i].Units, m.Units())
		}
	}
	return out
}

// fromStateSeries checks every series has width labels and every column.
func fromStateSeries(ss []stateSeries, width int) ([]series, error) {
	out := make([]series, len(ss))
	for i, s := range ss {
		switch {
		case len(s.Labels) != width:
			return nil, fmt.Errorf("a series with %d labels, want %d", len(s.Labels), width)
		case len(s.Units) != bssclient.AmountColumns:
			return nil, fmt.Errorf("%d amounts in a series, want %d", len(s.Units), bssclient.AmountColumns)
		}
		out[i].labels = s.Labels
		for c, m := range out[i].amounts.Columns() {
			*m = bssclient.MoneyFromUnits(s.Units[c])
		}
	}
	return out, nil
}

// stateStore reads and writes one collector's state file. A nil store
// keeps nothing.
type stateStore struct {
	path      string
	client    BSS // tells the payer
	identity  Identity
	collector string
	width     int // labels per booked series
	extra     int // labels per extra series
	logger    log.Logger
	loaded    bool   // the payer is known and the file was read (or found foreign)
	lastSaved []byte // the payload last written, to skip writes that change nothing
}

// newStateStore returns the store of acct's collector. State written under
// other label options (stateOptions) is not reused; the money columns do
// not matter, as a state file keeps every column.
func newStateStore(cfg Config, acct Account, collector string, width, extra int, logger log.Logger) *stateStore {
	if cfg.StateDir == "" {
		return nil
	}
	name := url.PathEscape(acct.Name) + "." + collector + ".json"
	return &stateStore{path: filepath.Join(cfg.StateDir, name), client: acct.Client, collector: collector,
		identity: Identity{Account: acct.Name, Options: stateOptions(cfg, collector)}, width: width, extra: extra, logger: logger}
}

// loadOnce learns the payer, then fills book (and acc and total, when
// given) from the file, the first time it succeeds, and does nothing
// after. Not knowing the payer is an error: the refresh fails and is
// retried, and nothing is read from or written to the file until then. Any
// problem with the file itself is logged once and leaves book and acc as
// they were: their days are then read from BSS.
func (s *stateStore) loadOnce(ctx context.Context, now time.Time, book *dayBook, acc *cycleAccumulator, total *settledCycleSum) error {
	if s == nil || s.loaded {
		return nil
	}
	payer, err := s.client.Payer(ctx, bssclient.CycleOf(now))
	if err != nil {
		return err
	}
	s.identity.Payer = payer
	s.loaded = true
	data, err := s.read()
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err == nil {
		err = s.restore(data, book, acc, total)
	}
	if err != nil {
		level.Warn(s.logger).Log("msg", "ignoring the state file; its days are read from BSS again", "file", s.path, "err", err)
		return nil
	}
	level.Info(s.logger).Log("msg", "read settled days from the state file", "file", s.path, "days", len(book.days))
	return nil
}

// read returns the verified payload of the file.
func (s *stateStore) read() (*stateData, error) {
	raw, err := regularfile.Read(s.path, maxStateBytes)
	if err != nil {
		return nil, err
	}
	var f stateFile
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("not a state file: %w", err)
	}
	if f.Version != stateVersion {
		return nil, fmt.Errorf("format version %d, this exporter reads %d", f.Version, stateVersion)
	}
	sum := sha256.Sum256(f.State)
	if hex.EncodeToString(sum[:]) != f.SHA256 {
		return nil, errors.New("checksum mismatch: the file is corrupt")
	}
	var d stateData
	if err := json.Unmarshal(f.State, &d); err != nil {
		return nil, fmt.Errorf("corrupt payload: %w", err)
	}
	if d.Collector != s.collector {
		return nil, fmt.Errorf("the file belongs to the %s collector", d.Collector)
	}
	if why := s.identity.Mismatch(d.Identity); why != "" {
		return nil, errors.New(why)
	}
	return &d, nil
}

// restore decodes everything first and changes book and acc only if all of
// it is valid.
func (s *stateStore) restore(d *stateData, book *dayBook, acc *cycleAccumulator, total *settledCycleSum) error {
	days, rechecked, err := s.restoreDays(d.Days)
	if err != nil {
		return err
	}
	var cyc *cycleAccumulator
	if acc != nil && d.Cycle != nil {
		if cyc, err = s.restoreCycle(d.Cycle); err != nil {
			return err
		}
	}
	var restoredTotal *settledCycleSum
	if total != nil && d.Total != nil {
		if restoredTotal, err = s.restoreTotal(d.Total); err != nil {
			return err
		}
	}
	book.days, book.rechecked = days, rechecked
	if restoredTotal != nil {
		*total = *restoredTotal
	}
	if cyc != nil {
		acc.mu.Lock()
		acc.cycle, acc.days, acc.sum = cyc.cycle, cyc.days, cyc.sum
		acc.mu.Unlock()
	}
	return nil
}

func (s *stateStore) restoreDays(saved []stateDay) (map[bssclient.Day]bookedDay, map[bssclient.Day]bool, error) {
	days := map[bssclient.Day]bookedDay{}
	rechecked := map[bssclient.Day]bool{}
	for _, sd := range saved {
		day, err := bssclient.ParseDay(sd.Day)
		if err != nil {
			return nil, nil, err
		}
		var b bookedDay
		if b.series, err = fromStateSeries(sd.Series, s.width); err != nil {
			return nil, nil, fmt.Errorf("day %s: %w", day, err)
		}
		if b.extra, err = fromStateSeries(sd.Extra, s.extra); err != nil {
			return nil, nil, fmt.Errorf("day %s: %w", day, err)
		}
		days[day] = b
		if sd.Rechecked {
			rechecked[day] = true
		}
	}
	return days, rechecked, nil
}

// restoreCycle returns a cycleAccumulator's saved content, for restore to
// move into the collector's.
func (s *stateStore) restoreCycle(saved *stateCycle) (*cycleAccumulator, error) {
	cyc, err := bssclient.ParseCycle(saved.Cycle)
	if err != nil {
		return nil, err
	}
	r := &cycleAccumulator{cycle: cyc, days: map[bssclient.Day]bool{}, sum: newAggregate()}
	for _, ds := range saved.Days {
		day, err := bssclient.ParseDay(ds)
		if err != nil {
			return nil, err
		}
		r.days[day] = true
	}
	ss, err := fromStateSeries(saved.Series, s.width)
	if err != nil {
		return nil, fmt.Errorf("cycle %s: %w", cyc, err)
	}
	if err := r.sum.addAll(ss); err != nil {
		return nil, err
	}
	return r, nil
}

func (s *stateStore) restoreTotal(saved *stateTotal) (*settledCycleSum, error) {
	t := settledCycleSum{}
	var err error
	if t.cycle, err = bssclient.ParseCycle(saved.Cycle); err != nil {
		return nil, err
	}
	if saved.AsOf != "" {
		if t.asOf, err = bssclient.ParseDay(saved.AsOf); err != nil {
			return nil, err
		}
	}
	if t.series, err = fromStateSeries(saved.Series, s.width); err != nil {
		return nil, fmt.Errorf("cycle %s: %w", t.cycle, err)
	}
	return &t, nil
}

// save writes the book (and acc) if they changed since the last write. A
// failure is logged; the data stays in memory and the next save retries.
func (s *stateStore) save(book *dayBook, acc *cycleAccumulator, total *settledCycleSum) {
	if s == nil || !s.loaded { // written only once the payer is known
		return
	}
	d := stateData{Identity: s.identity, Collector: s.collector}
	for _, day := range slices.SortedFunc(maps.Keys(book.days), compareDays) {
		b := book.days[day]
		d.Days = append(d.Days, stateDay{Day: day.String(), Series: toStateSeries(b.series), Extra: toStateSeries(b.extra),
			Rechecked: book.rechecked[day]})
	}
	if acc != nil {
		acc.mu.Lock()
		if acc.sum != nil {
			c := &stateCycle{Cycle: acc.cycle.String(), Series: toStateSeries(acc.sum.series)}
			for _, day := range slices.SortedFunc(maps.Keys(acc.days), compareDays) {
				c.Days = append(c.Days, day.String())
			}
			d.Cycle = c
		}
		acc.mu.Unlock()
	}
	if total != nil && !total.cycle.IsZero() {
		d.Total = &stateTotal{Cycle: total.cycle.String(), Series: toStateSeries(total.series)}
		if !total.asOf.IsZero() {
			d.Total.AsOf = total.asOf.String()
		}
	}
	payload, err := json.Marshal(d)
	if err == nil && slices.Equal(payload, s.lastSaved) {
		return
	}
	if err == nil {
		err = writeStateFile(s.path, payload)
	}
	if err != nil {
		level.Warn(s.logger).Log("msg", "could not write the state file; a restart will read its days from BSS again", "file", s.path, "err", err)
		return
	}
	s.lastSaved = payload
}

// writeStateFile replaces path with the payload, crash-safely. The file
// stays readable by its owner only, as os.CreateTemp made it before.
func writeStateFile(path string, payload []byte) error {
	sum := sha256.Sum256(payload)
	raw, err := json.Marshal(stateFile{Version: stateVersion, SHA256: hex.EncodeToString(sum[:]), State: payload})
	if err != nil {
		return err
	}
	return atomicfile.Write(path, 0o600, func(w io.Writer) error {
		_, err := w.Write(raw)
		return err
	})
}

// compareDays orders days as Day.Before does.
func compareDays(a, b bssclient.Day) int { return a.Start().Compare(b.Start()) }

// checkStateDir creates the state directory if needed and proves it
// writable, so that a wrong path fails at startup rather than at the first
// save an hour later.
func checkStateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("state directory: %w", err)
	}
	f, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return fmt.Errorf("state directory %s is not writable: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}
