// Package collector turns BSS bills into Prometheus metrics.
//
// Every collector refreshes in the background on its own interval and
// publishes an immutable snapshot of ready-made metrics; a scrape only reads
// the newest snapshots and never calls BSS. A failed refresh keeps the last
// good data and says so through the refresh metrics.
//
// Each collector file registers its kind (register, in node_exporter's
// style); the registry is the one list of collectors, their BSS actions and
// which keep days. The three bill collectors (account, instance, ossbucket)
// keep a book of settled days: each is its day reader (the walks, labels and
// families, which the backfill uses alone: history.go), the book and its
// restatement check (daily.go), the saved state (state.go), and its own
// cycle gauges. The others read one answer or a few and keep the last.
//
// The collectors know nothing of flags or HTTP: cmd/ builds a Config and an
// Account, and serves the Exporter.
package collector

import (
	"context"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

const namespace = "aliyun_billing"

// cachedHelp ends the help of a metric that a collector refreshes in the
// background and a scrape serves from its last snapshot.
const cachedHelp = " Cached; refreshed in the background."

// BSS is the part of the BSS API the collectors read. *bssclient.Client
// implements it.
type BSS interface {
	QueryAccountBill(ctx context.Context, req bssclient.AccountBillRequest) iter.Seq2[[]bssclient.AccountBillItem, error]
	DescribeInstanceBill(ctx context.Context, req bssclient.InstanceBillRequest) iter.Seq2[[]bssclient.InstanceBillItem, error]
	DescribeSplitItemBill(ctx context.Context, req bssclient.SplitItemBillRequest) iter.Seq2[[]bssclient.SplitItemBillItem, error]
	QueryBillToOSSSubscription(ctx context.Context) ([]bssclient.BillSubscription, error)
	QueryAccountBalance(ctx context.Context) (bssclient.AccountBalance, error)
	// Payer tells whose bills these are, for the saved state (identity.go).
	Payer(ctx context.Context, cycle bssclient.Cycle) (bssclient.Payer, error)
}

// Account is one payer account: the configured name that labels its series,
// and its client.
type Account struct {
	Name   string
	Client BSS
	// BillFiles reads the bucket the account's bill subscriptions push to,
	// for the collectors whose source is SourceBillFiles; nil otherwise.
	BillFiles *bssclient.OSSReader

	// currency is the account's billing currency, learnt once and shared
	// by the collectors of the account that New builds (see Currency).
	currency *accountCurrency
	// monthReads lets one collector of the account at a time read a
	// month's bill (see holdMonth); nil outside New.
	monthReads chan struct{}
}

// holdMonth waits until no other collector of the account is reading a
// month's bill, and returns the func that lets the next one in. A month's
// rows are the most a collector holds at once: at a million instance-bill
// rows a day the instance collector's cycle and the ossbucket collector's
// pass each reach about 150 MiB of live heap, and the two at once reached
// 210 MiB (BENCHMARKS.md, figure 6). They share the account's quota, so
// taking turns costs the API path no time.
func (a Account) holdMonth(ctx context.Context) (release func(), err error) {
	if a.monthReads == nil {
		return func() {}, nil
	}
	select {
	case a.monthReads <- struct{}{}:
		return func() { <-a.monthReads }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// clientAs returns the account's client as the part C of the BSS API a
// collector reads beyond BSS, or an error saying it cannot read what. A
// collector asks for it when it is built, so that a client that cannot
// read it fails the start, not the first refresh.
func clientAs[C any](acct Account, what string) (C, error) {
	c, ok := acct.Client.(C)
	if !ok {
		return c, fmt.Errorf("the client of account %s (%T) cannot read %s", acct.Name, acct.Client, what)
	}
	return c, nil
}

// Collector refreshes one kind of billing data of one account.
type Collector interface {
	// Describe sends the descriptors of every metric the collector emits.
	Describe(ch chan<- *prometheus.Desc)
	// Refresh fetches what can still have changed since the last refresh and
	// returns the complete set of metrics to publish now. On failure it still
	// returns the best complete view it has (the last good values for what
	// failed) together with the error.
	Refresh(ctx context.Context, now time.Time) (Snapshot, error)
}

// Snapshot is what a refresh publishes. It is never modified once returned.
type Snapshot struct {
	Metrics []prometheus.Metric
	// NewestCompleteDay is the newest billing day the data is complete up
	// to; zero when the collector has no daily notion (balance,
	// subscriptions) or nothing complete yet.
	NewestCompleteDay bssclient.Day
	// Days is how many billing days the collector holds complete, in its
	// exposure window and current cycle; zero for collectors without days.
	Days int
}

// addGauge appends one gauge sample of d to the snapshot.
func (s *Snapshot) addGauge(d *prometheus.Desc, v float64, labelValues ...string) {
	s.Metrics = append(s.Metrics, prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labelValues...))
}

// describe sends descs, for the Describe of a collector.
func describe(ch chan<- *prometheus.Desc, descs ...*prometheus.Desc) {
	for _, d := range descs {
		ch <- d
	}
}

// partialPublisher is implemented by collectors that can publish the days
// they have read while a long refresh is still walking the rest: on a big
// account a cold start takes minutes, and each finished day is worth
// showing at once. The exporter hands them a function to publish with.
type partialPublisher interface {
	setPublisher(publish func(Snapshot))
}

// Factory builds a collector for an account.
type Factory func(acct Account, cfg Config, logger log.Logger) (Collector, error)

// Registration describes a collector kind.
type Registration struct {
	Name            string
	Help            string
	DefaultEnabled  bool
	DefaultInterval time.Duration
	// Actions are the BSS actions the collector calls, in the order doctor
	// checks them; a day-book collector's first is the bill its days come
	// from.
	Actions []string
	// Kind is the data a day-book collector's days hold, which sets when a
	// day settles.
	Kind    bssclient.DataKind
	factory Factory
	// readDays builds the reader of a day-book collector's days, which its
	// collector embeds and the backfill uses alone (history.go).
	readDays func(Account, Config, log.Logger) dayReader
}

// DayBook reports a collector that keeps a book of settled days
// (daily.go): it has money columns, daily families and state files, and the
// backfill reads its history. Those are the collectors with a day reader.
func (r Registration) DayBook() bool { return r.readDays != nil }

// dayReader reads one kind of settled day: its walk of a day, the daily
// families a day fills, and the bill files it reads, if any. A day-book
// collector is its reader plus the book, the state and the cycle gauges;
// the backfill needs the reader alone.
type dayReader interface {
	fetchDay(ctx context.Context, day bssclient.Day) (bookedDay, error)
	dailyViews() []historyView
	billFiles() *billFiles // nil when its days come from the API
}

var registry = map[string]Registration{}

// register is called from each collector file's init.
func register(r Registration, f Factory) {
	if _, dup := registry[r.Name]; dup {
		panic("collector registered twice: " + r.Name)
	}
	r.factory = f
	registry[r.Name] = r
}

// Registrations lists every collector kind, sorted by name.
func Registrations() []Registration {
	return slices.SortedFunc(maps.Values(registry), func(a, b Registration) int { return strings.Compare(a.Name, b.Name) })
}

// DayBookCollectors names the collectors that keep settled days, sorted:
// those with money columns, daily families and a backfill.
func DayBookCollectors() []string {
	var out []string
	for _, r := range Registrations() {
		if r.DayBook() {
			out = append(out, r.Name)
		}
	}
	return out
}

// Lookup returns the registration of a collector by name.
func Lookup(name string) (Registration, error) {
	r, ok := registry[name]
	if !ok {
		return Registration{}, fmt.Errorf("unknown collector %q (known: %v)", name, slices.Sorted(maps.Keys(registry)))
	}
	return r, nil
}
