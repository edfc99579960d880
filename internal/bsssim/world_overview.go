package bsssim

import (
	"fmt"
	"math/big"
	"time"
)

// QueryBillOverview
// (https://www.alibabacloud.com/help/en/boa/latest/api-bssopenapi-2017-12-14-querybilloverview)
// is a billing cycle's bill per product and billing method, with the tax
// that the account bill does not show. The World derives it from its own
// account bill, so the two agree to the last decimal unless
// WorldConfig.OverviewPayableSkew tells them not to.

// Bill types (Item) of the overview, as the reference lists them.
const (
	overviewItemSubscription = "SubscriptionOrder"
	overviewItemPayAsYouGo   = "PayAsYouGoBill"
)

// overviewTaxUnit is what Tax is rounded to: cents. INFERRED: the
// reference shows only 0 as an example.
const overviewTaxUnit = moneyUnit / 100

// BillOverviewRequest is what the World is asked for QueryBillOverview.
type BillOverviewRequest struct {
	BillingCycle     Cycle
	ProductCode      string
	SubscriptionType string
	BillOwnerID      int64 // 0: every owner
}

// parseOverviewConfig reads TaxRate and OverviewPayableSkew. Errors name
// the field.
func parseOverviewConfig(cfg WorldConfig) (rate, skew Money, err error) {
	if cfg.TaxRate != "" {
		if rate, err = parseMoney(cfg.TaxRate); err != nil || rate < 0 || rate > moneyUnit {
			return 0, 0, fmt.Errorf("bsssim: WorldConfig.TaxRate %q: want a decimal fraction from 0 to 1, such as 0.06", shortForError(cfg.TaxRate))
		}
	}
	if cfg.OverviewPayableSkew != "" {
		if skew, err = parseMoney(cfg.OverviewPayableSkew); err != nil {
			return 0, 0, fmt.Errorf("bsssim: WorldConfig.OverviewPayableSkew: %v", err)
		}
	}
	return rate, skew, nil
}

// BillOverview returns QueryBillOverview's items at at: the cycle's account
// bill to date, one item per owner, product and billing method, each with
// its tax. The first item carries OverviewPayableSkew, if any.
func (w *World) BillOverview(req BillOverviewRequest, at time.Time) []BillOverviewItem {
	rows := w.AccountBill(AccountBillRequest{
		BillingCycle:     req.BillingCycle,
		IsGroupByProduct: true,
		ProductCode:      req.ProductCode,
		BillOwnerID:      req.BillOwnerID,
	}, at)
	out := make([]BillOverviewItem, 0, len(rows))
	for _, r := range rows {
		if req.SubscriptionType != "" && r.SubscriptionType != req.SubscriptionType {
			continue
		}
		it := BillOverviewItem{
			BillAccountID:    r.BillAccountID,
			BillAccountName:  r.BillAccountName,
			OwnerID:          r.OwnerID,
			ProductCode:      r.ProductCode,
			ProductType:      r.ProductCode,
			ProductName:      r.ProductName,
			PipCode:          r.PipCode,
			CommodityCode:    r.ProductCode,
			SubscriptionType: r.SubscriptionType,
			Item:             overviewItemPayAsYouGo,
			BizType:          r.BizType,
			Currency:         r.Currency,
			PaymentCurrency:  r.Currency,
			Amounts:          r.Amounts,
		}
		if r.SubscriptionType == "Subscription" {
			it.Item = overviewItemSubscription
		}
		if len(out) == 0 && w.overviewSkew != 0 {
			// The skew is added where the identities of the amount model
			// (world_amounts.go) keep holding: gross, payable and cash.
			it.PretaxGrossAmount += w.overviewSkew
			it.PretaxAmount += w.overviewSkew
			it.CashAmount += w.overviewSkew
			it.PaymentAmount += w.overviewSkew
		}
		it.Tax = taxOf(it.PretaxAmount, w.taxRate)
		// INFERRED: "The amount paid after the tax is deducted": the
		// payable less its tax.
		it.AfterTaxAmount = it.PretaxAmount - it.Tax
		out = append(out, it)
	}
	return out
}

// taxOf is amount × rate rounded half away from zero to overviewTaxUnit,
// computed exactly (the product of two amounts overflows int64).
func taxOf(amount, rate Money) Money {
	if amount == 0 || rate == 0 {
		return 0
	}
	num := new(big.Int).Mul(big.NewInt(int64(amount)), big.NewInt(int64(rate)))
	den := big.NewInt(int64(moneyUnit) * int64(overviewTaxUnit))
	neg := num.Sign() < 0
	num.Abs(num)
	q, r := new(big.Int).QuoRem(num, den, new(big.Int))
	if r.Lsh(r, 1).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	v := q.Int64() * int64(overviewTaxUnit)
	if neg {
		v = -v
	}
	return Money(v)
}
