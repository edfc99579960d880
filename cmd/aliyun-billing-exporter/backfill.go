package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"golang.org/x/term"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/collector"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/backfill"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/logging"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/regularfile"
)

// backfillCommand is the first argument that runs the backfill.
const backfillCommand = "backfill"

// backfillOptions are the backfill's own flags; the exporter's flags
// (--config.file, --bss.*, --billing.*, --collector.instance.*, --demo)
// come with options, so both read the same account the same way.
type backfillOptions struct {
	from, to     string
	output       string
	format       string
	families     string
	account      string
	estimateOnly bool
	restart      bool
}

// backfillHelp is the backfill's --help.
const backfillHelp = "Reads the account's billing history from BSS and writes it as timestamped samples of the exporter's own daily families " +
	"(and the final monthly totals), for `promtool tsdb create-blocks-from openmetrics` or VictoriaMetrics' /api/v1/import. " +
	"By default it ends, for each family, the day before the oldest day the live exporter exposes, so history and live data join without a gap or an overlap. " +
	"It prints the cost before it reads, and resumes an interrupted run from its journal (OUTPUT.journal)."

func formatNames() []string {
	var out []string
	for _, f := range backfill.Formats {
		out = append(out, string(f))
	}
	return out
}

// parseDay checks a --from or --to day, kept as written for the plan.
func parseDay(s string) (string, error) {
	if _, err := bssclient.ParseDay(s); err != nil {
		return "", errors.New("is not a day in the YYYY-MM-DD format")
	}
	return s, nil
}

// checkOutput makes sure the output can be written before anything is
// read: a run that fails only at the rename has spent its requests.
func checkOutput(path string) error {
	if strings.TrimSpace(path) == "" {
		return errors.New("--output: empty; name the file to write")
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("--output: the directory of %q does not exist", path)
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("--output: %q is a directory; name a file", path)
	}
	for _, p := range []string{path, backfill.JournalPath(path)} {
		if err := regularfile.Check(p); err != nil {
			return fmt.Errorf("--output: %w", err)
		}
	}
	probe, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return fmt.Errorf("--output: the directory of %q is not writable: %w", path, err)
	}
	probe.Close()
	return os.Remove(probe.Name())
}

// request builds the plan's request from the flags.
func (b *backfillOptions) request() backfill.Request {
	var req backfill.Request
	// Validated already; an empty flag fails to parse and stays the zero Day.
	req.From, _ = bssclient.ParseDay(b.from)
	req.To, _ = bssclient.ParseDay(b.to)
	req.Families = splitList(b.families)
	return req
}

// pickAccount returns the account --account names, or the only one.
func pickAccount(accounts []account, name string, configFile string) (account, error) {
	names := make([]string, len(accounts))
	for i, a := range accounts {
		names[i] = a.name
	}
	i := 0
	switch {
	case name != "":
		i = slices.Index(names, name)
		if i < 0 {
			where := "the configuration"
			if configFile != "" {
				where = configFile
			}
			return account{}, fmt.Errorf("--account: %q is not an account of %s (known: %s)", name, where, strings.Join(names, ", "))
		}
	case len(accounts) > 1:
		return account{}, fmt.Errorf("--account: %s lists %d accounts (%s); name the one to read", configFile, len(accounts), strings.Join(names, ", "))
	}
	return accounts[i], nil
}

// runBackfill is `aliyun-billing-exporter backfill`. Exit codes: 0 done, 1
// a failure reading or writing (the journal keeps what finished), 2 bad
// input. It loads the configuration and builds the account's client the
// way the exporter does (Load, builder), so both read the same account
// with the same limiter settings.
func runBackfill(ctx context.Context, opts *options, bopts *backfillOptions, stdout, stderr io.Writer) int {
	bad := func(err error) int { return usageError(stderr, backfillCommand, err) }
	if err := checkOutput(bopts.output); err != nil {
		return bad(err)
	}
	logs, err := logging.New(stderr, *opts.log)
	if err != nil {
		return bad(err)
	}
	logger := logs.Logger
	cfg, err := Load(opts, logger)
	if err != nil {
		return bad(err)
	}
	setGoMemLimit(opts, logs.Slog) // a backfill reads the same big bills a cold start does
	b, stopDemo, err := newBuilder(opts, logger)
	if err != nil {
		level.Error(logger).Log("msg", "starting the demo simulator", "err", err)
		return 1
	}
	defer stopDemo()
	a, err := pickAccount(cfg.accounts, bopts.account, opts.configFile)
	if err != nil {
		return bad(err)
	}
	_, client, billFiles, err := b.clients(a)
	if err != nil {
		return bad(err)
	}
	plan, err := backfill.NewPlan(bopts.request(), b.cfg.Now(), b.cfg)
	if err != nil {
		return bad(err)
	}
	runner := &backfill.Runner{
		Account:      collector.Account{Name: a.name, Client: client, BillFiles: billFiles},
		Collector:    b.cfg,
		RateLimit:    a.rateLimit,
		Output:       bopts.output,
		Format:       backfill.Format(bopts.format),
		Out:          stderr,
		Terminal:     isTerminal(stderr),
		EstimateOnly: bopts.estimateOnly,
		Restart:      bopts.restart,
		Logger:       log.With(logger, "account", a.name),
	}
	if _, err := runner.Run(ctx, plan); err != nil {
		var resume *backfill.ResumeError
		if errors.As(err, &resume) {
			return bad(err)
		}
		level.Error(logger).Log("msg", "backfill stopped", "err", err)
		if errors.Is(err, context.Canceled) {
			return 130 // interrupted, as a shell reports SIGINT
		}
		return 1
	}
	return 0
}

// isTerminal reports whether w is a terminal, where a progress bar belongs.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
