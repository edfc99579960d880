package bsssim_test

// The OSS endpoint's acceptance test: Alibaba's OSS Go SDK v2 lists, reads
// and heads the bill files as a reader of a real subscription bucket would,
// signing with V4 (its default) and V1; wrong credentials are refused with
// OSS's codes. The numbers in the files are checked against the World.

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
)

var utc8 = time.FixedZone("UTC+8", 8*3600)

// ossNow is a billing moment with June's first days settled and May final.
var ossNow = time.Date(2024, time.June, 10, 12, 0, 0, 0, utc8)

type ossFixture struct {
	world  *bsssim.World
	clock  *bsssim.ManualClock
	run    *bsssim.RunningOSS
	bucket string
}

func newOSSWorld(t testing.TB, cfg bsssim.WorldConfig) *bsssim.World {
	t.Helper()
	if cfg.Seed == 0 {
		cfg.Seed = 7
	}
	cfg.SplitItemSubscription = true
	w, err := bsssim.NewWorld(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func startOSS(t testing.TB, world *bsssim.World, cfg bsssim.OSSConfig) *ossFixture {
	t.Helper()
	clock := bsssim.NewManualClock(ossNow)
	if cfg.Clock == nil {
		cfg.Clock = clock
	}
	run, err := bsssim.StartOSS(world, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = run.Close() })
	return &ossFixture{world: world, clock: clock, run: run, bucket: world.Subscriptions()[0].SubscribeBucket}
}

// client is an SDK client of the fixture; opts change its configuration.
func (fx *ossFixture) client(id, secret string, opts ...func(*oss.Config)) *oss.Client {
	cfg := oss.LoadDefaultConfig().
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(id, secret)).
		WithRegion(bsssim.DefaultOSSRegion).
		WithEndpoint(fx.run.URL).
		WithUsePathStyle(true).
		WithRetryMaxAttempts(1)
	for _, o := range opts {
		o(cfg)
	}
	return oss.NewClient(cfg)
}

func (fx *ossFixture) goodClient(opts ...func(*oss.Config)) *oss.Client {
	return fx.client(bsssim.TestAccessKeyID, bsssim.TestAccessKeySecret, opts...)
}

// key is the object key of a subscription's file for period (YYYYMMDD or
// YYYYMM), with the .csv extension.
func (fx *ossFixture) key(subscribeType, period string) string {
	for _, s := range fx.world.Subscriptions() {
		if s.SubscribeType == subscribeType {
			name := strings.TrimSuffix(subscribeType, "ForBillingPeriod")
			return s.BucketPath + fx.world.AccountID() + "_" + name + "_" + period + ".csv"
		}
	}
	return ""
}

func listAll(t *testing.T, c *oss.Client, bucket, prefix string, pageSize int32) []oss.ObjectProperties {
	t.Helper()
	p := c.NewListObjectsV2Paginator(&oss.ListObjectsV2Request{Bucket: oss.Ptr(bucket), Prefix: oss.Ptr(prefix), MaxKeys: pageSize})
	var out []oss.ObjectProperties
	for p.HasNext() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Contents...)
	}
	return out
}

