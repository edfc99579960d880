package collector

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

// Source is where a collector reads its bill rows.
type Source string

const (
	// SourceAPI reads BSS's paginated APIs, under the 10 requests/s quota.
	SourceAPI Source = "api"
	// SourceBillFiles reads the bill files the account's subscriptions push
	// to OSS (SubscribeBillToOSS,
	// https://www.alibabacloud.com/help/en/user-center/developer-reference/api-bssopenapi-2017-12-14-subscribebilltooss),
	// which cost OSS requests, not BSS quota, and falls back to the API for
	// a file that is missing, stale or unreadable.
	SourceBillFiles Source = "bill-files"
)

// Sources lists the sources a collector can read from.
func Sources() []string { return []string{string(SourceAPI), string(SourceBillFiles)} }

// The subscription types whose files the collectors read: a day's
// DescribeInstanceBill DAILY rows, the current cycle's MONTHLY rows so far.
const (
	dailyInstanceFiles   = "InstanceDetailForBillingPeriod"
	monthlyInstanceFiles = "InstanceDetailMonthly"
	splitItemFiles       = "SplitItemDetailDaily" // the split bill's DAILY rows, a month per file
)

// The bill file counters are shared by the collectors that read files:
// described once by the Exporter, emitted by each from its counts.
var (
	billFileFallbacksDesc = prometheus.NewDesc(namespace+"_bill_file_fallbacks_total",
		"Bill files (--collector.<name>.source=bill-files) that were missing, older than the data they must hold, or unreadable, so that their rows were read from the API instead.",
		[]string{"account", "collector"}, nil)
	billFileBytesDesc = prometheus.NewDesc(namespace+"_bill_file_read_bytes_total",
		"Bytes of bill files downloaded from OSS (--collector.<name>.source=bill-files): outbound traffic, which OSS bills on a public endpoint.",
		[]string{"account", "collector"}, nil)
)

// billFiles is one collector's way to an account's bill files: which
// subscription pushes which files, and the fallbacks to the API.
type billFiles struct {
	acct      Account
	collector string
	types     []string // the subscription types it reads, the days' first
	logger    log.Logger

	subsMu sync.Mutex
	subs   []bssclient.BillSubscription // as of the refresh that asked; nil: not asked this refresh

	mu        sync.Mutex
	fallbacks int
	bytes     int64 // downloaded
	logged    bool  // the first fallback is logged at warn, the rest at debug
}

// newBillFiles returns the collector's bill files under source, or nil for
// the API.
func newBillFiles(source Source, acct Account, collector string, logger log.Logger, types ...string) *billFiles {
	if source != SourceBillFiles {
		return nil
	}
	return &billFiles{acct: acct, collector: collector, types: types, logger: logger}
}

// newRefresh forgets the subscriptions, so that the first file a refresh
// needs asks again (one request): a subscription can be added or moved to
// another bucket at any time.
func (f *billFiles) newRefresh() {
	if f == nil {
		return
	}
	f.subsMu.Lock()
	f.subs = nil
	f.subsMu.Unlock()
}

// of returns the files of the subscription of type typ, or a
// *billFileError when the account has no such subscription.
func (f *billFiles) of(ctx context.Context, typ string, cycle bssclient.Cycle) (*bssclient.BillFiles, error) {
	if f.acct.BillFiles == nil {
		return nil, errors.New("bill files: no OSS bucket region configured for this account")
	}
	// One request a refresh, however many days ask at once.
	f.subsMu.Lock()
	if f.subs == nil {
		subs, err := f.acct.Client.QueryBillToOSSSubscription(ctx)
		if err != nil {
			f.subsMu.Unlock()
			return nil, err
		}
		f.subs = subs
	}
	subs := f.subs
	f.subsMu.Unlock()
	i := slices.IndexFunc(subs, func(s bssclient.BillSubscription) bool { return s.SubscribeType == typ })
	if i < 0 {
		return nil, &billFileError{fmt.Errorf("the account pushes no %s bill files to OSS (QueryBillToOSSSubscription)", typ)}
	}
	payer, err := f.acct.Client.Payer(ctx, cycle)
	if err != nil {
		return nil, err
	}
	files, err := bssclient.NewBillFiles(f.acct.BillFiles, subs[i], payer.AccountID)
	if err != nil {
		return nil, &billFileError{err}
	}
	return files, nil
}

// billFileError is a failure of a bill file, as opposed to one of the
// API or of the collector's own sums: what the API may stand in for.
type billFileError struct{ err error }

