package collector

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/proctest"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
)

var allCollectors = []string{"account", "balance", "instance", "ossbucket", "subscription"}

// everything turns on every option that adds series.
func everything(c *Config) {
	c.Instance.PerInstance = true
	c.Instance.MaxInstances = 4
	c.Instance.Zone = true
	c.Instance.TagKeys = []string{"env", "team"}
}

func TestExporterReadyAfterFirstRefresh(t *testing.T) {
	h := startSim(t, simOptions{start: midMarch, collectors: allCollectors})
	if h.exp.Ready() {
		t.Fatal("ready before any refresh")
	}
	if n := len(gather(t, h.exp)); n != 0 {
		t.Errorf("%d families before any refresh, want none", n)
	}
	// A failed first refresh still counts: the exporter has something to say.
	h.creds.set(bsssim.TestAccessKeyID, "not-the-secret")
	h.failedStep(midMarch, bssclient.CodeSignatureDoesNotMatch, allCollectors...)
	if !h.exp.Ready() {
		t.Fatal("not ready after a failed refresh")
	}
	h.creds.set(bsssim.TestAccessKeyID, bsssim.TestAccessKeySecret)
	h.mustStep(midMarch)
	if !h.exp.Ready() {
		t.Fatal("not ready after a refresh")
	}
}

// TestCollectNeverCallsBSS: a scrape reads snapshots only.
func TestCollectNeverCallsBSS(t *testing.T) {
	h := startSim(t, simOptions{start: midMarch, collectors: allCollectors, configure: everything})
	before := h.server.Server.Stats()
	gather(t, h.exp) // before the first refresh
	h.mustStep(midMarch)
	mid := h.server.Server.Stats()
	if mid.TotalRequests() == before.TotalRequests() {
		t.Fatal("the refresh made no requests; the test proves nothing")
	}
	h.bss.takeWalks()
	for range 3 {
		gather(t, h.exp)
		if _, err := testutil.CollectAndFormat(h.exp, expfmt.TypeTextPlain); err != nil {
			t.Fatal(err)
		}
	}
	if d := requestsDelta(mid, h.server.Server.Stats()); len(d) != 0 {
		t.Errorf("scrapes made requests: %v", d)
	}
	if w := h.bss.takeWalks(); len(w) != 0 {
		t.Errorf("scrapes started walks: %v", w)
	}
}

// TestExpositionLint: every family passes the Prometheus metric lint, and
// every metric is described (the pedantic registry checks both).
//
// One rule is broken by design: a daily family shows each series once per
// exposed day, with different timestamps, and the lint (like the text
// format's "each line must have a unique combination of a metric name and
// labels") wants each label set once. That is why DailySeries can be turned
// off, and with ExposureDays 1 the daily families are unique again.
func TestExpositionLint(t *testing.T) {
	cases := []struct {
		name        string
		configure   func(*Config)
		dailyRepeat bool // the daily families repeat label sets, one per day
	}{
		{"defaults", func(*Config) {}, true},
		{"one exposed day", func(c *Config) { c.ExposureDays = 1 }, false},
		{"daily series off", func(c *Config) { c.DailySeries = false }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := startSim(t, simOptions{start: midMarch, collectors: allCollectors, configure: func(c *Config) {
				everything(c)
				tc.configure(c)
			}})
			h.mustStep(midMarch)
			reg := prometheus.NewPedanticRegistry()
			reg.MustRegister(h.exp, NewBSSMetrics(), NewBudgetCollector([]Budget{{Account: testAccount, Currency: "CNY", Monthly: bssclient.MustParseMoney("1000")}}))
			problems, err := testutil.GatherAndLint(reg)
			if err != nil {
				t.Fatal(err)
			}
			repeated := map[string]bool{}
			for _, p := range problems {
				if tc.dailyRepeat && p.Text == "metric not unique" && strings.Contains(p.Metric, "_daily_") {
					repeated[p.Metric] = true
					continue
				}
				t.Errorf("lint: %s: %s", p.Metric, p.Text)
			}
			if tc.dailyRepeat && !repeated["aliyun_billing_account_daily_payable"] {
				t.Errorf("the daily families do not repeat series; update this test's account of the lint")
			}
			mfs, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, mf := range mfs {
				names = append(names, mf.GetName())
			}
			want := []string{
				"aliyun_billing_account_cycle_payable", cycleFinalFamily, "aliyun_billing_instance_cycle_payable",
				"aliyun_billing_ossbucket_cycle_payable", splitBillFamily, "aliyun_billing_balance_available",
				subscriptionFamily, "aliyun_billing_budget_monthly", successFamily, lastSuccessFamily,
				newestDayFamily, "aliyun_billing_refresh_duration_seconds", "aliyun_billing_snapshot_series",
			}
			if h.cfg.DailySeries {
				want = append(want, "aliyun_billing_account_daily_payable", "aliyun_billing_instance_daily_payable",
					perInstanceFamily, "aliyun_billing_ossbucket_daily_payable")
			}
			for _, w := range want {
				if !slices.Contains(names, w) {
					t.Errorf("family %s missing from the lint run", w)
				}
			}
		})
	}
}

