package bssclient

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// MoneyScale is the number of decimal places Money keeps. BSS amounts carry
// at most a handful of decimals; eight leave room for per-unit prices while an
// int64 still spans ±92 billion currency units, far above any account's bill.
const MoneyScale = 8

const moneyUnit = 100_000_000 // 10^MoneyScale

// Money is an exact decimal amount in units of 10^-8 of a currency unit.
// It is decoded from the API's text without passing through a float, summed
// exactly, and converted to float64 only when a sample is emitted.
type Money struct {
	units int64
}

// ErrMoneyOverflow is returned when a sum leaves Money's range.
var ErrMoneyOverflow = errors.New("amount exceeds the representable range of ±92233720368 currency units")

// MoneyFromUnits returns the amount units × 10^-8.
func MoneyFromUnits(units int64) Money { return Money{units: units} }

// Units returns the amount in units of 10^-8.
func (m Money) Units() int64 { return m.units }

// IsZero reports whether the amount is exactly zero.
func (m Money) IsZero() bool { return m.units == 0 }

// Add returns m+n, or ErrMoneyOverflow.
func (m Money) Add(n Money) (Money, error) {
	s := m.units + n.units
	if (m.units > 0 && n.units > 0 && s < 0) || (m.units < 0 && n.units < 0 && s >= 0) {
		return Money{}, ErrMoneyOverflow
	}
	return Money{units: s}, nil
}

// Neg returns -m.
func (m Money) Neg() Money { return Money{units: -m.units} }

// Float64 converts for output only. The result is the float nearest to the
// exact value.
func (m Money) Float64() float64 {
	// Below 2^53 both operands are exact floats and one correctly rounded
	// division gives the nearest float; above it float64(units) already rounds,
	// and rounding twice can miss, so take the exact decimal route.
	const exactFloatUnits = 1 << 53
	if -exactFloatUnits <= m.units && m.units <= exactFloatUnits {
		return float64(m.units) / moneyUnit
	}
	f, _ := strconv.ParseFloat(m.String(), 64) // cannot fail: String is a finite decimal
	return f
}

// String formats the amount with the fewest decimals that keep it exact,
// and at least two ("12.50", "-0.00000001", "0.00").
func (m Money) String() string {
	var buf [24]byte // "-92233720368.54775808"
	return string(m.appendDecimal(buf[:0]))
}

// appendDecimal appends String's text to dst without fmt: the simulator
// writes eleven amounts per bill row, and formatting was most of its cost.
func (m Money) appendDecimal(dst []byte) []byte {
	abs := uint64(m.units)
	if m.units < 0 {
		dst = append(dst, '-')
		abs = -abs // two's complement: correct for math.MinInt64 too
	}
	dst = strconv.AppendUint(dst, abs/moneyUnit, 10)
	dst = append(dst, '.')
	// Adding moneyUnit writes the fraction with its leading zeros, after a 1.
	var buf [MoneyScale + 1]byte
	frac := strconv.AppendUint(buf[:0], abs%moneyUnit+moneyUnit, 10)[1:]
	return append(dst, frac[:max(len(bytes.TrimRight(frac, "0")), 2)]...)
}

// ParseMoney parses a decimal amount as BSS writes it: a JSON number
// ("12.34", "-0.5", "1.2E-5") or the text of a string-typed amount field.
// Thousands separators ("1,234.50") are accepted in text. An empty string and
// "NULL" (seen in DeductedByResourcePackage) mean zero. More than eight
// significant decimals, a value beyond range, or anything else is an error that
// quotes the input.
func ParseMoney(s string) (Money, error) {
	t := strings.TrimSpace(s)
	if t == "" || t == "NULL" || t == "null" {
		return Money{}, nil
	}
	units, err := parseDecimalUnits(stripThousandsSeparators(t))
	if err != nil {
		return Money{}, fmt.Errorf("invalid amount %q: %w", truncateForError(s), err)
	}
	return Money{units: units}, nil
}

// stripThousandsSeparators removes the commas of "1,234,567.89". A comma
// anywhere else ("1,2", "12,34", ",5", "0.1,5") is not a thousands separator
// and may be a decimal comma; it is left in place so the parse fails instead
// of misreading the amount by a power of ten.
func stripThousandsSeparators(t string) string {
	if !strings.Contains(t, ",") {
		return t
	}
	intPart, rest := t, ""
	if i := strings.IndexAny(t, ".eE"); i >= 0 {
		intPart, rest = t[:i], t[i:]
	}
	if strings.Contains(rest, ",") {
		return t
	}
	sign := ""
	if intPart != "" && (intPart[0] == '-' || intPart[0] == '+') {
		sign, intPart = intPart[:1], intPart[1:]
	}
	groups := strings.Split(intPart, ",")
	if len(groups[0]) < 1 || len(groups[0]) > 3 ||
		slices.ContainsFunc(groups[1:], func(g string) bool { return len(g) != 3 }) {
		return t
	}
	return sign + strings.Join(groups, "") + rest
}

