package main

import (
	"errors"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/collector"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
)

// demoWorld is the embedded simulator --demo reads instead of Alibaba Cloud.
type demoWorld struct {
	*bsssim.Running
	oss         *bsssim.RunningOSS
	clock       bsssim.Clock
	credentials bssclient.CredentialsProvider
}

// demoAccountName labels the demo's series.
const demoAccountName = "demo"

// demoSeed fixes the demo world, so every newcomer sees the same accounts.
// dashboards/e2e_test.go rebuilds the same world (demoWorldConfig) to check
// the dashboards against its ground truth; change both together.
const demoSeed = 20171214

// demoWorldConfig is the demo's world: 3 member accounts with 12 instances
// each, Split Bill on so the OSS bucket panels have data, and a 6 % tax
// (China's VAT rate for IT services) so the overview shows tax.
func demoWorldConfig() bsssim.WorldConfig {
	return bsssim.WorldConfig{Seed: demoSeed, Owners: 3, InstancesPerOwner: 12, SplitBillEnabled: true, SplitItemSubscription: true, TaxRate: "0.06"}
}

// startDemo serves a small deterministic world on 127.0.0.1. Its billing
// clock starts at start (RFC 3339; empty means now) and advances with real
// time, so every collector has settled and unsettled days at once.
// overviewSkew, if not empty, makes its bill overview disagree with its
// account bill by that amount.
func startDemo(start string, dialect bsssim.Dialect, overviewSkew string, logger log.Logger) (*demoWorld, error) {
	t := time.Now()
	if start != "" {
		var err error
		if t, err = time.Parse(time.RFC3339, start); err != nil {
			return nil, err
		}
	}
	wc := demoWorldConfig()
	wc.OverviewPayableSkew = overviewSkew
	world, err := bsssim.NewWorld(wc)
	if err != nil {
		return nil, err
	}
	clock := bsssim.NewOffsetClock(t)
	running, err := bsssim.Start(bsssim.Config{World: world, Clock: clock, Dialect: dialect})
	if err != nil {
		return nil, err
	}
	// The bill files of the same World, for --collector.*.source=bill-files.
	oss, err := bsssim.StartOSS(world, bsssim.OSSConfig{Clock: clock})
	if err != nil {
		_ = running.Close()
		return nil, err
	}
	level.Debug(logger).Log("msg", "demo simulator started", "endpoint", running.URL, "billing_time", t.Format(time.RFC3339))
	return &demoWorld{
		Running:     running,
		oss:         oss,
		clock:       clock,
		credentials: bssclient.StaticCredentials(bsssim.TestAccessKeyID, bsssim.TestAccessKeySecret, ""),
	}, nil
}

// configure turns on what the demo shows beyond the defaults: per-instance
// series (the "Top instances" panel reads them), the resource_group and
// cost_unit labels (the overview's "Top cost units" and "Top resource
// groups"), the renewal detail (the Commitments dashboard's "Days until
// each instance expires") and 30 day-labelled days (the Daily trend's "by
// billing day" row), so that every shipped dashboard panel has data on a
// first look.
func (d *demoWorld) configure(cfg *collector.Config) {
	cfg.Now = d.clock.Now
	cfg.Instance.PerInstance = true
	cfg.Instance.ResourceGroup = true
	cfg.Instance.CostUnit = true
	cfg.Renewal.PerInstance = true
	if cfg.LabelledDays == 0 {
		cfg.LabelledDays = 30
	}
}

// demoBudgets are the demo's example budgets, used when the config file
// gives none: one per scope the rules and panels distinguish. The demo
// account spends about 1,300 CNY a day, so the whole-account budget of
// 1,000 CNY is over budget from the first complete day of a month and
// AliyunBillingBudgetExceeded demonstrates itself; the others are generous.
func demoBudgets() ([]budgetConfig, error) {
	world, err := bsssim.NewWorld(demoWorldConfig())
	if err != nil {
		return nil, err
	}
	cur := world.Currency()
	out := []budgetConfig{
		{Account: demoAccountName, Monthly: "1000", Currency: cur},
		{Account: demoAccountName, ProductCode: "ecs", Monthly: "1000000", Currency: cur},
	}
	if owners := world.OwnerIDs(); len(owners) > 0 {
		out = append(out,
			budgetConfig{Account: demoAccountName, OwnerID: owners[0], Monthly: "500000", Currency: cur},
			budgetConfig{Account: demoAccountName, OwnerID: owners[0], ProductCode: "ecs", Monthly: "200000", Currency: cur},
		)
	}
	return out, nil
}

// Close stops the simulator's BSS and OSS endpoints.
func (d *demoWorld) Close() error {
	return errors.Join(d.Running.Close(), d.oss.Close())
}
