// Package doctor is the first run on a real account: read-only checks of
// what the exporter needs (credentials, clock, RAM actions, Split Bill,
// commitments), of how late and how large the account's bills are, with
// the cold start and the series that size predicts, and of the guesses the
// exporter makes where BSS's documentation is silent. It costs a bounded
// number of requests, said before it starts, and prints no secret.
package doctor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/collector"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/remotewrite"
)

// Mark is a check's verdict.
type Mark string

const (
	OK      Mark = "✓" // works
	Fail    Mark = "✗" // an enabled collector will not work
	Unknown Mark = "?" // works only in part, or could not be told
	Note    Mark = "·" // a guess that cannot be checked here, said why
)

// Check is one line of the report.
type Check struct {
	Mark   Mark   `json:"mark"`
	Name   string `json:"name"`
	Detail string `json:"detail"`
	Next   string `json:"next,omitempty"` // what to do, for ✗ and ?
}

// Prediction is what one collector will cost and publish on this account.
type Prediction struct {
	Collector     string `json:"collector"`
	ColdRequests  int    `json:"cold_start_requests"`
	DailyRequests int    `json:"requests_per_day"`
	Series        int    `json:"series,omitempty"` // 0: not predicted
}

// Report is what Run found.
type Report struct {
	Account     string       `json:"account"`
	MaxRequests int          `json:"max_requests"`
	Requests    int          `json:"requests"`
	Checks      []Check      `json:"checks"`
	Predictions []Prediction `json:"predictions,omitempty"`
	// PeakHeapMiB is the predicted peak live heap of a cold start, and
	// MemoryLimitMiB the container memory limit that holds it; 0 when the
	// bills they depend on could not be measured.
	PeakHeapMiB    int `json:"peak_heap_mib,omitempty"`
	MemoryLimitMiB int `json:"memory_limit_mib,omitempty"`
}

// ExitCode is 0 when every enabled collector will work, 1 otherwise.
func (r Report) ExitCode() int {
	if slices.ContainsFunc(r.Checks, func(c Check) bool { return c.Mark == Fail || c.Mark == Unknown }) {
		return 1
	}
	return 0
}

// WriteText writes the report for a person.
func (r Report) WriteText(w io.Writer) {
	width := 0
	for _, c := range r.Checks {
		width = max(width, len(c.Name))
	}
	for _, c := range r.Checks {
		fmt.Fprintf(w, "%s %-*s  %s\n", c.Mark, width, c.Name, c.Detail)
		if c.Next != "" {
			fmt.Fprintf(w, "  %-*s  → %s\n", width, "", c.Next)
		}
	}
	if len(r.Predictions) > 0 {
		fmt.Fprintf(w, "\npredicted at this size (%s):\n", "cold start requests, requests a day after it, series")
		for _, p := range r.Predictions {
			series := "-"
			if p.Series > 0 {
				series = fmt.Sprint(p.Series)
			}
			fmt.Fprintf(w, "  %-13s %7d %7d %9s\n", p.Collector, p.ColdRequests, p.DailyRequests, series)
		}
	}
	fmt.Fprintf(w, "\n%d requests made (at most %d)\n", r.Requests, r.MaxRequests)
}

// WriteJSON writes the report for a bug report.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// Input is what the checks read.
type Input struct {
	Account     string
	Client      *bssclient.Client
	Credentials bssclient.CredentialsProvider
	// CredentialSource names the link of the chain the credentials come
	// from ("default", "environment", …).
	CredentialSource string
	Endpoint         string // as shown: no user info or query
	SiteCurrency     string // what the site implies ("" when not known)
	RateLimit        float64
	Config           collector.Config
	Enabled          []string // collector names
	MaxRequests      int
	// Skew returns the host clock's skew against BSS's last answer.
	Skew       func() (time.Duration, bool)
	Unexpected func() map[string]int // action field → values tolerated
	Now        time.Time
	// RemoteWrite are the receivers --remote-write.url and the config
	// file name; each is sent one probe sample.
	RemoteWrite []remotewrite.Receiver
	// BillFiles, when set, reads the bucket the account's bill
	// subscription pushes to, for the bill files check.
	BillFiles *bssclient.OSSReader
}

// collectorActions are the actions the named collector calls; none for a
// name no collector has.
func collectorActions(name string) []string {
	r, err := collector.Lookup(name)
	if err != nil {
		return nil
	}
	return r.Actions
}

