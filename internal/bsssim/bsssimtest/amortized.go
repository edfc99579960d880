package bsssimtest

import (
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

// AmortizedCost is every row the amortized-cost actions list for the
// amortization month c at at, per product or (perInstance) per instance,
// converted through their JSON as BSS would send it.
func (w World) AmortizedCost(c bssclient.Cycle, perInstance bool, at time.Time) []bssclient.InstanceAmortizedCostItem {
	return viaJSON[[]bssclient.InstanceAmortizedCostItem](w.World.AmortizedCost(cycle(c), perInstance, at))
}
