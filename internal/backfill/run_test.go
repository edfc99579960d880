package backfill

import (
	"bytes"
	"context"
	"errors"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-kit/log"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/collector"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
)

// simAccount serves a small world at planNow, its quota lifted so tests
// take no time waiting.
func simAccount(t *testing.T) collector.Account {
	t.Helper()
	world, err := bsssim.NewWorld(bsssim.WorldConfig{Seed: 11, Owners: 2, InstancesPerOwner: 8, SplitBillEnabled: true})
	if err != nil {
		t.Fatal(err)
	}
	sim, err := bsssim.Start(bsssim.Config{World: world, Clock: bsssim.NewManualClock(planNow), QuotaPerSecond: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	client, err := bssclient.New(bssclient.Config{
		Endpoint:    sim.URL,
		RateLimit:   1000,
		Credentials: bssclient.StaticCredentials(bsssim.TestAccessKeyID, bsssim.TestAccessKeySecret, ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	return collector.Account{Name: "sim", Client: client}
}

// failingAfter lets n walks start, then fails every later one: a run
// that dies part way.
type failingAfter struct {
	collector.BSS
	left atomic.Int64
}

var errInjected = errors.New("injected failure")

func (f *failingAfter) QueryAccountBill(ctx context.Context, req bssclient.AccountBillRequest) iter.Seq2[[]bssclient.AccountBillItem, error] {
	if f.left.Add(-1) < 0 {
		return func(yield func([]bssclient.AccountBillItem, error) bool) { yield(nil, errInjected) }
	}
	return f.BSS.QueryAccountBill(ctx, req)
}

func (f *failingAfter) DescribeSplitItemBill(ctx context.Context, req bssclient.SplitItemBillRequest) iter.Seq2[[]bssclient.SplitItemBillItem, error] {
	if f.left.Add(-1) < 0 {
		return func(yield func([]bssclient.SplitItemBillItem, error) bool) { yield(nil, errInjected) }
	}
	return f.BSS.DescribeSplitItemBill(ctx, req)
}

func testRunner(acct collector.Account, output string, format Format) *Runner {
	cfg := collector.DefaultConfig()
	cfg.ConcurrentWalks = 1 // one unit at a time: the failure point is exact
	return &Runner{Account: acct, Collector: cfg, RateLimit: 10, Output: output, Format: format,
		Out: &bytes.Buffer{}, Logger: log.NewNopLogger()}
}

// TestRunResumesWithoutRereading interrupts a run, then resumes it: the
// resumed run reads only the units the first did not finish, and its output
// is byte for byte that of a run never interrupted.
func TestRunResumesWithoutRereading(t *testing.T) {
	acct := simAccount(t)
	plan, err := NewPlan(Request{From: day("2026-01-20"), To: day("2026-02-10"), Families: []string{"account", "ossbucket"}}, planNow, collector.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	total := len(plan.units()) // 22 account days, 22 bucket days, 1 final cycle
	if total != 45 {
		t.Fatalf("plan has %d units, want 45", total)
	}

	dir := t.TempDir()
	whole := filepath.Join(dir, "whole.om")
	res, err := testRunner(acct, whole, OpenMetrics).Run(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != total || res.Estimate != total {
		t.Errorf("uninterrupted run: %d requests, estimated %d; want %d (one page per unit)", res.Requests, res.Estimate, total)
	}

	output := filepath.Join(dir, "resumed.om")
	failing := &failingAfter{BSS: acct.Client}
	failing.left.Store(20)
	_, err = testRunner(collector.Account{Name: acct.Name, Client: failing}, output, OpenMetrics).Run(context.Background(), plan)
	if !errors.Is(err, errInjected) || !strings.Contains(err.Error(), "run the same command again to resume") {
		t.Fatalf("interrupted run: %v, want the injected failure and how to resume", err)
	}
	if _, err := os.Stat(output); !os.IsNotExist(err) {
		t.Fatalf("an interrupted run left %s: %v", output, err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".resumed.om.tmp-*")); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
	// A crash mid-write leaves a torn last line; its unit is read again.
	j, err := os.OpenFile(JournalPath(output), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.WriteString(`{"unit":"account/2026-02-09","requests":1,"fam`); err != nil {
		t.Fatal(err)
	}
	j.Close()

	res, err = testRunner(acct, output, OpenMetrics).Run(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	if res.Resumed != 20 || res.Requests != total-20 {
		t.Errorf("resumed run: %d units from the journal and %d requests, want 20 and %d", res.Resumed, res.Requests, total-20)
	}
	got, err := os.ReadFile(output)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(whole)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the resumed output differs from the uninterrupted one")
	}
	if _, err := os.Stat(JournalPath(output)); !os.IsNotExist(err) {
		t.Errorf("the journal outlived a complete run: %v", err)
	}
}

func TestRunRefusesAJournalOfOtherOptions(t *testing.T) {
	acct := simAccount(t)
	plan, err := NewPlan(Request{From: day("2026-02-01"), To: day("2026-02-02"), Families: []string{"account"}}, planNow, collector.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	output := filepath.Join(t.TempDir(), "h.om")
	for _, tc := range []struct{ journal, why string }{
		{`{"journal":1,"options":"account=other zone=false tag_keys= per_instance=false max_instances=1000"}`, "it is not a backfill journal of this version"},
		{`{"journal":2,"identity":{"account":"other","payer":{"site":"127.0.0.1","account_id":"1"},"options":""}}`, `it was written for account "other", this is "sim"`},
	} {
		if err := os.WriteFile(JournalPath(output), []byte(tc.journal+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err = testRunner(acct, output, OpenMetrics).Run(context.Background(), plan)
		want := "the journal " + JournalPath(output) + " cannot be resumed: " + tc.why + "; run with the options it was written with, or add --restart to discard it and start over"
		var resume *ResumeError
		if !errors.As(err, &resume) || err.Error() != want {
			t.Errorf("got %v\nwant %s", err, want)
		}
	}
}

// TestRunEstimateOnly reads one unit per family and keeps it for the run.
func TestRunEstimateOnly(t *testing.T) {
	acct := simAccount(t)
	plan, err := NewPlan(Request{From: day("2026-01-20"), To: day("2026-02-10"), Families: []string{"account", "ossbucket"}}, planNow, collector.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	output := filepath.Join(t.TempDir(), "h.om")
	r := testRunner(acct, output, OpenMetrics)
	r.EstimateOnly = true
	res, err := r.Run(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 3 || res.Estimate != 45 {
		t.Errorf("estimate: %d requests made, %d estimated; want 3 (one unit of each family and a cycle) and 45", res.Requests, res.Estimate)
	}
	out := r.Out.(*bytes.Buffer).String()
	if !strings.Contains(out, "cost: about 45 requests in all (per unit: account 1.0, ossbucket 1.0, cycle 1.0), 5s at 10 requests/s") {
		t.Errorf("the estimate does not say the cost:\n%s", out)
	}
	if _, err := os.Stat(output); !os.IsNotExist(err) {
		t.Errorf("an estimate wrote %s", output)
	}
	r.EstimateOnly = false
	if res, err = r.Run(context.Background(), plan); err != nil || res.Resumed != 3 || res.Requests != 42 {
		t.Errorf("the run after the estimate: %+v, %v; want 3 units resumed and 42 requests", res, err)
	}
}

func TestRunSaysWhenSplitBillIsOff(t *testing.T) {
	world, err := bsssim.NewWorld(bsssim.WorldConfig{Seed: 11, Owners: 2, InstancesPerOwner: 8, SplitBillEnabled: false})
	if err != nil {
		t.Fatal(err)
	}
	sim, err := bsssim.Start(bsssim.Config{World: world, Clock: bsssim.NewManualClock(planNow), QuotaPerSecond: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	client, err := bssclient.New(bssclient.Config{Endpoint: sim.URL, RateLimit: 1000,
		Credentials: bssclient.StaticCredentials(bsssim.TestAccessKeyID, bsssim.TestAccessKeySecret, "")})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := NewPlan(Request{From: day("2026-02-01"), To: day("2026-02-05"), Families: []string{"ossbucket"}}, planNow, collector.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	_, err = testRunner(collector.Account{Name: "sim", Client: client}, filepath.Join(t.TempDir(), "h.om"), OpenMetrics).Run(context.Background(), plan)
	if err == nil || !strings.Contains(err.Error(), "Split Bill is not enabled for this account: enable it in the Billing console, or leave ossbucket out of --families") {
		t.Errorf("got %v, want the Split Bill advice", err)
	}
}

// TestRunReadsBillFiles backfills the instance and ossbucket families from
// the bill files BSS pushes to OSS: the output is byte for byte the API's,
// with one BSS request a family (the subscriptions) instead of a walk a
// day; a day
// whose file is missing is read from the API, and the output stays the same.
// (The payer, asked once for the journal's identity, is not a unit's
// request.)
func TestRunReadsBillFiles(t *testing.T) {
	world, err := bsssim.NewWorld(bsssim.WorldConfig{Seed: 11, Owners: 2, InstancesPerOwner: 8, SplitBillEnabled: true, SplitItemSubscription: true})
	if err != nil {
		t.Fatal(err)
	}
	clock := bsssim.NewManualClock(planNow)
	sim, err := bsssim.Start(bsssim.Config{World: world, Clock: clock, QuotaPerSecond: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	faults := bsssim.NewOSSFaults()
	oss, err := bsssim.StartOSS(world, bsssim.OSSConfig{Clock: clock, Faults: faults})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = oss.Close() })
	creds := bssclient.StaticCredentials(bsssim.TestAccessKeyID, bsssim.TestAccessKeySecret, "")
	account := func() collector.Account {
		client, err := bssclient.New(bssclient.Config{Endpoint: sim.URL, RateLimit: 1000, Credentials: creds})
		if err != nil {
			t.Fatal(err)
		}
		return collector.Account{Name: "sim", Client: client}
	}
	plan, err := NewPlan(Request{From: day("2026-01-20"), To: day("2026-02-10"), Families: []string{"instance", "ossbucket"}}, planNow, collector.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	run := func(name string, files bool) ([]byte, Result) {
		acct := account()
		r := testRunner(acct, filepath.Join(dir, name), OpenMetrics)
		r.Collector.Instance.PerInstance = true
		if files {
			r.Collector.Instance.Source = collector.SourceBillFiles
			r.Collector.OSSBucket.Source = collector.SourceBillFiles
			if r.Account.BillFiles, err = bssclient.NewOSSReader(bssclient.OSSConfig{Credentials: creds, Region: bsssim.DefaultOSSRegion, Endpoint: oss.URL}); err != nil {
				t.Fatal(err)
			}
		}
		res, err := r.Run(context.Background(), plan)
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.ReadFile(r.Output)
		if err != nil {
			t.Fatal(err)
		}
		return out, res
	}
	fromAPI, apiRes := run("api.om", false)
	if apiRes.Requests < 44 {
		t.Fatalf("the API run made %d requests for 22 days of two families", apiRes.Requests)
	}
	fromFiles, filesRes := run("files.om", true)
	if !bytes.Equal(fromFiles, fromAPI) {
		t.Fatalf("the bill files' backfill differs from the API's:\n%s\nAPI:\n%s", fromFiles, fromAPI)
	}
	if filesRes.Requests != 2 || filesRes.Estimate != 2 {
		t.Errorf("the bill files' run made %d BSS requests and estimated %d, want 2 (the subscriptions, for each family)", filesRes.Requests, filesRes.Estimate)
	}
	faults.MissDay(bsssim.Day{Year: 2026, Month: 2, Day: 1})
	withFallback, fallbackRes := run("fallback.om", true)
	if !bytes.Equal(withFallback, fromAPI) {
		t.Fatalf("with a missing file the backfill differs from the API's:\n%s", withFallback)
	}
	if fallbackRes.Requests != 3 {
		t.Errorf("with a missing file the run made %d BSS requests, want 3 (the subscriptions twice, the day's one page)", fallbackRes.Requests)
	}
}
