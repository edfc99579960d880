package collector

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

// Config holds the options every collector receives. cmd/ fills it from flags.
type Config struct {
	// Now is the clock the billing calendar is read against. Tests and the
	// demo pass the simulator's clock.
	Now func() time.Time
	// DailySeries enables the timestamped daily families. Turn it off for a
	// Prometheus without out-of-order ingestion.
	DailySeries bool
	// ExposureDays is how many settled days each daily family keeps
	// exposing, so that Prometheus catches them after a restart of either side.
	ExposureDays int
	// LabelledDays, when above 0, also exposes the account collector's
	// amounts of the last LabelledDays settled days as current gauges
	// labelled billing_day, with no timestamp: for stores that take no
	// sample from the past (no out-of-order window), where the daily
	// families cannot land.
	LabelledDays int
	// ConcurrentWalks bounds the paginated walks one collector runs at once.
	// They share the account's rate limiter, so more walks never exceed the
	// quota; they only keep it busy while a walk waits for BSS.
	ConcurrentWalks int
	Instance        InstanceConfig
	Renewal         RenewalConfig
	Amortized       AmortizedConfig
	OSSBucket       OSSBucketConfig
	// Amounts names the money columns each bill collector (account,
	// instance, ossbucket) exposes; a collector not listed gets
	// DefaultAmounts(name).
	Amounts map[string][]string
	// SettleMargin is how long after BSS's documented delay (24, 48 or 72 h
	// after a day ends; 12:00 on the 3rd for a month) a day or month is
	// treated as settled. Its value is then frozen, so a day read a little
	// early (BSS running late, or this host's clock running fast) would keep
	// provisional amounts forever; the margin is what each day's publication
	// waits in exchange.
	SettleMargin time.Duration
	// StateDir, when set, keeps settled days on disk so that a restart
	// reads them from there instead of from BSS (state.go).
	StateDir string
	// Budgets, when set, is told the scopes each account spent in, so that
	// a budget matching none is reported.
	Budgets *BudgetCollector
}

// OSSBucketConfig holds the ossbucket collector's options.
type OSSBucketConfig struct {
	// MaxBuckets is the most buckets per day (and per cycle) with their own
	// series; the rest are summed into one overflow series per currency, so
	// totals stay exact.
	MaxBuckets int
	// BillingItem adds a billing_item label (the rows' BillingItemCode:
	// storage, traffic, requests…; "unknown" when empty). It multiplies the
	// series by the billing items per bucket, so it is opt-in; MaxBuckets
	// still counts buckets, not bucket×item.
	BillingItem bool
	// Source is where days and the cycle are read: the API, or the month
	// files of the account's SplitItemDetailDaily subscription.
	Source Source
}

// InstanceConfig holds the instance collector's options.
type InstanceConfig struct {
	// Zone adds a zone_id label to the aggregated series.
	Zone bool
	// ResourceGroup and CostUnit add resource_group and cost_unit labels
	// (the rows' ResourceGroup and CostUnit: display names, "unknown" when
	// empty). Each multiplies the series by the groups or cost units in
	// use, as a tag key does, so both are opt-in.
	ResourceGroup bool
	CostUnit      bool
	// TagKeys become tag_<key> labels on the aggregated series.
	TagKeys []string
	// PerInstance adds per-instance payable series, at most MaxInstances per
	// day; the rest are summed into one overflow series so totals stay exact.
	PerInstance  bool
	MaxInstances int
	// Source is where days and the cycle are read: the API, or the bill
	// files of the account's InstanceDetailForBillingPeriod subscription
	// (days) and InstanceDetailMonthly subscription (the cycle).
	Source Source
}

// AmortizedConfig holds the amortized collector's options.
type AmortizedConfig struct {
	// PerInstance adds per-instance effective cost series, at most
	// MaxInstances per cycle; the rest are summed into one overflow series
	// per currency so totals stay exact.
	PerInstance  bool
	MaxInstances int
}

// RenewalConfig holds the renewal collector's options.
type RenewalConfig struct {
	// PerInstance adds the expiry of each instance expiring without
	// auto-renew, the MaxInstances soonest; per owner and product, the
	// soonest of the rest goes under instance_id "__overflow__".
	PerInstance  bool
	MaxInstances int
}

// DefaultConfig returns the defaults the flags also use.
func DefaultConfig() Config {
	return Config{
		Now:             time.Now,
		DailySeries:     true,
		ExposureDays:    7,
		ConcurrentWalks: 4,
		Instance:        InstanceConfig{MaxInstances: 1000, Source: SourceAPI},
		Renewal:         RenewalConfig{MaxInstances: 100},
		Amortized:       AmortizedConfig{MaxInstances: 1000},
		OSSBucket:       OSSBucketConfig{MaxBuckets: 200, Source: SourceAPI},
		SettleMargin:    DefaultSettleMargin,
	}
}

