package bsssim

import (
	"net/http"
	"net/url"
	"reflect"
	"runtime"
	"testing"
	"time"
)

// Fixed vectors published with Alibaba's OSS Go SDK v2
// (github.com/aliyun/alibabacloud-oss-go-sdk-v2, oss/signer/signer_test.go,
// TestV4AuthHeader, TestV4AuthHeaderWithAdditionalHeaders, TestV1AuthHeader):
// the simulator's own signature code must reproduce them.
func TestOSSSignatureVectors(t *testing.T) {
	query := url.Values{}
	for k, v := range map[string]string{"param1": "value1", "+param1": "value3", "|param1": "value4",
		"+param2": "", "|param2": "", "param2": ""} {
		query.Set(k, v)
	}
	v4 := func(unix int64, authorization string) *ossRequest {
		h := http.Header{}
		for k, v := range map[string]string{"x-oss-head1": "value", "abc": "value", "ZAbc": "value", "XYZ": "value",
			"content-type": "text/plain", "x-oss-content-sha256": "UNSIGNED-PAYLOAD"} {
			h.Set(k, v)
		}
		h.Set("x-oss-date", time.Unix(unix, 0).UTC().Format(ossDateLayoutV4))
		h.Set("Authorization", authorization)
		return &ossRequest{method: "PUT", bucket: "bucket", key: "1234+-/123/1.txt", query: query, header: h}
	}
	v1Header := http.Header{}
	for k, v := range map[string]string{"Content-MD5": "eB5eJF1ptWaXm4bijSPyxw==", "Content-Type": "text/html",
		"x-oss-meta-author": "alice", "x-oss-meta-magic": "abracadabra",
		"x-oss-date": "Wed, 28 Dec 2022 10:27:41 GMT", "Date": "Wed, 28 Dec 2022 10:27:41 GMT",
		"Authorization": "OSS ak:kSHKmLxlyEAKtZPkJhG9bZb5k7M="} {
		v1Header.Set(k, v)
	}
	for name, r := range map[string]*ossRequest{
		"V4": v4(1702743657, "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,"+
			"Signature=e21d18daa82167720f9b1047ae7e7f1ce7cb77a31e8203a7d5f4624fa0284afe"),
		"V4 with additional headers": v4(1702747512, "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,"+
			"AdditionalHeaders=abc;zabc,Signature=4a4183c187c07c8947db7620deb0a6b38d9fbdd34187b6dbaccb316fa251212f"),
		"V1": {method: "PUT", bucket: "examplebucket", key: "nelson", query: url.Values{}, header: v1Header},
	} {
		signed, e := readOSSSignature(r, r.header.Get("Authorization"), "cn-hangzhou")
		if e != nil || signed.scopeErr != nil {
			t.Fatalf("%s: %v %v", name, e, signed.scopeErr)
		}
		if ok, sts, _ := signed.verify("sk"); !ok {
			t.Errorf("%s: the vector does not verify; string to sign:\n%s", name, sts)
		}
		if ok, _, _ := signed.verify("sk2"); ok {
			t.Errorf("%s: another secret verifies", name)
		}
	}
}

