package bssclient

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// A Money's units are 10^-8 of a currency unit; these keep the tables legible.
const (
	unitsPerYuan  = 100_000_000
	unitsPerFen   = 1_000_000 // 0.01
	minMoneyUnits = math.MinInt64
	maxMoneyUnits = math.MaxInt64
)

func TestParseMoney(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    int64  // units, when wantErr is empty
		wantErr string // the exact error
	}{
		// Integers and plain decimals, as bill APIs write JSON numbers.
		{in: "0", want: 0},
		{in: "100", want: 100 * unitsPerYuan},
		{in: "-7", want: -7 * unitsPerYuan},
		{in: "12.34", want: 1234 * unitsPerFen},
		{in: "-0.5", want: -50_000_000},
		{in: "0.1", want: 10_000_000},
		{in: "0.00000001", want: 1},
		{in: "-0.00000001", want: -1},
		{in: "-0", want: 0},
		{in: "0.0", want: 0},
		// Exponents: the v6 SDK models money as float32, so a gateway may print them.
		{in: "1.2E-5", want: 1200},
		{in: "1.2e-5", want: 1200},
		{in: "1e3", want: 1000 * unitsPerYuan},
		{in: "1E+3", want: 1000 * unitsPerYuan},
		{in: "1e-8", want: 1},
		{in: "1e10", want: 10_000_000_000 * unitsPerYuan},
		{in: "0e50", want: 0},
		{in: "0e-99999999999999999999", want: 0},
		{in: "0.000000000000000000000000000000000000000000001e45", want: unitsPerYuan},
		{in: "100000000000000000000000000000e-29", want: unitsPerYuan},
		// Lenient text forms.
		{in: "+3", want: 3 * unitsPerYuan},
		{in: ".5", want: 50_000_000},
		{in: "5.", want: 5 * unitsPerYuan},
		{in: "007.50", want: 750 * unitsPerFen},
		{in: "00000000000000000000000000000001", want: unitsPerYuan},
		{in: " 12.5\t", want: 1250 * unitsPerFen},
		// Thousands separators, only where they group thousands.
		{in: "1,234.50", want: 123_450 * unitsPerFen},
		{in: "1,234,567.89", want: 123_456_789 * unitsPerFen},
		{in: "-1,234", want: -1234 * unitsPerYuan},
		{in: "+999,999", want: 999_999 * unitsPerYuan},
		// String-typed amount fields: QueryAccountBalance "10000.00", resource
		// packages "40.000", DeductedByResourcePackage "NULL" or "0.1".
		{in: "10000.00", want: 10_000 * unitsPerYuan},
		{in: "40.000", want: 40 * unitsPerYuan},
		{in: "", want: 0},
		{in: "   ", want: 0},
		{in: "NULL", want: 0},
		{in: "null", want: 0},
		// Precision: eight decimals kept, a ninth only if it is zero.
		{in: "0.12345678", want: 12_345_678},
		{in: "0.123456780", want: 12_345_678},
		{in: "1.0000000000000", want: unitsPerYuan},
		{in: "0.123456789", wantErr: `invalid amount "0.123456789": more than 8 decimal places`},
		{in: "-1.000000001", wantErr: `invalid amount "-1.000000001": more than 8 decimal places`},
		{in: "1e-9", wantErr: `invalid amount "1e-9": more than 8 decimal places`},
		{in: "1e-50", wantErr: `invalid amount "1e-50": more than 8 decimal places`},
		{in: "1.5e-8", wantErr: `invalid amount "1.5e-8": more than 8 decimal places`},
		// Range: exactly int64 units.
		{in: "92233720368.54775807", want: maxMoneyUnits},
		{in: "-92233720368.54775808", want: minMoneyUnits},
		{in: "92,233,720,368.54775807", want: maxMoneyUnits},
		{in: "92233720368.54775808", wantErr: `invalid amount "92233720368.54775808": out of range`},
		{in: "-92233720368.54775809", wantErr: `invalid amount "-92233720368.54775809": out of range`},
		{in: "100000000000", wantErr: `invalid amount "100000000000": out of range`},
		{in: "1e11", wantErr: `invalid amount "1e11": out of range`},
		{in: "1e50", wantErr: `invalid amount "1e50": out of range`},
		{in: "1e99999999999999999999", wantErr: `invalid amount "1e99999999999999999999": out of range`},
		{in: "1369168081849304", wantErr: `invalid amount "1369168081849304": out of range`}, // a BucketOwnerId
		// Garbage.
		{in: "abc", wantErr: `invalid amount "abc": not a decimal number`},
		{in: "1.2.3", wantErr: `invalid amount "1.2.3": not a decimal number`},
		{in: "1e", wantErr: `invalid amount "1e": not a decimal number`},
		{in: "1e+", wantErr: `invalid amount "1e+": not a decimal number`},
		{in: "1e1.5", wantErr: `invalid amount "1e1.5": not a decimal number`},
		{in: "e5", wantErr: `invalid amount "e5": not a decimal number`},
		{in: "--1", wantErr: `invalid amount "--1": not a decimal number`},
		{in: "+-1", wantErr: `invalid amount "+-1": not a decimal number`},
		{in: "-", wantErr: `invalid amount "-": not a decimal number`},
		{in: ".", wantErr: `invalid amount ".": not a decimal number`},
		{in: "0x10", wantErr: `invalid amount "0x10": not a decimal number`},
		{in: "1_000", wantErr: `invalid amount "1_000": not a decimal number`},
		{in: "1 000", wantErr: `invalid amount "1 000": not a decimal number`},
		{in: "NaN", wantErr: `invalid amount "NaN": not a decimal number`},
		{in: "Infinity", wantErr: `invalid amount "Infinity": not a decimal number`},
		{in: "-Inf", wantErr: `invalid amount "-Inf": not a decimal number`},
		{in: "Null", wantErr: `invalid amount "Null": not a decimal number`},
		{in: "CNY", wantErr: `invalid amount "CNY": not a decimal number`},
		{in: "12.5 CNY", wantErr: `invalid amount "12.5 CNY": not a decimal number`},
		{in: "元", wantErr: `invalid amount "元": not a decimal number`},
		{in: "2019-10-30 15:40:11", wantErr: `invalid amount "2019-10-30 15:40:11": not a decimal number`},
		// A comma that does not group thousands may be a decimal comma: "1,2"
		// must not silently become 12.
		{in: "1,2", wantErr: `invalid amount "1,2": not a decimal number`},
		{in: "12,34.5", wantErr: `invalid amount "12,34.5": not a decimal number`},
		{in: "1234,567", wantErr: `invalid amount "1234,567": not a decimal number`},
		{in: "1,234,56", wantErr: `invalid amount "1,234,56": not a decimal number`},
		{in: ",5", wantErr: `invalid amount ",5": not a decimal number`},
		{in: "1,", wantErr: `invalid amount "1,": not a decimal number`},
		{in: "0.1,5", wantErr: `invalid amount "0.1,5": not a decimal number`},
		{in: ",", wantErr: `invalid amount ",": not a decimal number`},
		// Long input is truncated in the error.
		{in: strings.Repeat("9", 50) + "x", wantErr: `invalid amount "` + strings.Repeat("9", 40) + `…": not a decimal number`},
	} {
		got, err := ParseMoney(tc.in)
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("ParseMoney(%q) = %v, %v; want error %s", tc.in, got.Units(), err, tc.wantErr)
			}
			if got != (Money{}) {
				t.Errorf("ParseMoney(%q) returned %v with its error, want zero", tc.in, got.Units())
			}
			continue
		}
		if err != nil || got.Units() != tc.want {
			t.Errorf("ParseMoney(%q) = %d units, %v; want %d units", tc.in, got.Units(), err, tc.want)
		}
	}
}

