package bssclient

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// filledRow returns a row of type T with every string and Money field set
// to a value of its own, so that a field the one-pass decoder missed or
// crossed with another shows.
func filledRow[T any](t testing.TB) T {
	t.Helper()
	var row T
	n := 0
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

func envelopeOf(t testing.TB, data any) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"Code": "Success", "Message": "Successful!", "RequestId": "R", "Success": true, "Data": data})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fullPages are one answer of each page type with every field filled.
func fullPages(t testing.TB) map[string]string {
	inst := filledRow[InstanceBillItem](t)
	split := filledRow[SplitItemBillItem](t)
	acct := filledRow[AccountBillItem](t)
	qib := QueryInstanceBillData{AccountID: "1", AccountName: "a", BillingCycle: "2025-03", PageNum: 2, PageSize: 300, TotalCount: 302}
	qib.Items.Item = []InstanceBillItem{inst, inst}
	ab := AccountBillData{AccountID: "1", AccountName: "a", BillingCycle: "2025-03", PageNum: 1, PageSize: 300, TotalCount: 1}
	ab.Items.Item = []AccountBillItem{acct}
	return map[string]string{
		"DescribeInstanceBill": envelopeOf(t, InstanceBillData{AccountID: "1", AccountName: "a", BillingCycle: "2025-03",
			MaxResults: 300, NextToken: "CAES+/+/==", TotalCount: 3, Items: []InstanceBillItem{inst, inst, inst}}),
		"DescribeSplitItemBill": envelopeOf(t, SplitItemBillData{AccountID: "1", TotalCount: 1, Items: []SplitItemBillItem{split}}),
		"QueryInstanceBill":     envelopeOf(t, qib),
		"QueryAccountBill":      envelopeOf(t, ab),
	}
}

// pageOuts returns fresh outs of every page type; with room, their row
// slices are empty with zeroed room to reuse, as the walks pass them.
func pageOuts(room int) []any {
	i := &InstanceBillData{}
	s := &SplitItemBillData{}
	q := &QueryInstanceBillData{}
	a := &AccountBillData{}
	if room > 0 {
		i.Items = make([]InstanceBillItem, 0, room)
		s.Items = make([]SplitItemBillItem, 0, room)
		q.Items.Item = make([]InstanceBillItem, 0, room)
		a.Items.Item = make([]AccountBillItem, 0, room)
	}
	return []any{i, s, q, a}
}

// rowsOf returns out's row slice extended to its capacity, so that a
// comparison sees the reused room too.
func rowsOf(out any) any {
	switch o := out.(type) {
	case *InstanceBillData:
		return o.Items[:cap(o.Items)]
	case *SplitItemBillData:
		return o.Items[:cap(o.Items)]
	case *QueryInstanceBillData:
		return o.Items.Item[:cap(o.Items.Item)]
	case *AccountBillData:
		return o.Items.Item[:cap(o.Items.Item)]
	}
	return nil
}

func cloneOut(out any) any {
	v := reflect.New(reflect.TypeOf(out).Elem())
	v.Elem().Set(reflect.ValueOf(out).Elem())
	return v.Interface()
}

// checkAgainstEncodingJSON decodes body into fresh outs of every page type
// twice, once through decodeResponse and once through encoding/json alone,
// and fails unless both give the same values (room included) and the same
// error. It returns how many outs the one-pass decoder took.
func checkAgainstEncodingJSON(t *testing.T, status int, body []byte) (fast int) {
	t.Helper()
	for _, room := range []int{0, 2} {
		got, want := pageOuts(room), pageOuts(room)
		for k := range got {
			probe := cloneOut(pageOuts(room)[k])
			if fastDecodeData(body, probe) {
				fast++
			} else if !reflect.DeepEqual(probe, pageOuts(room)[k]) || !reflect.DeepEqual(rowsOf(probe), rowsOf(pageOuts(room)[k])) {
				t.Fatalf("%T: the one-pass decoder gave up but changed out: %+v", probe, probe)
			}
			gotErr := decodeResponse("A", status, body, got[k])
			wantErr := decodeEnvelope("A", status, body, want[k])
			if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
				t.Fatalf("%T: error %v, encoding/json gives %v", got[k], gotErr, wantErr)
			}
			if !reflect.DeepEqual(got[k], want[k]) || !reflect.DeepEqual(rowsOf(got[k]), rowsOf(want[k])) {
				t.Fatalf("%T (room %d): decoded\n%+v\nencoding/json gives\n%+v", got[k], room, got[k], want[k])
			}
		}
	}
	return fast
}

