package bssclient

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"strings"
	"testing"
)

// decodeTestFile decodes data (a CSV, or a zip of CSV parts) into T, keeping
// copies of every yielded batch.
func decodeTestFile[T any](t *testing.T, data []byte, zipped bool, layout fileLayout) ([]T, error) {
	t.Helper()
	var out []T
	b := newRowBatch(func(rows []T, err error) bool {
		out = append(out, rows...)
		return true
	})
	var err error
	if zipped {
		err = decodeZip(bytes.NewReader(data), "test.zip", layout, b)
	} else {
		err = decodeCSVPart(bytes.NewReader(data), "test.csv", layout, b)
	}
	if err == nil {
		err = b.flush(true)
	}
	return out, err
}

const instanceHeaderEN = "Billing Cycle,Billing Date,Bill Account ID,Account ID,Product Code,Product,Subscription Type,Bill Type," +
	"Instance ID,Instance Nickname,Region,Zone,Resource Group,Cost Unit,Instance Tag,Pretax Gross Amount,Discount," +
	"Deducted By Coupons,Deducted By Cash Coupons,Deducted By Prepaid Card,Payable Amount,Payment Amount,Outstanding Amount,Currency\n"

func instanceLine(i int, payable string) string {
	return fmt.Sprintf("2024-05,2024-05-20,1001,2002,ecs,ECS,PayAsYouGo,PayAsYouGoBill,i-%03d,\"nick, %d\",cn-hangzhou,cn-hangzhou-h,rg-1,,"+
		"\"key:env value:prod\",10.5,0.5,0,0,0,\"%s\",\"%s\",0,CNY\n", i, i, payable, payable)
}