func TestMustParseMoneyPanicsOnGarbage(t *testing.T) {
	if got := MustParseMoney("12.34"); got.Units() != 1234*unitsPerFen {
		t.Errorf("MustParseMoney(12.34) = %d units", got.Units())
	}
	defer func() {
		if recover() == nil {
			t.Error("MustParseMoney(\"abc\") did not panic")
		}
	}()
	MustParseMoney("abc")
}

func TestMoneyUnmarshalJSON(t *testing.T) {
	for _, tc := range []struct {
		in      string // a JSON value
		want    int64
		wantErr string // the exact error of UnmarshalJSON
	}{
		{in: `0`, want: 0},
		{in: `12.34`, want: 1234 * unitsPerFen},
		{in: `-0.5`, want: -50_000_000},
		{in: `0.00000001`, want: 1},
		{in: `1.2E-5`, want: 1200},
		{in: `1e3`, want: 1000 * unitsPerYuan},
		{in: `-92233720368.54775808`, want: minMoneyUnits},
		{in: `1.000000010`, want: unitsPerYuan + 1},
		{in: `null`, want: 0},
		// QueryAccountBalance writes money as strings.
		{in: `"10000.00"`, want: 10_000 * unitsPerYuan},
		{in: `"1,234.50"`, want: 123_450 * unitsPerFen},
		{in: `"1\u002c234.50"`, want: 123_450 * unitsPerFen},
		{in: `" 7 "`, want: 7 * unitsPerYuan},
		{in: `""`, want: 0},
		{in: `"NULL"`, want: 0},
		{in: `"0.1"`, want: 10_000_000},
		{in: `1.000000001`, wantErr: `invalid amount "1.000000001": more than 8 decimal places`},
		{in: `"0.000000001"`, wantErr: `invalid amount "0.000000001": more than 8 decimal places`},
		{in: `1e11`, wantErr: `invalid amount "1e11": out of range`},
		{in: `"92233720368.54775808"`, wantErr: `invalid amount "92233720368.54775808": out of range`},
		{in: `"abc"`, wantErr: `invalid amount "abc": not a decimal number`},
		{in: `"CNY"`, wantErr: `invalid amount "CNY": not a decimal number`},
		{in: `"1,2"`, wantErr: `invalid amount "1,2": not a decimal number`},
		{in: `true`, wantErr: `invalid amount "true": not a decimal number`},
		{in: `{}`, wantErr: `invalid amount "{}": not a decimal number`},
		{in: `[1]`, wantErr: `invalid amount "[1]": not a decimal number`},
	} {
		// Directly, as a decoder would call it.
		var m Money
		err := m.UnmarshalJSON([]byte(tc.in))
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("UnmarshalJSON(%s) = %d units, %v; want error %s", tc.in, m.Units(), err, tc.wantErr)
			}
		} else if err != nil || m.Units() != tc.want {
			t.Errorf("UnmarshalJSON(%s) = %d units, %v; want %d units", tc.in, m.Units(), err, tc.want)
		}

		// Through encoding/json, as a bill row field.
		var row struct{ CashAmount Money }
		err = json.Unmarshal([]byte(`{"CashAmount":`+tc.in+`}`), &row)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("json.Unmarshal(%s) = %d units, %v; want error %s", tc.in, row.CashAmount.Units(), err, tc.wantErr)
			}
		} else if err != nil || row.CashAmount.Units() != tc.want {
			t.Errorf("json.Unmarshal(%s) = %d units, %v; want %d units", tc.in, row.CashAmount.Units(), err, tc.want)
		}
	}
}

