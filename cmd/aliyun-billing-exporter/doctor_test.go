package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/doctor"
)

// doctorSim serves a world for doctor runs and returns a config file for it.
func doctorSim(t *testing.T, wc bsssim.WorldConfig) (*bsssim.World, *bsssim.Running, string) {
	t.Helper()
	world, sim := serveWorld(t, wc)
	path := filepath.Join(t.TempDir(), "config.yml")
	writeSimConfig(t, path, "sim", sim)
	return world, sim, path
}

func runDoctorJSON(t *testing.T, args ...string) (int, doctor.Report, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"doctor", "--format=json"}, args...), &stdout, &stderr, nil)
	var r doctor.Report
	if code != 2 {
		if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
			t.Fatalf("doctor --format=json printed no report (%v):\n%s\n%s", err, stdout.String(), stderr.String())
		}
	}
	return code, r, stdout.String() + stderr.String()
}

// marks returns "name: mark" of every check that is not ✓ or a note.
func marks(r doctor.Report) []string {
	var out []string
	for _, c := range r.Checks {
		if c.Mark == doctor.Fail || c.Mark == doctor.Unknown {
			out = append(out, c.Name+" "+string(c.Mark)+" "+c.Detail)
		}
	}
	return out
}

var doctorWorld = bsssim.WorldConfig{Seed: 5, Owners: 2, InstancesPerOwner: 30, SplitBillEnabled: true}

// TestDoctorOnAWorkingAccount: ✓ throughout and exit 0, within the budget
// said first, and no secret or whole AccessKey ID in the output.
func TestDoctorOnAWorkingAccount(t *testing.T) {
	_, _, config := doctorSim(t, doctorWorld)
	code, r, out := runDoctorJSON(t, "--config.file="+config)
	if code != 0 || len(marks(r)) != 0 {
		t.Fatalf("exit %d, checks not ✓: %v\n%s", code, marks(r), out)
	}
	if r.Requests == 0 || r.Requests > r.MaxRequests {
		t.Errorf("%d requests, at most %d", r.Requests, r.MaxRequests)
	}
	for _, secret := range []string{bsssim.TestAccessKeySecret, bsssim.TestAccessKeyID} {
		if strings.Contains(out, secret) {
			t.Errorf("the output shows %q", secret)
		}
	}
	if !strings.Contains(out, bsssim.TestAccessKeyID[:4]+"…") {
		t.Errorf("the output does not show the AccessKey ID's first 4 characters:\n%s", out)
	}
	for _, want := range []string{"payer", "clock", "freshness", "cold start", bssclient.ActionDescribeSplitItemBill, "guess"} {
		if !strings.Contains(out, `"`+want) {
			t.Errorf("no %s check:\n%s", want, out)
		}
	}
	for _, seen := range []string{"the account's plans are in GB", "plans agrees with their EndTime", "peak memory"} {
		if !strings.Contains(out, seen) {
			t.Errorf("no %q in the report:\n%s", seen, out)
		}
	}
	if !strings.Contains(out, "one split row is one billing item of a bucket: of ") || strings.Contains(out, ", 0 name a billing item") {
		t.Errorf("the split rows' form is not reported from the day read:\n%s", out)
	}
	// The text form says the same, with a mark on each line.
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"doctor", "--config.file=" + config}, &stdout, &stderr, nil); code != 0 ||
		!strings.HasPrefix(stdout.String(), "✓ credentials") || !strings.Contains(stderr.String(), "at most 200 requests") {
		t.Errorf("text: exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
}

// TestDoctorFindsWhatWillNotWork: each fault gives its own ✗ or ? and exit 1.
func TestDoctorFindsWhatWillNotWork(t *testing.T) {
	type tc struct {
		name  string
		world func(*bsssim.WorldConfig)
		setup func(*bsssim.World, *bsssim.Faults)
		args  []string
		want  string
	}
	cases := []tc{
		{name: "split bill off", world: func(w *bsssim.WorldConfig) { w.SplitBillEnabled = false },
			want: "DescribeSplitItemBill ✗ Split Bill is not enabled"},
		{name: "sts expired", setup: func(_ *bsssim.World, f *bsssim.Faults) { f.ExpireTokenNext(1000) },
			want: "InvalidSecurityToken.Expired"},
		{name: "clock skew +2h", setup: func(_ *bsssim.World, f *bsssim.Faults) { f.SetClockSkew(2 * time.Hour) },
			want: "clock ✗ the host clock is -2h0m0s off BSS's"},
		{name: "commitments do not apply", setup: func(w *bsssim.World, _ *bsssim.Faults) {
			for _, a := range bsssim.CommitmentActions {
				_ = w.SetCommitmentAPIAvailable(a, false)
			}
		}, want: "QueryResourcePackageInstances ? does not apply to this account (NotApplicable)"},
		{name: "amortized cost off", world: func(w *bsssim.WorldConfig) { w.AmortizedCostDisabled = true },
			want: bssclient.ActionDescribeProductAmortizedCost + " ? Amortized Cost is not enabled or not permitted (NotApplicable): the amortized collector stays off"},
		{name: "billing items asked of rows per bucket", world: func(w *bsssim.WorldConfig) { w.SplitRowPerBucket = true },
			args: []string{"--collector.ossbucket.billing-item"},
			want: "split rows on the newest settled day, 0 name a billing item"},
	}
	for action, want := range map[string]string{
		// The payer is QueryAccountBill's first answer.
		bssclient.ActionQueryAccountBill:             "payer ✗ BSS refused the first request",
		bssclient.ActionDescribeInstanceBill:         "DescribeInstanceBill ✗ denied: NoPermission",
		bssclient.ActionDescribeSplitItemBill:        "DescribeSplitItemBill ✗ denied: NoPermission",
		bssclient.ActionQueryCashCoupons:             "QueryCashCoupons ✗ denied: NoPermission",
		bssclient.ActionDescribeProductAmortizedCost: bssclient.ActionDescribeProductAmortizedCost + " ✗ denied: NoPermission",
	} {
		cases = append(cases, tc{name: "no permission " + action, setup: func(_ *bsssim.World, f *bsssim.Faults) { f.DenyAction(action) },
			want: want})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wc := doctorWorld
			if c.world != nil {
				c.world(&wc)
			}
			world, sim, config := doctorSim(t, wc)
			if c.setup != nil {
				c.setup(world, sim.Server.Faults())
			}
			code, r, out := runDoctorJSON(t, append([]string{"--config.file=" + config}, c.args...)...)
			found := strings.Join(marks(r), "\n")
			if code != 1 || !strings.Contains(found, c.want) {
				t.Errorf("exit %d, checks not ✓:\n%s\nwant exit 1 and %q\n%s", code, found, c.want, out)
			}
		})
	}
}

