package collector

import (
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
)

func balanceSamples(b bssclient.AccountBalance) []sample {
	labels := map[string]string{"account": testAccount, "currency": b.Currency}
	return []sample{
		{name: "aliyun_billing_balance_available", labels: labels, value: b.AvailableAmount.String()},
		{name: "aliyun_billing_balance_available_cash", labels: labels, value: b.AvailableCashAmount.String()},
		{name: "aliyun_billing_balance_credit", labels: labels, value: b.CreditAmount.String()},
	}
}

var balanceFamilies = []string{"aliyun_billing_balance_available", "aliyun_billing_balance_available_cash", "aliyun_billing_balance_credit"}

// TestBalance: the balance as BSS shows it, kept when a refresh fails.
func TestBalance(t *testing.T) {
	for _, currency := range []string{"CNY", "USD"} {
		t.Run(currency, func(t *testing.T) {
			world := testWorld
			world.Currency = currency
			h := startSim(t, simOptions{world: &world, start: midMarch, collectors: []string{"balance"}})
			h.mustStep(midMarch)
			first := h.world.Balance(midMarch)
			if first.Currency != currency {
				t.Fatalf("world balance in %s, want %s", first.Currency, currency)
			}
			h.assertExposition(balanceSamples(first), balanceFamilies...)

			// The balance drifts hour by hour; a failed refresh keeps the last.
			later := midMarch.Add(3 * time.Hour)
			if h.world.Balance(later) == first {
				t.Fatal("the balance does not change in three hours; the test proves nothing")
			}
			h.creds.set(bsssim.TestAccessKeyID, "not-the-secret")
			h.failedStep(later, bssclient.CodeSignatureDoesNotMatch, "balance")
			h.assertExposition(balanceSamples(first), balanceFamilies...)
			h.assertExposition(h.expectRefreshState(), successFamily, failuresFamily)

			h.creds.set(bsssim.TestAccessKeyID, bsssim.TestAccessKeySecret)
			h.mustStep(later)
			h.assertExposition(balanceSamples(h.world.Balance(later)), balanceFamilies...)
			h.assertExposition(h.expectRefreshState(), successFamily, failuresFamily)
		})
	}
}