func TestMoneyUnmarshalJSONNullResets(t *testing.T) {
	m := MoneyFromUnits(5)
	if err := m.UnmarshalJSON([]byte("null")); err != nil || !m.IsZero() {
		t.Errorf("UnmarshalJSON(null) left %d units, %v; want zero", m.Units(), err)
	}
}

func TestMoneyUnmarshalJSONRejectsNonJSONInput(t *testing.T) {
	for _, tc := range []struct{ in, wantErr string }{
		// A JSON number never has a thousands separator: this is two values.
		{in: `{"CashAmount":1,234}`, wantErr: "invalid character '2' looking for beginning of object key string"},
		{in: `{"CashAmount":NaN}`, wantErr: "invalid character 'N' looking for beginning of value"},
		{in: `{"CashAmount":.5}`, wantErr: "invalid character '.' looking for beginning of value"},
	} {
		var row struct{ CashAmount Money }
		if err := json.Unmarshal([]byte(tc.in), &row); err == nil || err.Error() != tc.wantErr {
			t.Errorf("json.Unmarshal(%s) = %v, want %q", tc.in, err, tc.wantErr)
		}
	}
	// A malformed JSON string handed straight to UnmarshalJSON.
	var m Money
	if err := m.UnmarshalJSON([]byte(`"\q"`)); err == nil || err.Error() != `invalid amount "\q": invalid syntax` {
		t.Errorf(`UnmarshalJSON("\q") = %v`, err)
	}
}