func getBody(t *testing.T, c *oss.Client, bucket, key string) ([]byte, *oss.GetObjectResult) {
	t.Helper()
	res, err := c.GetObject(context.Background(), &oss.GetObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key)})
	if err != nil {
		t.Fatalf("GetObject %s: %v", key, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b, res
}

func serviceCode(err error) string {
	var se *oss.ServiceError
	if errors.As(err, &se) {
		return se.Code
	}
	return "no service error: " + err.Error()
}

func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestOSSSDKListsAndReadsDailyFiles(t *testing.T) {
	fx := startOSS(t, newOSSWorld(t, bsssim.WorldConfig{InstancesPerOwner: 60}), bsssim.OSSConfig{})
	c := fx.goodClient()
	sub := fx.world.Subscriptions()[1] // InstanceDetailForBillingPeriod
	objects := listAll(t, c, fx.bucket, sub.BucketPath, 7)
	keys := make([]string, len(objects))
	for i, o := range objects {
		keys[i] = oss.ToString(o.Key)
	}
	if !slices.IsSorted(keys) {
		t.Errorf("keys are not listed in order: %v", keys)
	}
	for _, k := range []string{"20240608", "202405", "20240531", "20240101"} {
		if !slices.Contains(keys, fx.key(sub.SubscribeType, k)) {
			t.Errorf("listing lacks %s; has %d keys from %s to %s", k, len(keys), keys[0], keys[len(keys)-1])
		}
	}
	// June 9 ends at June 10 00:00 and settles 24 h later.
	if slices.Contains(keys, fx.key(sub.SubscribeType, "20240609")) {
		t.Error("June 9's file is listed before its amounts settled")
	}

	key := fx.key(sub.SubscribeType, "20240608")
	body, res := getBody(t, c, fx.bucket, key)
	head, err := c.HeadObject(context.Background(), &oss.HeadObjectRequest{Bucket: oss.Ptr(fx.bucket), Key: oss.Ptr(key)})
	if err != nil {
		t.Fatal(err)
	}
	var listed oss.ObjectProperties
	for _, o := range objects {
		if oss.ToString(o.Key) == key {
			listed = o
		}
	}
	if head.ContentLength != int64(len(body)) || listed.Size != int64(len(body)) ||
		oss.ToString(head.ETag) != oss.ToString(res.ETag) || oss.ToString(listed.ETag) != oss.ToString(res.ETag) {
		t.Errorf("sizes %d (head) %d (list) vs %d read; ETags %s %s %s", head.ContentLength, listed.Size, len(body),
			oss.ToString(head.ETag), oss.ToString(listed.ETag), oss.ToString(res.ETag))
	}
	day := bsssim.Day{Year: 2024, Month: time.June, Day: 8}
	rows := readCSV(t, body)
	checkHeader(t, rows[0], sub.SubscribeType, true, sub.SubscribeLanguage)
	want := fx.world.Truth(bsssim.TruthQuery{Day: day, Kind: bsssim.KindInstanceAttributes}, ossNow)
	checkMoney(t, rows, sub.SubscribeLanguage, want)

	// Row by row, the file is DescribeInstanceBill's DAILY answer.
	req := bsssim.InstanceBillRequest{BillingCycle: day.Cycle(), Granularity: bsssim.Daily, BillingDate: day}
	api := fx.world.InstanceBillRows(req, ossNow, 0, fx.world.InstanceBillCount(req, ossNow))
	if len(api) != len(rows)-1 {
		t.Fatalf("%d rows in the file, %d in the API", len(rows)-1, len(api))
	}
	col := slices.Index(rows[0], columnName(sub.SubscribeLanguage, "实例ID", "Instance ID"))
	for i, it := range api {
		if rows[i+1][col] != it.InstanceID {
			t.Fatalf("row %d: instance %s in the file, %s in the API", i, rows[i+1][col], it.InstanceID)
		}
	}
}

func columnName(lang, zh, en string) string {
	if lang == "zh" {
		return zh
	}
	return en
}

func checkHeader(t *testing.T, header []string, subscribeType string, daily bool, lang string) {
	t.Helper()
	want := bsssim.FileHeader(subscribeType, daily, lang)
	if len(want) == 0 || !slices.Equal(header, want) {
		t.Errorf("%s header\n%q, want\n%q", subscribeType, header, want)
	}
}

// checkMoney sums each money column exactly and compares it with the World.
func checkMoney(t *testing.T, rows [][]string, lang string, want bsssim.Amounts) {
	t.Helper()
	columns := map[string]bsssim.Money{
		columnName(lang, "原价", "Pretax Gross Amount"):         want.PretaxGrossAmount,
		columnName(lang, "优惠金额", "Discount"):                  want.InvoiceDiscount,
		columnName(lang, "优惠券抵扣", "Deducted By Coupons"):      want.DeductedByCoupons,
		columnName(lang, "代金券抵扣", "Deducted By Cash Coupons"): want.DeductedByCashCoupons,
		columnName(lang, "储值卡抵扣", "Deducted By Prepaid Card"): want.DeductedByPrepaidCard,
		columnName(lang, "应付金额", "Payable Amount"):            want.PretaxAmount,
		columnName(lang, "现金支付", "Payment Amount"):            want.PaymentAmount,
		columnName(lang, "欠费金额", "Outstanding Amount"):        want.OutstandingAmount,
	}
	if want.PretaxGrossAmount.IsZero() {
		t.Fatal("the World bills nothing here: the test would prove nothing")
	}
	for name, total := range columns {
		col := slices.Index(rows[0], name)
		if col < 0 {
			t.Errorf("no column %q in %q", name, rows[0])
			continue
		}
		var sum bsssim.Money
		for _, r := range rows[1:] {
			var m bsssim.Money
			if err := m.UnmarshalJSON([]byte(r[col])); err != nil {
				t.Fatalf("column %s: %v", name, err)
			}
			sum += m
		}
		if sum != total {
			t.Errorf("column %s sums to %s, the World says %s", name, sum, total)
		}
	}
}

func TestOSSSDKErrors(t *testing.T) {
	fx := startOSS(t, newOSSWorld(t, bsssim.WorldConfig{}), bsssim.OSSConfig{})
	ctx := context.Background()
	key := fx.key("InstanceDetailForBillingPeriod", "20240608")
	get := func(c *oss.Client, bucket, key string) error {
		res, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key)})
		if err == nil {
			res.Body.Close()
		}
		return err
	}
	cases := []struct {
		name, want string
		err        error
	}{
		{"wrong secret", "SignatureDoesNotMatch", get(fx.client(bsssim.TestAccessKeyID, "not-the-secret"), fx.bucket, key)},
		{"wrong secret, V1", "SignatureDoesNotMatch", get(fx.client(bsssim.TestAccessKeyID, "not-the-secret",
			func(c *oss.Config) { c.WithSignatureVersion(oss.SignatureVersionV1) }), fx.bucket, key)},
		{"unknown key id", "InvalidAccessKeyId", get(fx.client("LTAI5tNobody", "x"), fx.bucket, key)},
		{"wrong region", "InvalidArgument", get(fx.goodClient(func(c *oss.Config) { c.WithRegion("cn-beijing") }), fx.bucket, key)},
		{"unknown object", "NoSuchKey", get(fx.goodClient(), fx.bucket, key+".old")},
		{"tomorrow's file", "NoSuchKey", get(fx.goodClient(), fx.bucket, fx.key("InstanceDetailForBillingPeriod", "20240609"))},
		{"unknown bucket", "NoSuchBucket", get(fx.goodClient(), "someone-elses-bucket", key)},
	}
	skewed := startOSS(t, fx.world, bsssim.OSSConfig{WallClock: func() time.Time { return time.Now().Add(time.Hour) }})
	cases = append(cases, struct {
		name, want string
		err        error
	}{"a clock an hour off", "RequestTimeTooSkewed", get(skewed.goodClient(), fx.bucket, key)})
	_, headErr := fx.goodClient().HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(fx.bucket), Key: oss.Ptr(key + ".old")})
	cases = append(cases, struct {
		name, want string
		err        error
	}{"HEAD of an unknown object", "NoSuchKey", headErr})
	for _, c := range cases {
		if c.err == nil {
			t.Errorf("%s: no error, want %s", c.name, c.want)
			continue
		}
		if got := serviceCode(c.err); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
		var se *oss.ServiceError
		if errors.As(c.err, &se) && se.RequestID == "" {
			t.Errorf("%s: no RequestId", c.name)
		}
	}
}

