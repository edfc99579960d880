package bssclient

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// A page of QueryAccountBill in forms the reference does not declare: every
// row still decodes, the needed values exactly (an owner ID beyond float64's
// precision, amounts as strings), the informational ones as far as they can
// be read, and each tolerated field is reported once per occurrence.
func TestTolerantReaderKeepsTheAnswer(t *testing.T) {
	body := `{"Code":"Success","Success":true,"RequestId":"R","Data":{
		"AccountID":"1857000000000489","AccountName":12345,"BillingCycle":"2024-06","PageNum":"1","PageSize":300,"TotalCount":2,
		"Items":{"Item":[
			{"OwnerID":1234567890123456789,"ProductCode":"ecs","PipCode":"ecs","SubscriptionType":"PayAsYouGo","Currency":"CNY",
			 "BillingDate":"2024-06-01","BizType":{"x":1},"CostUnit":null,"BillAccountName":true,"BillAccountID":"181****",
			 "PretaxAmount":"12.3456","PaymentAmount":1.5,"PretaxGrossAmount":"20"},
			{"OwnerID":"42","ProductCode":"oss","SubscriptionType":"Subscription","Currency":"CNY","PretaxAmount":0}
		]}}}`
	var got []string
	d, err := decodeResponseReporting[AccountBillData](ActionQueryAccountBill, 200, []byte(body), func(f string) { got = append(got, f) })
	if err != nil {
		t.Fatal(err)
	}
	rows := d.Items.Item
	if len(rows) != 2 || d.PageNum != 1 || d.TotalCount != 2 || d.AccountName != "12345" {
		t.Fatalf("decoded %+v", d)
	}
	r := rows[0]
	if r.OwnerID != "1234567890123456789" || r.PretaxAmount.String() != "12.3456" || r.PaymentAmount.String() != "1.50" ||
		r.PretaxGrossAmount.String() != "20.00" || r.BizType != "" || r.CostUnit != "" || r.BillAccountName != "" || r.BillAccountID != "181****" {
		t.Errorf("row 0: %+v", r)
	}
	if rows[1].OwnerID != "42" || rows[1].ProductCode != "oss" {
		t.Errorf("row 1: %+v", rows[1])
	}
	slices.Sort(got)
	want := []string{"Data.AccountName", "Data.Items.Item[].BillAccountName", "Data.Items.Item[].BizType", "Data.Items.Item[].CostUnit",
		"Data.Items.Item[].OwnerID", "Data.PageNum"}
	if !slices.Equal(got, want) {
		t.Errorf("reported %v\nwant     %v", got, want)
	}
}

// A needed value that cannot be read exactly fails the page, naming the
// action, the field and the row, and quoting no id.
func TestTolerantReaderFailsOnANeededValue(t *testing.T) {
	for _, tc := range []struct {
		name, row, want string
	}{
		{"owner as an object", `"OwnerID":{"id":"1857000000000489"}`, "Data.Items.Item[1].OwnerID is an object, want a string"},
		{"currency as a boolean", `"Currency":true`, "Data.Items.Item[1].Currency is a boolean, want a string"},
		{"amount that is no amount", `"PretaxAmount":"lots"`, `Data.Items.Item[1].PretaxAmount is a string "lots", want an amount`},
	} {
		body := `{"Code":"Success","Success":true,"RequestId":"R9","Data":{"AccountID":"1857000000000489","PageNum":1,"PageSize":300,"TotalCount":2,
			"Items":{"Item":[{"OwnerID":"1","Currency":"CNY"},{` + tc.row + `,"BillAccountName":5}]}}}`
		_, err := decodeResponse[AccountBillData](ActionQueryAccountBill, 200, []byte(body))
		if err == nil || !strings.Contains(err.Error(), "BSS QueryAccountBill") || !strings.Contains(err.Error(), tc.want) ||
			!strings.Contains(err.Error(), "RequestId R9") || strings.Contains(err.Error(), "1857000000000489") {
			t.Errorf("%s: %v\nwant it to name %q and the RequestId, without the id", tc.name, err, tc.want)
		}
	}
	_, err := decodeResponse[AccountBillData](ActionQueryAccountBill, 200, []byte(`{"Code":"Success","Success":true,"Data":{"TotalCount":"many","Items":{"Item":[]}}}`))
	if err == nil || !strings.Contains(err.Error(), "Data.TotalCount is a string, want an integer") {
		t.Errorf("a paging field that is no integer: %v", err)
	}
}