// TestOSSDayFileFollowsLateRestatements: a day's file is rewritten, with a
// new ETag and Last-Modified, when a late restatement of the day lands.
func TestOSSDayFileFollowsLateRestatements(t *testing.T) {
	w, err := NewWorld(WorldConfig{Seed: 3, InstancesPerOwner: 40})
	if err != nil {
		t.Fatal(err)
	}
	var day Day
	var lands time.Time
	for d := (Day{2024, time.May, 1}); day.IsZero() && d.Month == time.May; d = d.AddDays(1) {
		for _, rs := range w.restatementsOf(d) {
			if rs.late {
				day, lands = d, rs.appearAt
			}
		}
	}
	if day.IsZero() {
		t.Fatal("no late restatement in May: the test would prove nothing")
	}
	clock := NewManualClock(lands.Add(-time.Second))
	s, err := NewOSSHandler(w, OSSConfig{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	key := w.Subscriptions()[1].BucketPath + w.AccountID() + "_InstanceDetail_" + day.Cycle().String()[:4] +
		day.Cycle().String()[5:] + day.String()[8:]
	before, ok := s.findFile(w.Subscriptions()[0].SubscribeBucket, key+fileExtCSV, clock.Now())
	clock.Set(lands)
	after, ok2 := s.findFile(w.Subscriptions()[0].SubscribeBucket, key+fileExtCSV, clock.Now())
	if !ok || !ok2 {
		t.Fatalf("%s not found", key)
	}
	if before.etag() == after.etag() || !after.snapshot.Equal(lands) || after.rows != before.rows+1 {
		t.Errorf("before %s: %d rows, modified %s; after: %d rows, modified %s",
			lands, before.rows, before.snapshot, after.rows, after.snapshot)
	}
}

// TestOSSMonthFileHoldsPushedDays: a month-so-far file written while the
// cycle's last two days are provisional holds only the days settled by its
// snapshot, each (instance, item) row exactly the sum of those days' DAILY
// rows at the snapshot, for the instance and the billing-item view; the
// API's MONTHLY answer at the same moment still sums every started day.
func TestOSSMonthFileHoldsPushedDays(t *testing.T) {
	w := newTestWorld(t, WorldConfig{Seed: 12, Owners: 2})
	s, err := NewOSSHandler(w, OSSConfig{Clock: NewManualClock(worldMidMarch)})
	if err != nil {
		t.Fatal(err)
	}
	snapshot := time.Date(2025, 3, 15, 0, 0, 0, 0, billingZone)
	// March 13 ended at March 14 00:00 and settled at the snapshot; the 14th
	// and the 15th have started but are provisional.
	const pushed, started = 13, 15
	for d := pushed + 1; d <= started; d++ {
		if ds := dayStateAt(marchDay(d), snapshot); !ds.started || ds.scale >= scaleFinal {
			t.Fatalf("March %d at the snapshot: %+v, want started and provisional", d, ds)
		}
	}
	for _, items := range []bool{false, true} {
		daily := func(last int) map[worldRowKey]Amounts {
			m := map[worldRowKey]Amounts{}
			for d := 1; d <= last; d++ {
				req := dailyInstanceReq(marchDay(d))
				req.IsBillingItem = items
				for _, r := range allInstanceRows(t, w, req, snapshot) {
					k := worldRowKey{r.InstanceID, r.Item, r.BillingItemCode}
					m[k] = addAmounts(t, m[k], r.Amounts)
				}
			}
			return m
		}
		want := daily(pushed)
		restated := false
		for k := range want {
			restated = restated || k.item == itemRefund || k.item == itemAdjustment
		}
		if !restated {
			t.Fatal("no restatement in the pushed days: the grouped restatement rows go untested")
		}

		typ := "InstanceDetailMonthly"
		if items {
			typ = "BillingItemDetailMonthly"
		}
		sub := BillSubscription{SubscribeBucket: "b", BucketPath: "p/", SubscribeType: typ}
		files := s.cycleFiles(&sub, fileTypeOf(typ), march2025, worldMidMarch, 1<<20)
		if len(files) != 1 || !files[0].snapshot.Equal(snapshot) {
			t.Fatalf("%s: %d files, want one written at %s", typ, len(files), snapshot)
		}
		f := &files[0]
		got := map[worldRowKey]Amounts{}
		n := 0
		err := w.eachFileRow(f, func(r *fileRow) error {
			if r.date != "" {
				t.Errorf("%s row dated %s", typ, r.date)
			}
			k := worldRowKey{r.instanceID, r.item, r.billingItemCode}
			got[k] = addAmounts(t, got[k], r.amounts)
			n++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n != w.fileRowCount(f) || n != len(got) {
			t.Errorf("%s: %d rows written, %d counted, %d keys", typ, n, w.fileRowCount(f), len(got))
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %d rows != the sums of March 1–%d's DAILY rows (%d keys)", typ, len(got), pushed, len(want))
			for k, a := range want {
				if got[k] != a {
					t.Errorf("first difference: %+v: file %+v, DAILY %+v", k, got[k], a)
					break
				}
			}
		}

		// The API is unchanged: its MONTHLY answer sums every started day.
		api := map[worldRowKey]Amounts{}
		req := InstanceBillRequest{BillingCycle: march2025, Granularity: Monthly, IsBillingItem: items}
		for _, r := range allInstanceRows(t, w, req, snapshot) {
			k := worldRowKey{r.InstanceID, r.Item, r.BillingItemCode}
			api[k] = addAmounts(t, api[k], r.Amounts)
		}
		if !reflect.DeepEqual(api, daily(started)) {
			t.Errorf("IsBillingItem=%v: the MONTHLY API answer does not sum March 1–%d's DAILY rows", items, started)
		}
		if reflect.DeepEqual(api, got) {
			t.Errorf("%s equals the MONTHLY API answer, provisional days included", typ)
		}
	}
}

// bigDayWorld bills about 100,000 rows a day.
func bigDayWorld(tb testing.TB) (*World, *billFile, *OSSServer) {
	tb.Helper()
	w, err := NewWorld(WorldConfig{Seed: 11, Owners: 9, InstancesPerOwner: 17_000})
	if err != nil {
		tb.Fatal(err)
	}
	s, err := NewOSSHandler(w, OSSConfig{Clock: NewManualClock(time.Date(2024, time.June, 10, 12, 0, 0, 0, billingZone))})
	if err != nil {
		tb.Fatal(err)
	}
	key := w.Subscriptions()[1].BucketPath + w.AccountID() + "_InstanceDetail_20240605" + fileExtCSV
	f, ok := s.findFile(w.Subscriptions()[0].SubscribeBucket, key, s.clock.Now())
	if !ok {
		tb.Fatalf("%s not found", key)
	}
	return w, &f, s
}

// TestOSSFileStreamsInBoundedMemory: a ~100k-row file is written without
// holding it: what the generation allocates in all (the rows' strings,
// about half the file) stays below the file's size, which a server that
// built the file in memory would allocate at least once; it reports the
// numbers.
func TestOSSFileStreamsInBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 100k-row file")
	}
	_, f, s := bigDayWorld(t)
	if f.rows < 90_000 {
		t.Fatalf("%d rows, want about 100k", f.rows)
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var c countingWriter
	if err := s.writeFile(&c, f); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d rows, %d bytes written, %d bytes allocated (%.0f per row)", f.rows, c.n, alloc, float64(alloc)/float64(f.rows))
	if alloc >= uint64(c.n) {
		t.Errorf("allocated %d bytes writing a %d-byte file: as much as holding it", alloc, c.n)
	}
}

func BenchmarkOSSWriteDayFile(b *testing.B) {
	_, f, s := bigDayWorld(b)
	b.ReportAllocs()
	var c countingWriter
	for b.Loop() {
		c.n = 0
		if err := s.writeFile(&c, f); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(c.n), "bytes/file")
	b.ReportMetric(float64(f.rows), "rows/file")
}
