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

// AmountColumns is how many money columns Amounts has.
const AmountColumns = 10

// Columns are a's columns in one fixed order, the order of the struct:
// what walks every column (sums, saved state) walks them through it.
func (a *Amounts) Columns() [AmountColumns]*Money {
	return [AmountColumns]*Money{&a.PretaxGrossAmount, &a.InvoiceDiscount, &a.DeductedByCoupons,
		&a.DeductedByCashCoupons, &a.DeductedByPrepaidCard, &a.PretaxAmount, &a.CashAmount, &a.PaymentAmount,
		&a.OutstandingAmount, &a.AdjustAmount}
}

// Add returns a+b column by column, or ErrMoneyOverflow.
func (a Amounts) Add(b Amounts) (Amounts, error) {
	bc := b.Columns()
	for c, dst := range a.Columns() {
		sum, err := dst.Add(*bc[c])
		if err != nil {
			return Amounts{}, err
		}
		*dst = sum
	}
	return a, nil
}