func TestOSSSDKSignatureV1AndSTS(t *testing.T) {
	world := newOSSWorld(t, bsssim.WorldConfig{})
	sts := bsssim.Credential{AccessKeyID: "STS.Sim0001", AccessKeySecret: "StsSecret0001", SecurityToken: "token-0001"}
	fx := startOSS(t, world, bsssim.OSSConfig{Credentials: []bsssim.Credential{
		{AccessKeyID: bsssim.TestAccessKeyID, AccessKeySecret: bsssim.TestAccessKeySecret}, sts}})
	key := fx.key("InstanceDetailForBillingPeriod", "20240608")
	v1 := fx.goodClient(func(c *oss.Config) { c.WithSignatureVersion(oss.SignatureVersionV1) })
	b1, _ := getBody(t, v1, fx.bucket, key)
	b4, _ := getBody(t, fx.goodClient(), fx.bucket, key)
	if !bytes.Equal(b1, b4) || len(listAll(t, v1, fx.bucket, "", 1000)) == 0 {
		t.Error("V1 reads differ from V4 reads")
	}

	stsClient := func(token string) *oss.Client {
		return oss.NewClient(oss.LoadDefaultConfig().WithRegion(bsssim.DefaultOSSRegion).WithEndpoint(fx.run.URL).
			WithRetryMaxAttempts(1).
			WithCredentialsProvider(credentials.NewStaticCredentialsProvider(sts.AccessKeyID, sts.AccessKeySecret, token)))
	}
	if b, _ := getBody(t, stsClient(sts.SecurityToken), fx.bucket, key); !bytes.Equal(b, b4) {
		t.Error("an STS client reads other bytes")
	}
	_, err := stsClient("token-9999").HeadObject(context.Background(), &oss.HeadObjectRequest{Bucket: oss.Ptr(fx.bucket), Key: oss.Ptr(key)})
	if err == nil || serviceCode(err) != "InvalidSecurityToken" {
		t.Errorf("a wrong STS token: %v, want InvalidSecurityToken", err)
	}
}

