package dashboards

import (
	"fmt"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

// TestReconciliationAlert runs two demo exporters on a billing clock where
// February is final, one as shipped and one whose simulator's bill overview
// is told to disagree with its account bill by a cent, each scraped by a
// real Prometheus with the shipped rules (for: shortened). The first reads
// 0 and stays quiet; the second fires AliyunBillingReconciliationMismatch
// with the cent.
func TestReconciliationAlert(t *testing.T) {
	promBin := toolPath(t, "prometheus")
	sharedExporter(t)
	clock := time.Date(2026, time.March, 10, 12, 5, 0, 0, bssclient.BillingZone)
	// Only what the check needs: no daily samples (they would be months old
	// for Prometheus), no instance or bucket walks.
	args := []string{"--no-billing.daily-series", "--no-collector.instance", "--no-collector.ossbucket"}
	for _, tc := range []struct {
		name, skew string
		want       float64
	}{
		{"agreeing", "", 0},
		{"skewed", "-0.01", 0.01}, // the account bill minus an overview a cent lower
	} {
		t.Run(tc.name, func(t *testing.T) {
			extra := args
			if tc.skew != "" {
				extra = append(extra, "--demo.overview-payable-skew="+tc.skew)
			}
			exp, err := startDemoExporterAt(t.TempDir(), tc.name, clock, extra...)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(exp.proc.Stop)
			api, prom := prometheusWithShippedRules(t, promBin, exp)
			const difference = `aliyun_billing_overview_reconciliation_difference{billing_cycle="2026-02"}`
			const firing = `ALERTS{alertname="AliyunBillingReconciliationMismatch", alertstate="firing"}`
			err = eventually(90*time.Second, 500*time.Millisecond, func() error {
				if err := prom.Exited(); err != nil {
					return err
				}
				got, err := api.nonEmpty(difference, time.Now())
				if err != nil {
					return fmt.Errorf("%s: %w", difference, err)
				}
				if len(got) != 1 || got[0].value() != tc.want {
					return fmt.Errorf("%s = %v, want one series of %v", difference, got, tc.want)
				}
				if tc.want == 0 {
					return nil
				}
				alerts, err := api.nonEmpty(firing, time.Now())
				if err != nil {
					return fmt.Errorf("%s: %w", firing, err)
				}
				if a := alerts[0].Metric; len(alerts) != 1 || a["account"] != "demo" || a["currency"] != "CNY" || a["billing_cycle"] != "2026-02" {
					return fmt.Errorf("alerts %v, want one for demo, CNY, 2026-02", alerts)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == 0 {
				// A few more evaluations: the agreeing demo must stay quiet.
				time.Sleep(3 * time.Second)
				if got, err := api.query(`ALERTS{alertname="AliyunBillingReconciliationMismatch"}`, time.Now()); err != nil || len(got) != 0 {
					t.Errorf("the alert fires on a demo whose sources agree: %v (%v)", got, err)
				}
			}
		})
	}
}
