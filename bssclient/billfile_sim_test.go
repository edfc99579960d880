package bssclient_test

import (
	"context"
	"errors"
	"iter"
	"maps"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
)

// Bill files against the simulator: the simulator's OSS endpoint serves
// the files of the same World its BSS endpoint answers from, at the same
// billing moment, so a file read by bssclient must equal the API's answer.

// fileSim is a World served by both endpoints on one clock.
type fileSim struct {
	world  *bsssim.World
	clock  *bsssim.ManualClock
	bss    *bsssim.Running
	oss    *bsssim.RunningOSS
	client *bssclient.Client
	// ossRequests counts the requests of every reader, by method.
	ossRequests *requestCounter
}

// requestCounter is a RoundTripper counting requests by method.
type requestCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *requestCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.n[r.Method]++
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (c *requestCounter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = map[string]int{}
	return n
}

// fileWorld has a split-item subscription and a few thousand rows a day.
var fileWorld = bsssim.WorldConfig{Seed: 7, Owners: 3, InstancesPerOwner: 120, SplitBillEnabled: true, SplitItemSubscription: true}

func startFileSim(t *testing.T, wcfg bsssim.WorldConfig, ossCfg bsssim.OSSConfig) *fileSim {
	t.Helper()
	world, err := bsssim.NewWorld(wcfg)
	if err != nil {
		t.Fatal(err)
	}
	clock := bsssim.NewManualClock(billingNow)
	bss, err := bsssim.Start(bsssim.Config{World: world, Clock: clock, QuotaPerSecond: -1, Faults: bsssim.NewFaults()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bss.Close() })
	ossCfg.Clock = clock
	oss, err := bsssim.StartOSS(world, ossCfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = oss.Close() })
	s := &fileSim{world: world, clock: clock, bss: bss, oss: oss, ossRequests: &requestCounter{n: map[string]int{}}}
	s.client, _ = newSimClient(t, sim{run: bss})
	return s
}

