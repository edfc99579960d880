package collector

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
)

// billFilesWorld pushes both instance subscriptions the collector reads:
// InstanceDetailForBillingPeriod (days) and InstanceDetailMonthly (the cycle).
var billFilesWorld = bsssim.WorldConfig{Seed: 5, Owners: 2, InstancesPerOwner: 12, SplitBillEnabled: true}

const fallbacksFamily = "aliyun_billing_bill_file_fallbacks_total"

// instanceSourcePair is the same World read by two instance collectors:
// one from the API, one from the bill files.
func instanceSourcePair(t *testing.T, start time.Time, faults *bsssim.OSSFaults) (api, files *simHarness) {
	t.Helper()
	world := billFilesWorld
	w, err := bsssim.NewWorld(world)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, s := range w.Subscriptions() {
		types = append(types, s.SubscribeType)
	}
	if !slices.Contains(types, dailyInstanceFiles) || !slices.Contains(types, monthlyInstanceFiles) {
		t.Fatalf("billFilesWorld pushes %v; pick a seed that pushes %s and %s", types, dailyInstanceFiles, monthlyInstanceFiles)
	}
	return sourcePair(t, world, start, faults, "instance", func(c *Config, source Source) {
		c.Instance.Source = source
		c.Instance.PerInstance = true
		c.Instance.Zone = true
		c.Instance.ResourceGroup = true
		c.Instance.CostUnit = true
	})
}

// sourcePair starts two harnesses of world with one collector each,
// configured by configure for SourceAPI and for SourceBillFiles, the
// second with the simulator's bill files and faults. BSS answers both in
// its most varied dialect (numbers as strings, other time formats, masked
// fields, absent ones); the files are the same in every dialect. Both
// expose every amount the files carry (not cash_paid).
func sourcePair(t *testing.T, world bsssim.WorldConfig, start time.Time, faults *bsssim.OSSFaults, collector string, configure func(*Config, Source)) (api, files *simHarness) {
	t.Helper()
	options := func(source Source) simOptions {
		return simOptions{world: &world, start: start, collectors: []string{collector}, dialect: bsssim.DialectMixed, configure: func(c *Config) {
			c.Amounts[collector] = []string{"list_price", "discount", "coupon_deduction", "payable", "outstanding"}
			configure(c, source)
		}}
	}
	api = startSim(t, options(SourceAPI))
	withFiles := options(SourceBillFiles)
	withFiles.ossFaults = faults
	if faults == nil {
		withFiles.ossFaults = bsssim.NewOSSFaults()
	}
	return api, startSim(t, withFiles)
}

var instanceFamilies = concat(instanceDailyFamilies, instanceCycleFamilies, []string{perInstanceFamily})

// instanceWalks are the DescribeInstanceBill walks among walks.
func instanceWalks(walks []string) []string {
	return slices.DeleteFunc(walks, func(w string) bool { return !strings.HasPrefix(w, bssclient.ActionDescribeInstanceBill) })
}

// TestInstanceSourcesAgree steps both sources through the end of a month
// and the first days of the next, where the cycle gauges start over and
// the month's files are rewritten: every family is the same, while the
// files' collector walks no instance bill at all.
func TestInstanceSourcesAgree(t *testing.T) {
	start := at(2026, 5, 28, 10)
	api, files := instanceSourcePair(t, start, nil)
	stepBothSources(t, api, files, start, at(2026, 6, 4, 12), "instance", instanceFamilies, instanceWalks)
}

