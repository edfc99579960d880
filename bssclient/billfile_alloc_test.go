package bssclient

import (
	"archive/zip"
	"bytes"
	"fmt"
	"runtime"
	"testing"
)

// Memory of decoding a bill file: allocation per row and the live heap
// must not grow with the file. Measured on files built in memory (the
// simulator's own allocations, in the same process, would count too),
// in the simulator's column layout, zh headers.

const allocHeaderZH = "账期,账单日期,账单账号ID,账号ID,产品Code,产品,消费类型,账单类型,实例ID,实例昵称,地域,可用区,资源组,财务单元,实例标签," +
	"原价,优惠金额,优惠券抵扣,代金券抵扣,储值卡抵扣,应付金额,现金支付,欠费金额,币种\n"

// syntheticBillFile is rows rows of a day's instance file; zipped splits
// it into parts of 10,000 rows, each with the header.
func syntheticBillFile(rows int, zipped bool) []byte {
	const partRows = 10_000
	var csvBuf, zipBuf bytes.Buffer
	zw := zip.NewWriter(&zipBuf)
	endPart := func(n int) {
		w, _ := zw.Create(fmt.Sprintf("1001_InstanceDetail_20240520_%d.csv", n))
		_, _ = csvBuf.WriteTo(w)
		csvBuf.WriteString(allocHeaderZH)
	}
	csvBuf.WriteString(allocHeaderZH)
	for i := range rows {
		if zipped && i > 0 && i%partRows == 0 {
			endPart(i / partRows)
		}
		fmt.Fprintf(&csvBuf, "2024-05,2024-05-20,1001,%d,ecs,云服务器 ECS,PayAsYouGo,PayAsYouGoBill,i-bp1%012d,web-%d,cn-hangzhou,cn-hangzhou-%c,"+
			"rg-acfm%06d,,\"key:env value:prod; key:team value:t%d\",%d.%04d,0.%02d,0,0,0,%d.%04d,%d.%04d,0,CNY\n",
			2000+i%7, i, i, 'a'+rune(i%8), i%97, i%13, i%1000, i%10000, i%100, i%900, i%10000, i%900, i%10000)
	}
	if !zipped {
		return csvBuf.Bytes()
	}
	endPart((rows + partRows - 1) / partRows)
	_ = zw.Close()
	return zipBuf.Bytes()
}

// decodeMemory decodes data and returns the rows, the bytes allocated
// per row, and the most the live heap (HeapInuse after a GC, sampled
// every 5,000 rows and at the end) stood above where it started.
func decodeMemory(t testing.TB, data []byte, zipped bool) (rows int, bytesPerRow float64, heapGrowth int64) {
	var before, now runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var peak uint64
	sample := func() {
		runtime.GC()
		runtime.ReadMemStats(&now)
		peak = max(peak, now.HeapInuse)
	}
	var total Money
	b := newRowBatch(func(page []InstanceBillItem, _ error) bool {
		for i := range page {
			total, _ = total.Add(page[i].PretaxAmount)
		}
		if rows/5000 != (rows+len(page))/5000 {
			sample()
		}
		rows += len(page)
		return true
	})
	var err error
	if zipped {
		err = decodeZip(bytes.NewReader(data), "alloc.zip", fileLayout{dailyRows: true}, b)
	} else {
		err = decodeCSVPart(bytes.NewReader(data), "alloc.csv", fileLayout{dailyRows: true}, b)
	}
	if err == nil {
		err = b.flush(true)
	}
	if err != nil || total.IsZero() {
		t.Fatalf("decode: %v (total %s)", err, total)
	}
	runtime.ReadMemStats(&now)
	allocated := now.TotalAlloc - before.TotalAlloc // before the last sample's own GC
	sample()
	return rows, float64(allocated) / float64(rows), int64(peak) - int64(before.HeapInuse)
}

// TestBillFileMemoryIsFlat: a file ten times longer costs the same
// allocation per row and no more live heap.
func TestBillFileMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 100,000-row file")
	}
	for _, zipped := range []bool{false, true} {
		small, large := syntheticBillFile(10_000, zipped), syntheticBillFile(100_000, zipped)
		n1, perRow1, heap1 := decodeMemory(t, small, zipped)
		n2, perRow2, heap2 := decodeMemory(t, large, zipped)
		t.Logf("zipped=%v: %d rows: %.0f B/row, live heap +%d KiB; %d rows (%d MiB file): %.0f B/row, live heap +%d KiB",
			zipped, n1, perRow1, heap1>>10, n2, len(large)>>20, perRow2, heap2>>10)
		if n1 != 10_000 || n2 != 100_000 {
			t.Fatalf("decoded %d and %d rows", n1, n2)
		}
		// Per row: one string per record and its share of the fixed cost.
		if perRow2 > perRow1*1.1+16 {
			t.Errorf("zipped=%v: %.0f B/row for 100k rows, %.0f for 10k: allocation grows with the file", zipped, perRow2, perRow1)
		}
		// The live heap holds a batch and the buffers, whatever the length.
		if heap2 > max(heap1, 0)+1<<20 || heap2 > 4<<20 {
			t.Errorf("zipped=%v: live heap +%d KiB for 100k rows, +%d KiB for 10k: memory grows with the file", zipped, heap2>>10, heap1>>10)
		}
	}
}

func BenchmarkBillFileDecode(b *testing.B) {
	data := syntheticBillFile(100_000, false)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var perRow float64
	for b.Loop() {
		_, perRow, _ = decodeMemory(b, data, false)
	}
	b.ReportMetric(perRow, "B/row")
}
