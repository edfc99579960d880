package doctor

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/collector"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
)

// The bill files check reads the newest settled day from the file and from
// the API and compares them; a missing file and a missing column are
// failures that say which.
func TestBillFilesCheck(t *testing.T) {
	moment := time.Date(2026, 3, 16, 11, 0, 0, 0, bssclient.BillingZone)
	cfg := collector.DefaultConfig()
	newest := cfg.Calendar().NewestSettledDay(moment, bssclient.KindInstanceAttributes)
	simDay := bsssim.Day{Year: newest.Year, Month: newest.Month, Day: newest.Day}
	for _, tc := range []struct {
		name        string
		faults      func(f *bsssim.OSSFaults, key string)
		maxRequests int
		want        Mark
		wantDetail  []string
	}{
		{"agree", nil, 200, OK, []string{newest.String() + ": the file reads", "; DescribeInstanceBill reads"}},
		{"over the budget", nil, 2, Unknown, []string{"do not fit --max-requests"}},
		{"missing file", func(f *bsssim.OSSFaults, _ string) { f.MissDay(simDay) }, 200, Fail, []string{"_InstanceDetail_" + strings.ReplaceAll(newest.String(), "-", "")}},
		{"missing column", func(f *bsssim.OSSFaults, key string) { f.DropColumn(key, "应付金额") }, 200, Fail, []string{"应付金额"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			world, clock, sim := startSim(t, bsssim.WorldConfig{Seed: 11, Owners: 2, InstancesPerOwner: 200}, moment)
			faults := bsssim.NewOSSFaults()
			files, err := bsssim.StartOSS(world, bsssim.OSSConfig{Clock: clock, Faults: faults})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = files.Close() })
			creds := bssclient.StaticCredentials(bsssim.TestAccessKeyID, bsssim.TestAccessKeySecret, "")
			reader, err := bssclient.NewOSSReader(bssclient.OSSConfig{Credentials: creds, Region: bsssim.DefaultOSSRegion, Endpoint: files.URL})
			if err != nil {
				t.Fatal(err)
			}
			if tc.faults != nil {
				tc.faults(faults, "billing/instance-detail/"+world.AccountID()+"_InstanceDetail_"+strings.ReplaceAll(newest.String(), "-", "")+".csv")
			}
			obs := &countingObserver{}
			client, err := bssclient.New(bssclient.Config{Endpoint: sim.URL, RateLimit: 1000, Burst: 100, Observer: obs, Credentials: creds})
			if err != nil {
				t.Fatal(err)
			}
			r := &run{in: Input{Client: client, Config: cfg, Now: moment, MaxRequests: tc.maxRequests, BillFiles: reader},
				rows: map[string]billSize{}, actions: map[string]error{}}
			r.payerID = world.AccountID()
			r.billFiles(r.counting(context.Background()))
			if len(r.report.Checks) != 1 {
				t.Fatalf("checks %+v, want one", r.report.Checks)
			}
			c := r.report.Checks[0]
			if c.Mark != tc.want {
				t.Errorf("marked %s, want %s: %s", c.Mark, tc.want, c.Detail)
			}
			for _, w := range tc.wantDetail {
				if !strings.Contains(c.Detail, w) {
					t.Errorf("detail %q lacks %q", c.Detail, w)
				}
			}
			if tc.want == OK {
				file, api, _ := strings.Cut(strings.TrimPrefix(c.Detail, newest.String()+": the file reads "), "; DescribeInstanceBill reads ")
				if file != api || !strings.Contains(file, "payable") {
					t.Errorf("the file and the API read differently, or nothing: %q and %q", file, api)
				}
			}
		})
	}
}
