package backfill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/collector"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/atomicfile"
)

// Runner reads a plan's units and writes the output.
type Runner struct {
	// Account is the account to read, with the client (and so the rate
	// limiter) the exporter would build for it.
	Account collector.Account
	// Collector gives the label options (instance zone, tags, per-instance
	// series), the exposure window and the concurrent walks, as for the
	// live exporter.
	Collector collector.Config
	// RateLimit is the account's requests per second, for the estimate.
	RateLimit float64
	Output    string
	Format    Format
	// Out gets the plan, the cost and the progress; Terminal picks a bar
	// over plain lines.
	Out      io.Writer
	Terminal bool
	// EstimateOnly stops after the cost is known: the units read to measure
	// it are kept in the journal for the real run.
	EstimateOnly bool
	// Restart discards a journal left by an earlier run instead of resuming
	// it; without it, a journal of another identity fails the run.
	Restart bool
	Logger  log.Logger

	// histories are the readers of each family's days, built once a run:
	// a reader of bill files learns the account's subscriptions once.
	mu        sync.Mutex
	histories map[string]*collector.DailyHistory
}

// Result sums up a run.
type Result struct {
	Resumed  int // found finished in the journal
	Requests int // made by this run
	Samples  int // written
	Elapsed  time.Duration
	// Estimate is the requests the whole plan was expected to cost this run.
	Estimate int
}

// Run reads every unit of plan that the journal does not hold, then writes
// the output. On failure or interruption the journal keeps what finished,
// and no output is written.
func (r *Runner) Run(ctx context.Context, plan Plan) (Result, error) {
	start := time.Now()
	units := plan.units()
	var res Result
	if len(units) == 0 {
		return res, errors.New("the plan holds no day and no final cycle to read")
	}
	identity, err := r.identity(ctx, plan)
	if err != nil {
		return res, err
	}
	j, err := openJournal(JournalPath(r.Output), identity, r.Restart)
	if err != nil {
		return res, err
	}
	defer j.f.Close()

	pending := pendingAfter(units, j)
	res.Resumed = len(units) - len(pending)
	fmt.Fprintf(r.Out, "backfill of account %s, as of %s:\n%s", r.Account.Name, plan.Now.In(bssclient.BillingZone).Format("2006-01-02 15:04 UTC+8"), plan.Describe())
	if res.Resumed > 0 {
		fmt.Fprintf(r.Out, "resuming: %d of %d units are already in %s\n", res.Resumed, len(units), JournalPath(r.Output))
	}

	var requests atomic.Int64
	if err := r.prepare(bssclient.WithRequestCounter(ctx, &requests), plan); err != nil {
		return r.stopped(res, &requests, err)
	}
	rest, calibrated, err := r.estimate(ctx, plan, j, pending, &requests, &res)
	if err != nil {
		return r.stopped(res, &requests, err)
	}
	if r.EstimateOnly {
		fmt.Fprintf(r.Out, "estimate only: the %d units read to measure the cost are kept in %s for the run\n", calibrated, JournalPath(r.Output))
		res.Requests = int(requests.Load())
		res.Elapsed = time.Since(start)
		return res, nil
	}

	prog := newProgress(r.Out, r.Terminal, len(rest), time.Now)
	err = r.readAll(ctx, plan, j, rest, &requests, prog)
	prog.finish()
	if err != nil {
		return r.stopped(res, &requests, err)
	}
	res.Requests = int(requests.Load())
	families, err := r.writeOutput(j, units, &res)
	if err != nil {
		return res, err
	}
	res.Elapsed = time.Since(start)
	fmt.Fprintf(r.Out, "wrote %s: %d samples in %d families; %d requests in %s\n",
		r.Output, res.Samples, families, res.Requests, res.Elapsed.Round(time.Millisecond))
	return res, nil
}

// estimate measures what a unit of each family costs on its first pending
// unit (the journal's finished units count too), says what the rest costs,
// and sets res.Estimate. It returns the units still to read and how many it
// read to measure.
func (r *Runner) estimate(ctx context.Context, plan Plan, j *journal, pending []unit, requests *atomic.Int64, res *Result) ([]unit, int, error) {
	perUnit := r.costsFromJournal(j)
	var calibration []unit
	measured := map[string]bool{}
	for _, u := range pending {
		if _, known := perUnit[u.family]; !known && !measured[u.family] {
			measured[u.family] = true
			calibration = append(calibration, u)
		}
	}
	if len(calibration) > 0 {
		fmt.Fprintf(r.Out, "cost: at least %d requests (one page per unit), %s at %g requests/s; measuring one unit of each family first\n",
			len(pending), duration(len(pending), r.RateLimit), r.RateLimit)
	}
	if err := r.readAll(ctx, plan, j, calibration, requests, nil); err != nil {
		return nil, 0, err
	}
	perUnit = r.costsFromJournal(j)
	res.Estimate = int(requests.Load())
	var parts []string
	for _, f := range append(slices.Clip(plan.Families), FamilyRange{Name: cyclesUnit}) {
		if c, ok := perUnit[f.Name]; ok {
			parts = append(parts, fmt.Sprintf("%s %.1f", f.Name, c))
		}
	}
	rest := pendingAfter(pending, j)
	var more float64
	for _, u := range rest {
		more += perUnit[u.family]
	}
	res.Estimate += int(math.Round(more))
	fmt.Fprintf(r.Out, "cost: about %d requests in all (per unit: %s), %s at %g requests/s\n",
		res.Estimate, strings.Join(parts, ", "), duration(res.Estimate, r.RateLimit), r.RateLimit)
	return rest, len(calibration), nil
}

