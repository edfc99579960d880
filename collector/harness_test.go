package collector

// Shared test helpers: a simulator harness that steps the Exporter with a
// manual billing clock, and an independent model of what the collectors must
// expose, built from the simulator's World directly (no HTTP, no client, no
// collector code), so that a collector bug cannot hide in the expectation.

import (
	"context"
	"fmt"
	"iter"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim/bsssimtest"
)

const testAccount = "main"

// testWorld is small but runs every product for every owner (an owner's first
// twelve instances cover every product class), and seed 3 gives its OSS
// buckets non-zero spend.
var testWorld = bsssim.WorldConfig{Seed: 3, Owners: 2, InstancesPerOwner: 12, SplitBillEnabled: true}

// multiPageWorld bills more than one 300-row page of instance rows a day.
var multiPageWorld = bsssim.WorldConfig{Seed: 3, Owners: 2, InstancesPerOwner: 200, SplitBillEnabled: true}

// at is a moment in UTC+8, the billing zone.
func at(year int, month time.Month, day, hour int) time.Time {
	return time.Date(year, month, day, hour, 0, 0, 0, bssclient.BillingZone)
}

// midMarch is a moment when February is final and March is half through.
var midMarch = at(2025, time.March, 15, 12)

// The bill families' columns and the BSS fields they must carry.
var testColumns = []struct {
	name string
	get  func(bssclient.Amounts) bssclient.Money
}{
	{"list_price", func(a bssclient.Amounts) bssclient.Money { return a.PretaxGrossAmount }},
	{"discount", func(a bssclient.Amounts) bssclient.Money { return a.InvoiceDiscount }},
	{"coupon_deduction", func(a bssclient.Amounts) bssclient.Money { return a.DeductedByCoupons }},
	{"payable", func(a bssclient.Amounts) bssclient.Money { return a.PretaxAmount }},
	{"cash_paid", func(a bssclient.Amounts) bssclient.Money { return a.CashAmount }},
	{"outstanding", func(a bssclient.Amounts) bssclient.Money { return a.OutstandingAmount }},
}

// familyNames returns prefix_<column> for every column.
func familyNames(prefix string) []string {
	var out []string
	for _, c := range testColumns {
		out = append(out, prefix+"_"+c.name)
	}
	return out
}

func concat(lists ...[]string) []string { return slices.Concat(lists...) }

var (
	accountDailyFamilies  = familyNames("aliyun_billing_account_daily")
	accountCycleFamilies  = familyNames("aliyun_billing_account_cycle")
	instanceDailyFamilies = familyNames("aliyun_billing_instance_daily")
	instanceCycleFamilies = familyNames("aliyun_billing_instance_cycle")
	ossDailyFamilies      = familyNames("aliyun_billing_ossbucket_daily")
	ossCycleFamilies      = familyNames("aliyun_billing_ossbucket_cycle")
)

const (
	perInstanceFamily = "aliyun_billing_instance_daily_by_instance_payable"
	cycleFinalFamily  = "aliyun_billing_cycle_final"
	newestDayFamily   = "aliyun_billing_newest_complete_day_timestamp_seconds"
	successFamily     = "aliyun_billing_refresh_success"
	lastSuccessFamily = "aliyun_billing_last_refresh_success_timestamp_seconds"
	failuresFamily    = "aliyun_billing_refresh_failures_total"
	splitBillFamily   = "aliyun_billing_split_bill_enabled"
)

// ---------------------------------------------------------------------------
// Harness

type simOptions struct {
	world      *bsssim.WorldConfig // nil: testWorld
	start      time.Time           // the billing clock's first reading
	collectors []string            // nil: account, instance, ossbucket
	configure  func(*Config)
	logger     log.Logger
	// credentials the simulator accepts besides the test key.
	credentials []bsssim.Credential
	// dialect is how the simulator writes its answers; "" is documented.
	dialect bsssim.Dialect
	// ossFaults, when set, also serves the World's bill files (the
	// simulator's OSS endpoint, with these faults) to the account.
	ossFaults *bsssim.OSSFaults
}

// simHarness is a simulator, a client and an Exporter stepped by hand.
type simHarness struct {
	t       *testing.T
	metrics *BSSMetrics // the client's requests and unexpected values
	world   bsssimtest.World
	// ossSumsDays: the world's MONTHLY split bill disagrees with its DAILY
	// ones, so the ossbucket cycle gauges sum the settled days.
	ossSumsDays bool
	clock       *bsssim.ManualClock
	server      *bsssim.Running
	creds       *switchableCredentials
	bss         *recordingBSS
	cfg         Config
	exp         *Exporter
	names       []string
	// steps are the refreshes so far: when, and which collectors failed.
	steps    []stepRecord
	failures map[[2]string]int // collector, code → failed refreshes
	// memo keeps the model's sums of a day as shown at a moment: the World
	// never changes what it showed at a given moment.
	memo map[string]*groupSums
}