func TestOSSSDKRangeAndVirtualHost(t *testing.T) {
	fx := startOSS(t, newOSSWorld(t, bsssim.WorldConfig{}), bsssim.OSSConfig{})
	key := fx.key("BillingItemDetailForBillingPeriod", "20240601")
	whole, _ := getBody(t, fx.goodClient(), fx.bucket, key)
	res, err := fx.goodClient().GetObject(context.Background(), &oss.GetObjectRequest{
		Bucket: oss.Ptr(fx.bucket), Key: oss.Ptr(key), Range: oss.Ptr("bytes=10-99")})
	if err != nil {
		t.Fatal(err)
	}
	part, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !bytes.Equal(part, whole[10:100]) || res.StatusCode != http.StatusPartialContent {
		t.Errorf("range read %d bytes (status %d), want bytes 10-99 of %d", len(part), res.StatusCode, len(whole))
	}

	// Virtual-hosted style: the bucket in the Host, every host dialled to the simulator.
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, fx.run.Host)
	}
	_, port, _ := net.SplitHostPort(fx.run.Host)
	vh := fx.goodClient(func(c *oss.Config) {
		c.WithEndpoint("http://oss-cn-hangzhou.simulator.test:" + port).WithUsePathStyle(false).
			WithHttpClient(&http.Client{Transport: &http.Transport{DialContext: dial}})
	})
	if b, _ := getBody(t, vh, fx.bucket, key); !bytes.Equal(b, whole) {
		t.Error("virtual-hosted read differs from path-style read")
	}
}

// TestOSSZipParts: a file over the row limit is a zip of CSV parts, each
// with the header and at most the limit's rows, together the unsplit file.
func TestOSSZipParts(t *testing.T) {
	world := newOSSWorld(t, bsssim.WorldConfig{InstancesPerOwner: 60})
	const limit = 25
	small := startOSS(t, world, bsssim.OSSConfig{RowLimitPerFile: limit})
	whole := startOSS(t, world, bsssim.OSSConfig{})
	csvKey := whole.key("BillingItemDetailForBillingPeriod", "20240605")
	zipKey := strings.TrimSuffix(csvKey, ".csv") + ".zip"
	want := readCSV(t, must(getBody(t, whole.goodClient(), whole.bucket, csvKey)))
	if len(want)-1 <= 2*limit {
		t.Fatalf("only %d rows: the test needs at least three parts", len(want)-1)
	}
	if _, err := small.goodClient().HeadObject(context.Background(),
		&oss.HeadObjectRequest{Bucket: oss.Ptr(small.bucket), Key: oss.Ptr(csvKey)}); serviceCode(err) != "NoSuchKey" {
		t.Errorf("the CSV key of a zipped file: %v, want NoSuchKey", err)
	}
	body := must(getBody(t, small.goodClient(), small.bucket, zipKey))
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	got := [][]string{want[0]}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		rows := readCSV(t, b)
		if !slices.Equal(rows[0], want[0]) || len(rows)-1 > limit || len(rows) < 2 {
			t.Errorf("part %s: header %q and %d rows", f.Name, rows[0], len(rows)-1)
		}
		got = append(got, rows[1:]...)
	}
	if len(zr.File) != (len(want)-1+limit-1)/limit || !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("%d parts with %d rows, want the %d rows of the CSV", len(zr.File), len(got)-1, len(want)-1)
	}
}

func must(b []byte, _ *oss.GetObjectResult) []byte { return b }