func (s *fileSim) reader(t *testing.T, creds bssclient.CredentialsProvider) *bssclient.OSSReader {
	t.Helper()
	if creds == nil {
		creds = bssclient.StaticCredentials(bsssim.TestAccessKeyID, bsssim.TestAccessKeySecret, "")
	}
	r, err := bssclient.NewOSSReader(bssclient.OSSConfig{Credentials: creds, Region: bsssim.DefaultOSSRegion,
		Endpoint: s.oss.URL, RetryMaxAttempts: 1, HTTPClient: &http.Client{Transport: s.ossRequests}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// files returns the BillFiles of the subscription of subscribeType, found
// as a collector finds them: through QueryBillToOSSSubscription and Payer.
func (s *fileSim) files(t *testing.T, subscribeType string, creds bssclient.CredentialsProvider) *bssclient.BillFiles {
	t.Helper()
	ctx := context.Background()
	subs, err := s.client.QueryBillToOSSSubscription(ctx)
	if err != nil {
		t.Fatal(err)
	}
	payer, err := s.client.Payer(ctx, may2024)
	if err != nil {
		t.Fatal(err)
	}
	for _, sub := range subs {
		if sub.SubscribeType == subscribeType {
			f, err := bssclient.NewBillFiles(s.reader(t, creds), sub, payer.AccountID)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatalf("no %s subscription in %+v", subscribeType, subs)
	return nil
}

// all copies every row of seq; pages are only valid until the next step.
func all[T any](seq iter.Seq2[[]T, error]) ([]T, error) {
	var out []T
	for page, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, page...)
	}
	return out, nil
}

// instanceInFile keeps the fields an instance file carries (the
// simulator's header): the rest are the API's alone.
func instanceInFile(it bssclient.InstanceBillItem) bssclient.InstanceBillItem {
	return bssclient.InstanceBillItem{BillingDate: it.BillingDate, BillAccountID: it.BillAccountID, OwnerID: it.OwnerID,
		ProductCode: it.ProductCode, ProductName: it.ProductName, SubscriptionType: it.SubscriptionType, Item: it.Item,
		InstanceID: it.InstanceID, NickName: it.NickName, Region: it.Region, Zone: it.Zone, ResourceGroup: it.ResourceGroup,
		CostUnit: it.CostUnit, Tag: it.Tag, Currency: it.Currency, Amounts: amountsInFile(it.Amounts)}
}

func splitInFile(it bssclient.SplitItemBillItem) bssclient.SplitItemBillItem {
	return bssclient.SplitItemBillItem{BillingDate: it.BillingDate, SplitBillingCycle: it.SplitBillingCycle,
		BillAccountID: it.BillAccountID, OwnerID: it.OwnerID, ProductCode: it.ProductCode, ProductName: it.ProductName,
		SubscriptionType: it.SubscriptionType, Item: it.Item, InstanceID: it.InstanceID, SplitItemID: it.SplitItemID,
		SplitItemName: it.SplitItemName, BillingItem: it.BillingItem, BillingItemCode: it.BillingItemCode, Region: it.Region,
		Zone: it.Zone, CostUnit: it.CostUnit, Tag: it.Tag, Currency: it.Currency, Amounts: amountsInFile(it.Amounts)}
}

// amountsInFile drops the amounts files do not carry (CashAmount,
// AdjustAmount), which AmountsNotInBillFiles names.
func amountsInFile(a bssclient.Amounts) bssclient.Amounts {
	a.CashAmount, a.AdjustAmount = bssclient.Money{}, bssclient.Money{}
	return a
}

// compareRows checks got against the API's rows field by field, in order,
// and their sums exactly.
func compareRows[T comparable](t *testing.T, got, api []T, inFile func(T) T, amounts func(*T) bssclient.Amounts) {
	t.Helper()
	if len(got) != len(api) || len(api) == 0 {
		t.Fatalf("%d rows from the file, %d from the API (want equal and non-zero)", len(got), len(api))
	}
	var sumFile, sumAPI bssclient.Amounts
	for i := range api {
		want := inFile(api[i])
		if got[i] != want {
			t.Fatalf("row %d\nfile %+v\n API %+v", i, got[i], want)
		}
		var err error
		if sumFile, err = sumFile.Add(amounts(&got[i])); err != nil {
			t.Fatal(err)
		}
		if sumAPI, err = sumAPI.Add(amountsInFile(amounts(&api[i]))); err != nil {
			t.Fatal(err)
		}
	}
	if sumFile != sumAPI || sumAPI.PretaxAmount.IsZero() {
		t.Errorf("sums\nfile %+v\n API %+v", sumFile, sumAPI)
	}
}

func TestBillFileDayEqualsDescribeInstanceBill(t *testing.T) {
	s := startFileSim(t, fileWorld, bsssim.OSSConfig{})
	ctx := context.Background()
	files := s.files(t, "InstanceDetailForBillingPeriod", nil)
	got, err := all(files.InstanceBillOfDay(ctx, may20))
	if err != nil {
		t.Fatal(err)
	}
	api, err := all(s.client.DescribeInstanceBill(ctx, bssclient.InstanceBillRequest{BillingCycle: may2024, Granularity: bssclient.Daily, BillingDate: may20}))
	if err != nil {
		t.Fatal(err)
	}
	compareRows(t, got, api, instanceInFile, instanceAmounts)
}

var june2024 = bssclient.Cycle{Year: 2024, Month: time.June}

// june10 is when June's month-so-far files are last written before
// billingNow: June 1–8 have settled (are pushed), June 9 and 10 are
// provisional.
var june10 = time.Date(2024, 6, 10, 0, 0, 0, 0, bssclient.BillingZone)

// TestBillFileSplitMonthEqualsDescribeSplitItemBill: the split file is the
// DAILY answers of the days pushed by its snapshot, read at that moment:
// all of a final cycle, and of a running one no provisional day.
func TestBillFileSplitMonthEqualsDescribeSplitItemBill(t *testing.T) {
	for _, tt := range []struct {
		cycle  bssclient.Cycle
		at     time.Time
		pushed int
	}{
		{may2024, billingNow, 31},
		{june2024, june10, 8},
	} {
		t.Run(tt.cycle.String(), func(t *testing.T) {
			s := startFileSim(t, fileWorld, bsssim.OSSConfig{})
			s.clock.Set(tt.at)
			ctx := context.Background()
			files := s.files(t, "SplitItemDetailDaily", nil)
			got, err := all(files.SplitItemBillOfMonth(ctx, tt.cycle))
			if err != nil {
				t.Fatal(err)
			}
			last := tt.cycle.FirstDay().AddDays(tt.pushed - 1)
			for i := range got {
				if got[i].BillingDate > last.String() {
					t.Fatalf("row %d is dated %s, after %s, the last day pushed by %s", i, got[i].BillingDate, last, tt.at)
				}
			}
			var api []bssclient.SplitItemBillItem
			for d := tt.cycle.FirstDay(); !last.Before(d); d = d.AddDays(1) {
				day, err := all(s.client.DescribeSplitItemBill(ctx, bssclient.SplitItemBillRequest{BillingCycle: tt.cycle, Granularity: bssclient.Daily, BillingDate: d}))
				if err != nil {
					t.Fatal(err)
				}
				api = append(api, day...)
			}
			compareRows(t, got, api, splitInFile, splitAmounts)
		})
	}
}

// TestBillFileInstanceMonthEqualsPushedDays: an InstanceDetailMonthly file
// of a running cycle sums, per instance and item, exactly the DAILY answers
// of the days pushed by its snapshot, and nothing of the provisional days.
func TestBillFileInstanceMonthEqualsPushedDays(t *testing.T) {
	wcfg := fileWorld
	wcfg.Seed = 11 // a world with an InstanceDetailMonthly subscription
	s := startFileSim(t, wcfg, bsssim.OSSConfig{})
	s.clock.Set(june10)
	ctx := context.Background()
	type key struct{ instance, item string }
	add := func(m map[key]bssclient.Amounts, it *bssclient.InstanceBillItem) {
		k := key{it.InstanceID, it.Item}
		sum, err := m[k].Add(amountsInFile(it.Amounts))
		if err != nil {
			t.Fatal(err)
		}
		m[k] = sum
	}
	rows, err := all(s.files(t, "InstanceDetailMonthly", nil).InstanceBillOfMonth(ctx, june2024))
	if err != nil {
		t.Fatal(err)
	}
	got := map[key]bssclient.Amounts{}
	for i := range rows {
		add(got, &rows[i])
	}
	daily := func(d bssclient.Day) []bssclient.InstanceBillItem {
		day, err := all(s.client.DescribeInstanceBill(ctx, bssclient.InstanceBillRequest{BillingCycle: june2024, Granularity: bssclient.Daily, BillingDate: d}))
		if err != nil {
			t.Fatal(err)
		}
		return day
	}
	want := map[key]bssclient.Amounts{}
	for d := june2024.FirstDay(); d.Day <= 8; d = d.AddDays(1) {
		day := daily(d)
		for i := range day {
			add(want, &day[i])
		}
	}
	if len(daily(bssclient.Day{Year: 2024, Month: time.June, Day: 9})) == 0 {
		t.Fatal("June 9 bills nothing: the test would prove nothing")
	}
	if len(rows) != len(got) || len(got) == 0 || !maps.Equal(got, want) {
		t.Errorf("%d rows (%d keys) in the file, not the sums of June 1–8's DAILY answers (%d keys)", len(rows), len(got), len(want))
	}
}

// TestBillFileZipEqualsCSV: over the row limit the object is a zip of CSV
// parts, and decodes to the same rows as the CSV.
func TestBillFileZipEqualsCSV(t *testing.T) {
	ctx := context.Background()
	whole := startFileSim(t, fileWorld, bsssim.OSSConfig{})
	zipped := startFileSim(t, fileWorld, bsssim.OSSConfig{RowLimitPerFile: 97})
	for _, typ := range []string{"InstanceDetailForBillingPeriod", "SplitItemDetailDaily"} {
		t.Run(typ, func(t *testing.T) {
			open := func(s *fileSim) *bssclient.BillFile {
				files := s.files(t, typ, nil)
				var f *bssclient.BillFile
				var err error
				if files.HasDailyFiles() {
					f, err = files.OpenDay(ctx, may20)
				} else {
					f, err = files.OpenMonth(ctx, may2024)
				}
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = f.Close() })
				return f
			}
			csvFile, zipFile := open(whole), open(zipped)
			if csvFile.Zipped || !zipFile.Zipped || !strings.HasSuffix(zipFile.Key, ".zip") {
				t.Fatalf("%s zipped=%v, %s zipped=%v", csvFile.Key, csvFile.Zipped, zipFile.Key, zipFile.Zipped)
			}
			if typ == "SplitItemDetailDaily" {
				want, err := all(csvFile.SplitItemBill())
				if err != nil {
					t.Fatal(err)
				}
				got, err := all(zipFile.SplitItemBill())
				if err != nil {
					t.Fatal(err)
				}
				compareRows(t, got, want, splitInFile, splitAmounts)
				checkStreamed(t, zipped)
				return
			}
			want, err := all(csvFile.InstanceBill())
			if err != nil {
				t.Fatal(err)
			}
			got, err := all(zipFile.InstanceBill())
			if err != nil {
				t.Fatal(err)
			}
			if len(want) <= 2*97 {
				t.Fatalf("%d rows: the test needs three parts or more", len(want))
			}
			compareRows(t, got, want, instanceInFile, instanceAmounts)
			checkStreamed(t, zipped)
		})
	}
}

// checkStreamed: a zip's parts stream in one download after the
// directory's reads, not one or more per part.
func checkStreamed(t *testing.T, s *fileSim) {
	t.Helper()
	if n := s.ossRequests.take(); n["GET"] > 3 {
		t.Errorf("%v requests for one zip", n)
	}
}

func TestBillFileMissingDay(t *testing.T) {
	faults := bsssim.NewOSSFaults()
	faults.MissDay(bsssim.Day{Year: may20.Year, Month: may20.Month, Day: may20.Day})
	s := startFileSim(t, fileWorld, bsssim.OSSConfig{Faults: faults})
	files := s.files(t, "InstanceDetailForBillingPeriod", nil)
	_, err := all(files.InstanceBillOfDay(context.Background(), may20))
	var missing *bssclient.BillFileMissingError
	if !errors.Is(err, bssclient.ErrBillFileMissing) || !errors.As(err, &missing) || missing.Key != files.DayKey(may20) ||
		!strings.Contains(err.Error(), "20240520") || bssclient.ErrorCode(err) != "NoSuchKey" || bssclient.IsTransient(err) {
		t.Fatalf("err = %v, want ErrBillFileMissing naming %s", err, files.DayKey(may20))
	}
	// The day before is there.
	if rows, err := all(files.InstanceBillOfDay(context.Background(), may20.AddDays(-1))); err != nil || len(rows) == 0 {
		t.Errorf("the day before: %d rows, %v", len(rows), err)
	}
}

func TestBillFileDroppedColumn(t *testing.T) {
	faults := bsssim.NewOSSFaults()
	s := startFileSim(t, fileWorld, bsssim.OSSConfig{Faults: faults})
	files := s.files(t, "InstanceDetailForBillingPeriod", nil)
	lang := files.Subscription().SubscribeLanguage
	key := files.DayKey(may20) + ".csv"
	tests := []struct {
		zh, en  string
		wantErr bool
	}{
		{"应付金额", "Payable Amount", true},
		{"账号ID", "Account ID", true},
		{"实例昵称", "Instance Nickname", false}, // informational
	}
	for _, tt := range tests {
		column := tt.en
		if lang == "zh" {
			column = tt.zh
		}
		faults.Clear()
		faults.DropColumn(key, column)
		rows, err := all(files.InstanceBillOfDay(context.Background(), may20))
		switch {
		case !tt.wantErr && (err != nil || len(rows) == 0):
			t.Errorf("without %s: %d rows, %v; an informational column may be missing", column, len(rows), err)
		case tt.wantErr && (err == nil || !strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), column)):
			t.Errorf("without %s: %v, want an error naming %s and the column", column, err, key)
		}
	}
}