type stepRecord struct {
	at     time.Time
	failed map[string]bool
}

func startSim(t *testing.T, o simOptions) *simHarness {
	t.Helper()
	wc := testWorld
	if o.world != nil {
		wc = *o.world
	}
	world, err := bsssim.NewWorld(wc)
	if err != nil {
		t.Fatal(err)
	}
	clock := bsssim.NewManualClock(o.start)
	accepted := append([]bsssim.Credential{{AccessKeyID: bsssim.TestAccessKeyID, AccessKeySecret: bsssim.TestAccessKeySecret}}, o.credentials...)
	server, err := bsssim.Start(bsssim.Config{World: world, Clock: clock, QuotaPerSecond: -1, Credentials: accepted, Dialect: o.dialect})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = server.Close() })

	metrics := NewBSSMetrics()
	creds := &switchableCredentials{}
	creds.set(bsssim.TestAccessKeyID, bsssim.TestAccessKeySecret)
	client, err := bssclient.New(bssclient.Config{
		Endpoint:    server.URL,
		Credentials: creds,
		RateLimit:   1e6,
		Burst:       100,
		// One attempt per request, so that every injected fault fails
		// exactly one request and the tests can say which.
		MaxAttempts: 1,
		Observer:    metrics.Observer(testAccount),
	})
	if err != nil {
		t.Fatal(err)
	}
	bss := &recordingBSS{Client: client}

	cfg := DefaultConfig()
	cfg.Now = clock.Now
	// Three exposed days show every behaviour of the window at half the
	// series of the default seven, which keeps the race detector's run short.
	cfg.ExposureDays = 3
	// The model checks every money column and every bucket; the defaults
	// (DefaultAmounts, the bucket cap) have tests of their own.
	cfg.Amounts = map[string][]string{"account": AmountNames(), "instance": AmountNames(), "ossbucket": AmountNames()}
	cfg.OSSBucket.MaxBuckets = 1 << 20
	// The model settles days at BSS's documented delay; the margin has tests
	// of its own (settle_test.go).
	cfg.SettleMargin = 0
	if o.configure != nil {
		o.configure(&cfg)
	}
	names := o.collectors
	if names == nil {
		names = []string{"account", "instance", "ossbucket"}
	}
	var enabled []Enabled
	for _, n := range names {
		enabled = append(enabled, Enabled{Name: n, Interval: time.Hour})
	}
	logger := o.logger
	if logger == nil {
		logger = log.NewNopLogger()
	}
	acct := Account{Name: testAccount, Client: bss}
	if o.ossFaults != nil {
		oss, err := bsssim.StartOSS(world, bsssim.OSSConfig{Clock: clock, Faults: o.ossFaults})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = oss.Close() })
		if acct.BillFiles, err = bssclient.NewOSSReader(bssclient.OSSConfig{Credentials: creds, Region: bsssim.DefaultOSSRegion, Endpoint: oss.URL}); err != nil {
			t.Fatal(err)
		}
	}
	exp, err := New(acct, enabled, cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	return &simHarness{t: t, metrics: metrics, world: bsssimtest.Wrap(world), ossSumsDays: wc.MonthlySplitNamesFirstDay, clock: clock, server: server, creds: creds, bss: bss,
		cfg: cfg, exp: exp, names: names, failures: map[[2]string]int{}, memo: map[string]*groupSums{}}
}

func (h *simHarness) now() time.Time { return h.clock.Now() }

// step sets the billing clock and refreshes every collector once.
func (h *simHarness) step(t time.Time) error {
	h.clock.Set(t)
	err := h.exp.RefreshOnce(h.t.Context())
	rec := stepRecord{at: t, failed: map[string]bool{}}
	for _, w := range h.exp.workers {
		if st := w.state.Load(); st != nil && !st.ok {
			rec.failed[w.name] = true
		}
	}
	h.steps = append(h.steps, rec)
	return err
}

// mustStep is step for refreshes that must succeed.
func (h *simHarness) mustStep(t time.Time) {
	h.t.Helper()
	if err := h.step(t); err != nil {
		h.t.Fatalf("refresh at %s: %v", t, err)
	}
}

// failedStep is step for a refresh that must fail with code in every
// collector named, and in no other.
func (h *simHarness) failedStep(t time.Time, code string, collectors ...string) {
	h.t.Helper()
	err := h.step(t)
	if err == nil {
		h.t.Fatalf("refresh at %s succeeded, want a %s failure of %v", t, code, collectors)
	}
	last := h.steps[len(h.steps)-1]
	var failed []string
	for c := range last.failed {
		failed = append(failed, c)
	}
	sort.Strings(failed)
	want := slices.Sorted(slices.Values(collectors))
	if !slices.Equal(failed, want) {
		h.t.Fatalf("refresh at %s: collectors %v failed, want %v (error: %v)", t, failed, want, err)
	}
	for _, c := range collectors {
		h.failures[[2]string{c, code}]++
	}
}