// TestOSSMonthSoFarFiles: the month-so-far files change every day until
// 12:00 UTC+8 on the 4th of the next month, and never after; once every
// day of the cycle is pushed, each equals the API's MONTHLY (or, for the
// split file, the month's DAILY) bill at its snapshot.
func TestOSSMonthSoFarFiles(t *testing.T) {
	world := newOSSWorld(t, bsssim.WorldConfig{InstancesPerOwner: 40})
	fx := startOSS(t, world, bsssim.OSSConfig{})
	key := fx.key("SplitItemDetailDaily", "202405")
	type version struct {
		body     []byte
		etag     string
		modified time.Time
	}
	read := func(at time.Time) version {
		fx.clock.Set(at)
		b, res := getBody(t, fx.goodClient(), fx.bucket, key)
		return version{b, oss.ToString(res.ETag), oss.ToTime(res.LastModified)}
	}
	moments := []time.Time{
		time.Date(2024, time.June, 2, 12, 0, 0, 0, utc8),
		time.Date(2024, time.June, 3, 12, 0, 0, 0, utc8),
		time.Date(2024, time.June, 4, 11, 0, 0, 0, utc8),
		time.Date(2024, time.June, 4, 13, 0, 0, 0, utc8),
		time.Date(2024, time.June, 20, 9, 0, 0, 0, utc8),
	}
	var versions []version
	for _, at := range moments {
		versions = append(versions, read(at))
	}
	for i := 1; i < 3; i++ {
		if bytes.Equal(versions[i].body, versions[i-1].body) || versions[i].etag == versions[i-1].etag {
			t.Errorf("the file at %s equals the one at %s", moments[i], moments[i-1])
		}
	}
	final := time.Date(2024, time.June, 4, 12, 0, 0, 0, utc8)
	if versions[3].etag == versions[2].etag || !versions[3].modified.Equal(final) {
		t.Errorf("the file was not rewritten at the 4th 12:00: Last-Modified %s", versions[3].modified)
	}
	if !bytes.Equal(versions[4].body, versions[3].body) || versions[4].etag != versions[3].etag ||
		!versions[4].modified.Equal(final) {
		t.Errorf("the file changed after the 4th 12:00: Last-Modified %s", versions[4].modified)
	}
	rows := readCSV(t, versions[1].body)
	checkHeader(t, rows[0], "SplitItemDetailDaily", false, world.Subscriptions()[0].SubscribeLanguage)
	snapshot := time.Date(2024, time.June, 3, 0, 0, 0, 0, utc8)
	may := bsssim.Cycle{Year: 2024, Month: time.May}
	checkMoney(t, rows, world.Subscriptions()[0].SubscribeLanguage,
		world.Truth(bsssim.TruthQuery{Cycle: may, Kind: bsssim.KindSplitItems}, snapshot))

	// The full-month file of a ...ForBillingPeriod subscription is the MONTHLY bill.
	fx.clock.Set(ossNow)
	full := readCSV(t, must(getBody(t, fx.goodClient(), fx.bucket, fx.key("InstanceDetailForBillingPeriod", "202405"))))
	checkHeader(t, full[0], "InstanceDetailForBillingPeriod", false, world.Subscriptions()[0].SubscribeLanguage)
	checkMoney(t, full, world.Subscriptions()[0].SubscribeLanguage,
		world.Truth(bsssim.TruthQuery{Cycle: may, Kind: bsssim.KindInstanceAttributes}, ossNow))
}

