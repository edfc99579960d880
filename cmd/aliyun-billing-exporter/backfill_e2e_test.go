package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/proctest"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/collector"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim/bsssimtest"
)

// backfillWorld is the world the backfill test reads: the demo's size.
var backfillWorld = bsssim.WorldConfig{Seed: demoSeed, Owners: 3, InstancesPerOwner: 12, SplitBillEnabled: true}

// Every money column, so that each is checked against the truth; the
// defaults expose fewer.
const (
	allAccountColumns = "--collector.account.amounts=list_price,discount,coupon_deduction,payable,cash_paid,outstanding"
	allBucketColumns  = "--collector.ossbucket.amounts=list_price,discount,coupon_deduction,payable,cash_paid,outstanding"
)

// backfillSim serves backfillWorld on real billing time (the exporter's
// calendar reads the real clock outside --demo), with the quota lifted so
// that 18 months take seconds rather than the 2.5 minutes BSS's 10
// requests/s would. The config file gives both binaries the same account.
func backfillSim(t *testing.T) (world bsssimtest.World, sim *bsssim.Running, configFile string) {
	t.Helper()
	raw, err := bsssim.NewWorld(backfillWorld)
	if err != nil {
		t.Fatal(err)
	}
	// make test runs the backfill tests a second time with the simulator
	// writing a mix of representations: the numbers must not change.
	sim, err = bsssim.Start(bsssim.Config{World: raw, QuotaPerSecond: -1, Dialect: bsssim.Dialect(os.Getenv("BSS_SIMULATOR_DIALECT"))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	configFile = filepath.Join(t.TempDir(), "config.yml")
	writeSimConfig(t, configFile, "sim", sim)
	return bsssimtest.Wrap(raw), sim, configFile
}

// serveWorld serves the world of wc with no quota to speak of, until the
// test ends.
func serveWorld(t *testing.T, wc bsssim.WorldConfig) (*bsssim.World, *bsssim.Running) {
	t.Helper()
	world, err := bsssim.NewWorld(wc)
	if err != nil {
		t.Fatal(err)
	}
	sim, err := bsssim.Start(bsssim.Config{World: world, QuotaPerSecond: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	return world, sim
}

// writeSimConfig writes to path a config file of one account, named name,
// that reads sim with the simulator's test key and no rate limit to speak of.
func writeSimConfig(t *testing.T, path, name string, sim *bsssim.Running) {
	t.Helper()
	cfg := fmt.Sprintf("accounts:\n  - name: %s\n    endpoint: %s\n    rate_limit: 1000\n    credentials:\n      type: access_key\n      access_key_id: %s\n      access_key_secret: %s\n",
		name, sim.URL, bsssim.TestAccessKeyID, bsssim.TestAccessKeySecret)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestBackfillEndToEnd backfills the world's whole retention, turns it into
// TSDB blocks with promtool, serves them with Prometheus, and checks a day
// 17 months back and a bucket 11 months back against the simulator's truth,
// and that the live exporter's oldest days follow the newest backfilled ones.
func TestBackfillEndToEnd(t *testing.T) {
	bin := proctest.Build(t, "aliyun-billing-exporter")
	world, sim, configFile := backfillSim(t)
	dir := t.TempDir()
	output := filepath.Join(dir, "history.om")

	started := time.Now()
	args := []string{"backfill", "--config.file=" + configFile, "--families=account,ossbucket,instance",
		"--billing.concurrent-walks=8", "--output=" + output, allAccountColumns, allBucketColumns}

	// Interrupted with SIGINT part way (BSS slowed down to make sure it is
	// part way), a run exits 130, leaves no output, and keeps a journal.
	sim.Server.Faults().SetLatency(20 * time.Millisecond)
	interrupted := exec.Command(bin, args...)
	var interruptedOut strings.Builder
	interrupted.Stdout, interrupted.Stderr = &interruptedOut, &interruptedOut
	if err := interrupted.Start(); err != nil {
		t.Fatal(err)
	}
	// Interrupt once some units are journaled: the slowed simulator needs
	// at least 1,445 × 20 ms / 8 walks = 3.6 s for all of them.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if data, _ := os.ReadFile(output + ".journal"); bytes.Count(data, []byte("\n")) > 10 {
			break
		}
		if time.Now().After(deadline) {
			_ = interrupted.Process.Kill()
			_ = interrupted.Wait()
			t.Fatalf("the backfill journaled nothing within 60s:\n%s", interruptedOut.String())
		}
	}
	if err := interrupted.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := interrupted.Wait(); interrupted.ProcessState.ExitCode() != 130 {
		t.Fatalf("an interrupted backfill: %v, want exit 130\n%s", err, interruptedOut.String())
	}
	if _, err := os.Stat(output); !os.IsNotExist(err) {
		t.Fatalf("an interrupted backfill left %s: %v", output, err)
	}
	if _, err := os.Stat(output + ".journal"); err != nil {
		t.Fatalf("an interrupted backfill kept no journal: %v\n%s", err, interruptedOut.String())
	}
	sim.Server.Faults().SetLatency(0)

	readAt := time.Now()
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("backfill: %v\n%s", err, out)
	}
	// The resumed run reads only what the interrupted one did not finish:
	// one page per unit in this world.
	resumed := regexp.MustCompile(`resuming: ([0-9]+) of ([0-9]+) units are already in `).FindSubmatch(out)
	made := regexp.MustCompile(`; ([0-9]+) requests in `).FindSubmatch(out)
	if resumed == nil || made == nil {
		t.Fatalf("the second run did not resume from the journal:\n%s", out)
	}
	done, _ := strconv.Atoi(string(resumed[1]))
	units, _ := strconv.Atoi(string(resumed[2]))
	requests, _ := strconv.Atoi(string(made[1]))
	if done == 0 || requests != units-done {
		t.Errorf("resumed with %d of %d units done and made %d requests, want %d", done, units, requests, units-done)
	}
	backfillTook := time.Since(started)
	t.Logf("the interrupted and the resumed backfill took %s:\n%s", backfillTook.Round(time.Millisecond), out)
	if _, err := os.Stat(output + ".journal"); !os.IsNotExist(err) {
		t.Errorf("the journal is still there after a complete run: %v", err)
	}

	// The file's range, per family: the oldest day BSS keeps, up to the
	// day before the live exporter's window.
	span := dailySpans(t, output)
	for family, kind := range map[string]bssclient.DataKind{
		"aliyun_billing_account_daily_payable":   bssclient.KindAmounts,
		"aliyun_billing_ossbucket_daily_payable": bssclient.KindSplitItems,
		"aliyun_billing_instance_daily_payable":  bssclient.KindInstanceAttributes,
	} {
		if want := bssclient.OldestQueryable(readAt, kind).FirstDay(); span[family].oldest != want {
			t.Errorf("%s: oldest backfilled day %s, want %s (%d billing cycles)", family, span[family].oldest, want, kind.RetentionCycles())
		}
	}

	// promtool turns it into blocks; Prometheus serves them.
	blocks := filepath.Join(dir, "data")
	promtoolStarted := time.Now()
	if out, err := exec.Command("promtool", "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=1458h", "--quiet", output, blocks).CombinedOutput(); err != nil {
		t.Fatalf("promtool tsdb create-blocks-from openmetrics: %v\n%s", err, out)
	}
	t.Logf("promtool took %s", time.Since(promtoolStarted).Round(time.Millisecond))
	prom := startPrometheusOn(t, blocks)

	// A day 17 months back: every series, every column, exactly.
	day := dayMonthsBack(readAt, 17)
	checkDailyAgainstTruth(t, prom, world, readAt, "account", day, func(labels model.Metric) bsssimtest.TruthQuery {
		return bsssimtest.TruthQuery{Day: day, Kind: bssclient.KindAmounts, OwnerID: string(labels["owner_id"]),
			ProductCode: string(labels["product_code"]), SubscriptionType: string(labels["subscription_type"])}
	})
	// A bucket 11 months back.
	bucketDay := dayMonthsBack(readAt, 11)
	checkDailyAgainstTruth(t, prom, world, readAt, "ossbucket", bucketDay, func(labels model.Metric) bsssimtest.TruthQuery {
		return bsssimtest.TruthQuery{Day: bucketDay, Kind: bssclient.KindSplitItems, OwnerID: string(labels["owner_id"]),
			ProductCode: "oss", SplitItemID: string(labels["bucket"])}
	})
	// The final monthly total of the cycle 17 months back.
	cyc := day.Cycle()
	for _, s := range prom.query(t, fmt.Sprintf(`aliyun_billing_account_cycle_payable{billing_cycle=%q,cycle="previous"}`, cyc), cyc.FinalAt(bssclient.KindAmounts)) {
		want := world.Truth(bsssimtest.TruthQuery{Cycle: cyc, Kind: bssclient.KindAmounts, OwnerID: string(s.Metric["owner_id"]),
			ProductCode: string(s.Metric["product_code"]), SubscriptionType: string(s.Metric["subscription_type"])}, readAt)
		if got := float64(s.Value); got != want.PretaxAmount.Float64() {
			t.Errorf("cycle %s %v: payable %v, truth %s", cyc, s.Metric, got, want.PretaxAmount)
		}
	}

	// The live exporter, started now, exposes from the day after the
	// newest backfilled one, per family. Should the billing calendar move
	// between the two reads, the live window moves by as many days.
	live := startExporter(t, bin, "--config.file="+configFile)
	live.waitReady(t)
	scrapedAt := time.Now()
	_, body := live.get(t, "/metrics")
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for family, kind := range map[string]bssclient.DataKind{
		"aliyun_billing_account_daily_payable":   bssclient.KindAmounts,
		"aliyun_billing_ossbucket_daily_payable": bssclient.KindSplitItems,
		"aliyun_billing_instance_daily_payable":  bssclient.KindInstanceAttributes,
	} {
		mf, ok := families[family]
		if !ok {
			t.Errorf("the live exporter exposes no %s", family)
			continue
		}
		oldestLive := bssclient.Day{}
		for _, m := range mf.Metric {
			d := bssclient.DayOf(time.UnixMilli(m.GetTimestampMs()))
			if oldestLive.IsZero() || d.Before(oldestLive) {
				oldestLive = d
			}
		}
		// Both use the default settle margin, so the calendar moves at 03:00 UTC+8.
		settled := func(t time.Time) bssclient.Day {
			return bssclient.Calendar{}.NewestSettledDay(t.Add(-collector.DefaultSettleMargin), kind)
		}
		moved := daysBetween(settled(readAt), settled(scrapedAt))
		if want := span[family].newest.AddDays(1 + moved); oldestLive != want {
			t.Errorf("%s: the live exporter's oldest day is %s, the newest backfilled %s: want %s (no gap, no overlap)",
				family, oldestLive, span[family].newest, want)
		}
	}
	t.Logf("whole test: %s", time.Since(started).Round(time.Millisecond))
}

// span is the oldest and newest day of a family in a backfill file.
type span struct{ oldest, newest bssclient.Day }

// dailySpans reads an OpenMetrics file's day range per family.
func dailySpans(t *testing.T, path string) map[string]span {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]span{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	last := ""
	for sc.Scan() {
		line := sc.Text()
		last = line
		if strings.HasPrefix(line, "#") {
			continue
		}
		name := line[:strings.IndexAny(line, "{ ")]
		secs, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("%s: no timestamp in %q", path, line)
		}
		d := bssclient.DayOf(time.Unix(int64(secs), 0))
		s := out[name]
		if s.oldest.IsZero() || d.Before(s.oldest) {
			s.oldest = d
		}
		if s.newest.Before(d) {
			s.newest = d
		}
		out[name] = s
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if last != "# EOF" {
		t.Errorf("%s does not end with # EOF: %q", path, last)
	}
	return out
}

func dayMonthsBack(now time.Time, months int) bssclient.Day {
	today := bssclient.DayOf(now)
	c := today.Cycle().AddMonths(-months)
	return bssclient.Day{Year: c.Year, Month: c.Month, Day: min(today.Day, 28)}
}

func daysBetween(a, b bssclient.Day) int {
	return int(math.Round(b.Start().Sub(a.Start()).Hours() / 24))
}

// checkDailyAgainstTruth compares every column of every series of a daily
// family on one day with the simulator's truth, exactly, and checks that
// the series add up to the day's whole truth (none is missing).
func checkDailyAgainstTruth(t *testing.T, prom *promServer, world bsssimtest.World, at time.Time, family string, day bssclient.Day, query func(model.Metric) bsssimtest.TruthQuery) {
	t.Helper()
	columns := map[string]func(bssclient.Amounts) bssclient.Money{
		"list_price":       func(a bssclient.Amounts) bssclient.Money { return a.PretaxGrossAmount },
		"discount":         func(a bssclient.Amounts) bssclient.Money { return a.InvoiceDiscount },
		"coupon_deduction": func(a bssclient.Amounts) bssclient.Money { return a.DeductedByCoupons },
		"payable":          func(a bssclient.Amounts) bssclient.Money { return a.PretaxAmount },
		"cash_paid":        func(a bssclient.Amounts) bssclient.Money { return a.CashAmount },
		"outstanding":      func(a bssclient.Amounts) bssclient.Money { return a.OutstandingAmount },
	}
	checked := 0
	for column, get := range columns {
		name := "aliyun_billing_" + family + "_daily_" + column
		samples := prom.query(t, name, day.Start())
		checked += len(samples)
		if len(samples) == 0 {
			t.Errorf("%s: no sample on %s", name, day)
			continue
		}
		var sum bssclient.Money
		var whole bsssimtest.TruthQuery
		for _, s := range samples {
			q := query(s.Metric)
			truth := get(world.Truth(q, at))
			if got := float64(s.Value); got != truth.Float64() {
				t.Errorf("%v on %s: %v, truth %s", s.Metric, day, got, truth)
			}
			var err error
			if sum, err = sum.Add(truth); err != nil {
				t.Fatal(err)
			}
			whole = bsssimtest.TruthQuery{Day: q.Day, Kind: q.Kind, ProductCode: map[bool]string{true: "oss"}[family == "ossbucket"]}
		}
		if want := get(world.Truth(whole, at)); sum != want {
			t.Errorf("%s on %s: the series add up to %s, the day's truth is %s (a series is missing)", name, day, sum, want)
		}
	}
	t.Logf("%s on %s: %d samples equal the simulator's truth", family, day, checked)
}

// promServer is a server of the Prometheus query API on a free port:
// Prometheus on a TSDB directory, or VictoriaMetrics.
type promServer struct{ addr string }

// startPrometheusOn serves dir's blocks, with a retention long enough for
// cost history, and no scrape job.
func startPrometheusOn(t *testing.T, dir string) *promServer {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global:\n  scrape_interval: 1m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &promServer{addr: proctest.FreeAddr(t)}
	startServer(t, "http://"+p.addr+"/-/ready", "prometheus", "--config.file="+cfg, "--storage.tsdb.path="+dir,
		"--storage.tsdb.retention.time=1000d", "--web.listen-address="+p.addr)
	return p
}

// startServer runs bin with args, stops it when the test ends (logging its
// output if the test failed), and waits up to 60 s for ready to answer 200.
func startServer(t *testing.T, ready, bin string, args ...string) {
	t.Helper()
	p := proctest.StartT(t, bin, t.TempDir(), bin, args...)
	if err := p.WaitReady(ready, 60*time.Second); err != nil {
		t.Fatal(err)
	}
}

// query runs an instant query at ts and returns its vector.
func (p *promServer) query(t *testing.T, q string, ts time.Time) model.Vector {
	t.Helper()
	v := url.Values{"query": {q}, "time": {strconv.FormatInt(ts.Unix(), 10)}}
	resp, err := http.Get("http://" + p.addr + "/api/v1/query?" + v.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string       `json:"resultType"`
			Result     model.Vector `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("query %s: %v", q, err)
	}
	if body.Status != "success" {
		t.Fatalf("query %s: %s", q, body.Error)
	}
	return body.Data.Result
}

// TestBackfillVictoriaMetrics imports the VictoriaMetrics format into a real
// VictoriaMetrics with the documented commands' settings and checks the same
// days against the simulator's truth.
func TestBackfillVictoriaMetrics(t *testing.T) {
	bin := proctest.Build(t, "aliyun-billing-exporter")
	world, _, configFile := backfillSim(t)
	dir := t.TempDir()
	output := filepath.Join(dir, "history.jsonl")
	readAt := time.Now()
	if out, err := exec.Command(bin, "backfill", "--config.file="+configFile, "--format=victoriametrics",
		"--billing.concurrent-walks=8", "--output="+output, allAccountColumns, allBucketColumns).CombinedOutput(); err != nil {
		t.Fatalf("backfill: %v\n%s", err, out)
	}

	vm := &promServer{addr: proctest.FreeAddr(t)}
	startServer(t, "http://"+vm.addr+"/health", "victoria-metrics", "-storageDataPath="+filepath.Join(dir, "vm"), "-retentionPeriod=100y",
		"-httpListenAddr="+vm.addr, "-search.disableCache")
	f, err := os.Open(output)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	resp, err := http.Post("http://"+vm.addr+"/api/v1/import", "application/json", f)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("/api/v1/import answered %s", resp.Status)
	}
	if resp, err := http.Get("http://" + vm.addr + "/internal/force_flush"); err == nil {
		resp.Body.Close()
	}

	day := dayMonthsBack(readAt, 17)
	checkDailyAgainstTruth(t, vm, world, readAt, "account", day, func(labels model.Metric) bsssimtest.TruthQuery {
		return bsssimtest.TruthQuery{Day: day, Kind: bssclient.KindAmounts, OwnerID: string(labels["owner_id"]),
			ProductCode: string(labels["product_code"]), SubscriptionType: string(labels["subscription_type"])}
	})
	bucketDay := dayMonthsBack(readAt, 11)
	checkDailyAgainstTruth(t, vm, world, readAt, "ossbucket", bucketDay, func(labels model.Metric) bsssimtest.TruthQuery {
		return bsssimtest.TruthQuery{Day: bucketDay, Kind: bssclient.KindSplitItems, OwnerID: string(labels["owner_id"]),
			ProductCode: "oss", SplitItemID: string(labels["bucket"])}
	})
}