// fetchedAt is when the collector first booked day d: the first step it did
// not fail at with d in the range it keeps. A booked day is never read again,
// so its exposed values are the World's at that moment.
func (h *simHarness) fetchedAt(collector string, d bssclient.Day) (time.Time, bool) {
	for _, s := range h.steps {
		if s.failed[collector] {
			continue
		}
		from, to := h.bookRange(collector, s.at)
		if !d.Before(from) && !to.Before(d) {
			return s.at, true
		}
	}
	return time.Time{}, false
}

// lastGood is the last step the collector did not fail at.
func (h *simHarness) lastGood(collector string) (time.Time, bool) {
	for i := len(h.steps) - 1; i >= 0; i-- {
		if !h.steps[i].failed[collector] {
			return h.steps[i].at, true
		}
	}
	return time.Time{}, false
}

func kindOf(collector string) bssclient.DataKind {
	switch collector {
	case "instance":
		return bssclient.KindInstanceAttributes
	case "ossbucket":
		return bssclient.KindSplitItems
	}
	return bssclient.KindAmounts
}

// exposureRange is the settled days a daily family shows at t: the newest
// settled day and the ExposureDays-1 before it.
func (h *simHarness) exposureRange(kind bssclient.DataKind, t time.Time) (from, to bssclient.Day) {
	to = bssclient.Calendar{}.NewestSettledDay(t, kind)
	return to.AddDays(-(h.cfg.ExposureDays - 1)), to
}

// bookRange is the days a collector must have read at t: the exposure
// window, and for ossbucket in a world whose split-bill views disagree also
// the current cycle's settled days, which its cycle gauges then sum.
func (h *simHarness) bookRange(collector string, t time.Time) (from, to bssclient.Day) {
	kind := kindOf(collector)
	from, to = h.exposureRange(kind, t)
	if collector != "ossbucket" || !h.ossSumsDays {
		if !h.cfg.DailySeries {
			return to.AddDays(1), to // empty
		}
		return from, to
	}
	first := bssclient.CycleOf(t).FirstDay()
	if !h.cfg.DailySeries || first.Before(from) {
		from = first
	}
	return from, to
}

// ---------------------------------------------------------------------------
// Credentials that a test can turn bad and good again.

type switchableCredentials struct {
	mu sync.Mutex
	c  bssclient.Credentials
}

func (s *switchableCredentials) set(id, secret string) { s.setTemporary(id, secret, "") }

func (s *switchableCredentials) setTemporary(id, secret, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.c = bssclient.Credentials{AccessKeyID: id, AccessKeySecret: secret, SecurityToken: token}
}

func (s *switchableCredentials) Credentials(context.Context) (bssclient.Credentials, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.c, nil
}

// ---------------------------------------------------------------------------
// A BSS that records every walk it is asked for.

type walkRecord struct {
	action      string
	granularity bssclient.Granularity
	cycle       bssclient.Cycle
	day         bssclient.Day
}

func (w walkRecord) String() string {
	return fmt.Sprintf("%s %s %s %s", w.action, w.granularity, w.cycle, w.day)
}

type recordingBSS struct {
	*bssclient.Client
	mu    sync.Mutex
	walks []walkRecord
	// afterFirstPage, when set, runs once the first page of an instance
	// bill walk has been consumed and before the second is asked for.
	afterFirstPage func()
	// editSplitPage, when set, changes each split-bill page as it arrives.
	editSplitPage func(bssclient.SplitItemBillRequest, []bssclient.SplitItemBillItem) []bssclient.SplitItemBillItem
}

func (r *recordingBSS) setAfterFirstPage(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.afterFirstPage = f
}

func (r *recordingBSS) record(w walkRecord) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.walks = append(r.walks, w)
}

// takeWalks returns the walks since the last call, sorted.
func (r *recordingBSS) takeWalks() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, w := range r.walks {
		out = append(out, w.String())
	}
	r.walks = nil
	sort.Strings(out)
	return out
}

func (r *recordingBSS) QueryAccountBill(ctx context.Context, req bssclient.AccountBillRequest) iter.Seq2[[]bssclient.AccountBillItem, error] {
	r.record(walkRecord{bssclient.ActionQueryAccountBill, req.Granularity, req.BillingCycle, req.BillingDate})
	return r.Client.QueryAccountBill(ctx, req)
}

