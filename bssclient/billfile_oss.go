package bssclient

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	osscred "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
)

// Reading the bill files BSS pushes to OSS (SubscribeBillToOSS,
// https://www.alibabacloud.com/help/en/user-center/developer-reference/api-bssopenapi-2017-12-14-subscribebilltooss)
// with Alibaba's OSS Go SDK v2, signed with the same credentials as the
// BSS client.

// OSSConfig says how to reach the bucket a subscription pushes to.
type OSSConfig struct {
	// Credentials are the BSS client's (the same provider): the identity
	// needs oss:GetObject on the bucket.
	Credentials CredentialsProvider
	// Region is the bucket's region ("cn-hangzhou"). It names the endpoint,
	// oss-<region>.aliyuncs.com, and the scope of V4 signatures (the SDK's
	// default), which OSS checks.
	Region string
	// Endpoint, if set, replaces the region's public endpoint: a URL such
	// as the internal endpoint (https://oss-cn-hangzhou-internal.aliyuncs.com)
	// or a simulator's (http://127.0.0.1:8418). Requests to it are
	// path-style (/bucket/key), which a simulator or proxy can route
	// without wildcard DNS.
	Endpoint string
	// HTTPClient, if set, carries the requests.
	HTTPClient *http.Client
	// RetryMaxAttempts is the SDK's attempts per request; 0 keeps the
	// SDK's default.
	RetryMaxAttempts int
	// UserAgent is appended to the SDK's; empty means DefaultUserAgent.
	UserAgent string
}

// OSSReader reads objects of OSS buckets.
type OSSReader struct {
	client *oss.Client
}

// ossRegionPattern is a region ID's shape; anything else would make a
// host name of whatever it holds.
var ossRegionPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// NewOSSReader checks cfg and builds the SDK client; it sends nothing.
func NewOSSReader(cfg OSSConfig) (*OSSReader, error) {
	if cfg.Credentials == nil {
		return nil, errors.New("OSS reader: no credentials provider")
	}
	if err := CheckOSSLocation(cfg.Region, cfg.Endpoint); err != nil {
		return nil, err
	}
	sdk := oss.LoadDefaultConfig().
		WithCredentialsProvider(OSSCredentials(cfg.Credentials)).
		WithRegion(cfg.Region).
		WithEndpoint(ossEndpoint(cfg.Region))
	if cfg.Endpoint != "" {
		sdk.WithEndpoint(cfg.Endpoint).WithUsePathStyle(true)
	}
	if cfg.HTTPClient != nil {
		sdk.WithHttpClient(cfg.HTTPClient)
	}
	if cfg.RetryMaxAttempts > 0 {
		sdk.WithRetryMaxAttempts(cfg.RetryMaxAttempts)
	}
	sdk.WithUserAgent(cmp.Or(cfg.UserAgent, DefaultUserAgent))
	return &OSSReader{client: oss.NewClient(sdk)}, nil
}

// ossEndpoint is a region's public OSS endpoint
// (https://www.alibabacloud.com/help/en/oss/user-guide/regions-and-endpoints).
func ossEndpoint(region string) string { return "https://oss-" + region + ".aliyuncs.com" }

// CheckOSSLocation checks a bucket's region and, if set, the endpoint
// that replaces the region's: what NewOSSReader accepts.
func CheckOSSLocation(region, endpoint string) error {
	if !ossRegionPattern.MatchString(region) {
		return fmt.Errorf("OSS reader: region %q is not a region ID such as cn-hangzhou", truncateForError(region))
	}
	if endpoint != "" && !strings.HasPrefix(endpoint, "http://") && !strings.HasPrefix(endpoint, "https://") {
		return fmt.Errorf("OSS reader: endpoint %q is not an http(s) URL", truncateForError(RedactURL(endpoint)))
	}
	return nil
}

// OSSCredentials adapts a CredentialsProvider to the OSS SDK's. The SDK
// asks before every request, and so signs with whatever the provider has
// refreshed to; the provider caches, so asking costs nothing. The
// provider's errors are already scrubbed of secrets.
func OSSCredentials(p CredentialsProvider) osscred.CredentialsProvider {
	return osscred.CredentialsProviderFunc(func(ctx context.Context) (osscred.Credentials, error) {
		c, err := p.Credentials(ctx)
		if err != nil {
			return osscred.Credentials{}, err
		}
		return osscred.Credentials{AccessKeyID: c.AccessKeyID, AccessKeySecret: c.AccessKeySecret, SecurityToken: c.SecurityToken}, nil
	})
}