// Times without a zone are read in UTC+8; an informational time that is no
// time, and an informational integer that is none, become zero.
func TestTolerantReaderTimes(t *testing.T) {
	body := `{"Code":"Success","Success":true,"Data":{"PageNum":1,"PageSize":20,"TotalCount":1,"InstanceList":[
		{"InstanceID":"i-1","EndTime":"2024-07-01 08:00:00","CreateTime":"yesterday","RenewalDuration":"one","OwnerId":"123"}]}}`
	var got []string
	d, err := decodeResponseReporting[AvailableInstancesData](ActionQueryAvailableInstances, 200, []byte(body), func(f string) { got = append(got, f) })
	if err != nil {
		t.Fatal(err)
	}
	in := d.InstanceList[0]
	if want := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC); !in.EndTime.Equal(want) {
		t.Errorf("EndTime %s, want %s (08:00 UTC+8)", in.EndTime.Time, want)
	}
	if !in.CreateTime.IsZero() || in.RenewalDuration != 0 || in.OwnerID != "123" {
		t.Errorf("decoded %+v", in)
	}
	if len(got) != 3 {
		t.Errorf("reported %v, want EndTime, CreateTime and RenewalDuration (IDText reads \"123\" itself)", got)
	}
	_, err = decodeResponse[AvailableInstancesData](ActionQueryAvailableInstances, 200, []byte(strings.Replace(body, "2024-07-01 08:00:00", "soon", 1)))
	if err == nil || !strings.Contains(err.Error(), "Data.InstanceList[0].EndTime is a string, want a time") {
		t.Errorf("a needed time that is no time: %v", err)
	}
}

type unexpectedRecorder struct {
	recorder
	mu     sync.Mutex
	fields []string
}

func (u *unexpectedRecorder) UnexpectedValue(action, field string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.fields = append(u.fields, action+" "+field)
}

// The client tells its observer every tolerated value, and logs each
// action and field once, without the value.
func TestClientReportsUnexpectedValues(t *testing.T) {
	page := okReply(`{"AccountID":"1857000000000489","Items":{"Item":[{"SubscribeBucket":"bills","SubscribeType":"BillingItemDetailForBillingPeriod",
		"BucketOwnerId":"1857000000000489","SubscribeLanguage":7,"RowLimitPerFile":""}]}}`)
	srv := newFakeBSS(t, page)
	obs := &unexpectedRecorder{}
	logs := &logBuffer{}
	c := newTestClient(t, srv, func(cfg *Config) { cfg.Observer = obs; cfg.Logger = logs.logger() })
	for range 2 {
		subs, err := c.QueryBillToOSSSubscription(context.Background())
		if err != nil || len(subs) != 1 || subs[0].SubscribeBucket != "bills" || subs[0].BucketOwnerID != 1857000000000489 || subs[0].SubscribeLanguage != "7" {
			t.Fatalf("%+v, %v", subs, err)
		}
	}
	want := []string{"QueryBillToOSSSubscription Data.Items.Item[].BucketOwnerId", "QueryBillToOSSSubscription Data.Items.Item[].RowLimitPerFile",
		"QueryBillToOSSSubscription Data.Items.Item[].SubscribeLanguage"}
	slices.Sort(obs.fields)
	if got := slices.Compact(slices.Clone(obs.fields)); len(obs.fields) != 6 || !slices.Equal(got, want) {
		t.Errorf("observed %v, want %v twice", obs.fields, want)
	}
	var text []string
	for _, l := range logs.lines() {
		if strings.Contains(l, "form its reference does not declare") {
			text = append(text, l)
		}
	}
	if len(text) != 3 {
		t.Errorf("%d log lines, want one per action and field (3):\n%s", len(text), strings.Join(text, "\n"))
	}
	if strings.Contains(strings.Join(text, "\n"), "1857000000000489") {
		t.Errorf("the log quotes a value:\n%s", strings.Join(text, "\n"))
	}
}