func TestMoneyString(t *testing.T) {
	for _, tc := range []struct {
		units int64
		want  string
	}{
		{0, "0.00"},
		{1, "0.00000001"},
		{-1, "-0.00000001"},
		{1250 * unitsPerFen, "12.50"},
		{-50_000_000, "-0.50"},
		{unitsPerYuan, "1.00"},
		{100, "0.000001"},
		{123_456_789, "1.23456789"},
		{10_000 * unitsPerYuan, "10000.00"},
		{10_000*unitsPerYuan + 1, "10000.00000001"},
		{maxMoneyUnits, "92233720368.54775807"},
		{minMoneyUnits, "-92233720368.54775808"},
		{minMoneyUnits + 1, "-92233720368.54775807"},
	} {
		m := MoneyFromUnits(tc.units)
		if got := m.String(); got != tc.want {
			t.Errorf("MoneyFromUnits(%d).String() = %q, want %q", tc.units, got, tc.want)
		}
		if got, err := m.MarshalJSON(); err != nil || string(got) != tc.want {
			t.Errorf("MoneyFromUnits(%d).MarshalJSON() = %s, %v; want %s", tc.units, got, err, tc.want)
		}
	}
}

// moneyRoundTripUnits are the edges of the range and of the scale, plus a
// deterministic spread over every magnitude.
func moneyRoundTripUnits() []int64 {
	units := []int64{0, 1, -1, 9, 10, 99_999_999, unitsPerYuan, -unitsPerYuan, maxMoneyUnits, minMoneyUnits, maxMoneyUnits - 1, minMoneyUnits + 1, 1 << 53, -(1 << 53), 1<<53 + 1}
	r := rand.New(rand.NewPCG(20171214, 8))
	for i := 0; i < 2000; i++ {
		u := r.Int64() >> r.IntN(63) // spread over magnitudes
		if r.IntN(2) == 0 {
			u = -u
		}
		units = append(units, u)
	}
	return units
}

func TestMoneyStringRoundTrips(t *testing.T) {
	for _, u := range moneyRoundTripUnits() {
		m := MoneyFromUnits(u)
		got, err := ParseMoney(m.String())
		if err != nil || got != m {
			t.Errorf("ParseMoney(%q) = %d units, %v; want %d", m.String(), got.Units(), err, u)
		}
		b, _ := json.Marshal(struct{ A Money }{m})
		var back struct{ A Money }
		if err := json.Unmarshal(b, &back); err != nil || back.A != m {
			t.Errorf("JSON round trip of %s = %d units, %v; want %d", b, back.A.Units(), err, u)
		}
	}
}