func TestBillFileDecodesInstanceRows(t *testing.T) {
	data := instanceHeaderEN + instanceLine(1, "10") + instanceLine(2, "1,234.56789")
	rows, err := decodeTestFile[InstanceBillItem](t, []byte(data), false, fileLayout{dailyRows: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
	r := rows[1]
	want := InstanceBillItem{BillingDate: "2024-05-20", BillAccountID: "1001", OwnerID: "2002", ProductCode: "ecs", ProductName: "ECS",
		SubscriptionType: "PayAsYouGo", Item: "PayAsYouGoBill", InstanceID: "i-002", NickName: "nick, 2", Region: "cn-hangzhou",
		Zone: "cn-hangzhou-h", ResourceGroup: "rg-1", Tag: "key:env value:prod", Currency: "CNY",
		Amounts: Amounts{PretaxGrossAmount: MustParseMoney("10.5"), InvoiceDiscount: MustParseMoney("0.5"),
			PretaxAmount: MustParseMoney("1234.56789"), PaymentAmount: MustParseMoney("1234.56789")}}
	if r != want {
		t.Errorf("row\n got %+v\nwant %+v", r, want)
	}
}

// TestBillFileHeaderTolerance: either language, any case, spaces and a
// byte-order mark name the same columns; unknown columns are skipped.
func TestBillFileHeaderTolerance(t *testing.T) {
	zh := "\uFEFF账期, 账单日期 ,账单账号ID,账号ID,产品Code,产品,消费类型,账单类型,实例ID,实例昵称,地域,可用区,资源组,财务单元,实例标签," +
		"原价,优惠金额,优惠券抵扣,代金券抵扣,储值卡抵扣,应付金额,现金支付,欠费金额,币种\n"
	shouting := strings.ToUpper(strings.ReplaceAll(instanceHeaderEN, "Payable Amount", "  payable   AMOUNT "))
	shouting = "\uFEFF" + strings.TrimSuffix(shouting, "\n") + ",Something New\n"
	line := instanceLine(7, "3.25")
	lineExtra := strings.TrimSuffix(line, "\n") + ",whatever\n"
	for name, data := range map[string]string{"zh with BOM": zh + line, "en shouting": shouting + lineExtra} {
		rows, err := decodeTestFile[InstanceBillItem](t, []byte(data), false, fileLayout{dailyRows: true})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(rows) != 1 || rows[0].PretaxAmount != MustParseMoney("3.25") || rows[0].BillingDate != "2024-05-20" || rows[0].Currency != "CNY" {
			t.Errorf("%s: %+v", name, rows)
		}
	}
}

func TestBillFileColumnsNeededAndNot(t *testing.T) {
	drop := func(column string) string {
		header := strings.Split(strings.TrimSuffix(instanceHeaderEN, "\n"), ",")
		i := slices.Index(header, column)
		line := strings.Split(strings.TrimSuffix(strings.ReplaceAll(instanceLine(1, "2"), "\"nick, 1\"", "nick"), "\n"), ",")
		header, line = slices.Delete(header, i, i+1), slices.Delete(line, i, i+1)
		return strings.Join(header, ",") + "\n" + strings.Join(line, ",") + "\n"
	}
	for _, informational := range []string{"Instance Nickname", "Product", "Bill Account ID", "Billing Cycle"} {
		if _, err := decodeTestFile[InstanceBillItem](t, []byte(drop(informational)), false, fileLayout{dailyRows: true}); err != nil {
			t.Errorf("without %s: %v", informational, err)
		}
	}
	for _, needed := range []string{"Payable Amount", "Account ID", "Currency", "Region", "Billing Date", "Discount"} {
		_, err := decodeTestFile[InstanceBillItem](t, []byte(drop(needed)), false, fileLayout{dailyRows: true})
		if err == nil || !strings.Contains(err.Error(), needed) || !strings.Contains(err.Error(), "test.csv") {
			t.Errorf("without %s: %v, want an error naming the file and the column", needed, err)
		}
	}
	// A MONTHLY file has no billing date.
	if _, err := decodeTestFile[InstanceBillItem](t, []byte(drop("Billing Date")), false, fileLayout{}); err != nil {
		t.Errorf("a monthly file without Billing Date: %v", err)
	}
	// Split rows need the split item, which instance rows lack.
	if _, err := decodeTestFile[SplitItemBillItem](t, []byte(instanceHeaderEN+instanceLine(1, "1")), false, fileLayout{dailyRows: true}); err == nil ||
		!strings.Contains(err.Error(), "Split Item ID") {
		t.Errorf("split rows from an instance file: %v", err)
	}
}

func TestBillFileBadRows(t *testing.T) {
	tests := []struct {
		name, data string
		want       []string
	}{
		{"short row", instanceHeaderEN + instanceLine(1, "1") + "2024-05,2024-05-20,1001\n", []string{"test.csv", "line 3", "3 fields", "24"}},
		{"bad amount", instanceHeaderEN + instanceLine(1, "1") + instanceLine(2, "12,34"), []string{"test.csv", "line 3", "Payable Amount", "12,34"}},
		{"too precise", instanceHeaderEN + instanceLine(1, "0.000000001"), []string{"line 2", "Payable Amount", "8 decimal"}},
		{"unterminated quote", instanceHeaderEN + instanceLine(1, "1") + `2024-05,"2024-05-20,1001` + "\n", []string{"test.csv", "line 3"}},
		{"empty", "", []string{"test.csv", "empty"}},
	}
	for _, tt := range tests {
		_, err := decodeTestFile[InstanceBillItem](t, []byte(tt.data), false, fileLayout{dailyRows: true})
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q lacks %q", tt.name, err, w)
			}
		}
	}
}

// TestBillFileStrayQuote: a quote inside an informational field is a
// character, not a broken file.
func TestBillFileStrayQuote(t *testing.T) {
	line := strings.Replace(instanceLine(1, "2"), `"nick, 1"`, `my "nick"`, 1)
	rows, err := decodeTestFile[InstanceBillItem](t, []byte(instanceHeaderEN+line), false, fileLayout{dailyRows: true})
	if err != nil || len(rows) != 1 || rows[0].NickName != `my "nick"` || rows[0].PretaxAmount != MustParseMoney("2") {
		t.Errorf("rows %+v, err %v", rows, err)
	}
}