// stepBothSources steps two harnesses of one collector, api and files,
// every 7 hours from start to end, and fails unless the families are the
// same at every step, the files' collector walks nothing (walks picks its
// bill walks), asks for the subscriptions at most once a refresh, and
// falls back never; and unless the API read something new at 7 steps and
// the cycle gauges were there at 15.
func stepBothSources(t *testing.T, api, files *simHarness, start, end time.Time, collector string, families []string, walks func([]string) []string) {
	t.Helper()
	changed, cycles := 0, 0
	for now := start; now.Before(end); now = now.Add(7 * time.Hour) {
		api.mustStep(now)
		before := files.server.Server.Stats()
		files.mustStep(now)
		// The days read at once ask for the subscriptions once.
		if delta := requestsDelta(before, files.server.Server.Stats()); delta[bssclient.ActionQueryBillToOSSSubscription] > 1 {
			t.Fatalf("at %s: %v", now, delta)
		}
		want := formatText(t, api.exp, families...)
		if got := formatText(t, files.exp, families...); got != want {
			t.Fatalf("at %s the bill files give\n%s\nthe API gives\n%s", now, got, want)
		}
		if !strings.Contains(want, collector+"_daily_payable") {
			t.Fatalf("at %s no day to compare:\n%s", now, want)
		}
		if strings.Contains(want, collector+"_cycle_payable") {
			cycles++
		}
		if w := walks(files.bss.takeWalks()); len(w) > 0 {
			t.Fatalf("at %s the bill files' collector walked %v", now, w)
		}
		if len(walks(api.bss.takeWalks())) > 0 {
			changed++
		}
		if n := fallbacks(t, files); n != 0 {
			t.Fatalf("at %s, %v fallbacks", now, n)
		}
	}
	if changed < 7 || cycles < 15 {
		t.Fatalf("the API read something new at %d steps and had cycle gauges at %d: too little compared", changed, cycles)
	}
}

// TestInstanceBillFileFallsBack: a day whose file BSS did not push is read
// from the API, once, and counted once; the families stay the API's.
func TestInstanceBillFileFallsBack(t *testing.T) {
	now := at(2026, 5, 20, 10)
	faults := bsssim.NewOSSFaults()
	missing := bssclient.Calendar{}.NewestSettledDay(now, bssclient.KindInstanceAttributes).AddDays(-1)
	faults.MissDay(bsssim.Day{Year: missing.Year, Month: missing.Month, Day: missing.Day})
	api, files := instanceSourcePair(t, now, faults)
	api.mustStep(now)
	files.mustStep(now)
	if got, want := formatText(t, files.exp, instanceFamilies...), formatText(t, api.exp, instanceFamilies...); got != want {
		t.Fatalf("the bill files give\n%s\nthe API gives\n%s", got, want)
	}
	want := []string{bssclient.ActionDescribeInstanceBill + " DAILY " + missing.Cycle().String() + " " + missing.String()}
	if got := instanceWalks(files.bss.takeWalks()); !slices.Equal(got, want) {
		t.Fatalf("walks %v, want %v", got, want)
	}
	if n := fallbacks(t, files); n != 1 {
		t.Fatalf("%s = %v, want 1", fallbacksFamily, n)
	}
	// The day is booked: the next refresh reads nothing again, from
	// either source.
	read := counter(t, files, "aliyun_billing_bill_file_read_bytes_total")
	if read < 10_000 {
		t.Fatalf("%v bytes of bill files read for the exposed days and the cycle", read)
	}
	files.mustStep(now.Add(time.Hour))
	if got := instanceWalks(files.bss.takeWalks()); len(got) > 0 {
		t.Fatalf("walks %v after the fallback", got)
	}
	if again := counter(t, files, "aliyun_billing_bill_file_read_bytes_total"); again != read {
		t.Fatalf("%v bytes read by a refresh with nothing to read", again-read)
	}
}

// TestInstanceBillFileMissingColumnFails: a file without a column the rows
// need is not read from the API behind the user's back: the refresh fails,
// naming the file and the column, and nothing is counted as a fallback.
func TestInstanceBillFileMissingColumnFails(t *testing.T) {
	now := at(2026, 5, 20, 10)
	faults := bsssim.NewOSSFaults()
	_, files := instanceSourcePair(t, now, faults)
	day := bssclient.Calendar{}.NewestSettledDay(now, bssclient.KindInstanceAttributes)
	w, err := bsssim.NewWorld(billFilesWorld)
	if err != nil {
		t.Fatal(err)
	}
	key, payable := "", "Payable Amount"
	for _, s := range w.Subscriptions() {
		if s.SubscribeType == dailyInstanceFiles {
			key = s.BucketPath + w.AccountID() + "_InstanceDetail_" + strings.ReplaceAll(day.String(), "-", "")
			if s.SubscribeLanguage == "zh" {
				payable = "应付金额"
			}
		}
	}
	faults.DropColumn(key, payable)
	err = files.step(now)
	if err == nil || !strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "lacks the column") {
		t.Fatalf("refresh error %v, want one naming %s and the column", err, key)
	}
	if got := instanceWalks(files.bss.takeWalks()); len(got) > 0 {
		t.Fatalf("walks %v: a missing column fell back to the API", got)
	}
	if n := fallbacks(t, files); n != 0 {
		t.Fatalf("%s = %v, want 0", fallbacksFamily, n)
	}
}