func (r *recordingBSS) DescribeInstanceBill(ctx context.Context, req bssclient.InstanceBillRequest) iter.Seq2[[]bssclient.InstanceBillItem, error] {
	r.record(walkRecord{bssclient.ActionDescribeInstanceBill, req.Granularity, req.BillingCycle, req.BillingDate})
	r.mu.Lock()
	hook := r.afterFirstPage
	r.mu.Unlock()
	walk := r.Client.DescribeInstanceBill(ctx, req)
	if hook == nil {
		return walk
	}
	return func(yield func([]bssclient.InstanceBillItem, error) bool) {
		first := true
		for page, err := range walk {
			more := yield(page, err)
			if first {
				hook()
				first = false
			}
			if !more {
				return
			}
		}
	}
}

func (r *recordingBSS) DescribeSplitItemBill(ctx context.Context, req bssclient.SplitItemBillRequest) iter.Seq2[[]bssclient.SplitItemBillItem, error] {
	r.record(walkRecord{bssclient.ActionDescribeSplitItemBill, req.Granularity, req.BillingCycle, req.BillingDate})
	walk := r.Client.DescribeSplitItemBill(ctx, req)
	if r.editSplitPage == nil {
		return walk
	}
	return func(yield func([]bssclient.SplitItemBillItem, error) bool) {
		for page, err := range walk {
			if err == nil {
				page = r.editSplitPage(req, page)
			}
			if !yield(page, err) {
				return
			}
		}
	}
}

// ---------------------------------------------------------------------------
// Expected exposition

// sample is one expected sample. value is the exact text of the value: the
// parser turns it into the nearest float64, which is what the collector must
// have sent.
type sample struct {
	name   string
	labels map[string]string
	value  string
	tsMs   int64 // 0: no timestamp
}

// expositionText formats samples in the text format, with each family's
// HELP and TYPE as the exporter describes them (the tests check values and
// labels, not prose; TestAccountLiteralExposition pins the prose once).
func expositionText(meta map[string]familyMeta, samples []sample) string {
	byName := map[string][]sample{}
	for _, s := range samples {
		byName[s.name] = append(byName[s.name], s)
	}
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		m := meta[name]
		typ := m.typ
		if typ == "" {
			typ = "gauge"
		}
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, escapeHelp(m.help), name, typ)
		for _, s := range byName[name] {
			b.WriteString(name)
			if len(s.labels) > 0 {
				b.WriteByte('{')
				for i, k := range slices.Sorted(maps.Keys(s.labels)) {
					if i > 0 {
						b.WriteByte(',')
					}
					fmt.Fprintf(&b, "%s=%q", k, s.labels[k])
				}
				b.WriteByte('}')
			}
			b.WriteByte(' ')
			b.WriteString(s.value)
			if s.tsMs != 0 {
				fmt.Fprintf(&b, " %d", s.tsMs)
			}
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func escapeHelp(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s)
}

type familyMeta struct{ help, typ string }

// gather collects the exporter through a pedantic registry, which also
// fails when a collector emits a metric it did not describe.
func gather(t *testing.T, c prometheus.Collector) []*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}

func metaOf(mfs []*dto.MetricFamily) map[string]familyMeta {
	out := map[string]familyMeta{}
	for _, mf := range mfs {
		out[mf.GetName()] = familyMeta{help: mf.GetHelp(), typ: strings.ToLower(mf.GetType().String())}
	}
	return out
}

// assertExposition compares the named families with the expected samples.
// A family named but without expected samples must be absent.
func (h *simHarness) assertExposition(samples []sample, names ...string) {
	h.t.Helper()
	assertCollected(h.t, h.exp, samples, names...)
}

func assertCollected(t *testing.T, c prometheus.Collector, samples []sample, names ...string) {
	t.Helper()
	text := expositionText(metaOf(gather(t, c)), samples)
	if err := testutil.CollectAndCompare(c, strings.NewReader(text), names...); err != nil {
		t.Fatal(err)
	}
}

// formatText returns the named families as text, to compare two moments.
func formatText(t *testing.T, c prometheus.Collector, names ...string) string {
	t.Helper()
	b, err := testutil.CollectAndFormat(c, expfmt.TypeTextPlain, names...)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// ---------------------------------------------------------------------------
// Exact sums of bill rows, grouped by label values.

type groupSums struct {
	order []string
	m     map[string]*groupSum
}

type groupSum struct {
	labels  map[string]string
	amounts bssclient.Amounts
}

func newGroupSums() *groupSums { return &groupSums{m: map[string]*groupSum{}} }

func (g *groupSums) add(t *testing.T, labels map[string]string, a bssclient.Amounts) {
	t.Helper()
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		parts = append(parts, k+"\x00"+labels[k])
	}
	key := strings.Join(parts, "\x01")
	s, ok := g.m[key]
	if !ok {
		s = &groupSum{labels: labels}
		g.m[key] = s
		g.order = append(g.order, key)
	}
	sum, err := s.amounts.Add(a)
	if err != nil {
		t.Fatal(err)
	}
	s.amounts = sum
}