// TestDescribeCoversEveryMetric registers each collector alone, with every
// option, in a pedantic registry: gathering fails on a metric whose
// descriptor Describe did not send.
func TestDescribeCoversEveryMetric(t *testing.T) {
	for _, name := range allCollectors {
		t.Run(name, func(t *testing.T) {
			h := startSim(t, simOptions{start: midMarch, collectors: []string{name}, configure: everything})
			h.mustStep(midMarch)
			if n := len(gather(t, h.exp)); n < 2 {
				t.Errorf("%d families", n)
			}
			// Describe sends only what the configuration can emit.
			ch := make(chan *prometheus.Desc, 100)
			h.exp.Describe(ch)
			close(ch)
			described := 0
			for d := range ch {
				described++
				if name != "instance" && strings.Contains(d.String(), perInstanceFamily) {
					t.Errorf("%s describes %s", name, d)
				}
			}
			if described < 6 {
				t.Errorf("%d descriptors", described)
			}
		})
	}
}

// TestFailedRefreshKeepsLastSnapshot: when BSS refuses the exporter, every
// collector keeps serving its last good data and says so.
func TestFailedRefreshKeepsLastSnapshot(t *testing.T) {
	h := startSim(t, simOptions{start: midMarch, collectors: allCollectors, configure: everything})
	h.mustStep(midMarch)
	h.assertModel()
	billFamilies := concat(accountDailyFamilies, accountCycleFamilies, instanceDailyFamilies, instanceCycleFamilies,
		ossDailyFamilies, ossCycleFamilies, balanceFamilies,
		[]string{perInstanceFamily, cycleFinalFamily, subscriptionFamily, splitBillFamily, newestDayFamily})
	good := formatText(t, h.exp, billFamilies...)
	lastSuccess := formatText(t, h.exp, lastSuccessFamily)
	if !strings.Contains(lastSuccess, `collector="instance"`) {
		t.Fatalf("no last success timestamps:\n%s", lastSuccess)
	}

	// The same moment: instance and ossbucket have nothing left to read, so
	// only the collectors that re-read something fail.
	h.creds.set(bsssim.TestAccessKeyID, "not-the-secret")
	h.failedStep(midMarch, bssclient.CodeSignatureDoesNotMatch, "account", "balance", "subscription")
	if got := formatText(t, h.exp, billFamilies...); got != good {
		t.Errorf("bill families changed by a failed refresh:\n%s\nwant:\n%s", got, good)
	}
	if got := formatText(t, h.exp, lastSuccessFamily); !sameLinesFor(got, lastSuccess, "account", "balance", "subscription") {
		t.Errorf("last success timestamps moved on failure:\n%s\nwas:\n%s", got, lastSuccess)
	}
	h.assertModel()
	lastSuccess = formatText(t, h.exp, lastSuccessFamily)

	// A day later every collector has something to read, and fails.
	next := midMarch.Add(24 * time.Hour)
	h.failedStep(next, bssclient.CodeSignatureDoesNotMatch, allCollectors...)
	h.assertModel()
	for _, family := range []string{"aliyun_billing_account_daily_payable", "aliyun_billing_instance_daily_payable", "aliyun_billing_ossbucket_daily_payable", perInstanceFamily} {
		got := timestampsOf(gatheredFamily(t, h.exp, family))
		newest := bssclient.Calendar{}.NewestSettledDay(next, kindOf(strings.Split(strings.TrimPrefix(family, "aliyun_billing_"), "_")[0]))
		if slices.Contains(got, newest.Start().UnixMilli()) {
			t.Errorf("%s shows %s, which was never read", family, newest)
		}
	}
	if got := formatText(t, h.exp, lastSuccessFamily); got != lastSuccess {
		t.Errorf("last success timestamps moved on failure:\n%s\nwas:\n%s", got, lastSuccess)
	}
	h.assertExposition(balanceSamples(h.world.Balance(midMarch)), balanceFamilies...)
	h.assertExposition(subscriptionSamples(h.world.Subscriptions()), subscriptionFamily)

	// Good again: everything is read and published, the failure counters stay.
	h.creds.set(bsssim.TestAccessKeyID, bsssim.TestAccessKeySecret)
	h.mustStep(next)
	h.assertModel()
	h.assertExposition(balanceSamples(h.world.Balance(next)), balanceFamilies...)
	if got := formatText(t, h.exp, lastSuccessFamily); got == lastSuccess {
		t.Error("last success timestamps did not move after a good refresh")
	}
}

