package bssclient

import (
	"encoding/json"
	"fmt"
	"testing"
)

// fullInstancePage is a 300-row DescribeInstanceBill answer with every field
// filled, each row different, as the simulator writes them.
func fullInstancePage(b *testing.B) []byte {
	b.Helper()
	rows := make([]InstanceBillItem, MaxPageSize)
	for i := range rows {
		rows[i] = filledRow[InstanceBillItem](b)
		rows[i].InstanceID = fmt.Sprintf("i-bp1%012d", i)
		rows[i].PretaxAmount = MoneyFromUnits(int64(i) * 1_234_500)
	}
	return []byte(envelopeOf(b, InstanceBillData{AccountID: "1", TotalCount: 3000, NextToken: "CAES+/+/==", MaxResults: MaxPageSize, Items: rows}))
}

// BenchmarkDecodeInstancePage compares, on one full page, the one-pass
// decoder (what decodeResponse does now), the encoding/json path it replaced
// (envelope, then Data), and a plain encoding/json decode of the same bytes
// into the same structs. rows/s is per core.
func BenchmarkDecodeInstancePage(b *testing.B) {
	body := fullInstancePage(b)
	run := func(b *testing.B, decode func(*InstanceBillData) error) {
		buf := make([]InstanceBillItem, 0, MaxPageSize)
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			clear(buf[:cap(buf)])
			d := InstanceBillData{Items: buf[:0]}
			if err := decode(&d); err != nil {
				b.Fatal(err)
			}
			if len(d.Items) != MaxPageSize {
				b.Fatalf("%d rows", len(d.Items))
			}
			buf = d.Items
		}
		b.ReportMetric(float64(MaxPageSize*b.N)/b.Elapsed().Seconds(), "rows/s")
	}
	b.Run("one-pass", func(b *testing.B) {
		run(b, func(d *InstanceBillData) error { return decodeResponse("A", 200, body, d) })
	})
	b.Run("encoding-json-envelope-then-data", func(b *testing.B) {
		run(b, func(d *InstanceBillData) error { return decodeEnvelope("A", 200, body, d) })
	})
	b.Run("plain-encoding-json", func(b *testing.B) {
		run(b, func(d *InstanceBillData) error {
			env := struct{ Data *InstanceBillData }{d}
			return json.Unmarshal(body, &env)
		})
	})
}
