package collector

import (
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

var namesFamilies = []string{"aliyun_billing_owner_info", "aliyun_billing_product_info"}

// TestNames: every owner and product of the current cycle's bill, with its
// name, for one request a refresh.
func TestNames(t *testing.T) {
	h := startSim(t, simOptions{start: midMarch, collectors: []string{"names"}})
	h.mustStep(midMarch)
	owners, products := map[string]string{}, map[string]string{}
	for _, cycle := range []bssclient.Cycle{bssclient.CycleOf(midMarch)} {
		for _, row := range h.world.AccountBill(bssclient.AccountBillRequest{BillingCycle: cycle, Granularity: bssclient.Monthly, IsGroupByProduct: true}, midMarch) {
			owners[row.OwnerID] = row.OwnerName
			products[row.ProductCode] = row.ProductName
		}
	}
	if len(owners) < 3 || len(products) < 5 {
		t.Fatalf("%d owners and %d products; the test needs several", len(owners), len(products))
	}
	var want []sample
	for id, name := range owners {
		if id == "" || name == "" {
			t.Fatalf("owner %q named %q", id, name)
		}
		want = append(want, sample{name: "aliyun_billing_owner_info", value: "1", labels: map[string]string{"account": testAccount, "owner_id": id, "owner_name": name}})
	}
	for code, name := range products {
		if code == "" || name == "" {
			t.Fatalf("product %q named %q", code, name)
		}
		want = append(want, sample{name: "aliyun_billing_product_info", value: "1", labels: map[string]string{"account": testAccount, "product_code": code, "product_name": name, "service_category": ServiceCategory(code)}})
	}
	h.assertExposition(want, namesFamilies...)

	before := h.server.Server.Stats().Requests["QueryAccountBill"]
	h.mustStep(midMarch.Add(6 * time.Hour))
	if n := h.server.Server.Stats().Requests["QueryAccountBill"] - before; n != 1 {
		t.Errorf("%d requests for a refresh, want 1", n)
	}
	h.assertExposition(want, namesFamilies...)
}