func (e *billFileError) Error() string { return e.err.Error() }
func (e *billFileError) Unwrap() error { return e.err }

// fileRows marks every error of rows as the file's.
func fileRows[T any](rows iter.Seq2[[]T, error]) iter.Seq2[[]T, error] {
	return func(yield func([]T, error) bool) {
		for page, err := range rows {
			if err != nil {
				yield(nil, &billFileError{err})
				return
			}
			if !yield(page, nil) {
				return
			}
		}
	}
}

// fallsBack reports whether err, met reading a file, lets the API stand
// in: the file is missing, stale or unreadable. A header that lacks a
// needed column does not: it means the files are not laid out as this
// exporter reads them, and every day would silently cost API quota, so it
// fails loudly, naming the file and the column.
func fallsBack(ctx context.Context, err error) bool {
	var fe *billFileError
	return errors.As(err, &fe) && !errors.Is(err, bssclient.ErrBillFileColumnMissing) && ctx.Err() == nil
}

// fellBack counts a fallback and says so: once at warn, with the reason,
// and at debug after that, as the counter shows how often.
func (f *billFiles) fellBack(what string, err error) {
	f.mu.Lock()
	f.fallbacks++
	first := !f.logged
	f.logged = true
	f.mu.Unlock()
	lvl := level.Debug
	if first {
		lvl = level.Warn
	}
	lvl(f.logger).Log("msg", "bill file not usable, reading from the API instead; aliyun_billing_bill_file_fallbacks_total counts each such file", "data", what, "err", err)
}

// appendTo appends the fallback counter to snap.
func (f *billFiles) appendTo(snap *Snapshot) {
	if f == nil {
		return
	}
	f.mu.Lock()
	n, bytes := f.fallbacks, f.bytes
	f.mu.Unlock()
	snap.Metrics = append(snap.Metrics,
		prometheus.MustNewConstMetric(billFileFallbacksDesc, prometheus.CounterValue, float64(n), f.acct.Name, f.collector),
		prometheus.MustNewConstMetric(billFileBytesDesc, prometheus.CounterValue, float64(bytes), f.acct.Name, f.collector))
}

// close ends a file's download and counts what was downloaded of it.
func (f *billFiles) close(file *bssclient.BillFile) {
	_ = file.Close()
	f.mu.Lock()
	f.bytes += file.BytesRead()
	f.mu.Unlock()
}

// withFallback reads with the file's rows when f is set, and again with
// the API's when the file falls back. read starts from nothing each time,
// so a file that fails half-way leaves nothing of it behind.
func withFallback[R, V any](ctx context.Context, f *billFiles, what string,
	fromFile func() (iter.Seq2[[]R, error], error), fromAPI func() iter.Seq2[[]R, error],
	read func(iter.Seq2[[]R, error]) (V, error)) (V, error) {
	if f == nil {
		return read(fromAPI())
	}
	rows, err := fromFile()
	if err == nil {
		var v V
		if v, err = read(fileRows(rows)); err == nil {
			return v, nil
		}
	}
	if !fallsBack(ctx, err) {
		var zero V
		return zero, err
	}
	f.fellBack(what, err)
	return read(fromAPI())
}

// openedRows returns the rows of a file open returned, closing it when
// they end. A file written before notBefore is refused as stale: BSS
// rewrites a file as its data completes (SubscribeBillToOSS: "data may be
// pushed again"), so one older than the moment its data settled holds the
// data as it was then.
func openedRows[T any](files *billFiles, f *bssclient.BillFile, err error, notBefore time.Time, rows func(*bssclient.BillFile) iter.Seq2[[]T, error]) (iter.Seq2[[]T, error], error) {
	if err != nil {
		return nil, &billFileError{err}
	}
	if f.LastModified.Before(notBefore) {
		files.close(f)
		return nil, staleFile(f, notBefore)
	}
	return func(yield func([]T, error) bool) {
		defer files.close(f)
		for page, err := range rows(f) {
			if !yield(page, err) || err != nil {
				return
			}
		}
	}, nil
}

// staleFile is the error of a file written before its data settled.
func staleFile(f *bssclient.BillFile, settled time.Time) error {
	return &billFileError{fmt.Errorf("bill file oss://%s/%s was last written at %s, before its data settled at %s",
		f.Bucket, f.Key, f.LastModified.In(bssclient.BillingZone).Format(time.DateTime), settled.In(bssclient.BillingZone).Format(time.DateTime))}
}
