package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
)

// TestBackfillJournalOfAnotherIdentityIsRefused: a journal is resumed only
// by a run of the same payer, account and series options. Any other run
// exits 2 naming what differs, and writes nothing, until --restart
// discards the journal.
func TestBackfillJournalOfAnotherIdentityIsRefused(t *testing.T) {
	_, _, configFile := backfillSim(t)
	out := filepath.Join(t.TempDir(), "h.om")
	backfill := func(config string, extra ...string) (int, string) {
		args := append([]string{"backfill", "--config.file=" + config, "--families=account,ossbucket,instance",
			"--output=" + out, "--estimate"}, extra...)
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), args, &stdout, &stderr, nil)
		return code, stderr.String()
	}
	if code, stderr := backfill(configFile); code != 0 {
		t.Fatalf("the first run: exit %d\n%s", code, stderr)
	}
	journal, err := os.ReadFile(out + ".journal")
	if err != nil {
		t.Fatal(err)
	}

	// Another payer under the same account name: another world, same label.
	other := bsssim.WorldConfig{Seed: backfillWorld.Seed + 1, Owners: 3, InstancesPerOwner: 12, SplitBillEnabled: true}
	_, otherSim := serveWorld(t, other)
	otherConfig := filepath.Join(t.TempDir(), "other.yml")
	writeSimConfig(t, otherConfig, "sim", otherSim)

	for _, tc := range []struct {
		config string
		flag   string
		want   string
	}{
		{configFile, "--collector.account.amounts=payable", `written with other options: account.amounts was "list_price,discount,coupon_deduction,payable", now "payable"`},
		{configFile, "--collector.ossbucket.billing-item", "written with other options: ossbucket.labels was"},
		{configFile, "--collector.ossbucket.max-buckets=5", `written with other options: ossbucket.max-buckets was "200", now "5"`},
		{configFile, "--collector.instance.resource-group", "written with other options: instance.labels was"},
		{configFile, "--collector.instance.cost-unit", "written with other options: instance.labels was"},
		{configFile, "--collector.instance.per-instance", `written with other options: instance.per-instance was unset, now "on"`},
		{otherConfig, "--log.level=info", "written for another payer account"},
	} {
		code, stderr := backfill(tc.config, tc.flag)
		if code != 2 || !strings.Contains(stderr, "cannot be resumed: it was "+tc.want) || !strings.Contains(stderr, "--restart") {
			t.Errorf("resumed with %s: exit %d, stderr:\n%s\nwant exit 2 and %q", tc.flag, code, stderr, tc.want)
		}
		if now, _ := os.ReadFile(out + ".journal"); !bytes.Equal(now, journal) {
			t.Errorf("resumed with %s: the journal changed", tc.flag)
		}
	}

	if code, stderr := backfill(configFile); code != 0 || !strings.Contains(stderr, "resuming: ") {
		t.Errorf("the same options: exit %d, want a resumed run:\n%s", code, stderr)
	}
	if code, stderr := backfill(otherConfig, "--restart"); code != 0 || strings.Contains(stderr, "resuming: ") {
		t.Errorf("another payer with --restart: exit %d, want a run from scratch:\n%s", code, stderr)
	}
	if code, stderr := backfill(configFile); code != 2 || !strings.Contains(stderr, "written for another payer account") {
		t.Errorf("after the restart the journal is the other payer's: exit %d\n%s", code, stderr)
	}
}
