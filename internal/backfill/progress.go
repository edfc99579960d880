package backfill

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress shows how far a run is: a bar on a terminal, plain lines
// otherwise (logs, CI), so that neither gets the other's noise.
type progress interface {
	done(requests int)
	finish()
}

func newProgress(w io.Writer, terminal bool, total int, now func() time.Time) progress {
	if terminal {
		return &barProgress{bar: progressbar.NewOptions(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription("backfill"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetItsString("units"),
			progressbar.OptionShowIts(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
		)}
	}
	start := now()
	return &lineProgress{w: w, total: total, now: now, start: start, last: start, every: 10 * time.Second}
}

type barProgress struct{ bar *progressbar.ProgressBar }

func (p *barProgress) done(int) { _ = p.bar.Add(1) }
func (p *barProgress) finish()  { _ = p.bar.Finish() }

// lineProgress prints a line every tenth of the run or every 10 s,
// whichever comes first, and one at the end.
type lineProgress struct {
	mu       sync.Mutex
	w        io.Writer
	total    int
	finished int
	requests int
	now      func() time.Time
	start    time.Time
	last     time.Time
	lastTen  int
	every    time.Duration
}

func (p *lineProgress) done(requests int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.finished++
	p.requests += requests
	ten := p.finished * 10 / max(p.total, 1)
	if t := p.now(); ten > p.lastTen || t.Sub(p.last) >= p.every {
		p.lastTen, p.last = ten, t
		p.print(t)
	}
}

func (p *lineProgress) print(t time.Time) {
	elapsed := t.Sub(p.start).Round(time.Second)
	fmt.Fprintf(p.w, "backfill: %d/%d units (%d%%), %d requests, %s elapsed", p.finished, p.total, p.finished*100/max(p.total, 1), p.requests, elapsed)
	if p.finished > 0 && p.finished < p.total {
		left := time.Duration(float64(t.Sub(p.start)) / float64(p.finished) * float64(p.total-p.finished)).Round(time.Second)
		fmt.Fprintf(p.w, ", about %s left", left)
	}
	fmt.Fprintln(p.w)
}

func (p *lineProgress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lastTen < 10 || p.finished == 0 {
		p.print(p.now())
	}
}