func TestBillFileWrongCredentials(t *testing.T) {
	const wrongSecret = "not-the-secret-0123456789"
	s := startFileSim(t, fileWorld, bsssim.OSSConfig{})
	files := s.files(t, "InstanceDetailForBillingPeriod", bssclient.StaticCredentials(bsssim.TestAccessKeyID, wrongSecret, ""))
	_, err := all(files.InstanceBillOfDay(context.Background(), may20))
	var ossErr *bssclient.OSSError
	if !errors.As(err, &ossErr) || ossErr.Code != "SignatureDoesNotMatch" || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
		t.Fatalf("err = %v, want OSS's SignatureDoesNotMatch", err)
	}
	if bssclient.Classify(err) != bssclient.ClassAuthentication || bssclient.ErrorCode(err) != "SignatureDoesNotMatch" || bssclient.IsTransient(err) {
		t.Errorf("Classify %s, ErrorCode %s, transient %v", bssclient.Classify(err), bssclient.ErrorCode(err), bssclient.IsTransient(err))
	}
	for _, secret := range []string{wrongSecret, bsssim.TestAccessKeySecret} {
		if strings.Contains(err.Error(), secret) || strings.Contains(ossErr.Message, secret) {
			t.Errorf("the error shows a secret: %v", err)
		}
	}
}