// ErrBillFileMissing is the error a missing bill file is (errors.Is): the
// day's push has not happened or failed, and the caller may fall back to
// the API.
var ErrBillFileMissing = errors.New("bill file missing")

// ErrBillFileColumnMissing is the error a file whose header lacks a column
// the rows need is (errors.Is): the file's layout is not the one this
// reader knows, which no other day's file or the API will mend, so a
// caller fails loudly rather than fall back.
var ErrBillFileColumnMissing = errors.New("bill file column missing")

// BillFileMissingError names the object that is not there.
type BillFileMissingError struct {
	Bucket string
	// Key is the key without its extension; neither .csv nor .zip exists.
	Key string
}

func (e *BillFileMissingError) Error() string {
	return fmt.Sprintf("bill file oss://%s/%s.csv (or .zip) is missing", e.Bucket, e.Key)
}

// Is makes errors.Is(err, ErrBillFileMissing) true.
func (e *BillFileMissingError) Is(target error) bool { return target == ErrBillFileMissing }

// Unwrap gives Classify and ErrorCode OSS's answer, NoSuchKey: not
// transient, as asking again soon will not make BSS push the file.
func (e *BillFileMissingError) Unwrap() error {
	return &APIError{Action: "OSS GetObject", HTTPStatus: http.StatusNotFound, Code: "NoSuchKey", Message: e.Error()}
}

// OSSError is an error answer of OSS. It unwraps to an APIError with the
// same code, so that Classify, ErrorCode and IsTransient judge it as they
// judge BSS's answers.
type OSSError struct {
	Operation  string // GetObject
	Bucket     string
	Key        string
	HTTPStatus int
	Code       string // SignatureDoesNotMatch, AccessDenied, NoSuchBucket, …
	Message    string
	RequestID  string
}

func (e *OSSError) Error() string {
	return fmt.Sprintf("OSS %s oss://%s/%s: %s: %s (HTTP %d, RequestId %s)",
		e.Operation, e.Bucket, e.Key, e.Code, e.Message, e.HTTPStatus, e.RequestID)
}

func (e *OSSError) Unwrap() error {
	return &APIError{Action: "OSS " + e.Operation, HTTPStatus: e.HTTPStatus, Code: e.Code, Message: e.Message, RequestID: e.RequestID}
}

// ossFailure turns an SDK error into an OSSError when OSS answered, and
// otherwise names the operation and object. The SDK's own text of a
// service error is not used: it is several lines long.
func ossFailure(op, bucket, key string, err error) error {
	if se, ok := errors.AsType[*oss.ServiceError](err); ok {
		return &OSSError{Operation: op, Bucket: bucket, Key: key, HTTPStatus: se.StatusCode,
			Code: se.Code, Message: se.Message, RequestID: se.RequestID}
	}
	return fmt.Errorf("OSS %s oss://%s/%s: %w", op, bucket, key, err)
}

// isNoSuchKey reports OSS saying the object is not there; a bare 404 is
// taken as the same.
func isNoSuchKey(err error) bool {
	var se *oss.ServiceError
	return errors.As(err, &se) && (se.Code == "NoSuchKey" || (se.Code == "" && se.StatusCode == http.StatusNotFound))
}

// billFileType is what one SubscribeType pushes. INFERRED beyond the
// names the SubscribeBillToOSS page gives: that the ...ForBillingPeriod
// types' full-month file drops the "Detail" type's day suffix only, and
// which files hold MONTHLY rather than daily rows.
type billFileType struct {
	dayName   string // UID_<dayName>_YYYYMMDD; "" for no daily files
	monthName string // UID_<monthName>_YYYYMM
	split     bool   // rows are DescribeSplitItemBill's, else DescribeInstanceBill's
	monthRows fileLayout
}

var billFileTypes = map[string]billFileType{
	"InstanceDetailForBillingPeriod":    {dayName: "InstanceDetail", monthName: "InstanceDetail"},
	"BillingItemDetailForBillingPeriod": {dayName: "BillingItemDetail", monthName: "BillingItemDetail"},
	"InstanceDetailMonthly":             {monthName: "InstanceDetailMonthly"},
	"BillingItemDetailMonthly":          {monthName: "BillingItemDetailMonthly"},
	"SplitItemDetailDaily":              {monthName: "SplitItemDetailDaily", split: true, monthRows: fileLayout{dailyRows: true}},
}

// INFERRED: the page says a large bill is split into CSV files merged into
// a ZIP "that has the same name format as the original file", naming
// neither extension.
const (
	billFileExtCSV = ".csv"
	billFileExtZip = ".zip"
)