func TestMoneyAdd(t *testing.T) {
	for _, tc := range []struct {
		a, b     int64
		want     int64
		overflow bool
	}{
		{a: 1, b: 2, want: 3},
		{a: -5, b: 3, want: -2},
		{a: maxMoneyUnits - 1, b: 1, want: maxMoneyUnits},
		{a: minMoneyUnits + 1, b: -1, want: minMoneyUnits},
		{a: maxMoneyUnits, b: minMoneyUnits, want: -1},
		{a: maxMoneyUnits, b: 0, want: maxMoneyUnits},
		{a: minMoneyUnits, b: 0, want: minMoneyUnits},
		{a: maxMoneyUnits, b: -maxMoneyUnits, want: 0},
		{a: maxMoneyUnits, b: 1, overflow: true},
		{a: 1, b: maxMoneyUnits, overflow: true},
		{a: maxMoneyUnits, b: maxMoneyUnits, overflow: true},
		{a: minMoneyUnits, b: -1, overflow: true},
		{a: -1, b: minMoneyUnits, overflow: true},
		{a: minMoneyUnits, b: minMoneyUnits, overflow: true},
	} {
		got, err := MoneyFromUnits(tc.a).Add(MoneyFromUnits(tc.b))
		if tc.overflow {
			if !errors.Is(err, ErrMoneyOverflow) || !got.IsZero() {
				t.Errorf("%d + %d = %d, %v; want ErrMoneyOverflow", tc.a, tc.b, got.Units(), err)
			}
			continue
		}
		if err != nil || got.Units() != tc.want {
			t.Errorf("%d + %d = %d, %v; want %d", tc.a, tc.b, got.Units(), err, tc.want)
		}
	}
}