func (g *groupSums) addAll(t *testing.T, o *groupSums) {
	t.Helper()
	for _, k := range o.order {
		g.add(t, o.m[k].labels, o.m[k].amounts)
	}
}

// amountSamples turns every group whose amounts are not all zero into one
// sample per column, with extra labels added. The collectors leave out series
// whose every amount is zero.
func (g *groupSums) amountSamples(prefix string, extra map[string]string, tsMs int64) []sample {
	var out []sample
	for _, k := range g.order {
		s := g.m[k]
		if s.amounts == (bssclient.Amounts{}) {
			continue
		}
		labels := map[string]string{"account": testAccount}
		for k, v := range s.labels {
			labels[k] = v
		}
		for k, v := range extra {
			labels[k] = v
		}
		for _, c := range testColumns {
			out = append(out, sample{name: prefix + "_" + c.name, labels: labels, value: c.get(s.amounts).String(), tsMs: tsMs})
		}
	}
	return out
}

// blankAsUnknown is how the collectors label a blank field.
func blankAsUnknown(s string) string {
	if strings.TrimSpace(s) == "" {
		return "unknown"
	}
	return s
}

// regionIDs maps the display names the simulator prints to region IDs.
var regionIDs = func() map[string]string {
	m := map[string]string{}
	for _, id := range bsssim.RegionIDs() {
		m[bsssim.RegionDisplayName(id)] = id
	}
	return m
}()

func regionLabel(t *testing.T, shown string) string {
	t.Helper()
	if shown == "" {
		return "unknown"
	}
	id, ok := regionIDs[shown]
	if !ok {
		t.Fatalf("the simulator printed region %q, which the test does not know", shown)
	}
	return id
}

// tagsOf reads "key:env value:prod; key:team value:dev-team".
func tagsOf(t *testing.T, s string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, pair := range strings.Split(s, ";") {
		f := strings.Fields(pair)
		if len(f) == 0 {
			continue
		}
		if len(f) != 2 || !strings.HasPrefix(f[0], "key:") || !strings.HasPrefix(f[1], "value:") {
			t.Fatalf("the simulator printed tag %q, which the test cannot read", pair)
		}
		out[strings.TrimPrefix(f[0], "key:")] = strings.TrimPrefix(f[1], "value:")
	}
	return out
}

// ---------------------------------------------------------------------------
// The model: what each collector must expose, straight from the World.

func dailyRequest(d bssclient.Day) bssclient.AccountBillRequest {
	return bssclient.AccountBillRequest{BillingCycle: d.Cycle(), Granularity: bssclient.Daily, BillingDate: d, IsGroupByProduct: true}
}

// accountDay sums the account bill of day d as shown at t.
func (h *simHarness) accountDay(d bssclient.Day, t time.Time) *groupSums {
	g := newGroupSums()
	for _, r := range h.world.AccountBill(dailyRequest(d), t) {
		g.add(h.t, map[string]string{
			"owner_id":          r.OwnerID,
			"product_code":      r.ProductCode,
			"subscription_type": r.SubscriptionType,
			"currency":          r.Currency,
		}, r.Amounts)
	}
	return g
}

func (h *simHarness) instanceRows(d bssclient.Day, t time.Time) []bssclient.InstanceBillItem {
	req := bssclient.InstanceBillRequest{BillingCycle: d.Cycle(), Granularity: bssclient.Daily, BillingDate: d}
	return h.world.InstanceBillRows(req, t, 0, h.world.InstanceBillCount(req, t))
}

// instanceDay sums the instance bill of day d as shown at t, by the
// aggregated series' labels.
func (h *simHarness) instanceDay(d bssclient.Day, t time.Time) *groupSums {
	g := newGroupSums()
	for _, r := range h.instanceRows(d, t) {
		labels := map[string]string{
			"owner_id":          r.OwnerID,
			"product_code":      r.ProductCode,
			"subscription_type": r.SubscriptionType,
			"region_id":         regionLabel(h.t, r.Region),
			"currency":          r.Currency,
		}
		if h.cfg.Instance.Zone {
			labels["zone_id"] = blankAsUnknown(r.Zone)
		}
		if h.cfg.Instance.ResourceGroup {
			labels["resource_group"] = blankAsUnknown(r.ResourceGroup)
		}
		if h.cfg.Instance.CostUnit {
			labels["cost_unit"] = blankAsUnknown(r.CostUnit)
		}
		tags := tagsOf(h.t, r.Tag)
		for _, k := range h.cfg.Instance.TagKeys {
			labels["tag_"+k] = tags[k]
		}
		g.add(h.t, labels, r.Amounts)
	}
	return g
}

