package collector

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim/bsssimtest"
)

// lockedBuffer is a log destination safe for the collectors' goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestOSSBucketSplitBillDisabled: without Split Bill the ossbucket collector
// says so in a gauge and in one warning, counts the error, and leaves the
// other collectors alone.
func TestOSSBucketSplitBillDisabled(t *testing.T) {
	world := testWorld
	world.SplitBillEnabled = false
	logs := &lockedBuffer{}
	h := startSim(t, simOptions{world: &world, start: midMarch, logger: log.NewLogfmtLogger(logs)})

	for i, now := range []time.Time{midMarch, midMarch.Add(time.Hour), midMarch.Add(24 * time.Hour)} {
		before := h.server.Server.Stats()
		h.failedStep(now, bssclient.CodeSplitBillNotEnabled, "ossbucket")
		// Once BSS said Split Bill is off, a refresh probes one day only.
		if n := requestsDelta(before, h.server.Server.Stats())[bssclient.ActionDescribeSplitItemBill]; i > 0 && n != 1 {
			t.Errorf("refresh %d sent %d DescribeSplitItemBill requests while Split Bill is off, want 1", i+1, n)
		}
		h.assertModel() // account and instance as if nothing happened; no bucket series
		h.assertExposition([]sample{{name: splitBillFamily, labels: map[string]string{"account": testAccount}, value: "0"}}, splitBillFamily)
		warnings := 0
		for _, line := range strings.Split(logs.String(), "\n") {
			if strings.HasPrefix(line, "level=warn ") && strings.Contains(line, "Split Bill is not enabled") {
				warnings++
			}
		}
		if warnings != 1 {
			t.Errorf("after %d refreshes: %d warnings about Split Bill, want 1:\n%s", i+1, warnings, logs.String())
		}
	}
}

// TestOSSBucketSplitBillEnabledGauge: with Split Bill the gauge is 1.
func TestOSSBucketSplitBillEnabledGauge(t *testing.T) {
	h := startSim(t, simOptions{start: midMarch, collectors: []string{"ossbucket"}})
	h.mustStep(midMarch)
	h.assertModel()
	h.assertExposition([]sample{{name: splitBillFamily, labels: map[string]string{"account": testAccount}, value: "1"}}, splitBillFamily)
	// Buckets are named as the split bill names them, and each bucket's
	// cycle gauge is exactly its truth over the settled days.
	newest := bssclient.NewestSettledDay(midMarch, bssclient.KindSplitItems)
	for _, g := range gatheredFamily(t, h.exp, "aliyun_billing_ossbucket_cycle_payable") {
		var truth bssclient.Money
		for d := newest.Cycle().FirstDay(); !newest.Before(d); d = d.AddDays(1) {
			q := bsssimtest.TruthQuery{Day: d, SplitItemID: g.labels["bucket"], ProductCode: "oss", Kind: bssclient.KindSplitItems}
			truth, _ = truth.Add(h.world.Truth(q, midMarch).PretaxAmount)
		}
		if got := moneyOf(t, g.value); got != truth {
			t.Errorf("bucket %s: cycle payable %s, truth %s", g.labels["bucket"], got, truth)
		}
	}
}