// MustParseMoney is ParseMoney for constants in tests and fixtures; it panics
// on a malformed literal, which is a programming error. deadcode reports it
// because only tests call it; they live in several packages (collector,
// bssclient's own), so it cannot move into a _test.go file.
func MustParseMoney(s string) Money {
	m, err := ParseMoney(s)
	if err != nil {
		panic(err)
	}
	return m
}

var (
	errSyntax     = errors.New("not a decimal number")
	errTooPrecise = errors.New("more than 8 decimal places")
	errRange      = errors.New("out of range")
)

// maxExponent bounds the exponent so the digit arithmetic below cannot
// overflow int; any exponent this large already puts a non-zero amount far
// outside Money's range or precision.
const maxExponent = 1 << 30

// parseDecimalUnits parses [-+]digits[.digits][(e|E)[-+]digits] into units of
// 10^-8 using integer arithmetic only. It takes the JSON text's bytes as they
// are, so that decoding a bill row's eleven amounts allocates nothing.
func parseDecimalUnits[S string | []byte](s S) (int64, error) {
	i := 0
	neg := false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	var room [32]byte
	digits := room[:0] // mantissa digits, without the point
	point := -1        // number of digits before the decimal point
	sawDigit := false
mantissa:
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			sawDigit = true
			digits = append(digits, c)
		case c == '.' && point < 0:
			point = len(digits)
		default:
			break mantissa
		}
	}
	if !sawDigit {
		return 0, errSyntax
	}
	if point < 0 {
		point = len(digits)
	}
	exp := 0
	if i < len(s) {
		if s[i] != 'e' && s[i] != 'E' {
			return 0, errSyntax
		}
		var err error
		if exp, err = parseExponent(s[i+1:]); err != nil {
			return 0, err
		}
	}
	return unitsOf(digits, point+exp, neg)
}

// parseExponent parses an exponent's [-+]digits. One beyond int saturates
// at ±maxExponent: "0e99999999999999999999" is still zero, and a non-zero
// mantissa is then out of range or too precise.
func parseExponent[S string | []byte](s S) (int, error) {
	e, err := strconv.Atoi(string(s))
	var numErr *strconv.NumError
	if err != nil && !(errors.As(err, &numErr) && numErr.Err == strconv.ErrRange) {
		return 0, errSyntax
	}
	return min(max(e, -maxExponent), maxExponent), nil
}

// unitsOf returns the amount 0.digits × 10^point (digits are ASCII, without
// the point), negated if neg, in units of 10^-8.
func unitsOf(digits []byte, point int, neg bool) (int64, error) {
	// Normalise to 0.d1d2…dn × 10^point with d1 and dn non-zero, so the
	// magnitude alone decides range and precision, whatever the exponent.
	trimmed := bytes.TrimLeft(digits, "0")
	digits, point = bytes.TrimRight(trimmed, "0"), point-(len(digits)-len(trimmed))
	if len(digits) == 0 {
		return 0, nil
	}
	intLen := point + MoneyScale // digits of the amount in units, before the units point
	if intLen > 19 {             // ≥ 10^19 units > MaxInt64
		return 0, errRange
	}
	if intLen < len(digits) { // a non-zero digit falls below 10^-8
		return 0, errTooPrecise
	}
	// A negative amount may reach MinInt64, whose magnitude is MaxInt64+1, so
	// that Money.String() of every value parses back.
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	var u uint64
	for j := 0; j < intLen; j++ {
		d := uint64(0)
		if j < len(digits) {
			d = uint64(digits[j] - '0')
		}
		if u > (limit-d)/10 {
			return 0, errRange
		}
		u = u*10 + d
	}
	if neg {
		return int64(-u), nil // two's complement: correct for u == MaxInt64+1 too
	}
	return int64(u), nil
}

// UnmarshalJSON accepts a JSON number, a JSON string holding an amount, or
// null. encoding/json hands it the value's text, so a number is read
// exactly, never through a float64.
func (m *Money) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*m = Money{}
		return nil
	}
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		unq, err := strconv.Unquote(string(b))
		if err != nil {
			return fmt.Errorf("invalid amount %s: %w", truncateForError(string(b)), err)
		}
		v, err := ParseMoney(unq)
		if err == nil {
			*m = v
		}
		return err
	}
	units, err := parseDecimalUnits(b)
	if err != nil {
		return fmt.Errorf("invalid amount %q: %w", truncateForError(string(b)), err)
	}
	*m = Money{units: units}
	return nil
}

// MarshalJSON writes the amount as a JSON number, exactly.
func (m Money) MarshalJSON() ([]byte, error) { return m.appendDecimal(make([]byte, 0, 24)), nil }

func truncateForError(s string) string {
	const max = 40
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
