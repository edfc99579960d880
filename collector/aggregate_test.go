package collector

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

func payable(s string) bssclient.Amounts {
	return bssclient.Amounts{PretaxAmount: bssclient.MustParseMoney(s)}
}

// seriesText renders series as "label|label=payable" for comparisons.
func seriesText(ss []series) []string {
	var out []string
	for _, s := range ss {
		l := ""
		for i, v := range s.labels {
			if i > 0 {
				l += "|"
			}
			l += v
		}
		out = append(out, l+"="+s.amounts.PretaxAmount.String())
	}
	return out
}

func TestAggregateAddIsExact(t *testing.T) {
	a := newAggregate()
	labels := []string{"ecs", "CNY"}
	// 0.1 + 0.2 is 0.30000000000000004 in float64; in Money it is 0.30.
	for _, v := range []string{"0.1", "0.2", "0.00000001", "-0.00000001"} {
		if err := a.add(labels, payable(v)); err != nil {
			t.Fatal(err)
		}
	}
	labels[0] = "rds" // the caller reuses its slice: the stored series must not change
	if err := a.add(labels, payable("5")); err != nil {
		t.Fatal(err)
	}
	got := seriesText(a.sorted())
	if want := []string{"ecs|CNY=0.30", "rds|CNY=5.00"}; !slices.Equal(got, want) {
		t.Errorf("series %v, want %v", got, want)
	}
}

