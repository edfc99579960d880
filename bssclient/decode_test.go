package bssclient

import (
	"encoding/json"
	"fmt"
	"reflect"
	"syscall"
	"testing"
	"time"
)

// decodeResponse is decodeResponseReporting with no one told of tolerated
// fields: what the tests of decoding call.
func decodeResponse[T any](action string, status int, body []byte) (*T, error) {
	return decodeResponseReporting[T](action, status, body, nil)
}

// filledRow returns a row of type T with every string and Money field set
// to a value of its own, so that a field missed or crossed with another
// shows.
func filledRow[T any](t testing.TB) T {
	t.Helper()
	var row T
	n := 0
	moneyType := reflect.TypeFor[Money]()
	var fill func(v reflect.Value)
	fill = func(v reflect.Value) {
		for i := range v.NumField() {
			f := v.Field(i)
			switch {
			case f.Type() == moneyType:
				n++
				f.Set(reflect.ValueOf(MoneyFromUnits(int64(n) * 1_234_567)))
			case f.Kind() == reflect.String:
				n++
				f.SetString(fmt.Sprintf("%s-%d", v.Type().Field(i).Name, n))
			case f.Kind() == reflect.Struct:
				fill(f)
			}
		}
	}
	fill(reflect.ValueOf(&row).Elem())
	return row
}

func envelopeOf(t testing.TB, data any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"Code": "Success", "Message": "Successful!", "RequestId": "R", "Success": true, "Data": data})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDecodeFillsEveryField: every field of every bill row survives an
// answer written by Money.MarshalJSON and read back, money exactly.
func TestDecodeFillsEveryField(t *testing.T) {
	t.Run("DescribeInstanceBill", func(t *testing.T) {
		want := InstanceBillData{AccountID: "1", AccountName: "a", BillingCycle: "2025-03",
			tokenPaging: tokenPaging{MaxResults: 300, NextToken: "CAES+/+/==", TotalCount: 2},
			Items:       []InstanceBillItem{filledRow[InstanceBillItem](t), filledRow[InstanceBillItem](t)}}
		got, err := decodeResponse[InstanceBillData](ActionDescribeInstanceBill, 200, envelopeOf(t, want))
		if err != nil || !reflect.DeepEqual(*got, want) {
			t.Fatalf("decoded %+v, %v\nwant %+v", got, err, want)
		}
	})
	t.Run("DescribeSplitItemBill", func(t *testing.T) {
		want := SplitItemBillData{AccountID: "1", tokenPaging: tokenPaging{TotalCount: 1}, Items: []SplitItemBillItem{filledRow[SplitItemBillItem](t)}}
		got, err := decodeResponse[SplitItemBillData](ActionDescribeSplitItemBill, 200, envelopeOf(t, want))
		if err != nil || !reflect.DeepEqual(*got, want) {
			t.Fatalf("decoded %+v, %v\nwant %+v", got, err, want)
		}
	})
	t.Run("QueryAccountBill", func(t *testing.T) {
		want := AccountBillData{AccountID: "1", AccountName: "a", BillingCycle: "2025-03", PageNum: 1, PageSize: 300, TotalCount: 1}
		want.Items.Item = []AccountBillItem{filledRow[AccountBillItem](t)}
		got, err := decodeResponse[AccountBillData](ActionQueryAccountBill, 200, envelopeOf(t, want))
		if err != nil || !reflect.DeepEqual(*got, want) {
			t.Fatalf("decoded %+v, %v\nwant %+v", got, err, want)
		}
	})
}

// quotaRowsPerSecond is the most rows BSS serves one account: 10 requests a
// second of at most MaxPageSize rows.
const quotaRowsPerSecond = DefaultRateLimit * MaxPageSize

// BenchmarkDecodeInstancePage decodes one full DescribeInstanceBill page
// (300 rows, every field filled, each row different) as the client does:
// one encoding/json pass into the envelope and its typed Data, money
// exactly. Run it with -cpu 1.
//
// rows/cpu-s counts the process's CPU time (user and system, garbage
// collection included) rather than the wall clock, so that other work on a
// shared machine does not count against the decoder. x-quota is rows/cpu-s
// over the 3,000 rows/s BSS can deliver to one account at most: at ≥ 10 a
// walk at full quota costs at most a tenth of a core to decode.
func BenchmarkDecodeInstancePage(b *testing.B) {
	rows := make([]InstanceBillItem, MaxPageSize)
	for i := range rows {
		rows[i] = filledRow[InstanceBillItem](b)
		rows[i].InstanceID = fmt.Sprintf("i-bp1%012d", i)
		rows[i].PretaxAmount = MoneyFromUnits(int64(i) * 1_234_500)
	}
	body := envelopeOf(b, InstanceBillData{AccountID: "1",
		tokenPaging: tokenPaging{TotalCount: 3000, NextToken: "CAES+/+/==", MaxResults: MaxPageSize}, Items: rows})
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	cpuBefore := processCPUTime(b)
	for b.Loop() {
		d, err := decodeResponse[InstanceBillData](ActionDescribeInstanceBill, 200, body)
		if err != nil {
			b.Fatal(err)
		}
		if len(d.Items) != MaxPageSize {
			b.Fatalf("%d rows", len(d.Items))
		}
	}
	cpu := processCPUTime(b) - cpuBefore
	perCPUSecond := float64(MaxPageSize*b.N) / cpu.Seconds()
	b.ReportMetric(float64(MaxPageSize*b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(perCPUSecond, "rows/cpu-s")
	b.ReportMetric(perCPUSecond/quotaRowsPerSecond, "x-quota")
}

// processCPUTime is the CPU time this process has used, all threads.
func processCPUTime(tb testing.TB) time.Duration {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
