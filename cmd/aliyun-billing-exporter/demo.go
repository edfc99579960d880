package main

import (
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
)

// demoWorld is the embedded simulator --demo reads instead of Alibaba Cloud.
type demoWorld struct {
	*bsssim.Running
	clock       bsssim.Clock
	credentials bssclient.CredentialsProvider
}

// demoAccountName labels the demo's series.
const demoAccountName = "demo"

// demoSeed fixes the demo world, so every newcomer sees the same accounts.
const demoSeed = 20171214

// startDemo serves a small deterministic world on 127.0.0.1. Its billing
// clock starts at start (RFC 3339; empty means now) and advances with real
// time, so every collector has settled and unsettled days at once.
func startDemo(start string, logger log.Logger) (*demoWorld, error) {
	t := time.Now()
	if start != "" {
		var err error
		if t, err = time.Parse(time.RFC3339, start); err != nil {
			return nil, err
		}
	}
	world, err := bsssim.NewWorld(bsssim.WorldConfig{Seed: demoSeed, Owners: 3, InstancesPerOwner: 12, SplitBillEnabled: true})
	if err != nil {
		return nil, err
	}
	clock := bsssim.NewOffsetClock(t)
	running, err := bsssim.Start(bsssim.Config{World: world, Clock: clock})
	if err != nil {
		return nil, err
	}
	level.Debug(logger).Log("msg", "demo simulator started", "endpoint", running.URL, "billing_time", t.Format(time.RFC3339))
	return &demoWorld{
		Running:     running,
		clock:       clock,
		credentials: bssclient.StaticCredentials(bsssim.TestAccessKeyID, bsssim.TestAccessKeySecret, ""),
	}, nil
}
