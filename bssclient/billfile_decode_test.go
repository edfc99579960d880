package bssclient

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
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
		err = decodeZip(bytes.NewReader(data), int64(len(data)), "test.zip", layout, b)
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

func TestBillFileZipParts(t *testing.T) {
	var lines []string
	for i := range 7 {
		lines = append(lines, instanceLine(i, fmt.Sprint(i)))
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	// Written out of order: the part number, not the directory, orders rows.
	for _, part := range []struct {
		n    int
		rows []string
	}{{2, lines[3:6]}, {1, lines[:3]}, {3, lines[6:]}} {
		w, err := zw.Create(fmt.Sprintf("1001_InstanceDetail_20240520_%d.csv", part.n))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprint(w, instanceHeaderEN+strings.Join(part.rows, ""))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	rows, err := decodeTestFile[InstanceBillItem](t, buf.Bytes(), true, fileLayout{dailyRows: true})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range rows {
		ids = append(ids, r.InstanceID)
	}
	if want := []string{"i-000", "i-001", "i-002", "i-003", "i-004", "i-005", "i-006"}; !slices.Equal(ids, want) {
		t.Errorf("instances %v, want %v", ids, want)
	}
	if _, err := decodeTestFile[InstanceBillItem](t, []byte("not a zip"), true, fileLayout{}); err == nil || !strings.Contains(err.Error(), "test.zip") {
		t.Errorf("not a zip: %v", err)
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
