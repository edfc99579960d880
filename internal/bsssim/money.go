package bsssim

import (
	"fmt"
	"strconv"
	"strings"
)

// Money is the simulator's exact decimal: an amount in units of 10^-8 of a
// currency unit. Bills are generated, summed and written as integers, never
// through a float, so ground truth is exact.
type Money int64

// moneyScale is the number of decimals a Money keeps.
const (
	moneyScale = 8
	moneyUnit  = 100_000_000 // 10^moneyScale
)

// Units is the amount in units of 10^-8.
func (m Money) Units() int64 { return int64(m) }

// IsZero reports whether the amount is exactly zero.
func (m Money) IsZero() bool { return m == 0 }

// String writes the amount with the fewest decimals that keep it exact and
// at least two, as BSS writes money ("12.50", "-0.00000001", "0.00").
func (m Money) String() string { return string(m.appendDecimal(nil)) }

func (m Money) appendDecimal(dst []byte) []byte {
	abs := uint64(m)
	if m < 0 {
		dst = append(dst, '-')
		abs = -abs // the magnitude, the most negative value's included
	}
	dst = strconv.AppendUint(dst, abs/moneyUnit, 10)
	dst = appendPadded(append(dst, '.'), abs%moneyUnit, 10, moneyScale)
	for n := moneyScale; n > 2 && dst[len(dst)-1] == '0'; n-- {
		dst = dst[:len(dst)-1]
	}
	return dst
}

// MarshalJSON writes the amount as a JSON number, exactly: bills carry their
// amounts as numbers (QueryAccountBill's example: "PretaxAmount": 0).
func (m Money) MarshalJSON() ([]byte, error) { return m.appendDecimal(make([]byte, 0, 24)), nil }

// UnmarshalJSON reads a JSON number or a JSON string holding a plain
// decimal, exactly; "NULL" and "" read as zero (DeductedByResourcePackage).
func (m *Money) UnmarshalJSON(b []byte) error {
	s := string(b)
	if unq, err := strconv.Unquote(s); err == nil {
		s = unq
	}
	if s == "" || s == "NULL" || s == "null" {
		*m = 0
		return nil
	}
	v, err := parseMoney(s)
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// parseMoney reads [-]digits[.digits] with at most eight decimals.
func parseMoney(s string) (Money, error) {
	bad := fmt.Errorf("%q is not a decimal amount with at most %d decimals", shorten(s), moneyScale)
	t, neg := strings.CutPrefix(s, "-")
	whole, frac, _ := strings.Cut(t, ".")
	if whole == "" || len(frac) > moneyScale || strings.Trim(whole, "0123456789") != "" || strings.Trim(frac, "0123456789") != "" {
		return 0, bad
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > (1<<63-1)/moneyUnit-1 {
		return 0, bad
	}
	f := int64(0)
	if frac != "" {
		f, _ = strconv.ParseInt(frac+strings.Repeat("0", moneyScale-len(frac)), 10, 64)
	}
	v := w*moneyUnit + f
	if neg {
		v = -v
	}
	return Money(v), nil
}

// Amounts are the money columns every bill row carries, with the JSON names
// BSS uses (QueryInstanceBill's response parameters). Refunds and
// adjustments make them negative.
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
