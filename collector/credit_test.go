package collector

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

var creditFamilies = []string{
	"aliyun_billing_cash_coupon_balance", "aliyun_billing_cash_coupons_available",
	"aliyun_billing_cash_coupon_next_expiry_timestamp_seconds", "aliyun_billing_cash_coupon_next_expiry_balance",
	"aliyun_billing_prepaid_card_balance", "aliyun_billing_prepaid_cards_available",
	"aliyun_billing_prepaid_card_next_expiry_timestamp_seconds", "aliyun_billing_prepaid_card_next_expiry_balance",
	apiAvailableFamily,
}

func creditSamples(name, currency string, items []bssclient.Credit, at time.Time) []sample {
	total, count := bssclient.Money{}, 0
	var next time.Time
	var nextBalance bssclient.Money
	for _, it := range items {
		if it.Status != "Available" || it.Balance.IsZero() || !it.ExpiryTime.After(at) {
			continue
		}
		total, _ = total.Add(it.Balance)
		count++
		if next.IsZero() || it.ExpiryTime.Before(next) {
			next, nextBalance = it.ExpiryTime.Time, it.Balance
		}
	}
	acct := map[string]string{"account": testAccount}
	withCurrency := map[string]string{"account": testAccount, "currency": currency}
	out := []sample{
		{name: "aliyun_billing_" + name + "_balance", labels: withCurrency, value: total.String()},
		{name: "aliyun_billing_" + name + "s_available", labels: acct, value: strconv.Itoa(count)},
	}
	if !next.IsZero() {
		out = append(out,
			sample{name: "aliyun_billing_" + name + "_next_expiry_timestamp_seconds", labels: acct, value: unixText(next)},
			sample{name: "aliyun_billing_" + name + "_next_expiry_balance", labels: withCurrency, value: nextBalance.String()})
	}
	return out
}

func (h *simHarness) creditSamples(at time.Time, couponsUp, cardsUp bool) []sample {
	var out []sample
	currency := h.world.Balance(at).Currency
	if couponsUp {
		var items []bssclient.Credit
		for _, v := range h.world.CashCoupons(at) {
			items = append(items, v.Credit)
		}
		out = append(out, creditSamples("cash_coupon", currency, items, at)...)
	}
	if cardsUp {
		var items []bssclient.Credit
		for _, v := range h.world.PrepaidCards(at) {
			items = append(items, v.Credit)
		}
		out = append(out, creditSamples("prepaid_card", currency, items, at)...)
	}
	return append(out, availableSample(bssclient.ActionQueryCashCoupons, couponsUp), availableSample(bssclient.ActionQueryPrepaidCards, cardsUp))
}

// TestCredits: vouchers and prepaid cards in the account's currency; an
// account without prepaid cards keeps its voucher metrics.
func TestCredits(t *testing.T) {
	world := testWorld
	world.Currency = "USD"
	h := startSim(t, simOptions{world: &world, start: midMarch, collectors: []string{"credit"}})
	h.mustStep(midMarch)
	h.assertExposition(h.creditSamples(midMarch, true, true), creditFamilies...)

	later := midMarch.Add(50 * 24 * time.Hour) // a voucher line has renewed by then
	h.mustStep(later)
	h.assertExposition(h.creditSamples(later, true, true), creditFamilies...)

	if err := h.world.SetCommitmentAPIAvailable(bssclient.ActionQueryPrepaidCards, false); err != nil {
		t.Fatal(err)
	}
	h.mustStep(later.Add(time.Hour))
	h.assertExposition(h.creditSamples(later.Add(time.Hour), true, false), creditFamilies...)
}

// TestCreditsWithoutTheCurrency: while QueryAccountBalance is denied, the
// credit collector cannot label its balances, so its refresh fails and is
// counted, and it publishes no balance labelled currency="unknown" whose
// identity would change at the next refresh. Once the balance answers,
// every series carries the account's currency.
func TestCreditsWithoutTheCurrency(t *testing.T) {
	world := testWorld
	world.Currency = "USD"
	h := startSim(t, simOptions{world: &world, start: midMarch, collectors: []string{"credit"}})
	h.server.Server.Faults().DenyAction(bssclient.ActionQueryAccountBalance)
	h.failedStep(midMarch, bssclient.CodeNoPermission, "credit")
	for _, mf := range gather(t, h.exp) {
		if strings.HasPrefix(mf.GetName(), "aliyun_billing_cash_coupon") || strings.HasPrefix(mf.GetName(), "aliyun_billing_prepaid_card") {
			t.Errorf("%s published without the currency: %v", mf.GetName(), mf.GetMetric())
		}
	}
	h.server.Server.Faults().Clear()
	h.mustStep(midMarch.Add(time.Minute))
	h.assertExposition(h.creditSamples(midMarch.Add(time.Minute), true, true), creditFamilies...)
}