// TestOSSMonthSoFarFilesHoldPushedDays: mid-cycle, the month-so-far files
// hold the days whose amounts settled by their snapshot and no provisional
// day: the split file is those days' DAILY split rows, none dated later,
// and the instance file sums those days' DAILY instance rows exactly.
func TestOSSMonthSoFarFilesHoldPushedDays(t *testing.T) {
	// Seed 11 has an InstanceDetailMonthly subscription.
	world := newOSSWorld(t, bsssim.WorldConfig{Seed: 11, InstancesPerOwner: 40})
	fx := startOSS(t, world, bsssim.OSSConfig{})
	lang := world.Subscriptions()[0].SubscribeLanguage
	june := bsssim.Cycle{Year: 2024, Month: time.June}
	// At ossNow the files were last written at June 10 00:00, when June 1–8
	// had settled and June 9 and 10 were provisional.
	snapshot := time.Date(2024, time.June, 10, 0, 0, 0, 0, utc8)
	var pushed []bsssim.Day
	for d := 1; d <= 8; d++ {
		pushed = append(pushed, bsssim.Day{Year: 2024, Month: time.June, Day: d})
	}
	lastPushed := pushed[len(pushed)-1].String()
	provisional := bsssim.Day{Year: 2024, Month: time.June, Day: 9}
	if world.InstanceBillCount(bsssim.InstanceBillRequest{BillingCycle: june, Granularity: bsssim.Daily, BillingDate: provisional}, snapshot) == 0 {
		t.Fatal("June 9 bills nothing at the snapshot: the test would prove nothing")
	}

	t.Run("SplitItemDetailDaily", func(t *testing.T) {
		body, res := getBody(t, fx.goodClient(), fx.bucket, fx.key("SplitItemDetailDaily", "202406"))
		if !oss.ToTime(res.LastModified).Equal(snapshot) {
			t.Errorf("Last-Modified %s, want %s", oss.ToTime(res.LastModified), snapshot)
		}
		rows := readCSV(t, body)
		checkHeader(t, rows[0], "SplitItemDetailDaily", false, lang)
		dateCol := slices.Index(rows[0], columnName(lang, "账单日期", "Billing Date"))
		idCol := slices.Index(rows[0], columnName(lang, "实例ID", "Instance ID"))
		for i, r := range rows[1:] {
			if r[dateCol] > lastPushed {
				t.Fatalf("row %d is dated %s, after %s, the last day pushed by %s", i, r[dateCol], lastPushed, snapshot)
			}
		}
		var api []bsssim.SplitItemBillItem
		var want bsssim.Amounts
		for _, d := range pushed {
			req := bsssim.SplitItemBillRequest{BillingCycle: june, Granularity: bsssim.Daily, BillingDate: d}
			api = append(api, world.SplitItemBillRows(req, snapshot, 0, world.SplitItemBillCount(req, snapshot))...)
			want = sumAmounts(want, world.Truth(bsssim.TruthQuery{Day: d, Kind: bsssim.KindSplitItems}, snapshot))
		}
		if len(api) != len(rows)-1 {
			t.Fatalf("%d rows in the file, %d in the DAILY answers of June 1–8", len(rows)-1, len(api))
		}
		for i, it := range api {
			if r := rows[i+1]; r[dateCol] != it.BillingDate || r[idCol] != it.InstanceID {
				t.Fatalf("row %d: %s %s in the file, %s %s in the API", i, r[dateCol], r[idCol], it.BillingDate, it.InstanceID)
			}
		}
		checkMoney(t, rows, lang, want)
	})

	t.Run("InstanceDetailMonthly", func(t *testing.T) {
		rows := readCSV(t, must(getBody(t, fx.goodClient(), fx.bucket, fx.key("InstanceDetailMonthly", "202406"))))
		checkHeader(t, rows[0], "InstanceDetailMonthly", false, lang)
		type key struct{ instance, item string }
		idCol := slices.Index(rows[0], columnName(lang, "实例ID", "Instance ID"))
		itemCol := slices.Index(rows[0], columnName(lang, "账单类型", "Bill Type"))
		payCol := slices.Index(rows[0], columnName(lang, "应付金额", "Payable Amount"))
		got := map[key]bsssim.Money{}
		for _, r := range rows[1:] {
			var m bsssim.Money
			if err := m.UnmarshalJSON([]byte(r[payCol])); err != nil {
				t.Fatal(err)
			}
			got[key{r[idCol], r[itemCol]}] += m
		}
		daily := map[key]bsssim.Money{}
		var want bsssim.Amounts
		for _, d := range pushed {
			req := bsssim.InstanceBillRequest{BillingCycle: june, Granularity: bsssim.Daily, BillingDate: d}
			for _, it := range world.InstanceBillRows(req, snapshot, 0, world.InstanceBillCount(req, snapshot)) {
				daily[key{it.InstanceID, it.Item}] += it.PretaxAmount
			}
			want = sumAmounts(want, world.Truth(bsssim.TruthQuery{Day: d, Kind: bsssim.KindInstanceAttributes}, snapshot))
		}
		if len(got) != len(rows)-1 || !maps.Equal(got, daily) {
			t.Errorf("%d rows (%d keys) in the file, not the sums of June 1–8's DAILY rows (%d keys)", len(rows)-1, len(got), len(daily))
		}
		checkMoney(t, rows, lang, want)
	})
}