// BillFiles finds the files of one subscription.
type BillFiles struct {
	reader *OSSReader
	sub    BillSubscription
	payer  string
	typ    billFileType
}

// NewBillFiles returns the files of sub (a QueryBillToOSSSubscription row)
// pushed for payerAccountID (Client.Payer's AccountID), whose UID starts
// every key.
func NewBillFiles(r *OSSReader, sub BillSubscription, payerAccountID string) (*BillFiles, error) {
	typ, ok := billFileTypes[sub.SubscribeType]
	switch {
	case r == nil:
		return nil, errors.New("bill files: no OSS reader")
	case !ok:
		return nil, fmt.Errorf("bill files: unknown SubscribeType %q", truncateForError(sub.SubscribeType))
	case sub.SubscribeBucket == "":
		return nil, errors.New("bill files: the subscription names no bucket")
	case payerAccountID == "" || strings.ContainsAny(payerAccountID, "*/"):
		return nil, fmt.Errorf("bill files: payer account ID %q cannot start a key", truncateForError(payerAccountID))
	}
	return &BillFiles{reader: r, sub: sub, payer: payerAccountID, typ: typ}, nil
}

// Subscription is the subscription the files belong to.
func (b *BillFiles) Subscription() BillSubscription { return b.sub }

// HasDailyFiles reports whether the subscription pushes a file per day
// (the ...ForBillingPeriod types).
func (b *BillFiles) HasDailyFiles() bool { return b.typ.dayName != "" }

// DayKey is the key of day's file without its extension, or "" when the
// subscription pushes no daily files.
func (b *BillFiles) DayKey(day Day) string {
	if !b.HasDailyFiles() {
		return ""
	}
	return b.key(b.typ.dayName, fmt.Sprintf("%04d%02d%02d", day.Year, int(day.Month), day.Day))
}

// MonthKey is the key of cycle's file without its extension.
func (b *BillFiles) MonthKey(cycle Cycle) string {
	return b.key(b.typ.monthName, fmt.Sprintf("%04d%02d", cycle.Year, int(cycle.Month)))
}

func (b *BillFiles) key(name, period string) string {
	return b.sub.BucketPath + b.payer + "_" + name + "_" + period
}

// OpenDay opens day's file. ctx governs the reads of the returned file too.
// A file not (yet) pushed is a *BillFileMissingError.
func (b *BillFiles) OpenDay(ctx context.Context, day Day) (*BillFile, error) {
	if !b.HasDailyFiles() {
		return nil, fmt.Errorf("bill files: a %s subscription pushes no daily files", b.sub.SubscribeType)
	}
	return b.open(ctx, b.DayKey(day), fileLayout{dailyRows: true})
}

// OpenMonth opens cycle's file: the month so far (…Monthly,
// SplitItemDetailDaily) or the full month (…ForBillingPeriod, from the
// 4th of the next month). ctx governs the reads of the returned file too.
func (b *BillFiles) OpenMonth(ctx context.Context, cycle Cycle) (*BillFile, error) {
	return b.open(ctx, b.MonthKey(cycle), b.typ.monthRows)
}

// open finds base as .csv, else as .zip, and starts reading it: one GET
// per file (two when it is zipped), and no oss:ListObjects permission.
func (b *BillFiles) open(ctx context.Context, base string, layout fileLayout) (*BillFile, error) {
	bucket := b.sub.SubscribeBucket
	for _, ext := range []string{billFileExtCSV, billFileExtZip} {
		key := base + ext
		res, err := b.reader.client.GetObject(ctx, &oss.GetObjectRequest{Bucket: &bucket, Key: &key})
		if err == nil {
			return &BillFile{Bucket: bucket, Key: key, ETag: oss.ToString(res.ETag), LastModified: oss.ToTime(res.LastModified),
				Zipped: ext == billFileExtZip, body: &countedBody{ReadCloser: res.Body}, split: b.typ.split, layout: layout}, nil
		}
		if !isNoSuchKey(err) {
			return nil, ossFailure("GetObject", bucket, key, err)
		}
	}
	return nil, &BillFileMissingError{Bucket: bucket, Key: base}
}

// InstanceBillOfDay reads day's file into DescribeInstanceBill's rows, a
// page (300 rows) at a time, as Client.DescribeInstanceBill walks a DAILY
// bill; the same loop reads either. A yielded page is valid until the
// next step. A missing file is yielded as a *BillFileMissingError.
func (b *BillFiles) InstanceBillOfDay(ctx context.Context, day Day) iter.Seq2[[]InstanceBillItem, error] {
	return openAndRead(func() (*BillFile, error) { return b.OpenDay(ctx, day) }, (*BillFile).InstanceBill)
}

