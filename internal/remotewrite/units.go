// Package remotewrite pushes what the exporter has settled to Prometheus
// remote-write receivers (Mimir, Thanos Receive, VictoriaMetrics,
// Prometheus's own receiver, Grafana Cloud), for pipelines in which the
// daily families' past timestamps would be dropped: a Prometheus server or
// agent that scrapes the exporter and remote-writes drops samples older
// than its head block.
//
// What is pushed is what a scrape shows, cut into units that never change
// once published: the samples of one timestamped family of one account on
// one billing day, and the account's totals of one final billing cycle.
// Each unit is sent once per receiver; a durable outbox records the units a
// receiver acknowledged with a 2xx. Sending a unit again (after a crash
// between the 2xx and the outbox write) writes the same values at the same
// timestamps, which receivers treat as one sample.
package remotewrite

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/prompb"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/collector"
)

// Unit is what is sent, and recorded as sent, at once.
type Unit struct {
	// Key names the unit: family, account and day (or cycle).
	Key string
	// Time is the samples' timestamp: the day's, or the moment the cycle
	// became final.
	Time   time.Time
	Series []prompb.TimeSeries
}

// cycleFinalFamily says, per collector, which previous cycle is final.
const cycleFinalFamily = "aliyun_billing_cycle_final"

// unitPrefix names a final cycle's unit by the collector it is final for;
// the account's is the one outboxes already hold.
var unitPrefix = map[string]string{"account": "cycle", "amortized": "effective_cycle"}

// Units cuts the gathered families into units, ordered by time, then key.
// Samples with a timestamp (the *_daily_* families) are grouped by family,
// account and timestamp. The cycle="previous" gauges of the account and
// amortized collectors are a unit once that collector's
// aliyun_billing_cycle_final says the cycle is final, stamped with the
// moment it became final (the account's as the backfill stamps them,
// collector.FinalCycleTime). Gauges of anything else are what a scrape is
// for, and are not pushed.
func Units(mfs []*dto.MetricFamily) ([]Unit, error) {
	final := finalCycles(mfs)
	byKey := map[string]*Unit{}
	add := func(key string, at time.Time, ts prompb.TimeSeries) {
		u := byKey[key]
		if u == nil {
			u = &Unit{Key: key, Time: at}
			byKey[key] = u
		}
		u.Series = append(u.Series, ts)
	}
	for _, mf := range mfs {
		name := mf.GetName()
		for _, m := range mf.GetMetric() {
			if m.GetGauge() == nil {
				continue // every family pushed is a gauge
			}
			acct := label(m, "account")
			switch {
			case m.TimestampMs != nil:
				at := time.UnixMilli(m.GetTimestampMs())
				add(fmt.Sprintf("%s{account=%q}@%s", name, acct, at.In(bssclient.BillingZone).Format(time.DateOnly)), at, series(name, m, at))
			default:
				owner, ok := collector.FinalCycleOwner(name)
				if name == cycleFinalFamily {
					owner, ok = label(m, "collector"), true
				}
				if !ok || label(m, "cycle") != "previous" || !final[owner+"\xff"+acct+"\xff"+label(m, "billing_cycle")] {
					continue
				}
				cyc, err := bssclient.ParseCycle(label(m, "billing_cycle"))
				if err != nil {
					return nil, fmt.Errorf("%s: %w", name, err)
				}
				at, ok := collector.FinalCycleAt(owner, cyc)
				if !ok {
					continue
				}
				add(fmt.Sprintf("%s{account=%q}@%s", unitPrefix[owner], acct, cyc), at, series(name, m, at))
			}
		}
	}
	out := make([]Unit, 0, len(byKey))
	for _, u := range byKey {
		out = append(out, *u)
	}
	slices.SortFunc(out, func(a, b Unit) int { return cmp.Or(a.Time.Compare(b.Time), strings.Compare(a.Key, b.Key)) })
	return out, nil
}

// finalCycles are the previous cycles that aliyun_billing_cycle_final says
// are final, as collector + "\xff" + account + "\xff" + cycle.
func finalCycles(mfs []*dto.MetricFamily) map[string]bool {
	final := map[string]bool{}
	for _, mf := range mfs {
		if mf.GetName() != cycleFinalFamily {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label(m, "cycle") == "previous" && m.GetGauge().GetValue() == 1 {
				final[label(m, "collector")+"\xff"+label(m, "account")+"\xff"+label(m, "billing_cycle")] = true
			}
		}
	}
	return final
}

// series is one sample as remote-write carries it: labels sorted by name,
// __name__ first among them by that order.
func series(name string, m *dto.Metric, at time.Time) prompb.TimeSeries {
	labels := make([]prompb.Label, 0, len(m.GetLabel())+1)
	labels = append(labels, prompb.Label{Name: "__name__", Value: name})
	for _, l := range m.GetLabel() {
		labels = append(labels, prompb.Label{Name: l.GetName(), Value: l.GetValue()})
	}
	slices.SortFunc(labels, func(a, b prompb.Label) int { return strings.Compare(a.Name, b.Name) })
	return prompb.TimeSeries{Labels: labels, Samples: []prompb.Sample{{Value: m.GetGauge().GetValue(), Timestamp: at.UnixMilli()}}}
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
