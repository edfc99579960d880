package collector

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

var _ bssclient.ClockObserver = (*AccountObserver)(nil)

func TestBSSMetricsClockSkew(t *testing.T) {
	m := NewBSSMetrics()
	m.Observer("ahead").ClockSkew(90 * time.Second)
	m.Observer("behind").ClockSkew(-3 * time.Minute)
	m.Observer("behind").ClockSkew(-2 * time.Second) // the latest answer wins
	const want = `
# HELP aliyun_billing_bss_clock_skew_seconds Host clock minus the Date header of BSS's latest answer, in seconds (whole seconds; positive: the host runs ahead). Beyond ±60 the exporter logs a warning: BSS refuses requests dated 15 minutes off, and the host clock decides when a day is settled.
# TYPE aliyun_billing_bss_clock_skew_seconds gauge
aliyun_billing_bss_clock_skew_seconds{account="ahead"} 90
aliyun_billing_bss_clock_skew_seconds{account="behind"} -2
`
	if err := testutil.CollectAndCompare(m, strings.NewReader(want), "aliyun_billing_bss_clock_skew_seconds"); err != nil {
		t.Error(err)
	}
}