// TestDoctorStaysWithinItsBudget: --max-requests bounds the requests; what
// it could not check says so.
func TestDoctorStaysWithinItsBudget(t *testing.T) {
	_, _, config := doctorSim(t, doctorWorld)
	code, r, out := runDoctorJSON(t, "--config.file="+config, "--max-requests=6")
	if code != 1 || r.Requests > 6 || !strings.Contains(out, "not checked: --max-requests reached") {
		t.Errorf("exit %d, %d requests, want exit 1 within 6 and the unchecked said:\n%s", code, r.Requests, out)
	}
	if code, _, out := runDoctorJSON(t, "--config.file="+config, "--max-requests=0"); code != 2 || !strings.Contains(out, "--max-requests: must be at least 1") {
		t.Errorf("--max-requests=0: exit %d\n%s", code, out)
	}
}

// TestREADMEDoctorFlagsTableMatchesCode: the README's table of doctor's own
// flags lists exactly those flags, with their defaults.
func TestREADMEDoctorFlagsTableMatchesCode(t *testing.T) {
	checkSubcommandFlagsTable(t, doctorCommand)
}

// TestDoctorProbesRemoteWrite: each remote-write receiver gets one probe
// sample as old as the oldest daily sample; one that refuses it as too old
// is a ✗ naming the window to set, and exit 1.
func TestDoctorProbesRemoteWrite(t *testing.T) {
	receiver := func(status int, message string) (string, *atomic.Int64) {
		var n atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			if status != http.StatusNoContent {
				http.Error(w, message, status)
				return
			}
			w.WriteHeader(status)
		}))
		t.Cleanup(srv.Close)
		return srv.URL + "/api/v1/write", &n
	}
	_, _, config := doctorSim(t, doctorWorld)
	ok, okCalls := receiver(http.StatusNoContent, "")
	code, r, out := runDoctorJSON(t, "--config.file="+config, "--storage.path="+t.TempDir(), "--remote-write.url="+ok)
	if code != 0 || okCalls.Load() != 1 || !strings.Contains(out, "took a probe sample") {
		t.Errorf("a receiver with a window: exit %d, %d requests, checks not ✓: %v\n%s", code, okCalls.Load(), marks(r), out)
	}
	narrow, _ := receiver(http.StatusBadRequest, "out of bounds")
	code, r, out = runDoctorJSON(t, "--config.file="+config, "--storage.path="+t.TempDir(), "--remote-write.url="+narrow)
	if found := strings.Join(marks(r), "\n"); code != 1 || !strings.Contains(found, "✗ refused a sample") || !strings.Contains(out, "out_of_order_time_window") {
		t.Errorf("a receiver without a window: exit %d, checks not ✓:\n%s\n%s", code, found, out)
	}
}