// perInstanceDay returns the per-instance payable samples of day d as shown
// at t: the MaxInstances largest, then one overflow series per currency.
func (h *simHarness) perInstanceDay(d bssclient.Day, t time.Time) []sample {
	type inst struct {
		labels  map[string]string
		payable bssclient.Money
	}
	byID := map[string]*inst{}
	var ids []string
	for _, r := range h.instanceRows(d, t) {
		labels := map[string]string{
			"account":           testAccount,
			"instance_id":       r.InstanceID,
			"owner_id":          r.OwnerID,
			"product_code":      r.ProductCode,
			"subscription_type": r.SubscriptionType,
			"region_id":         regionLabel(h.t, r.Region),
			"currency":          r.Currency,
		}
		i, ok := byID[r.InstanceID]
		if !ok {
			i = &inst{labels: labels}
			byID[r.InstanceID] = i
			ids = append(ids, r.InstanceID)
		}
		sum, err := i.payable.Add(r.PretaxAmount)
		if err != nil {
			h.t.Fatal(err)
		}
		i.payable = sum
	}
	sort.Slice(ids, func(a, b int) bool {
		pa, pb := byID[ids[a]].payable.Units(), byID[ids[b]].payable.Units()
		if pa != pb {
			return pa > pb
		}
		return ids[a] < ids[b]
	})
	ts := d.Start().UnixMilli()
	var out []sample
	overflow := map[string]bssclient.Money{}
	for n, id := range ids {
		i := byID[id]
		if n < h.cfg.Instance.MaxInstances {
			out = append(out, sample{name: perInstanceFamily, labels: i.labels, value: i.payable.String(), tsMs: ts})
			continue
		}
		sum, err := overflow[i.labels["currency"]].Add(i.payable)
		if err != nil {
			h.t.Fatal(err)
		}
		overflow[i.labels["currency"]] = sum
	}
	for currency, sum := range overflow {
		out = append(out, sample{name: perInstanceFamily, value: sum.String(), tsMs: ts, labels: map[string]string{
			"account": testAccount, "instance_id": "__overflow__", "owner_id": "", "product_code": "",
			"subscription_type": "", "region_id": "", "currency": currency,
		}})
	}
	return out
}

func (h *simHarness) ossRows(d bssclient.Day, t time.Time) []bssclient.SplitItemBillItem {
	req := bssclient.SplitItemBillRequest{BillingCycle: d.Cycle(), Granularity: bssclient.Daily, BillingDate: d, ProductCode: "oss"}
	return h.world.SplitItemBillRows(req, t, 0, h.world.SplitItemBillCount(req, t))
}

// ossDay sums the OSS split bill of day d as shown at t, per bucket.
func (h *simHarness) ossDay(d bssclient.Day, t time.Time) *groupSums {
	g := newGroupSums()
	for _, r := range h.ossRows(d, t) {
		bucket := r.SplitItemName
		if bucket == "" {
			bucket = r.SplitItemID
		}
		labels := map[string]string{
			"owner_id":  r.OwnerID,
			"bucket":    blankAsUnknown(bucket),
			"region_id": regionLabel(h.t, r.Region),
			"currency":  r.Currency,
		}
		if h.cfg.OSSBucket.BillingItem {
			labels["billing_item"] = blankAsUnknown(r.BillingItemCode)
		}
		g.add(h.t, labels, r.Amounts)
	}
	return g
}

// dayFunc sums one day of one collector's data as shown at a moment.
type dayFunc func(d bssclient.Day, t time.Time) *groupSums

func (h *simHarness) dayFuncOf(collector string) dayFunc {
	f := h.accountDay
	switch collector {
	case "instance":
		f = h.instanceDay
	case "ossbucket":
		f = h.ossDay
	}
	return func(d bssclient.Day, t time.Time) *groupSums {
		key := fmt.Sprintf("%s %s %d", collector, d, t.UnixNano())
		if g, ok := h.memo[key]; ok {
			return g
		}
		g := f(d, t)
		h.memo[key] = g
		return g
	}
}

// expectDaily is a collector's daily family now: every day of the exposure
// window it has booked, with the values of the moment it booked them.
func (h *simHarness) expectDaily(collector, prefix string) []sample {
	if !h.cfg.DailySeries {
		return nil
	}
	var out []sample
	from, to := h.exposureRange(kindOf(collector), h.now())
	for d := from; !to.Before(d); d = d.AddDays(1) {
		t, ok := h.fetchedAt(collector, d)
		if !ok {
			continue
		}
		out = append(out, h.dayFuncOf(collector)(d, t).amountSamples(prefix, nil, d.Start().UnixMilli())...)
	}
	return out
}

// expectPerInstance is the per-instance family now.
func (h *simHarness) expectPerInstance() []sample {
	if !h.cfg.DailySeries || !h.cfg.Instance.PerInstance {
		return nil
	}
	var out []sample
	from, to := h.exposureRange(bssclient.KindInstanceAttributes, h.now())
	for d := from; !to.Before(d); d = d.AddDays(1) {
		if t, ok := h.fetchedAt("instance", d); ok {
			out = append(out, h.perInstanceDay(d, t)...)
		}
	}
	return out
}