func TestAggregateKeysDoNotCollide(t *testing.T) {
	a := newAggregate()
	for _, l := range [][]string{{"ab", "c"}, {"a", "bc"}, {"abc", ""}, {"", "abc"}} {
		if err := a.add(l, payable("1")); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(a.sorted()); n != 4 {
		t.Errorf("%d series from four distinct label sets", n)
	}
}

func TestAggregateSubtractAndSorted(t *testing.T) {
	monthly := newAggregate()
	for _, r := range []struct {
		labels []string
		a      bssclient.Amounts
	}{
		{[]string{"owner2", "rds"}, payable("75")},
		{[]string{"owner1", "ecs"}, payable("117")},
		{[]string{"owner1", "cdn"}, payable("1")},
	} {
		if err := monthly.add(r.labels, r.a); err != nil {
			t.Fatal(err)
		}
	}
	unsettled := []series{
		{labels: []string{"owner1", "ecs"}, amounts: payable("13.5")},
		{labels: []string{"owner1", "cdn"}, amounts: payable("1")},
		// A series only in the unsettled days goes negative, and is kept.
		{labels: []string{"owner3", "oss"}, amounts: payable("0.5")},
	}
	if err := monthly.subtractAll(unsettled); err != nil {
		t.Fatal(err)
	}
	got := seriesText(monthly.sorted())
	// Sorted by labels; cdn nets to zero in every column and is dropped.
	want := []string{"owner1|ecs=103.50", "owner2|rds=75.00", "owner3|oss=-0.50"}
	if !slices.Equal(got, want) {
		t.Errorf("series %v, want %v", got, want)
	}

	// A series zero in one column but not in another is kept.
	b := newAggregate()
	_ = b.add([]string{"x"}, bssclient.Amounts{InvoiceDiscount: bssclient.MustParseMoney("1")})
	_ = b.add([]string{"y"}, bssclient.Amounts{AdjustAmount: bssclient.MustParseMoney("-1")})
	if n := len(b.sorted()); n != 2 {
		t.Errorf("%d series kept, want 2: a non-zero column keeps a series", n)
	}

	c := newAggregate()
	if err := c.addAll(unsettled); err != nil {
		t.Fatal(err)
	}
	if err := c.subtractAll(unsettled); err != nil {
		t.Fatal(err)
	}
	if n := len(c.sorted()); n != 0 {
		t.Errorf("%d series left after subtracting everything", n)
	}
}

func TestNegateEveryColumn(t *testing.T) {
	m := bssclient.MoneyFromUnits
	a := bssclient.Amounts{
		PretaxGrossAmount: m(1), InvoiceDiscount: m(2), DeductedByCoupons: m(3), DeductedByCashCoupons: m(4),
		DeductedByPrepaidCard: m(5), PretaxAmount: m(6), CashAmount: m(7), PaymentAmount: m(8),
		OutstandingAmount: m(9), AdjustAmount: m(10),
	}
	sum, err := a.Add(negate(a))
	if err != nil {
		t.Fatal(err)
	}
	if sum != (bssclient.Amounts{}) {
		t.Errorf("a + negate(a) = %+v, want zero in every column", sum)
	}
}

func TestAggregateOverflowIsAnError(t *testing.T) {
	a := newAggregate()
	huge := bssclient.Amounts{PretaxAmount: bssclient.MoneyFromUnits(math.MaxInt64 - 1)}
	if err := a.add([]string{"x"}, huge); err != nil {
		t.Fatal(err)
	}
	if err := a.add([]string{"x"}, huge); !errors.Is(err, bssclient.ErrMoneyOverflow) {
		t.Errorf("error %v, want ErrMoneyOverflow", err)
	}
}

func TestWithLabels(t *testing.T) {
	s := series{labels: []string{"o", "p"}, amounts: payable("1")}
	got := withLabels(s, "acct", "2025-03", "current")
	if want := []string{"acct", "o", "p", "2025-03", "current"}; !slices.Equal(got.labels, want) {
		t.Errorf("labels %v, want %v", got.labels, want)
	}
	if !slices.Equal(s.labels, []string{"o", "p"}) {
		t.Errorf("withLabels changed its input: %v", s.labels)
	}
}

func TestOrUnknownAndProductCode(t *testing.T) {
	for in, want := range map[string]string{"": "unknown", "  ": "unknown", "ecs": "ecs", " ecs ": "ecs"} {
		if got := orUnknown(in); got != want {
			t.Errorf("orUnknown(%q) = %q, want %q", in, got, want)
		}
	}
	for _, tc := range []struct{ code, pip, want string }{{"ecs", "ecs", "ecs"}, {"", "redisa", "redisa"}, {"kvstore", "redisa", "kvstore"}, {"", "", ""}} {
		if got := productCode(tc.code, tc.pip); got != tc.want {
			t.Errorf("productCode(%q, %q) = %q, want %q", tc.code, tc.pip, got, tc.want)
		}
	}
}

func instanceSeries(id, currency, amount string) series {
	return series{labels: []string{id, "owner", "ecs", "PayAsYouGo", "cn-hangzhou", currency}, amounts: payable(amount)}
}

func TestCapInstances(t *testing.T) {
	all := []series{
		instanceSeries("i-c", "CNY", "5"),
		instanceSeries("i-a", "CNY", "10"),
		instanceSeries("i-b", "CNY", "10"), // ties with i-a: label order decides
		instanceSeries("i-d", "CNY", "-2"), // a refund ranks last
		instanceSeries("i-e", "CNY", "0"),
		instanceSeries("i-f", "USD", "3"),
	}
	cases := []struct {
		max  int
		want []string
	}{
		{10, []string{
			"i-a|owner|ecs|PayAsYouGo|cn-hangzhou|CNY=10.00", "i-b|owner|ecs|PayAsYouGo|cn-hangzhou|CNY=10.00",
			"i-c|owner|ecs|PayAsYouGo|cn-hangzhou|CNY=5.00", "i-f|owner|ecs|PayAsYouGo|cn-hangzhou|USD=3.00",
			"i-e|owner|ecs|PayAsYouGo|cn-hangzhou|CNY=0.00", "i-d|owner|ecs|PayAsYouGo|cn-hangzhou|CNY=-2.00",
		}},
		{6, []string{
			"i-a|owner|ecs|PayAsYouGo|cn-hangzhou|CNY=10.00", "i-b|owner|ecs|PayAsYouGo|cn-hangzhou|CNY=10.00",
			"i-c|owner|ecs|PayAsYouGo|cn-hangzhou|CNY=5.00", "i-f|owner|ecs|PayAsYouGo|cn-hangzhou|USD=3.00",
			"i-e|owner|ecs|PayAsYouGo|cn-hangzhou|CNY=0.00", "i-d|owner|ecs|PayAsYouGo|cn-hangzhou|CNY=-2.00",
		}},
		// The rest is summed per currency: 0 + -2 in CNY.
		{4, []string{
			"i-a|owner|ecs|PayAsYouGo|cn-hangzhou|CNY=10.00", "i-b|owner|ecs|PayAsYouGo|cn-hangzhou|CNY=10.00",
			"i-c|owner|ecs|PayAsYouGo|cn-hangzhou|CNY=5.00", "i-f|owner|ecs|PayAsYouGo|cn-hangzhou|USD=3.00",
			"__overflow__|||||CNY=-2.00",
		}},
		{1, []string{
			"i-a|owner|ecs|PayAsYouGo|cn-hangzhou|CNY=10.00",
			"__overflow__|||||CNY=13.00", "__overflow__|||||USD=3.00",
		}},
	}
	for _, tc := range cases {
		got, err := capInstances(all, tc.max)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(seriesText(got), tc.want) {
			t.Errorf("cap %d: %v, want %v", tc.max, seriesText(got), tc.want)
		}
	}
	// The input order is not changed.
	if seriesText(all)[0] != "i-c|owner|ecs|PayAsYouGo|cn-hangzhou|CNY=5.00" {
		t.Errorf("capInstances reordered its input: %v", seriesText(all))
	}
}

// TestCapInstancesOverflowOfZero: instances beyond the cap that billed
// nothing still get their overflow series, so every capped day has exactly
// MaxInstances+1 series per currency and the overflow does not come and go.
func TestCapInstancesOverflowOfZero(t *testing.T) {
	all := []series{instanceSeries("i-a", "CNY", "1"), instanceSeries("i-b", "CNY", "0"), instanceSeries("i-c", "CNY", "0")}
	got, err := capInstances(all, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"i-a|owner|ecs|PayAsYouGo|cn-hangzhou|CNY=1.00", "__overflow__|||||CNY=0.00"}
	if !slices.Equal(seriesText(got), want) {
		t.Errorf("%v, want %v", seriesText(got), want)
	}
}
