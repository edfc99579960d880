package bssclient

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// referenceMoneyString is how Money.String formatted amounts before it was
// rewritten without fmt; the rewrite must agree with it everywhere.
func referenceMoneyString(m Money) string {
	u := m.units
	neg := u < 0
	var abs uint64
	if neg {
		abs = uint64(-(u + 1)) + 1
	} else {
		abs = uint64(u)
	}
	frac := strings.TrimRight(fmt.Sprintf("%08d", abs%moneyUnit), "0")
	for len(frac) < 2 {
		frac += "0"
	}
	s := strconv.FormatUint(abs/moneyUnit, 10) + "." + frac
	if neg {
		s = "-" + s
	}
	return s
}

func TestMoneyStringMatchesReference(t *testing.T) {
	units := []int64{0, 1, -1, 9, 10, 99, 100, 1_000_000, 5_000_000, 10_000_000, 12_345_678, 99_999_999, 100_000_000,
		123_400_000_000, -123_456_789_012, math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20_000 {
		u := r.Int64() >> r.IntN(63)
		if r.IntN(2) == 0 {
			u = -u
		}
		units = append(units, u, u/1_000_000*1_000_000)
	}
	for _, u := range units {
		m := MoneyFromUnits(u)
		want := referenceMoneyString(m)
		if got := m.String(); got != want {
			t.Fatalf("String(%d) = %q, want %q", u, got, want)
		}
		if got, _ := m.MarshalJSON(); string(got) != want {
			t.Fatalf("MarshalJSON(%d) = %q, want %q", u, got, want)
		}
		if back, err := ParseMoney(want); err != nil || back != m {
			t.Fatalf("%q parses back as %v, %v", want, back, err)
		}
	}
}