// billKind is the kind of data a bill action's days hold, which sets
// their delay: the kind of the day-book collector that walks it.
func billKind(action string) (bssclient.DataKind, bool) {
	for _, r := range collector.Registrations() {
		if r.DayBook() && r.Actions[0] == action {
			return r.Kind, true
		}
	}
	return 0, false
}

// Estimate is the requests Run makes at most, for the enabled collectors:
// said before it starts.
func Estimate(enabled []string) int {
	n := 1 // the payer
	for _, a := range actionsOf(enabled) {
		if _, bill := billKind(a); bill {
			n += 4 // the newest settled day, the day after, this cycle and the previous
		} else {
			n++
		}
	}
	return n
}

func actionsOf(enabled []string) []string {
	var out []string
	for _, name := range enabled {
		for _, a := range collectorActions(name) {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}

type run struct {
	in      Input
	report  Report
	payerID string // the payer account's ID, which names its bill files
	// subscriptions are the bill subscriptions, once the subscription
	// collector's probe read them.
	subscriptions []bssclient.BillSubscription
	rows          map[string]billSize // per bill action
	// daySeries is the series the days walked make, per bill action; the
	// account bill's one figure is its whole count (days and cycles).
	daySeries map[string][]int
	actions   map[string]error // the answer each action gave
	// requests counts the HTTP attempts made, as the exporter counts them
	// (bssclient.WithRequestCounter).
	requests atomic.Int64
	// splitForm is the form of the split rows countGroups walked.
	splitForm splitForm
	// byteUnits are the byte units the resource plans read are in.
	byteUnits map[string]bool
	// timestamps counts the savings plans whose EndTimestamp, read in
	// the unit the exporter reads it in, agrees with their EndTime
	// within a day, and those where it does not.
	timestamps struct{ agree, disagree int }
}

// billSize is what one bill action holds.
type billSize struct {
	day, month, prevMonth int // rows of the newest settled day, this cycle, the previous
}

// Run makes the checks. It stops asking BSS at MaxRequests.
func Run(ctx context.Context, in Input) Report {
	r := &run{in: in, rows: map[string]billSize{}, actions: map[string]error{},
		report: Report{Account: in.Account, MaxRequests: in.MaxRequests}}
	ctx = r.counting(ctx)
	r.credentials(ctx)
	if r.payer(ctx) {
		r.clock()
		for _, a := range actionsOf(in.Enabled) {
			r.action(ctx, a)
		}
		r.countGroups(ctx)
		r.predict(ctx)
		r.remoteWrite(ctx)
		r.billFiles(ctx)
		r.guesses()
	}
	r.report.Requests = int(r.requests.Load())
	return r.report
}

// counting returns ctx whose BSS requests the run counts.
func (r *run) counting(ctx context.Context) context.Context {
	return bssclient.WithRequestCounter(ctx, &r.requests)
}

func (r *run) add(mark Mark, name, detail, next string) {
	r.report.Checks = append(r.report.Checks, Check{Mark: mark, Name: name, Detail: detail, Next: next})
}

// afford says whether n more requests stay within MaxRequests.
func (r *run) afford(n int) bool { return int(r.requests.Load())+n <= r.in.MaxRequests }

func (r *run) credentials(ctx context.Context) {
	c, err := r.in.Credentials.Credentials(ctx)
	if err != nil {
		r.add(Fail, "credentials", fmt.Sprintf("%s: %v", r.in.CredentialSource, err),
			"set the credentials (README, Credentials); with type default, check which link of the chain should find them")
		return
	}
	kind := "an AccessKey"
	if c.SecurityToken != "" {
		kind = "temporary STS credentials"
	}
	id := c.AccessKeyID[:min(4, len(c.AccessKeyID))] // an AccessKey ID is shown no further
	r.add(OK, "credentials", fmt.Sprintf("%s from %q, AccessKey ID %s…", kind, r.in.CredentialSource, id), "")
}

func (r *run) payer(ctx context.Context) bool {
	p, err := r.in.Client.Payer(ctx, bssclient.CycleOf(r.in.Now))
	r.actions[bssclient.ActionQueryAccountBill] = err
	if err != nil {
		r.add(Fail, "payer", fmt.Sprintf("BSS refused the first request at %s: %v", r.in.Endpoint, err), nextFor(err, bssclient.ActionQueryAccountBill))
		if skew, ok := r.in.Skew(); ok {
			r.clockCheck(skew)
		}
		return false
	}
	r.payerID = p.AccountID
	r.add(OK, "payer", fmt.Sprintf("account %s on site %s, at %s", p.AccountID, p.Site, r.in.Endpoint), "")
	return true
}

func (r *run) clock() {
	skew, ok := r.in.Skew()
	if !ok {
		r.add(Unknown, "clock", "BSS's answers carried no Date header: the skew is unknown", "keep the host clock synchronised (NTP)")
		return
	}
	r.clockCheck(skew)
}

func (r *run) clockCheck(skew time.Duration) {
	switch abs := max(skew, -skew); {
	case abs >= 15*time.Minute:
		r.add(Fail, "clock", fmt.Sprintf("the host clock is %s off BSS's: BSS refuses requests dated 15 minutes off", skew.Round(time.Second)),
			"synchronise the host clock (NTP)")
	case abs > bssclient.MaxClockSkew:
		r.add(Unknown, "clock", fmt.Sprintf("the host clock is %s off BSS's: days are judged settled by this clock", skew.Round(time.Second)),
			"synchronise the host clock (NTP)")
	default:
		r.add(OK, "clock", fmt.Sprintf("within %s of BSS's", bssclient.MaxClockSkew), "")
	}
}

// nextFor says what to do about an error of action.
func nextFor(err error, action string) string {
	switch code := bssclient.ErrorCode(err); {
	case code == bssclient.CodeInvalidAccessKeyID || code == bssclient.CodeSignatureDoesNotMatch:
		return "the AccessKey ID or its secret is wrong: check the credentials"
	case code == bssclient.CodeSecurityTokenExpired:
		return "the STS token has expired: refresh the credential source (a role's session, the OIDC token file)"
	case code == bssclient.CodeInvalidTimeStampExpired:
		return "synchronise the host clock (NTP): BSS refuses requests dated 15 minutes off"
	case isAmortized(action) && (code == bssclient.CodeNoPermission || strings.HasPrefix(code, "Forbidden")):
		return fmt.Sprintf("add %s to the RAM policy (README, RAM policy): the amortized-cost actions need it", bssclient.RAMActionAmortizedCost)
	case isAmortized(action) && code == bssclient.CodeAmortizedCostNotEnabled:
		return "enable Amortized Cost in the Billing console; data appears 48 h later, the amortized collector picks it up without a restart"
	case code == bssclient.CodeNoPermission || strings.HasPrefix(code, "Forbidden"):
		return fmt.Sprintf("add bssapi:%s to the RAM policy (README, RAM policy)", action)
	case code == bssclient.CodeSplitBillNotEnabled && action == bssclient.ActionDescribeSplitItemBill:
		return "enable Split Bill in the Billing console (Cost Allocation > Split Bill); data appears 24 h later"
	}
	return "see the error; run again with --log.level=debug for each request"
}

// action checks one action the enabled collectors need. A bill action
// also measures the account's size and freshness.
func (r *run) action(ctx context.Context, action string) {
	if kind, bill := billKind(action); bill {
		r.bill(ctx, action, kind)
		return
	}
	if !r.afford(1) {
		r.add(Unknown, action, "not checked: --max-requests reached", "run again with a larger --max-requests")
		return
	}
	err := r.probe(ctx, action)
	r.actions[action] = err
	switch {
	case err == nil:
		r.add(OK, action, "allowed", "")
	case bssclient.ErrorCode(err) == bssclient.CodeNoPermission || strings.HasPrefix(bssclient.ErrorCode(err), "Forbidden"):
		r.add(Fail, action, "denied: "+bssclient.ErrorCode(err), nextFor(err, action))
	case bssclient.IsUnavailable(err) && isAmortized(action):
		r.add(Unknown, action, fmt.Sprintf("Amortized Cost is not enabled or not permitted (%s): the amortized collector stays off, aliyun_billing_commitments_api_available 0; the others are unaffected", bssclient.ErrorCode(err)),
			nextFor(err, action))
	case bssclient.IsUnavailable(err):
		r.add(Unknown, action, fmt.Sprintf("does not apply to this account (%s): its metrics stay off, aliyun_billing_commitments_api_available 0", bssclient.ErrorCode(err)),
			"nothing to do if the account has none; else enable the service")
	default:
		r.add(Fail, action, err.Error(), nextFor(err, action))
	}
}

// probe calls a non-bill action once, as its collector does.
func (r *run) probe(ctx context.Context, action string) error {
	c := r.in.Client
	day := r.in.Config.Calendar().NewestSettledDay(r.in.Now, bssclient.KindAmounts)
	analysis := bssclient.AnalysisRequest{Start: day.Start(), End: day.End(), PeriodType: bssclient.PeriodDay}
	switch action {
	case bssclient.ActionQueryBillToOSSSubscription:
		subs, err := c.QueryBillToOSSSubscription(ctx)
		r.subscriptions = subs
		return err
	case bssclient.ActionQueryAccountBalance:
		b, err := c.QueryAccountBalance(ctx)
		if err == nil && r.in.SiteCurrency != "" && b.Currency != r.in.SiteCurrency {
			r.add(Unknown, "guess", fmt.Sprintf("the balance is in %s, the site implies %s", b.Currency, r.in.SiteCurrency),
				"report it (README, First run): the exporter assumes the China site bills in CNY")
		}
		return err
	case bssclient.ActionQueryBillOverview:
		return errOf(c.QueryBillOverview(ctx, bssclient.BillOverviewRequest{BillingCycle: day.Cycle()}))
	case bssclient.ActionQueryCashCoupons:
		return errOf(c.QueryCashCoupons(ctx))
	case bssclient.ActionQueryPrepaidCards:
		return errOf(c.QueryPrepaidCards(ctx))
	case bssclient.ActionQueryAvailableInstances:
		return firstPage(c.QueryAvailableInstances(ctx, bssclient.AvailableInstancesRequest{}), nil)
	case bssclient.ActionQueryResourcePackageInstances:
		return firstPage(c.QueryResourcePackageInstances(ctx, bssclient.ResourcePackageRequest{}), r.planUnits)
	case bssclient.ActionQuerySavingsPlansInstance:
		return firstPage(c.QuerySavingsPlansInstance(ctx), r.planTimestamps)
	case bssclient.ActionDescribeSavingsPlansUsageTotal:
		v, err := c.DescribeSavingsPlansUsageTotal(ctx, analysis)
		// The guess that BSS's percentages are fractions (0–1).
		if u := v.TotalUsage.UsagePercentage; err == nil && u.Float64() > 1 {
			r.add(Unknown, "guess", fmt.Sprintf("savings plan utilisation is %s, above 1: BSS may write percentages as percents here", u),
				"report it (README, First run): the exporter reads them as fractions")
		}
		return err
	case bssclient.ActionDescribeSavingsPlansCoverageTotal:
		return errOf(c.DescribeSavingsPlansCoverageTotal(ctx, analysis))
	case bssclient.ActionDescribeResourceUsageTotal:
		analysis.ResourceType = bssclient.ResourceTypeRI
		return errOf(c.DescribeResourceUsageTotal(ctx, analysis))
	case bssclient.ActionDescribeResourceCoverageTotal:
		analysis.ResourceType = bssclient.ResourceTypeRI
		return errOf(c.DescribeResourceCoverageTotal(ctx, analysis))
	case bssclient.ActionDescribeProductAmortizedCost:
		return firstPage(c.DescribeProductAmortizedCost(ctx, bssclient.AmortizedCostRequest{BillingCycle: bssclient.CycleOf(r.in.Now)}), nil)
	}
	return fmt.Errorf("doctor: no probe for %s", action)
}

// errOf is the error of a call whose answer a probe does not read.
func errOf[T any](_ T, err error) error { return err }

// isAmortized reports the amortized-cost actions, which have their own RAM
// action and console switch.
func isAmortized(action string) bool {
	return action == bssclient.ActionDescribeProductAmortizedCost || action == bssclient.ActionDescribeInstanceAmortizedCost
}

// firstPage reads the first page of a walk, shows it to see (if not nil)
// and returns its error.
func firstPage[T any](walk iter.Seq2[[]T, error], see func([]T)) error {
	for page, err := range walk {
		if err == nil && see != nil {
			see(page)
		}
		return err
	}
	return nil
}

// bill checks a bill action: allowed, Split Bill, how fresh, how large.
func (r *run) bill(ctx context.Context, action string, kind bssclient.DataKind) {
	if !r.afford(4) {
		r.add(Unknown, action, "not checked: --max-requests reached", "run again with a larger --max-requests")
		return
	}
	newest := r.in.Config.Calendar().NewestSettledDay(r.in.Now, kind)
	cycle := bssclient.CycleOf(r.in.Now)
	// count counts the rows of day's DAILY bill, or of cyc's MONTHLY bill
	// when day is zero.
	count := func(day bssclient.Day, cyc bssclient.Cycle) (int, error) {
		g := bssclient.Monthly
		if !day.IsZero() {
			cyc, g = day.Cycle(), bssclient.Daily
		}
		var req any
		switch action {
		case bssclient.ActionQueryAccountBill:
			req = bssclient.AccountBillRequest{BillingCycle: cyc, Granularity: g, BillingDate: day, IsGroupByProduct: true}
		case bssclient.ActionDescribeInstanceBill:
			req = bssclient.InstanceBillRequest{BillingCycle: cyc, Granularity: g, BillingDate: day}
		default: // as the ossbucket collector reads it
			req = bssclient.SplitItemBillRequest{BillingCycle: cyc, Granularity: g, BillingDate: day, ProductCode: "oss"}
		}
		return r.in.Client.BillRows(ctx, req)
	}
	dayRows, err := count(newest, bssclient.Cycle{})
	r.actions[action] = err
	if err != nil {
		detail := "denied: " + bssclient.ErrorCode(err)
		if bssclient.ErrorCode(err) == bssclient.CodeSplitBillNotEnabled {
			detail = "Split Bill is not enabled (" + bssclient.ErrorCode(err) + "): the ossbucket collector has no data"
		} else if !bssclient.IsUnavailable(err) {
			detail = err.Error()
		}
		r.add(Fail, action, detail, nextFor(err, action))
		return
	}
	next, errNext := count(newest.AddDays(1), bssclient.Cycle{})
	month, errMonth := count(bssclient.Day{}, cycle)
	prev, errPrev := count(bssclient.Day{}, cycle.Prev())
	if err := errors.Join(errNext, errMonth, errPrev); err != nil {
		r.add(Unknown, action, "allowed, but a size probe failed: "+err.Error(), nextFor(err, action))
		return
	}
	r.rows[action] = billSize{day: dayRows, month: month, prevMonth: prev}
	r.add(OK, action, fmt.Sprintf("allowed; %d rows on %s, the newest settled day; %d this cycle", dayRows, newest, month), "")
	switch {
	case dayRows == 0 && next > 0:
		r.add(Unknown, "freshness", fmt.Sprintf("%s: %s, settled by the documented %s delay, has no rows while %s has: BSS is later than documented", action, newest, kind.Delay(), newest.AddDays(1)),
			"raise --billing.settle-margin by the delay you see, and report it (README, First run)")
	case dayRows == 0:
		r.add(OK, "freshness", fmt.Sprintf("%s: %s and %s have no rows: nothing billed, or nothing to measure", action, newest, newest.AddDays(1)), "")
	default:
		r.add(OK, "freshness", fmt.Sprintf("%s: %s has its rows %s after it ended, as documented (and is read %s later)", action, newest, kind.Delay(), r.in.Config.SettleMargin), "")
	}
}

// remoteWrite sends each receiver one sample, aliyun_billing_remote_write_probe,
// as old as the oldest daily sample the exporter would push, to learn
// whether its out-of-order window takes them.
func (r *run) remoteWrite(ctx context.Context) {
	cfg := r.in.Config
	at := cfg.Calendar().NewestSettledDay(r.in.Now, bssclient.KindSplitItems).AddDays(-(cfg.ExposureDays - 1)).Start()
	age := r.in.Now.Sub(at).Round(time.Hour)
	for _, rcv := range r.in.RemoteWrite {
		name := "remote write " + rcv.Label()
		err := remotewrite.Probe(ctx, rcv, r.in.Account, at)
		reason, message := remotewrite.Refusal(err)
		switch {
		case err == nil:
			r.add(OK, name, fmt.Sprintf("took a probe sample %s old (%s), as old as the oldest daily sample pushed", age, remotewrite.ProbeSeries), "")
		case reason == "out_of_window":
			r.add(Fail, name, fmt.Sprintf("refused a sample %s old as too old or out of order: %s", age, message),
				fmt.Sprintf("give the receiver an out-of-order window of at least %s (Prometheus: storage.tsdb.out_of_order_time_window; Mimir: out_of_order_time_window)", (age+24*time.Hour).Round(24*time.Hour)))
		case reason == "rejected":
			r.add(Fail, name, "refused the probe: "+message, "check the remote_write entry: URL, authentication, tenant header")
		default:
			r.add(Unknown, name, "could not be reached: "+err.Error(), "check the URL and the network path; the exporter retries, but nothing is sent until it answers")
		}
	}
}