func TestFastDecodeTakesEveryPageType(t *testing.T) {
	if len(fastPageTypeErrors) > 0 || len(fastPageTypes) != 4 {
		t.Fatalf("page types left to encoding/json: %v", fastPageTypeErrors)
	}
	for action, body := range fullPages(t) {
		taken := 0
		for _, out := range pageOuts(0) {
			if fastDecodeData([]byte(body), out) {
				taken++
			}
		}
		if taken == 0 {
			t.Errorf("%s: no page type took its own answer", action)
		}
	}
}

func TestFastDecodeFillsEveryField(t *testing.T) {
	for action, body := range fullPages(t) {
		t.Run(action, func(t *testing.T) {
			if fast := checkAgainstEncodingJSON(t, 200, []byte(body)); fast == 0 {
				t.Fatal("the one-pass decoder took none of the page types")
			}
		})
	}
	// Every field of every row type arrives with its own value.
	body := fullPages(t)["DescribeInstanceBill"]
	var d InstanceBillData
	if !fastDecodeData([]byte(body), &d) {
		t.Fatal("the one-pass decoder did not take a plain page")
	}
	if want := filledRow[InstanceBillItem](t); !reflect.DeepEqual(d.Items[0], want) {
		t.Fatalf("row\n%+v\nwant\n%+v", d.Items[0], want)
	}
}

