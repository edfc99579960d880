package backfill

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/collector"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/regularfile"
)

// journalVersion changes when the journal's lines change meaning. Version
// 1 journals carry no payer, so they are not resumed.
const journalVersion = 2

// JournalPath is where a run keeps its finished units: next to the output.
func JournalPath(output string) string { return output + ".journal" }

// journalHeader is the journal's first line. A journal written for another
// payer, site, account or other series options cannot be resumed: its
// samples would not join the rest.
type journalHeader struct {
	Journal  int                `json:"journal"`
	Identity collector.Identity `json:"identity"`
}

// ResumeError is a journal that cannot be resumed by this run: the user
// either runs with the options it names, or discards it with FlagRestart.
type ResumeError struct {
	Path string
	Why  string
}

func (e *ResumeError) Error() string {
	return fmt.Sprintf("the journal %s cannot be resumed: %s; run with the options it was written with, or add %s to discard it and start over", e.Path, e.Why, FlagRestart)
}

// journalUnit is one finished unit and its samples.
type journalUnit struct {
	Unit     string   `json:"unit"`
	Requests int      `json:"requests"`
	Families []family `json:"families"`
}

// family is one metric family's samples, as the live exporter exposes them.
type family struct {
	Name    string   `json:"name"`
	Help    string   `json:"help"`
	Samples []sample `json:"samples"`
}

// sample is one timestamped gauge sample. Labels alternate names and values,
// in the family's order. A float64 survives JSON exactly (shortest
// round-trip form), so the journal changes no value.
type sample struct {
	Labels []string `json:"labels"`
	Value  float64  `json:"value"`
	TsMs   int64    `json:"ts_ms"`
}

// journal is the append-only record of a run's finished units. Each line is
// written whole with one write; a line cut by a crash is dropped on resume,
// and its unit is read again.
type journal struct {
	mu   sync.Mutex
	f    *os.File
	done map[string]journalUnit
}

// openJournal opens or creates the journal at path for a run of identity,
// and returns the units it already holds. restart discards what the
// journal holds first.
func openJournal(path string, identity collector.Identity, restart bool) (*journal, error) {
	flag := os.O_RDWR | os.O_CREATE
	if restart {
		flag |= os.O_TRUNC
	}
	f, err := regularfile.Open(path, flag, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening the journal: %w", err)
	}
	j := &journal{f: f, done: map[string]journalUnit{}}
	good, err := j.load(identity)
	if err != nil {
		f.Close()
		return nil, err
	}
	// Drop a torn last line, so the next append starts a line of its own.
	if err := f.Truncate(good); err != nil {
		f.Close()
		return nil, fmt.Errorf("repairing the journal %s: %w", path, err)
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	if good == 0 {
		if err := j.appendLine(journalHeader{Journal: journalVersion, Identity: identity}); err != nil {
			f.Close()
			return nil, err
		}
	}
	return j, nil
}

// load reads the journal and returns the length of its whole lines.
func (j *journal) load(identity collector.Identity) (int64, error) {
	r := bufio.NewReader(j.f)
	var good int64
	for n := 0; ; n++ {
		line, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return good, nil // a line without its newline was cut short
		}
		if err != nil {
			return 0, fmt.Errorf("reading the journal %s: %w", j.f.Name(), err)
		}
		if n == 0 {
			var h journalHeader
			if json.Unmarshal(line, &h) != nil || h.Journal != journalVersion {
				return 0, &ResumeError{Path: j.f.Name(), Why: "it is not a backfill journal of this version"}
			}
			if why := identity.Mismatch(h.Identity); why != "" {
				return 0, &ResumeError{Path: j.f.Name(), Why: "it was " + why}
			}
		} else {
			var u journalUnit
			if err := json.Unmarshal(bytes.TrimSpace(line), &u); err != nil || u.Unit == "" {
				return good, nil // a garbled line is the end of what can be trusted
			}
			j.done[u.Unit] = u
		}
		good += int64(len(line))
	}
}

// record appends a finished unit. It is safe for concurrent use.
func (j *journal) record(u journalUnit) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.appendLine(u); err != nil {
		return err
	}
	j.done[u.Unit] = u
	return nil
}

func (j *journal) appendLine(v any) error {
	line, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := j.f.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("writing the journal: %w", err)
	}
	return nil
}

// remove deletes the journal once the output holds everything.
func (j *journal) remove() error {
	name := j.f.Name()
	if err := j.f.Close(); err != nil {
		return err
	}
	return os.Remove(name)
}