// fallbacks is the collector's bill file fallback counter (one collector a harness).
func fallbacks(t *testing.T, h *simHarness) float64 { return counter(t, h, fallbacksFamily) }

// counter is the value of a family with one sample.
func counter(t *testing.T, h *simHarness, family string) float64 {
	t.Helper()
	got := gatheredFamily(t, h.exp, family)
	if len(got) != 1 {
		t.Fatalf("%s: %d samples, want 1", family, len(got))
	}
	return got[0].value
}

// splitFilesWorld pushes the SplitItemDetailDaily month files.
var splitFilesWorld = bsssim.WorldConfig{Seed: 5, Owners: 2, InstancesPerOwner: 12, SplitBillEnabled: true, SplitItemSubscription: true}

var ossBucketFamilies = concat(ossDailyFamilies, ossCycleFamilies)

// ossBucketSourcePair is the same World read by two ossbucket collectors.
func ossBucketSourcePair(t *testing.T, start time.Time, faults *bsssim.OSSFaults) (api, files *simHarness) {
	t.Helper()
	return sourcePair(t, splitFilesWorld, start, faults, "ossbucket", func(c *Config, source Source) {
		c.OSSBucket.Source = source
		c.OSSBucket.MaxBuckets = 5 // the cap ranks and sums the same on both
	})
}

// splitItemWalks are the DescribeSplitItemBill walks among walks.
func splitItemWalks(walks []string) []string {
	return slices.DeleteFunc(walks, func(w string) bool { return !strings.HasPrefix(w, bssclient.ActionDescribeSplitItemBill) })
}

// TestOSSBucketSourcesAgree is TestInstanceSourcesAgree for the split
// bill's month files.
func TestOSSBucketSourcesAgree(t *testing.T) {
	start := at(2026, 5, 28, 10)
	api, files := ossBucketSourcePair(t, start, nil)
	stepBothSources(t, api, files, start, at(2026, 6, 6, 12), "ossbucket", ossBucketFamilies, splitItemWalks)
}

// TestOSSBucketBillFileFallsBack: without the month's file, the days and
// the cycle are read from the API, and each counts once.
func TestOSSBucketBillFileFallsBack(t *testing.T) {
	now := at(2026, 5, 20, 10)
	w, err := bsssim.NewWorld(splitFilesWorld)
	if err != nil {
		t.Fatal(err)
	}
	faults := bsssim.NewOSSFaults()
	for _, s := range w.Subscriptions() {
		if s.SubscribeType == splitItemFiles {
			faults.MissKey(s.BucketPath + w.AccountID() + "_SplitItemDetailDaily_202605")
		}
	}
	api, files := ossBucketSourcePair(t, now, faults)
	api.mustStep(now)
	files.mustStep(now)
	if got, want := formatText(t, files.exp, ossBucketFamilies...), formatText(t, api.exp, ossBucketFamilies...); got != want {
		t.Fatalf("the bill files give\n%s\nthe API gives\n%s", got, want)
	}
	apiWalks := splitItemWalks(api.bss.takeWalks())
	if got := splitItemWalks(files.bss.takeWalks()); !slices.Equal(got, apiWalks) {
		t.Fatalf("walks %v, want the API's %v", got, apiWalks)
	}
	// Three exposed days of May and the cycle.
	if n := fallbacks(t, files); n != 4 {
		t.Fatalf("%s = %v, want 4", fallbacksFamily, n)
	}
}