func TestMoneyFloat64(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
	}{
		{"0", 0},
		{"12.34", 12.34},
		{"-0.5", -0.5},
		{"0.00000001", 1e-8},
		{"10000.00", 10000},
		{"92233720368.54775807", 92233720368.54775807},
		{"-92233720368.54775808", -92233720368.54775808},
		// Above 2^53 units float64(units)/1e8 rounds twice and lands on the
		// neighbouring float: 4.619065391834781e+10 instead of this.
		{"46190653918.34780281", 4.61906539183478e+10},
		{"24587226147.37153433", 2.4587226147371532e+10},
	} {
		m, err := ParseMoney(tc.in)
		if got := m.Float64(); err != nil || got != tc.want {
			t.Errorf("ParseMoney(%s).Float64() = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	// Every value: the nearest float, as the exact decimal text parses.
	for _, u := range moneyRoundTripUnits() {
		m := MoneyFromUnits(u)
		want, err := strconv.ParseFloat(m.String(), 64)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Float64(); got != want {
			t.Errorf("MoneyFromUnits(%d).Float64() = %v, want %v", u, got, want)
		}
	}
}

// TestMoneySumIsExact is why Money exists: ten 0.1 line items are 1.00.
func TestMoneySumIsExact(t *testing.T) {
	tenth := MustParseMoney("0.1")
	var sum Money
	var floatSum float64
	for range 10 {
		var err error
		if sum, err = sum.Add(tenth); err != nil {
			t.Fatal(err)
		}
		floatSum += 0.1
	}
	if sum != MustParseMoney("1.00") || sum.String() != "1.00" || sum.Float64() != 1 {
		t.Errorf("ten times 0.1 = %s (%d units), want exactly 1.00", sum, sum.Units())
	}
	// The same sum in float64 drifts; this is the bug Money prevents.
	if floatSum == 1 || floatSum != 0.9999999999999999 {
		t.Errorf("float64 sum of ten 0.1 = %v; the test's premise changed", floatSum)
	}
}

func TestAmountsAdd(t *testing.T) {
	a := Amounts{
		PretaxGrossAmount:     MoneyFromUnits(1),
		InvoiceDiscount:       MoneyFromUnits(2),
		DeductedByCoupons:     MoneyFromUnits(3),
		DeductedByCashCoupons: MoneyFromUnits(4),
		DeductedByPrepaidCard: MoneyFromUnits(5),
		PretaxAmount:          MoneyFromUnits(6),
		CashAmount:            MoneyFromUnits(7),
		PaymentAmount:         MoneyFromUnits(8),
		OutstandingAmount:     MoneyFromUnits(9),
		AdjustAmount:          MoneyFromUnits(10),
	}
	b := Amounts{
		PretaxGrossAmount:     MoneyFromUnits(100),
		InvoiceDiscount:       MoneyFromUnits(200),
		DeductedByCoupons:     MoneyFromUnits(300),
		DeductedByCashCoupons: MoneyFromUnits(400),
		DeductedByPrepaidCard: MoneyFromUnits(500),
		PretaxAmount:          MoneyFromUnits(600),
		CashAmount:            MoneyFromUnits(700),
		PaymentAmount:         MoneyFromUnits(800),
		OutstandingAmount:     MoneyFromUnits(900),
		AdjustAmount:          MoneyFromUnits(-1000), // refunds make columns negative
	}
	want := Amounts{
		PretaxGrossAmount:     MoneyFromUnits(101),
		InvoiceDiscount:       MoneyFromUnits(202),
		DeductedByCoupons:     MoneyFromUnits(303),
		DeductedByCashCoupons: MoneyFromUnits(404),
		DeductedByPrepaidCard: MoneyFromUnits(505),
		PretaxAmount:          MoneyFromUnits(606),
		CashAmount:            MoneyFromUnits(707),
		PaymentAmount:         MoneyFromUnits(808),
		OutstandingAmount:     MoneyFromUnits(909),
		AdjustAmount:          MoneyFromUnits(-990),
	}
	if got, err := a.Add(b); err != nil || got != want {
		t.Errorf("Add =\n%+v, %v\nwant\n%+v", got, err, want)
	}
}

// TestAmountsAddCoversEveryColumn fails when a column is added to Amounts but
// not to Add: each field alone must reach the sum, and overflow in it must
// surface.
func TestAmountsAddCoversEveryColumn(t *testing.T) {
	typ := reflect.TypeFor[Amounts]()
	if typ.NumField() != 10 {
		t.Errorf("Amounts has %d columns, want the 10 BSS money columns; extend TestAmountsAdd", typ.NumField())
	}
	for i := range typ.NumField() {
		name := typ.Field(i).Name
		if typ.Field(i).Type != reflect.TypeFor[Money]() {
			t.Errorf("Amounts.%s is %s, want Money", name, typ.Field(i).Type)
			continue
		}
		var a, b Amounts
		reflect.ValueOf(&a).Elem().Field(i).Set(reflect.ValueOf(MoneyFromUnits(3)))
		reflect.ValueOf(&b).Elem().Field(i).Set(reflect.ValueOf(MoneyFromUnits(4)))
		var want Amounts
		reflect.ValueOf(&want).Elem().Field(i).Set(reflect.ValueOf(MoneyFromUnits(7)))
		if got, err := a.Add(b); err != nil || got != want {
			t.Errorf("Add with only %s set = %+v, %v; want %+v", name, got, err, want)
		}

		reflect.ValueOf(&a).Elem().Field(i).Set(reflect.ValueOf(MoneyFromUnits(maxMoneyUnits)))
		if got, err := a.Add(b); !errors.Is(err, ErrMoneyOverflow) || got != (Amounts{}) {
			t.Errorf("Add overflowing %s = %+v, %v; want ErrMoneyOverflow", name, got, err)
		}
	}
}

// Amounts.Columns walks every field of Amounts once, in the struct's order,
// which saved state depends on.
func TestAmountsColumnsAreTheFields(t *testing.T) {
	var a Amounts
	v := reflect.ValueOf(&a).Elem()
	cols := a.Columns()
	if v.NumField() != len(cols) {
		t.Fatalf("Amounts has %d fields, Columns %d", v.NumField(), len(cols))
	}
	for i, c := range cols {
		if f := v.Field(i).Addr().Interface().(*Money); f != c {
			t.Errorf("column %d is not field %s", i, v.Type().Field(i).Name)
		}
	}
}