// DefaultSettleMargin: BSS documents its delays as approximate ("updated
// with a 24-hour delay") and bills usage in hourly batches, which can land
// an hour or more late; three hours covers a late batch and a host clock a
// few minutes off, and publishes each day three hours later than the bare
// delay would. One constant, in case BSS proves more punctual or less.
const DefaultSettleMargin = 3 * time.Hour

// Calendar is the billing calendar with SettleMargin: the collectors, the
// backfill and doctor ask it, so that all publish a day at the same moment.
func (c Config) Calendar() bssclient.Calendar { return bssclient.Calendar{Margin: c.SettleMargin} }

var labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// Validate reports the first invalid option, naming it.
func (c Config) Validate() error {
	switch {
	case c.Now == nil:
		return fmt.Errorf("collector config: Now is nil")
	case c.ExposureDays < 1 || c.ExposureDays > 62:
		return fmt.Errorf("exposure days must be between 1 and 62, got %d", c.ExposureDays)
	case c.LabelledDays < 0 || c.LabelledDays > 62:
		return fmt.Errorf("labelled days must be between 0 (off) and 62, got %d", c.LabelledDays)
	case c.ConcurrentWalks < 1 || c.ConcurrentWalks > 10:
		return fmt.Errorf("concurrent walks must be between 1 and 10, got %d", c.ConcurrentWalks)
	case c.Instance.PerInstance && c.Instance.MaxInstances < 1:
		return fmt.Errorf("instance series cap must be at least 1, got %d", c.Instance.MaxInstances)
	case c.Renewal.PerInstance && c.Renewal.MaxInstances < 1:
		return fmt.Errorf("renewal instance series cap must be at least 1, got %d", c.Renewal.MaxInstances)
	case c.Amortized.PerInstance && c.Amortized.MaxInstances < 1:
		return fmt.Errorf("amortized instance series cap must be at least 1, got %d", c.Amortized.MaxInstances)
	case c.SettleMargin < 0 || c.SettleMargin > 48*time.Hour:
		return fmt.Errorf("settle margin must be between 0 and 48h, got %s", c.SettleMargin)
	case c.OSSBucket.MaxBuckets < 1:
		return fmt.Errorf("bucket series cap must be at least 1, got %d", c.OSSBucket.MaxBuckets)
	}
	if err := c.validateAmounts(); err != nil {
		return err // first: validateSource reads the amounts
	}
	return cmp.Or(c.validateSource("instance", c.Instance.Source), c.validateSource("ossbucket", c.OSSBucket.Source), c.validateTagKeys())
}

// validateAmounts checks the money columns asked of each collector.
func (c Config) validateAmounts() error {
	for name, cols := range c.Amounts {
		if !slices.Contains(DayBookCollectors(), name) {
			return fmt.Errorf("amount columns for %q: only %s have money columns", name, strings.Join(DayBookCollectors(), ", "))
		}
		if _, err := columnsNamed(cols); err != nil {
			return fmt.Errorf("%s amounts: %w", name, err)
		}
	}
	return nil
}

// SourceOf is where the named collector reads its bill rows.
func (c Config) SourceOf(collector string) Source {
	switch {
	case collector == "instance" && c.Instance.Source == SourceBillFiles,
		collector == "ossbucket" && c.OSSBucket.Source == SourceBillFiles:
		return SourceBillFiles
	}
	return SourceAPI
}

// validateSource checks a collector's source, and that the amounts it
// exposes are columns of the bill files when it reads them: a file lacks
// some, and a zero read from no column is no answer.
func (c Config) validateSource(collector string, source Source) error {
	switch source {
	case SourceAPI, "":
		return nil
	case SourceBillFiles:
	default:
		return fmt.Errorf("%s source %q: use %s", collector, source, strings.Join(Sources(), " or "))
	}
	notInFiles := bssclient.AmountsNotInBillFiles()
	for _, col := range columnsOf(c, collector) {
		if slices.Contains(notInFiles, col.field) {
			return fmt.Errorf("%s amount %s: bill files carry no %s column, so it cannot be read with source %s; drop it from the %s amounts or read the API", collector, col.name, col.field, SourceBillFiles, collector)
		}
	}
	return nil
}

// validateTagKeys checks that each tag key can become a label, once.
func (c Config) validateTagKeys() error {
	seen := map[string]bool{}
	for _, k := range c.Instance.TagKeys {
		if k == "" || !labelNameRE.MatchString("tag_"+k) { // "" would be a label no tag fills
			return fmt.Errorf("tag key %q cannot become a label name: use letters, digits and underscores", k)
		}
		if seen[k] {
			return fmt.Errorf("tag key %q is listed twice", k)
		}
		seen[k] = true
	}
	return nil
}