// zipOf zips parts (name, content) in order, deflated with a trailing
// descriptor as Go and Java write a stream, or stored.
func zipOf(t *testing.T, stored bool, parts ...[2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range parts {
		var w io.Writer
		var err error
		if stored { // sizes and CRC in the local header, as a streamed store needs
			w, err = zw.CreateRaw(&zip.FileHeader{Name: p[0], Method: zip.Store, CRC32: crc32.ChecksumIEEE([]byte(p[1])),
				CompressedSize64: uint64(len(p[1])), UncompressedSize64: uint64(len(p[1]))})
		} else {
			w, err = zw.Create(p[0])
		}
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprint(w, p[1])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestBillFileZipParts reads a zip as it streams in: every CSV part, in
// the archive's order, each with its own header; other entries skipped;
// deflated and stored parts alike.
func TestBillFileZipParts(t *testing.T) {
	var lines []string
	for i := range 7 {
		lines = append(lines, instanceLine(i, fmt.Sprint(i)))
	}
	parts := [][2]string{
		{"1001_InstanceDetail_20240520_1.csv", instanceHeaderEN + strings.Join(lines[:3], "")},
		{"README.txt", "not a bill"},
		{"1001_InstanceDetail_20240520_2.csv", instanceHeaderEN + strings.Join(lines[3:6], "")},
		{"1001_InstanceDetail_20240520_3.csv", instanceHeaderEN + strings.Join(lines[6:], "")},
	}
	for _, stored := range []bool{false, true} {
		rows, err := decodeTestFile[InstanceBillItem](t, zipOf(t, stored, parts...), true, fileLayout{dailyRows: true})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range rows {
			ids = append(ids, r.InstanceID)
		}
		if want := []string{"i-000", "i-001", "i-002", "i-003", "i-004", "i-005", "i-006"}; !slices.Equal(ids, want) {
			t.Errorf("stored %v: instances %v, want %v", stored, ids, want)
		}
	}
}

// TestBillFileBadZips: a zip that is not one, is cut short, is corrupt or
// holds no CSV part fails, naming the file; none passes for a shorter bill.
func TestBillFileBadZips(t *testing.T) {
	good := zipOf(t, false, [2]string{"a_1.csv", instanceHeaderEN + instanceLine(1, "1") + instanceLine(2, "2")})
	corrupt := bytes.Clone(good)
	// The CRC of the part's data, in its trailing descriptor: the data
	// decodes, the check fails.
	i := bytes.Index(corrupt, []byte{0x50, 0x4b, 0x07, 0x08})
	corrupt[i+4] ^= 0xff
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"not a zip", []byte("not a zip at all"), "not a zip"},
		{"cut short", good[:len(good)/2], "cut short"},
		{"cut before its directory", good[:bytes.Index(good, []byte{0x50, 0x4b, 0x01, 0x02})], "cut short"},
		{"corrupt", corrupt, "CRC-32"},
		{"no CSV part", zipOf(t, false, [2]string{"README.txt", "x"}), "holds no CSV part"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeTestFile[InstanceBillItem](t, tc.data, true, fileLayout{dailyRows: true})
			if err == nil || !strings.Contains(err.Error(), "test.zip") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error naming test.zip and %q", err, tc.want)
			}
		})
	}
}

func TestBillFileBatchesAndStop(t *testing.T) {
	var b strings.Builder
	b.WriteString(instanceHeaderEN)
	for i := range 2*billFileBatchRows + 5 {
		b.WriteString(instanceLine(i, "1"))
	}
	var sizes []int
	batch := newRowBatch(func(rows []InstanceBillItem, err error) bool {
		sizes = append(sizes, len(rows))
		return len(sizes) < 2
	})
	err := decodeCSVPart(strings.NewReader(b.String()), "test.csv", fileLayout{dailyRows: true}, batch)
	if !errors.Is(err, errStopped) || !slices.Equal(sizes, []int{billFileBatchRows, billFileBatchRows}) {
		t.Errorf("batches %v, err %v; want two full batches, then a stop", sizes, err)
	}
}

func TestAmountsNotInBillFiles(t *testing.T) {
	if got, want := AmountsNotInBillFiles(), []string{"CashAmount", "AdjustAmount"}; !slices.Equal(got, want) {
		t.Errorf("AmountsNotInBillFiles = %v, want %v", got, want)
	}
}

func TestNewOSSReaderChecks(t *testing.T) {
	creds := StaticCredentials("id", "secret", "")
	for _, cfg := range []OSSConfig{
		{Region: "cn-hangzhou"},
		{Credentials: creds, Region: ""},
		{Credentials: creds, Region: "cn-hangzhou.evil.example"},
		{Credentials: creds, Region: "cn-hangzhou", Endpoint: "127.0.0.1:8418"},
	} {
		if _, err := NewOSSReader(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
	if got := ossEndpoint("cn-shanghai"); got != "https://oss-cn-shanghai.aliyuncs.com" {
		t.Errorf("endpoint %s", got)
	}
}