// rotatingCredentials answers a stale secret until rotated, as a chain
// does before it refreshes.
type rotatingCredentials struct {
	rotated atomic.Bool
	calls   atomic.Int64
}

func (r *rotatingCredentials) Credentials(ctx context.Context) (bssclient.Credentials, error) {
	r.calls.Add(1)
	secret := "stale-secret"
	if r.rotated.Load() {
		secret = bsssim.TestAccessKeySecret
	}
	return bssclient.Credentials{AccessKeyID: bsssim.TestAccessKeyID, AccessKeySecret: secret}, nil
}

// TestBillFileCredentialsFollowTheProvider: the same reader signs with
// whatever the provider answers now, not what it answered when built.
func TestBillFileCredentialsFollowTheProvider(t *testing.T) {
	s := startFileSim(t, fileWorld, bsssim.OSSConfig{})
	creds := &rotatingCredentials{}
	files := s.files(t, "InstanceDetailForBillingPeriod", creds)
	if _, err := files.OpenDay(context.Background(), may20); bssclient.ErrorCode(err) != "SignatureDoesNotMatch" {
		t.Fatalf("with the stale secret: %v", err)
	}
	creds.rotated.Store(true)
	f, err := files.OpenDay(context.Background(), may20)
	if err != nil {
		t.Fatalf("after the rotation: %v", err)
	}
	defer f.Close()
	if rows, err := all(f.InstanceBill()); err != nil || len(rows) == 0 || creds.calls.Load() < 2 {
		t.Errorf("%d rows, %v, %d credential calls", len(rows), err, creds.calls.Load())
	}
	if !f.LastModified.Equal(may20.SettledAt(bssclient.KindInstanceAttributes)) || f.ETag == "" {
		t.Errorf("file metadata: %+v", f)
	}
}