// writeOutput merges every unit of the journal into the output file, sets
// res.Samples, removes the journal and returns the number of families
// written.
func (r *Runner) writeOutput(j *journal, units []unit, res *Result) (int, error) {
	finished := make([]journalUnit, 0, len(units))
	for _, u := range units {
		finished = append(finished, j.done[u.key()])
	}
	fams, err := merge(finished)
	if err != nil {
		return 0, err
	}
	for _, f := range fams {
		for _, s := range f.series {
			res.Samples += len(s.points)
		}
	}
	if err := atomicfile.Write(r.Output, 0o644, func(w io.Writer) error { return write(w, r.Format, fams) }); err != nil {
		return 0, fmt.Errorf("writing %s (the journal %s keeps what was read): %w", r.Output, JournalPath(r.Output), err)
	}
	if err := j.remove(); err != nil {
		return 0, fmt.Errorf("removing the journal after writing %s: %w", r.Output, err)
	}
	return len(fams), nil
}

// stopped explains a run that ended early: what is kept, and how to resume.
func (r *Runner) stopped(res Result, requests *atomic.Int64, err error) (Result, error) {
	res.Requests = int(requests.Load())
	return res, fmt.Errorf("%w; the finished units are kept in %s: run the same command again to resume", err, JournalPath(r.Output))
}

// identity is what a journal must have been written under to be resumed:
// the account, its payer as BSS reports it (one request), and the series
// options of every family the plan reads.
func (r *Runner) identity(ctx context.Context, plan Plan) (collector.Identity, error) {
	payer, err := r.Account.Client.Payer(ctx, bssclient.CycleOf(plan.Now))
	if err != nil {
		return collector.Identity{}, err
	}
	var opts []string
	for _, f := range plan.Families {
		for _, o := range strings.Fields(collector.SeriesOptions(r.Collector, f.Name)) {
			opts = append(opts, f.Name+"."+o)
		}
	}
	return collector.Identity{Account: r.Account.Name, Payer: payer, Options: strings.Join(opts, " ")}, nil
}

// costsFromJournal is the mean requests per unit of each family so far.
func (r *Runner) costsFromJournal(j *journal) map[string]float64 {
	sum, n := map[string]int{}, map[string]int{}
	for key, u := range j.done {
		f, _, _ := strings.Cut(key, "/")
		sum[f] += u.Requests
		n[f]++
	}
	out := map[string]float64{}
	for f := range n {
		out[f] = float64(sum[f]) / float64(n[f])
	}
	return out
}

// pendingAfter is the units of pending the journal does not hold.
func pendingAfter(pending []unit, j *journal) []unit {
	return slices.DeleteFunc(slices.Clone(pending), func(u unit) bool {
		_, done := j.done[u.key()]
		return done
	})
}

// duration says how long n requests take at rate per second.
func duration(n int, rate float64) string {
	if rate <= 0 {
		return "an unknown time"
	}
	return (time.Duration(float64(n) / rate * float64(time.Second))).Round(time.Second).String()
}

// readAll reads units with the configured concurrency, journaling each as
// it finishes. The first failure stops the rest.
func (r *Runner) readAll(ctx context.Context, plan Plan, j *journal, units []unit, requests *atomic.Int64, prog progress) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(r.Collector.ConcurrentWalks, 1))
	for _, u := range units {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			n, err := r.readUnit(gctx, plan, j, u)
			requests.Add(int64(n))
			var apiErr *bssclient.APIError
			switch {
			case errors.As(err, &apiErr) && apiErr.Code == bssclient.CodeSplitBillNotEnabled:
				return fmt.Errorf("%s: %w (Split Bill is not enabled for this account: enable it in the Billing console, or leave ossbucket out of %s)", u.key(), err, FlagFamilies)
			case err != nil:
				return fmt.Errorf("%s: %w", u.key(), err)
			}
			if prog != nil {
				prog.done(n)
			}
			return nil
		})
	}
	err := g.Wait()
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: %w", ctx.Err())
	}
	return err
}

// prepare readies each family's reader before any day is read, so that
// what a family costs once (the subscriptions of its bill files) is not
// counted as what each of its days costs.
func (r *Runner) prepare(ctx context.Context, plan Plan) error {
	for _, f := range plan.Families {
		h, err := r.history(f.Name)
		if err != nil {
			return err
		}
		if err := h.Prepare(ctx); err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
	}
	return nil
}

// history is the reader of family's days, the same for the whole run.
func (r *Runner) history(family string) (*collector.DailyHistory, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if h, ok := r.histories[family]; ok {
		return h, nil
	}
	h, err := collector.NewDailyHistory(family, r.Account, r.Collector, r.Logger)
	if err != nil {
		return nil, err
	}
	if r.histories == nil {
		r.histories = map[string]*collector.DailyHistory{}
	}
	r.histories[family] = h
	return h, nil
}

// readUnit reads one unit, journals it, and returns the requests it took.
func (r *Runner) readUnit(ctx context.Context, plan Plan, j *journal, u unit) (int, error) {
	requests := new(atomic.Int64)
	ctx = bssclient.WithRequestCounter(ctx, requests)
	acct := r.Account
	var ms []prometheus.Metric
	var err error
	if u.family == cyclesUnit {
		ms, err = collector.ReadFinalCycle(ctx, acct, r.Collector, u.cycle, plan.Now)
	} else {
		var h *collector.DailyHistory
		if h, err = r.history(u.family); err == nil {
			ms, err = h.ReadDay(ctx, u.day)
		}
	}
	n := int(requests.Load())
	if err != nil {
		return n, err
	}
	fams, err := toFamilies(ms)
	if err != nil {
		return n, err
	}
	return n, j.record(journalUnit{Unit: u.key(), Requests: n, Families: fams})
}