// sameLinesFor reports whether the sample lines of the named collectors are
// the same in a and b.
func sameLinesFor(a, b string, collectors ...string) bool {
	pick := func(s string) []string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			for _, c := range collectors {
				if strings.Contains(l, `collector="`+c+`"`) {
					out = append(out, l)
				}
			}
		}
		return out
	}
	return slices.Equal(pick(a), pick(b))
}

func TestNewRejects(t *testing.T) {
	acct := Account{Name: testAccount, Client: &fakeAccountBill{}}
	hourly := []Enabled{{Name: "account", Interval: time.Hour}}
	bad := DefaultConfig()
	bad.ExposureDays = 0
	cases := []struct {
		name    string
		account Account
		enabled []Enabled
		cfg     Config
		want    string
	}{
		{"unknown collector", acct, []Enabled{{Name: "billz", Interval: time.Hour}}, DefaultConfig(),
			`unknown collector "billz" (known: [account amortized balance credit instance names ossbucket overview renewal resourceplan savingsplan subscription])`},
		{"zero interval", acct, []Enabled{{Name: "balance"}}, DefaultConfig(),
			"collector balance: refresh interval must be positive, got 0s"},
		{"negative interval", acct, []Enabled{{Name: "account", Interval: -time.Minute}}, DefaultConfig(),
			"collector account: refresh interval must be positive, got -1m0s"},
		{"invalid config", acct, hourly, bad, "exposure days must be between 1 and 62, got 0"},
		{"collector twice", acct, []Enabled{{Name: "account", Interval: time.Hour}, {Name: "account", Interval: 2 * time.Hour}}, DefaultConfig(),
			"collector account is listed twice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.account, tc.enabled, tc.cfg, log.NewNopLogger())
			if err == nil || err.Error() != tc.want {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestRegistrations(t *testing.T) {
	var got []string
	for _, r := range Registrations() {
		got = append(got, r.Name)
		if r.Help == "" || r.DefaultInterval <= 0 || !r.DefaultEnabled {
			t.Errorf("registration %+v: want help, a positive interval and enabled by default", r)
		}
	}
	if want := slices.Sorted(slices.Values(append(slices.Clone(allCollectors), append(commitmentCollectors, "amortized")...))); !slices.Equal(got, want) {
		t.Errorf("registrations %v, want %v", got, want)
	}
	if r, err := Lookup("instance"); err != nil || r.Name != "instance" {
		t.Errorf("Lookup(instance) = %+v, %v", r, err)
	}
}

// cancellingBalance answers one balance and ends the Run that asked for it.
type cancellingBalance struct {
	fakeAccountBill
	cancel context.CancelFunc
}

func (f *cancellingBalance) QueryAccountBalance(context.Context) (bssclient.AccountBalance, error) {
	f.cancel()
	return bssclient.AccountBalance{AvailableAmount: bssclient.MustParseMoney("12.5"), Currency: "CNY"}, nil
}

// TestRunRefreshesAtOnceAndStops: Run refreshes every collector when it
// starts, publishes a refresh that completed, and returns when its context
// ends (here: during that first refresh).
func TestRunRefreshesAtOnceAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	exp, err := New(Account{Name: testAccount, Client: &cancellingBalance{cancel: cancel}},
		[]Enabled{{Name: "balance", Interval: time.Hour}}, DefaultConfig(), log.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	exp.Run(ctx) // returns only because the context ended
	if !exp.Ready() {
		t.Fatal("not ready after Run's first refresh")
	}
	labels := map[string]string{"account": testAccount, "currency": "CNY"}
	assertCollected(t, exp, []sample{
		{name: "aliyun_billing_balance_available", labels: labels, value: "12.5"},
		{name: "aliyun_billing_balance_available_cash", labels: labels, value: "0"},
		{name: "aliyun_billing_balance_credit", labels: labels, value: "0"},
	}, balanceFamilies...)
}

func TestBudgetCollector(t *testing.T) {
	c := NewBudgetCollector([]Budget{
		{Account: "main", Currency: "CNY", Monthly: bssclient.MustParseMoney("50000")},
		{Account: "main", ProductCode: "ecs", OwnerID: "1000000000000001", Currency: "CNY", Monthly: bssclient.MustParseMoney("1234.56")},
	})
	const want = `# HELP aliyun_billing_budget_monthly Monthly budget from the exporter's configuration file. Empty product_code or owner_id means the budget covers all of them.
# TYPE aliyun_billing_budget_monthly gauge
aliyun_billing_budget_monthly{account="main",currency="CNY",owner_id="",product_code=""} 50000
aliyun_billing_budget_monthly{account="main",currency="CNY",owner_id="1000000000000001",product_code="ecs"} 1234.56
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}

func TestBSSMetrics(t *testing.T) {
	m := NewBSSMetrics()
	o := m.Observer("main")
	o.RequestDone(bssclient.ActionQueryAccountBill, "ok", 100*time.Millisecond)
	o.RequestDone(bssclient.ActionQueryAccountBill, "ok", 2*time.Second)
	o.RequestDone(bssclient.ActionQueryAccountBill, bssclient.CodeThrottlingUser, 10*time.Millisecond)
	o.Retried(bssclient.ActionQueryAccountBill, bssclient.CodeThrottlingUser)
	o.Throttled(bssclient.ActionQueryAccountBill)
	var _ bssclient.Observer = o
	const want = `# HELP aliyun_billing_bss_requests_total BSS OpenAPI requests sent, by action and outcome (ok, or the error code). Each counts against the account's quota.
# TYPE aliyun_billing_bss_requests_total counter
aliyun_billing_bss_requests_total{account="main",action="QueryAccountBill",outcome="Throttling.User"} 1
aliyun_billing_bss_requests_total{account="main",action="QueryAccountBill",outcome="ok"} 2
# HELP aliyun_billing_bss_retries_total BSS OpenAPI requests retried, by action and the error code that caused the retry.
# TYPE aliyun_billing_bss_retries_total counter
aliyun_billing_bss_retries_total{account="main",action="QueryAccountBill",code="Throttling.User"} 1
# HELP aliyun_billing_bss_throttled_total BSS OpenAPI answers that said the account's quota was exceeded (Throttling*).
# TYPE aliyun_billing_bss_throttled_total counter
aliyun_billing_bss_throttled_total{account="main",action="QueryAccountBill"} 1
`
	if err := testutil.CollectAndCompare(m, strings.NewReader(want),
		"aliyun_billing_bss_requests_total", "aliyun_billing_bss_retries_total", "aliyun_billing_bss_throttled_total"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(m, "aliyun_billing_bss_request_duration_seconds"); n != 1 {
		t.Errorf("%d duration histograms, want 1", n)
	}
}

// TestBudgetsThatMatchNoSpend: after the account collector's refresh, a
// budget whose scope matches no spend of the current or previous cycle (a
// product the account does not use, another currency) is counted and
// logged once; one that matches is not.
func TestBudgetsThatMatchNoSpend(t *testing.T) {
	logs := &proctest.Buffer{}
	budgets := NewBudgetCollector([]Budget{
		{Account: testAccount, Currency: "CNY", Monthly: bssclient.MustParseMoney("1000")},
		{Account: testAccount, ProductCode: "ecs", Currency: "CNY", Monthly: bssclient.MustParseMoney("500")},
		{Account: testAccount, ProductCode: "nosuchproduct", Currency: "CNY", Monthly: bssclient.MustParseMoney("10")},
		{Account: testAccount, Currency: "USD", Monthly: bssclient.MustParseMoney("10")},
		{Account: "other", Currency: "CNY", Monthly: bssclient.MustParseMoney("10")},
	})
	budgets.SetLogger(log.NewLogfmtLogger(logs))
	unmatched := func() []sample {
		return []sample{{name: "aliyun_billing_budgets_unmatched", labels: map[string]string{"account": testAccount}, value: "2"}}
	}
	h := startSim(t, simOptions{start: midMarch, collectors: []string{"account"}, configure: func(c *Config) { c.Budgets = budgets }})
	if got := gather(t, budgets); len(got) != 1 {
		t.Errorf("before a refresh: %d families, want only the budgets", len(got))
	}
	h.mustStep(midMarch)
	h.mustStep(midMarch.Add(time.Hour))
	assertCollected(t, budgets, unmatched(), "aliyun_billing_budgets_unmatched")
	if n := strings.Count(logs.String(), "a budget matches no spend"); n != 2 {
		t.Errorf("%d warnings, want one per unmatched budget (2):\n%s", n, logs)
	}
	for _, want := range []string{"product_code=nosuchproduct", "currency=USD"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("no warning names %s:\n%s", want, logs)
		}
	}
}

// TestRegisteredActions: each collector calls, on a cold start, exactly
// the BSS actions its registration lists, which doctor checks for it.
func TestRegisteredActions(t *testing.T) {
	for _, r := range Registrations() {
		t.Run(r.Name, func(t *testing.T) {
			h := startSim(t, simOptions{start: midMarch, collectors: []string{r.Name}})
			before := h.server.Server.Stats()
			h.mustStep(midMarch)
			called := slices.Sorted(maps.Keys(requestsDelta(before, h.server.Server.Stats())))
			if want := slices.Sorted(slices.Values(r.Actions)); !slices.Equal(called, slices.Compact(want)) {
				t.Errorf("a refresh called %v, the registration lists %v", called, r.Actions)
			}
		})
	}
}