// expectSettledCycle is the ossbucket cycle gauge now in a world whose
// split-bill views disagree: the sum of the current cycle's settled days as
// first read, as of the last good refresh.
func (h *simHarness) expectSettledCycle(collector, prefix string) []sample {
	good, ok := h.lastGood(collector)
	current := bssclient.CycleOf(h.now())
	if !ok || bssclient.CycleOf(good) != current {
		return nil
	}
	newest := bssclient.Calendar{}.NewestSettledDay(good, kindOf(collector))
	sum := newGroupSums()
	for d := current.FirstDay(); !newest.Before(d); d = d.AddDays(1) {
		t, ok := h.fetchedAt(collector, d)
		if !ok {
			h.t.Fatalf("%s: day %s of the cycle was never read", collector, d)
		}
		sum.addAll(h.t, h.dayFuncOf(collector)(d, t))
	}
	return sum.amountSamples(prefix, map[string]string{"billing_cycle": current.String(), "cycle": "current"}, 0)
}

// expectMonthlyCycle is the instance or ossbucket cycle gauge now: the
// current cycle's settled days as the bill showed them (restatements
// included) at the first good refresh after the newest of them settled,
// when the collector read the cycle's MONTHLY bill minus its unsettled days.
func (h *simHarness) expectMonthlyCycle(collector, prefix string) []sample {
	good, ok := h.lastGood(collector)
	current := bssclient.CycleOf(h.now())
	if !ok || bssclient.CycleOf(good) != current {
		return nil
	}
	kind := kindOf(collector)
	newest := bssclient.Calendar{}.NewestSettledDay(good, kind)
	read := good
	for _, s := range h.steps {
		if !s.failed[collector] && (bssclient.Calendar{}).NewestSettledDay(s.at, kind) == newest {
			read = s.at
			break
		}
	}
	sum := newGroupSums()
	for d := current.FirstDay(); !newest.Before(d); d = d.AddDays(1) {
		sum.addAll(h.t, h.dayFuncOf(collector)(d, read))
	}
	return sum.amountSamples(prefix, map[string]string{"billing_cycle": current.String(), "cycle": "current"}, 0)
}

// expectAccountCycles is the account collector's cycle gauges now: for the
// previous and the current cycle, the sum of their days settled at the last
// good refresh, each as the account bill shows it then (restatements
// included), and whether the cycle was final then.
func (h *simHarness) expectAccountCycles() []sample {
	good, ok := h.lastGood("account")
	if !ok {
		return nil
	}
	newest := bssclient.Calendar{}.NewestSettledDay(good, bssclient.KindAmounts)
	current := bssclient.CycleOf(h.now())
	var out []sample
	for _, cyc := range []bssclient.Cycle{current.Prev(), current} {
		which := "current"
		if cyc != current {
			which = "previous"
		}
		sum := newGroupSums()
		for d := cyc.FirstDay(); d.Cycle() == cyc && !newest.Before(d); d = d.AddDays(1) {
			sum.addAll(h.t, h.dayFuncOf("account")(d, good))
		}
		out = append(out, sum.amountSamples("aliyun_billing_account_cycle",
			map[string]string{"billing_cycle": cyc.String(), "cycle": which}, 0)...)
		final := "0"
		if (bssclient.Calendar{}).CycleFinal(cyc, good, bssclient.KindAmounts) {
			final = "1"
		}
		out = append(out, sample{name: cycleFinalFamily, value: final, labels: map[string]string{
			"account": testAccount, "collector": "account", "billing_cycle": cyc.String(), "cycle": which}})
	}
	return out
}

// expectRefreshState is the exporter's own gauges now, for the families
// that do not depend on wall time.
func (h *simHarness) expectRefreshState() []sample {
	var out []sample
	last := h.steps[len(h.steps)-1]
	for _, c := range h.names {
		labels := map[string]string{"account": testAccount, "collector": c}
		ok := "1"
		if last.failed[c] {
			ok = "0"
		}
		out = append(out, sample{name: successFamily, labels: labels, value: ok})
		if good, found := h.lastGood(c); found && c != "balance" && c != "subscription" {
			day := bssclient.Calendar{}.NewestSettledDay(good, kindOf(c))
			out = append(out, sample{name: newestDayFamily, labels: labels, value: strconv.FormatInt(day.Start().Unix(), 10)})
		}
	}
	for k, n := range h.failures {
		out = append(out, sample{name: failuresFamily, value: strconv.Itoa(n), labels: map[string]string{
			"account": testAccount, "collector": k[0], "code": k[1]}})
	}
	return out
}

