package backfill

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Two units of one family, read out of order, with a value that a
// rounding float format would change.
func sampleUnits(t *testing.T) []journalUnit {
	t.Helper()
	desc := prometheus.NewDesc("aliyun_billing_account_daily_payable", "Payable, per settled billing day.", []string{"account", "owner_id"}, nil)
	unit := func(key string, day time.Time, values map[string]float64) journalUnit {
		var ms []prometheus.Metric
		for owner, v := range values {
			ms = append(ms, prometheus.NewMetricWithTimestamp(day, prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, "demo", owner)))
		}
		fams, err := toFamilies(ms)
		if err != nil {
			t.Fatal(err)
		}
		return journalUnit{Unit: key, Families: fams}
	}
	d1 := time.Date(2025, 6, 1, 0, 0, 0, 0, time.FixedZone("UTC+8", 8*3600))
	return []journalUnit{
		unit("account/2025-06-02", d1.AddDate(0, 0, 1), map[string]float64{"2": 0.30000000000000004, "1": 1324.2345}),
		unit("account/2025-06-01", d1, map[string]float64{"1": 12.5}),
	}
}

func TestWriteOpenMetrics(t *testing.T) {
	fams, err := merge(sampleUnits(t))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := write(&b, OpenMetrics, fams); err != nil {
		t.Fatal(err)
	}
	want := `# HELP aliyun_billing_account_daily_payable Payable, per settled billing day.
# TYPE aliyun_billing_account_daily_payable gauge
aliyun_billing_account_daily_payable{account="demo",owner_id="1"} 12.5 1.7487072e+09
aliyun_billing_account_daily_payable{account="demo",owner_id="1"} 1324.2345 1.7487936e+09
aliyun_billing_account_daily_payable{account="demo",owner_id="2"} 0.30000000000000004 1.7487936e+09
# EOF
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestWriteVictoriaMetrics(t *testing.T) {
	fams, err := merge(sampleUnits(t))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := write(&b, VictoriaMetrics, fams); err != nil {
		t.Fatal(err)
	}
	want := `{"metric":{"__name__":"aliyun_billing_account_daily_payable","account":"demo","owner_id":"1"},"values":[12.5,1324.2345],"timestamps":[1748707200000,1748793600000]}
{"metric":{"__name__":"aliyun_billing_account_daily_payable","account":"demo","owner_id":"2"},"values":[0.30000000000000004],"timestamps":[1748793600000]}
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestMergeRefusesTwoValuesForOneSample(t *testing.T) {
	units := sampleUnits(t)
	units = append(units, units[1])
	if _, err := merge(units); err == nil || !strings.Contains(err.Error(), "two samples at 1748707200000 ms") {
		t.Errorf("got %v, want an error about two samples at one timestamp", err)
	}
}
