package bsssim

import (
	"fmt"
	"net/http"
	"time"
)

// The amortized-cost actions (wire_amortized.go, world_amortized.go).

// amortizedWorld is what the amortized-cost actions ask the World. A
// stand-in world without it answers them as an account without Amortized
// Cost.
type amortizedWorld interface {
	AmortizedCostEnabled() bool
	AmortizedCost(cycle Cycle, perInstance bool, at time.Time) []AmortizedCostItem
}

// serveAmortized answers either action: BillingCycle is required, YYYY-MM,
// within the 12 cycles kept and not in the future; MaxResults is at most
// 300; ProductCode and SubscriptionType filter. The other documented
// filters (ConsumePeriodFilter, BillOwnerIdList, InstanceIdList …) are not
// modelled and refused, so a client that sends one learns it here.
func (s *Server) serveAmortized(c *call, at time.Time) (answer, *apiError) {
	w, ok := s.world.(amortizedWorld)
	if !ok || !w.AmortizedCostEnabled() {
		return answer{}, newAPIError(http.StatusBadRequest, codeAmortizedCostNotEnabled,
			fmt.Sprintf("%s: Amortized Cost is not enabled for this account; enable it in the Billing console.", c.action))
	}
	p := c.params
	cycle, e := readBillingCycle(p, KindAmortized, at)
	if e != nil {
		return answer{}, e
	}
	for _, name := range []string{"ConsumePeriodFilter.1", "BillOwnerIdList.1", "BillUserIdList.1", "InstanceIdList.1", "CostUnitCode", "ProductDetail"} {
		if v := p.Get(name); v != "" {
			return answer{}, invalidParameter(name, v, "is not modelled by the simulator")
		}
	}
	bp := billParams{cycle: cycle, productCode: p.Get("ProductCode")}
	if bp.subscriptionType, e = enumParam(p, "SubscriptionType", subscriptionPrepaid, subscriptionPAYG); e != nil {
		return answer{}, e
	}
	rows := filter(w.AmortizedCost(cycle, c.action == actionDescribeInstanceAmortizedCost, at), func(r AmortizedCostItem) bool {
		return (bp.productCode == "" || r.ProductCode == bp.productCode) && (bp.subscriptionType == "" || r.SubscriptionType == bp.subscriptionType)
	})
	page, e := tokenPage(s, c, bp, len(rows), func(offset, limit int) []AmortizedCostItem { return rows[offset : offset+limit] })
	if e != nil {
		return answer{}, e
	}
	page.ans.data = &AmortizedCostData{
		AccountID: s.world.AccountID(), AccountName: s.world.AccountName(),
		MaxResults: page.size, NextToken: page.nextToken, TotalCount: page.totalCount, Items: page.rows,
	}
	return page.ans, nil
}