// expectAll is every bill family and the refresh state, for the collectors
// the harness runs.
func (h *simHarness) expectAll() ([]sample, []string) {
	samples := h.expectRefreshState()
	names := []string{successFamily, newestDayFamily, failuresFamily}
	for _, c := range h.names {
		switch c {
		case "account":
			samples = append(samples, h.expectDaily("account", "aliyun_billing_account_daily")...)
			samples = append(samples, h.expectAccountCycles()...)
			names = append(names, concat(accountDailyFamilies, accountCycleFamilies, []string{cycleFinalFamily})...)
		case "instance":
			samples = append(samples, h.expectDaily("instance", "aliyun_billing_instance_daily")...)
			samples = append(samples, h.expectMonthlyCycle("instance", "aliyun_billing_instance_cycle")...)
			samples = append(samples, h.expectPerInstance()...)
			names = append(names, concat(instanceDailyFamilies, instanceCycleFamilies, []string{perInstanceFamily})...)
		case "ossbucket":
			samples = append(samples, h.expectDaily("ossbucket", "aliyun_billing_ossbucket_daily")...)
			if h.ossSumsDays {
				samples = append(samples, h.expectSettledCycle("ossbucket", "aliyun_billing_ossbucket_cycle")...)
			} else {
				samples = append(samples, h.expectMonthlyCycle("ossbucket", "aliyun_billing_ossbucket_cycle")...)
			}
			names = append(names, concat(ossDailyFamilies, ossCycleFamilies)...)
		}
	}
	return samples, names
}

// assertModel compares every bill family and the refresh state with the model.
func (h *simHarness) assertModel() {
	h.t.Helper()
	samples, names := h.expectAll()
	h.assertExposition(samples, names...)
}

// ---------------------------------------------------------------------------
// Reading gathered samples

// gotSample is one gathered sample.
type gotSample struct {
	labels map[string]string
	value  float64
	tsMs   int64 // 0: no timestamp
}

// gatheredFamily returns the samples of one family.
func gatheredFamily(t *testing.T, c prometheus.Collector, name string) []gotSample {
	t.Helper()
	var out []gotSample
	for _, mf := range gather(t, c) {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			s := gotSample{labels: map[string]string{}, tsMs: m.GetTimestampMs()}
			for _, lp := range m.GetLabel() {
				s.labels[lp.GetName()] = lp.GetValue()
			}
			switch {
			case m.Gauge != nil:
				s.value = m.GetGauge().GetValue()
			case m.Counter != nil:
				s.value = m.GetCounter().GetValue()
			}
			out = append(out, s)
		}
	}
	return out
}

// moneyOf reads a gathered amount back as exact money: every amount the
// collectors send is a Money converted once to the nearest float64, and the
// shortest decimal that round-trips that float is the Money again.
func moneyOf(t *testing.T, v float64) bssclient.Money {
	t.Helper()
	if math.IsNaN(v) || math.IsInf(v, 0) {
		t.Fatalf("amount %v is not finite", v)
	}
	m, err := bssclient.ParseMoney(strconv.FormatFloat(v, 'f', -1, 64))
	if err != nil {
		t.Fatalf("amount %v is not an exact amount: %v", v, err)
	}
	return m
}

// sumWhere sums, exactly, the samples whose labels include match and whose
// timestamp is tsMs (0: untimestamped).
func sumWhere(t *testing.T, samples []gotSample, tsMs int64, match map[string]string) (bssclient.Money, int) {
	t.Helper()
	var sum bssclient.Money
	n := 0
	for _, s := range samples {
		if s.tsMs != tsMs {
			continue
		}
		ok := true
		for k, v := range match {
			if s.labels[k] != v {
				ok = false
			}
		}
		if !ok {
			continue
		}
		var err error
		if sum, err = sum.Add(moneyOf(t, s.value)); err != nil {
			t.Fatal(err)
		}
		n++
	}
	return sum, n
}

// timestampsOf returns the distinct sample timestamps of a family, sorted.
func timestampsOf(samples []gotSample) []int64 {
	var out []int64
	for _, s := range samples {
		if !slices.Contains(out, s.tsMs) {
			out = append(out, s.tsMs)
		}
	}
	slices.Sort(out)
	return out
}

// dayStarts returns the sample timestamps of days from..to, in ms.
func dayStarts(from, to bssclient.Day) []int64 {
	var out []int64
	for d := from; !to.Before(d); d = d.AddDays(1) {
		out = append(out, d.Start().UnixMilli())
	}
	return out
}

// requestsDelta returns the server's requests per action since before.
func requestsDelta(before, after bsssim.Stats) map[string]int64 {
	out := map[string]int64{}
	for a, n := range after.Requests {
		if d := n - before.Requests[a]; d != 0 {
			out[a] = d
		}
	}
	return out
}

// pages is how many 300-row pages a walk of n rows takes: at least one.
func pages(n int) int64 {
	return int64(max(1, (n+bssclient.MaxPageSize-1)/bssclient.MaxPageSize))
}