// InstanceBillOfMonth reads cycle's file of an instance or billing-item
// subscription into DescribeInstanceBill's MONTHLY rows, as
// InstanceBillOfDay does.
func (b *BillFiles) InstanceBillOfMonth(ctx context.Context, cycle Cycle) iter.Seq2[[]InstanceBillItem, error] {
	return openAndRead(func() (*BillFile, error) { return b.OpenMonth(ctx, cycle) }, (*BillFile).InstanceBill)
}

// SplitItemBillOfMonth reads cycle's SplitItemDetailDaily file into
// DescribeSplitItemBill's DAILY rows (every day the file holds, each row's
// BillingDate set), as InstanceBillOfDay does.
func (b *BillFiles) SplitItemBillOfMonth(ctx context.Context, cycle Cycle) iter.Seq2[[]SplitItemBillItem, error] {
	return openAndRead(func() (*BillFile, error) { return b.OpenMonth(ctx, cycle) }, (*BillFile).SplitItemBill)
}

func openAndRead[T any](open func() (*BillFile, error), rows func(*BillFile) iter.Seq2[[]T, error]) iter.Seq2[[]T, error] {
	return func(yield func([]T, error) bool) {
		f, err := open()
		if err != nil {
			yield(nil, err)
			return
		}
		defer f.Close()
		for page, err := range rows(f) {
			if !yield(page, err) || err != nil {
				return
			}
		}
	}
}

// BillFile is one opened bill file. Its rows can be read once. The string
// fields of a row share one allocation (the CSV record's): a caller that
// keeps one value for long keeps the row's text, and may strings.Clone it.
type BillFile struct {
	Bucket string
	Key    string // with its extension
	ETag   string
	// LastModified is when BSS last wrote the file: a day's file is
	// rewritten as its data completes, a month-so-far file daily.
	LastModified time.Time
	// Zipped: the rows exceeded the subscription's RowLimitPerFile and the
	// object is a zip of CSV parts.
	Zipped bool

	body   *countedBody
	split  bool
	layout fileLayout
	read   bool
}

// Close ends the file's download.
func (f *BillFile) Close() error { return f.body.Close() }

// BytesRead is how many bytes of the object were downloaded so far: what
// OSS bills as outbound traffic on a public endpoint.
func (f *BillFile) BytesRead() int64 { return f.body.n.Load() }

// countedBody counts the bytes read from an object's body.
type countedBody struct {
	io.ReadCloser
	n atomic.Int64
}

func (c *countedBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (f *BillFile) name() string { return "oss://" + f.Bucket + "/" + f.Key }

// InstanceBill decodes the rows of an instance or billing-item file.
func (f *BillFile) InstanceBill() iter.Seq2[[]InstanceBillItem, error] {
	if f.split {
		return failed[InstanceBillItem](fmt.Errorf("bill file %s holds split-item rows, not instance rows", f.name()))
	}
	return decodeBillFile[InstanceBillItem](f)
}

// SplitItemBill decodes the rows of a SplitItemDetailDaily file.
func (f *BillFile) SplitItemBill() iter.Seq2[[]SplitItemBillItem, error] {
	if !f.split {
		return failed[SplitItemBillItem](fmt.Errorf("bill file %s holds instance rows, not split-item rows", f.name()))
	}
	return decodeBillFile[SplitItemBillItem](f)
}

// decodeBillFile streams f's rows in batches; any failure is the last
// thing yielded.
func decodeBillFile[T any](f *BillFile) iter.Seq2[[]T, error] {
	return func(yield func([]T, error) bool) {
		if f.read {
			yield(nil, fmt.Errorf("bill file %s: its rows were already read", f.name()))
			return
		}
		f.read = true
		b := newRowBatch(yield)
		decode := decodeCSVPart[T]
		if f.Zipped {
			decode = decodeZip[T]
		}
		err := decode(f.body, f.name(), f.layout, b)
		if err == nil {
			err = b.flush(true)
		}
		// OSS failing the download is reported as OSS's error; any other
		// failure already names the file.
		if _, ok := errors.AsType[*oss.ServiceError](err); ok {
			err = ossFailure("GetObject", f.Bucket, f.Key, err)
		}
		if err != nil && !errors.Is(err, errStopped) {
			yield(nil, err)
		}
	}
}