func TestFastDecodeAgreesWithEncodingJSON(t *testing.T) {
	row := `{"InstanceID":"i-1","PretaxAmount":1.25,"DeductedByResourcePackage":"NULL","Region":"华东1（杭州）","Currency":"CNY"}`
	page := func(items string) string {
		return `{"Code":"Success","Success":true,"RequestId":"R","Data":{"TotalCount":2,"NextToken":"t","Items":` + items +
			`,"Items2":{"Item":` + items + `}}}`
	}
	qpage := func(items string) string {
		return `{"Code":"Success","Success":true,"Data":{"TotalCount":2,"Items":{"Item":` + items + `}}}`
	}
	tests := []struct {
		name string
		body string
		fast bool // whether the one-pass decoder takes it (for some page type)
	}{
		{"plain", page(`[` + row + `,` + row + `]`), true},
		{"nested rows", qpage(`[` + row + `]`), true},
		{"keys in other case", `{"code":"Success","SUCCESS":true,"data":{"totalcount":1,"items":[{"instanceid":"i-1","PRETAXAMOUNT":"2.5"}]}}`, true},
		{"exact name wins over folded", `{"Success":true,"Data":{"Items":[{"InstanceID":"a","instanceid":"b","INSTANCEID":"c"}]}}`, true},
		{"escapes in values", `{"Success":true,"Data":{"Items":[{"InstanceID":"i-\u0031\n\"\\\/","Tag":"\ud83d\ude00 \ud800 x","Region":"\u534e\u4e1c1"}]}}`, true},
		{"invalid UTF-8 in a value", "{\"Success\":true,\"Data\":{\"Items\":[{\"InstanceID\":\"a\xffb\xc3\"}]}}", true},
		{"unknown fields of every kind", `{"X":[1,{"a":[true,false,null]},-0.5e+3],"Success":true,"Data":{"New":{"k":"v"},"Items":[{"Z":"\u0041","W":[],"V":{}}]}}`, true},
		{"whitespace everywhere", " \t\n{ \"Success\" : true ,\r\n \"Data\" : { \"Items\" : [ { \"InstanceID\" : \"i\" } ] } } \n", true},
		{"nulls", `{"Success":null,"Code":null,"Data":{"AccountID":null,"TotalCount":null,"Items":[{"InstanceID":null,"PretaxAmount":null}]}}`, true},
		{"null rows", `{"Success":true,"Data":{"Items":null,"TotalCount":0}}`, true},
		{"empty rows", `{"Success":true,"Data":{"Items":[]}}`, true},
		{"empty Data", `{"Success":true,"Data":{}}`, true},
		{"money as strings and exponents", `{"Success":true,"Data":{"Items":[{"PretaxAmount":"1,234.5","CashAmount":1.2E-5,"InvoiceDiscount":-0,"AdjustAmount":"  3 "}]}}`, true},
		{"duplicate keys", `{"Success":false,"Success":true,"Data":{"TotalCount":1,"TotalCount":2,"Items":[{"InstanceID":"a","InstanceID":"b","PretaxAmount":1,"PretaxAmount":2}]}}`, true},
		{"duplicate rows", `{"Success":true,"Data":{"Items":[{"InstanceID":"a"},{"Region":"r"}],"Items":[{"Zone":"z"}]}}`, false},
		{"duplicate Data", `{"Success":true,"Data":{"TotalCount":1},"Data":{"NextToken":"x"}}`, false},
		{"Success false", `{"Code":"Throttling.User","Success":false,"Data":{"TotalCount":1}}`, false},
		{"success null after false", `{"Success":false,"Success":null,"Data":{"TotalCount":1}}`, true},
		{"no Data", `{"Code":"Success","Success":true}`, false},
		{"Data null", `{"Code":"Success","Success":true,"Data":null}`, false},
		{"Data not an object", `{"Code":"Success","Success":true,"Data":[1]}`, false},
		{"row not an object", `{"Success":true,"Data":{"Items":[null]}}`, false},
		{"number into a string", `{"Success":true,"Data":{"Items":[{"InstanceID":7}]}}`, false},
		{"string into an int", `{"Success":true,"Data":{"TotalCount":"7"}}`, false},
		{"fraction into an int", `{"Success":true,"Data":{"TotalCount":7.0}}`, false},
		{"int out of range", `{"Success":true,"Data":{"TotalCount":99999999999999999999}}`, false},
		{"bad money", `{"Success":true,"Data":{"Items":[{"PretaxAmount":"12,34"}]}}`, false},
		{"money too precise", `{"Success":true,"Data":{"Items":[{"PretaxAmount":0.000000001}]}}`, false},
		{"money as bool", `{"Success":true,"Data":{"Items":[{"PretaxAmount":true}]}}`, false},
		{"Success as string", `{"Success":"true","Data":{"TotalCount":1}}`, false},
		{"RequestId as number", `{"RequestId":1,"Success":true,"Data":{"TotalCount":1}}`, false},
		{"escaped key", `{"Success":true,"Data":{"Tot\u0061lCount":1}}`, false},
		{"non-ASCII key", `{"Success":true,"Data":{"Items":[{"Inſtance":"x"}]}}`, false},
		{"trailing comma", `{"Success":true,"Data":{"Items":[{"InstanceID":"a"},]}}`, false},
		{"trailing data", `{"Success":true,"Data":{}} x`, false},
		{"bad escape", `{"Success":true,"Data":{"Items":[{"InstanceID":"\x"}]}}`, false},
		{"control character", "{\"Success\":true,\"Data\":{\"Items\":[{\"InstanceID\":\"a\tb\"}]}}", false},
		{"leading zero", `{"Success":true,"Data":{"TotalCount":01}}`, false},
		{"truncated", `{"Success":true,"Data":{"Items":[{"InstanceID":"a"`, false},
		{"not JSON", `<html>502</html>`, false},
		{"empty", ``, false},
		{"deep unknown value", `{"Success":true,"Data":{"X":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fast := checkAgainstEncodingJSON(t, 200, []byte(tt.body))
			if (fast > 0) != tt.fast {
				t.Errorf("the one-pass decoder took %d outs, want it to take some: %v", fast, tt.fast)
			}
			checkAgainstEncodingJSON(t, 400, []byte(tt.body))
		})
	}
}

// TestFastDecodeSkipsUsedOuts: only fresh pages are decoded in one pass; a
// page with a field already set, or rows already held, goes to encoding/json,
// which merges as it always did.
func TestFastDecodeSkipsUsedOuts(t *testing.T) {
	body := []byte(`{"Success":true,"Data":{"TotalCount":1,"Items":[{"InstanceID":"b"}]}}`)
	for _, out := range []*InstanceBillData{
		{AccountID: "set"},
		{Items: []InstanceBillItem{{InstanceID: "a", Region: "r"}}},
	} {
		want := cloneOut(out).(*InstanceBillData)
		want.Items = append([]InstanceBillItem(nil), out.Items...)
		if fastDecodeData(body, out) {
			t.Fatalf("took a used page %+v", out)
		}
		if err := decodeResponse("A", 200, body, out); err != nil {
			t.Fatal(err)
		}
		if err := decodeEnvelope("A", 200, body, want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(out, want) {
			t.Fatalf("got %+v, want %+v", out, want)
		}
	}
	// Room with leftovers is not overwritten in one pass either.
	out := &InstanceBillData{Items: []InstanceBillItem{{InstanceID: "old", Zone: "z"}}[:0]}
	if fastDecodeData(body, out) {
		t.Fatal("decoded over a row left in the reused room")
	}
	if out.Items[:1][0].Zone != "z" {
		t.Fatal("gave up but changed the reused room")
	}
}

func TestFastStructRefusesWhatItCannotMirror(t *testing.T) {
	for _, typ := range []reflect.Type{
		reflect.TypeFor[struct {
			A string `json:"a,string"`
		}](),
		reflect.TypeFor[struct {
			A string `json:"x"`
			B string `json:"X"`
		}](),
		reflect.TypeFor[struct{ A float64 }](),
		reflect.TypeFor[struct{ A *bool }](),
		reflect.TypeFor[struct{ A map[string]string }](),
	} {
		if _, err := newFastStruct(typ); err == nil {
			t.Errorf("%s: accepted", typ)
		}
	}
	st, err := newFastStruct(reflect.TypeFor[struct {
		Amounts
		Name string `json:"-"`
		Kept string
		rest string
	}]())
	if err != nil {
		t.Fatal(err)
	}
	if st.exact["Name"] != nil || st.exact["rest"] != nil || st.exact["Kept"] == nil || st.exact["PretaxAmount"] == nil {
		t.Fatalf("fields %v", st.exact)
	}
}

// FuzzFastDecode: whatever the body, decodeResponse with the one-pass
// decoder gives exactly what encoding/json alone gives.
func FuzzFastDecode(f *testing.F) {
	for _, body := range fullPages(f) {
		f.Add(200, []byte(body))
	}
	for _, body := range []string{seedQueryAccountBill, seedQueryInstanceBill, seedDescribeInstanceBill, seedErrorBody,
		`{"code":"Success","SUCCESS":true,"data":{"items":[{"instanceid":"i","PretaxAmount":"1e-3"}]}}`,
		`{"Success":true,"Data":{"Items":[{"InstanceID":"\ud800\u00e9"}],"Items":[]}}`,
	} {
		f.Add(200, []byte(body))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		checkAgainstEncodingJSON(t, status, body)
	})
}