// sumAmounts adds b to a, field by field.
func sumAmounts(a, b bsssim.Amounts) bsssim.Amounts {
	a.PretaxGrossAmount += b.PretaxGrossAmount
	a.InvoiceDiscount += b.InvoiceDiscount
	a.DeductedByCoupons += b.DeductedByCoupons
	a.DeductedByCashCoupons += b.DeductedByCashCoupons
	a.DeductedByPrepaidCard += b.DeductedByPrepaidCard
	a.PretaxAmount += b.PretaxAmount
	a.CashAmount += b.CashAmount
	a.PaymentAmount += b.PaymentAmount
	a.OutstandingAmount += b.OutstandingAmount
	a.AdjustAmount += b.AdjustAmount
	return a
}

// TestOSSDayFileTiming: a day's file is absent until its amounts settle.
func TestOSSDayFileTiming(t *testing.T) {
	fx := startOSS(t, newOSSWorld(t, bsssim.WorldConfig{}), bsssim.OSSConfig{})
	key := fx.key("InstanceDetailForBillingPeriod", "20240609")
	var res *oss.HeadObjectResult
	head := func() (err error) {
		res, err = fx.goodClient().HeadObject(context.Background(), &oss.HeadObjectRequest{Bucket: oss.Ptr(fx.bucket), Key: oss.Ptr(key)})
		return err
	}
	settles := time.Date(2024, time.June, 11, 0, 0, 0, 0, utc8)
	fx.clock.Set(settles.Add(-time.Second))
	if err := head(); serviceCode(err) != "NoSuchKey" {
		t.Errorf("a second before it settles: %v, want NoSuchKey", err)
	}
	fx.clock.Set(settles)
	if err := head(); err != nil {
		t.Fatalf("once it settles: %v", err)
	}
	first, firstTag := oss.ToTime(res.LastModified), oss.ToString(res.ETag)
	// The instance attributes fill in 24 h later: the file is rewritten.
	attrs := settles.Add(24 * time.Hour)
	fx.clock.Set(attrs.Add(-time.Second))
	if err := head(); err != nil || oss.ToString(res.ETag) != firstTag {
		t.Errorf("the file changed before its attributes filled in: %v", err)
	}
	fx.clock.Set(attrs)
	if err := head(); err != nil || oss.ToString(res.ETag) == firstTag || !oss.ToTime(res.LastModified).Equal(attrs) ||
		!first.Equal(settles) {
		t.Errorf("Last-Modified %s then %s, want %s then %s (err %v)", first, oss.ToTime(res.LastModified), settles, attrs, err)
	}
}

// TestOSSFaults: a missing day and a dropped column, as the exporter's
// fallback tests will use them.
func TestOSSFaults(t *testing.T) {
	faults, err := bsssim.ParseOSSFaults("missing-day=2024-06-03")
	if err != nil {
		t.Fatal(err)
	}
	fx := startOSS(t, newOSSWorld(t, bsssim.WorldConfig{}), bsssim.OSSConfig{Faults: faults})
	lang := fx.world.Subscriptions()[0].SubscribeLanguage
	missing := fx.key("InstanceDetailForBillingPeriod", "20240603")
	for _, o := range listAll(t, fx.goodClient(), fx.bucket, "", 1000) {
		if strings.Contains(oss.ToString(o.Key), "_20240603") {
			t.Errorf("%s is listed on a missing day", oss.ToString(o.Key))
		}
	}
	_, err = fx.goodClient().GetObject(context.Background(), &oss.GetObjectRequest{Bucket: oss.Ptr(fx.bucket), Key: oss.Ptr(missing)})
	if serviceCode(err) != "NoSuchKey" {
		t.Errorf("a missing day's file: %v", err)
	}

	key := fx.key("InstanceDetailForBillingPeriod", "20240604")
	before, res := getBody(t, fx.goodClient(), fx.bucket, key)
	payable := columnName(lang, "应付金额", "Payable Amount")
	fx.run.Server.Faults().DropColumn(key, payable)
	after, res2 := getBody(t, fx.goodClient(), fx.bucket, key)
	header := readCSV(t, after)[0]
	if slices.Contains(header, payable) || len(header) != len(readCSV(t, before)[0])-1 ||
		oss.ToString(res.ETag) == oss.ToString(res2.ETag) {
		t.Errorf("after dropping %s the header is %q (ETag %s, was %s)", payable, header, oss.ToString(res2.ETag), oss.ToString(res.ETag))
	}
	if _, err := bsssim.ParseOSSFaults("drop-column=nocolon"); err == nil {
		t.Error("a drop-column without a column was accepted")
	}
}
