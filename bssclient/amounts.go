package bssclient

// Amounts are the money columns every bill row carries, with the JSON names
// BSS uses. Bills write them as JSON numbers; Money decodes them exactly.
// Refunds and adjustments make them negative.
type Amounts struct {
	PretaxGrossAmount     Money `json:"PretaxGrossAmount"`     // list price, before discounts
	InvoiceDiscount       Money `json:"InvoiceDiscount"`       // discount
	DeductedByCoupons     Money `json:"DeductedByCoupons"`     // coupons
	DeductedByCashCoupons Money `json:"DeductedByCashCoupons"` // vouchers
	DeductedByPrepaidCard Money `json:"DeductedByPrepaidCard"` // prepaid cards
	PretaxAmount          Money `json:"PretaxAmount"`          // payable
	CashAmount            Money `json:"CashAmount"`            // paid in cash, excluding credit refunds
	PaymentAmount         Money `json:"PaymentAmount"`         // paid in cash, including credit refunds
	OutstandingAmount     Money `json:"OutstandingAmount"`     // unsettled, or settled with credit
	AdjustAmount          Money `json:"AdjustAmount"`          // deducted by credit refunds
}

// Add returns a+b column by column, or ErrMoneyOverflow.
func (a Amounts) Add(b Amounts) (Amounts, error) {
	var err error
	pairs := []struct {
		dst *Money
		src Money
	}{
		{&a.PretaxGrossAmount, b.PretaxGrossAmount},
		{&a.InvoiceDiscount, b.InvoiceDiscount},
		{&a.DeductedByCoupons, b.DeductedByCoupons},
		{&a.DeductedByCashCoupons, b.DeductedByCashCoupons},
		{&a.DeductedByPrepaidCard, b.DeductedByPrepaidCard},
		{&a.PretaxAmount, b.PretaxAmount},
		{&a.CashAmount, b.CashAmount},
		{&a.PaymentAmount, b.PaymentAmount},
		{&a.OutstandingAmount, b.OutstandingAmount},
		{&a.AdjustAmount, b.AdjustAmount},
	}
	for _, p := range pairs {
		if *p.dst, err = p.dst.Add(p.src); err != nil {
			return Amounts{}, err
		}
	}
	return a, nil
}
