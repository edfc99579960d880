package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"sync"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/doctor"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/logging"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/remotewrite"
)

// doctorCommand is the first argument that runs the first-run checks.
const doctorCommand = "doctor"

// doctorOptions are doctor's own flags; the exporter's come with options.
type doctorOptions struct {
	account     string
	maxRequests int
	format      string
}

// defaultDoctorRequests bounds what a doctor run costs: about 20 s of the
// account's quota at 10/s, enough for every check and one day's walk of a
// mid-sized account.
const defaultDoctorRequests = 200

// doctorHelp is doctor's --help.
const doctorHelp = "Checks, read-only and within --max-requests, what the exporter needs of an account (credentials, clock, RAM actions, Split Bill, commitments), " +
	"how late and how large its bills are, what that size predicts (cold start, requests a day, series), and the exporter's guesses where BSS's documentation is silent. " +
	"It reads the exporter's flags and --config.file. Exit 0: every enabled collector will work; 1: one will not, or a check could not tell; 2: bad flags."

// doctorObserver keeps what the checks report.
type doctorObserver struct {
	mu         sync.Mutex
	skew       time.Duration
	skewSeen   bool
	unexpected map[string]int
}

func (o *doctorObserver) RequestDone(string, string, time.Duration) {}
func (o *doctorObserver) Retried(string, string)                    {}
func (o *doctorObserver) Throttled(string)                          {}
func (o *doctorObserver) ClockSkew(d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.skew, o.skewSeen = d, true
}
func (o *doctorObserver) UnexpectedValue(action, field string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.unexpected[action+" "+field]++
}

// runDoctor is `aliyun-billing-exporter doctor`.
func runDoctor(ctx context.Context, o *options, d *doctorOptions, stdout, stderr io.Writer) int {
	bad := func(err error) int { return usageError(stderr, doctorCommand, err) }
	if d.maxRequests < 1 {
		return bad(fmt.Errorf("--max-requests: must be at least 1, got %d", d.maxRequests))
	}
	logs, err := logging.New(stderr, *o.log)
	if err != nil {
		return bad(err)
	}
	cfg, err := Load(o, logs.Logger)
	if err != nil {
		return bad(err)
	}
	b, stopDemo, err := newBuilder(o, logs.Logger)
	if err != nil {
		return bad(err)
	}
	defer stopDemo()
	a, err := pickAccount(cfg.accounts, d.account, o.configFile)
	if err != nil {
		return bad(err)
	}
	obs := &doctorObserver{unexpected: map[string]int{}}
	b.observer = obs
	b.maxAttempts = 1 // a check asks once: its answer is the finding
	// One provider signs BSS and OSS, and tells the checks the AccessKey ID.
	// billFiles is nil without a region: the bill files check is skipped.
	creds, client, billFiles, err := b.clients(a)
	if err != nil {
		return bad(err)
	}
	var names []string
	for _, e := range o.enabledCollectors() {
		names = append(names, e.Name)
	}
	endpoint, source := b.endpointOf(a)
	estimate := min(doctor.Estimate(names), d.maxRequests)
	fmt.Fprintf(stderr, "checking account %s: at most %d requests (%d, plus walks of the exposed days of the account bill and of one day of the instance and split bills, where they fit), %s at %g requests/s\n",
		a.name, d.maxRequests, estimate, time.Duration(float64(estimate)/a.rateLimit*float64(time.Second)).Round(time.Second), a.rateLimit)
	if n := len(cfg.remoteWrite); n > 0 {
		fmt.Fprintf(stderr, "and one probe sample (%s) to each of %d remote-write receivers\n", remotewrite.ProbeSeries, n)
	}
	report := doctor.Run(ctx, doctor.Input{
		Account: a.name, Client: client, Credentials: creds, CredentialSource: source,
		Endpoint: bssclient.RedactURL(endpoint), SiteCurrency: a.currency, RateLimit: a.rateLimit,
		Config: b.cfg, Enabled: names, MaxRequests: d.maxRequests, Now: b.cfg.Now(), RemoteWrite: cfg.remoteWrite, BillFiles: billFiles,
		Skew:       func() (time.Duration, bool) { obs.mu.Lock(); defer obs.mu.Unlock(); return obs.skew, obs.skewSeen },
		Unexpected: func() map[string]int { obs.mu.Lock(); defer obs.mu.Unlock(); return maps.Clone(obs.unexpected) },
	})
	if d.format == "json" {
		if err := report.WriteJSON(stdout); err != nil {
			return 1
		}
	} else {
		report.WriteText(stdout)
	}
	return report.ExitCode()
}
