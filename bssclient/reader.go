package bssclient

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// The tolerant reader. Real BSS answers vary within what the documentation
// and its examples show: a number where the SDK declares a string, a time
// written "2006-01-02 15:04:05" without a zone (the Chinese reference
// pages use it throughout), null or "" for a field left empty, masked ids
// such as "181****". One value that encoding/json refuses would lose the
// whole answer, so an answer that does not decode strictly is read again
// field by field against the Go types:
//
//   - a needed field (neededFields: amounts, fields that become labels or
//     keys, dates, paging fields) is accepted only where its value is read
//     exactly: a string, or a number's literal text for a string field, or
//     a decimal string for an integer. Anything else fails the page with
//     the action, the field's path and the row index, never the value.
//   - any other field is informational: every representation is accepted,
//     and one that cannot be read becomes the zero value.
//
// Each tolerated surprise is reported to the Client's observer and logged
// once per action and field (Client.unexpected).
//
// Conforming answers decode in one strict encoding/json pass, as before;
// the second pass costs only the answers that need it.

// neededFields is the table of needed fields, as "Type.Field" of the Go
// types the answers decode into. Every Money field is needed too (amounts),
// and so are the containers that hold rows. Every other field is
// informational.
var neededFields = map[string]bool{
	// Paging: a misread page count or token would miss or repeat rows.
	"AccountBillData.PageNum": true, "AccountBillData.PageSize": true, "AccountBillData.TotalCount": true,
	"tokenPaging.NextToken": true, "tokenPaging.TotalCount": true, "tokenPaging.MaxResults": true,
	"flexPaging.PageNum": true, "flexPaging.PageSize": true, "flexPaging.TotalCount": true,
	// The payer, which the saved state belongs to.
	"AccountBillData.AccountID": true,
	// Labels and keys of the bills.
	"AccountBillItem.OwnerID": true, "AccountBillItem.ProductCode": true, "AccountBillItem.PipCode": true,
	"AccountBillItem.SubscriptionType": true, "AccountBillItem.Currency": true, "AccountBillItem.BillingDate": true,
	"InstanceBillItem.OwnerID": true, "InstanceBillItem.ProductCode": true, "InstanceBillItem.PipCode": true,
	"InstanceBillItem.SubscriptionType": true, "InstanceBillItem.Currency": true, "InstanceBillItem.BillingDate": true,
	"InstanceBillItem.InstanceID": true, "InstanceBillItem.Region": true, "InstanceBillItem.Zone": true,
	"InstanceBillItem.ResourceGroup": true, "InstanceBillItem.CostUnit": true, "InstanceBillItem.Tag": true,
	"InstanceBillItem.Item": true, "InstanceBillItem.CommodityCode": true,
	"SplitItemBillItem.OwnerID": true, "SplitItemBillItem.ProductCode": true, "SplitItemBillItem.PipCode": true,
	"SplitItemBillItem.SubscriptionType": true, "SplitItemBillItem.Currency": true, "SplitItemBillItem.BillingDate": true,
	"SplitItemBillItem.InstanceID": true, "SplitItemBillItem.SplitItemID": true, "SplitItemBillItem.SplitItemName": true,
	"SplitItemBillItem.Region": true, "SplitItemBillItem.Item": true, "SplitItemBillItem.BillingItemCode": true,
	"SplitItemBillItem.CommodityCode": true,
	// Names and subscription fields that label info series.
	"AccountBillItem.OwnerName": true, "AccountBillItem.ProductName": true,
	"BillSubscription.SubscribeLanguage": true, "BillSubscription.BucketPath": true, "BillSubscription.BucketOwnerID": true,
	"BillSubscription.RowLimitPerFile": true,
	"AccountBalance.Currency":          true,
	// Commitments: the labels and the times the exporter publishes.
	"ResourcePackageInstance.InstanceID": true, "ResourcePackageInstance.Region": true, "ResourcePackageInstance.PackageType": true,
	"ResourcePackageInstance.CommodityCode": true, "ResourcePackageInstance.Status": true, "ResourcePackageInstance.ExpiryTime": true,
	"ResourcePackageInstance.TotalAmountUnit": true, "ResourcePackageInstance.RemainingAmountUnit": true,
	"SavingsPlanInstance.InstanceID": true, "SavingsPlanInstance.SavingsType": true, "SavingsPlanInstance.InstanceFamily": true,
	"SavingsPlanInstance.Status": true, "SavingsPlanInstance.PayMode": true, "SavingsPlanInstance.Currency": true,
	"SavingsPlanInstance.DeductCycleType": true, "SavingsPlanInstance.EndTimestamp": true,
	"AvailableInstance.InstanceID": true, "AvailableInstance.ProductCode": true, "AvailableInstance.Region": true,
	"AvailableInstance.SubscriptionType": true, "AvailableInstance.Status": true, "AvailableInstance.RenewStatus": true,
	"AvailableInstance.EndTime": true, "AvailableInstance.OwnerID": true,
	"Credit.Status": true, "Credit.ExpiryTime": true,
	"BillSubscription.SubscribeBucket": true, "BillSubscription.SubscribeType": true,
	// Amortized cost: the labels and keys of its series.
	"ProductAmortizedCostItem.BillOwnerID": true, "ProductAmortizedCostItem.ProductCode": true,
	"ProductAmortizedCostItem.SubscriptionType": true, "ProductAmortizedCostItem.AmortizationPeriod": true,
	"ProductAmortizedCostItem.ConsumePeriod": true, "InstanceAmortizedCostItem.InstanceID": true,
	"InstanceAmortizedCostItem.Region": true,
	// The overview: labels of its tax and payable, and the items' keys.
	"BillOverviewItem.ProductCode": true, "BillOverviewItem.PipCode": true, "BillOverviewItem.SubscriptionType": true,
	"BillOverviewItem.Currency": true,
}

// zonelessLayouts are the time forms without a zone that the reference
// pages show. They are read in UTC+8 (BillingZone), the zone BSS bills in:
// INFERRED, as no page names the zone of these strings. A wrong guess is
// fixed here.
var zonelessLayouts = []string{"2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02"}

var (
	moneyType   = reflect.TypeFor[Money]()
	flexIntType = reflect.TypeFor[FlexInt]()
	isoTimeType = reflect.TypeFor[ISOTime]()
)

// tolerantDecode reads data into a T as the comment above says. unexpected
// is told the path of each tolerated field (rows as "[]").
func tolerantDecode[T any](action string, data []byte, unexpected func(field string)) (*T, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // numbers keep their text: exact
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, &ResponseError{Action: action, Code: CodeInvalidResponse, Detail: fmt.Sprintf("decoding Data: %v", err)}
	}
	r := reader{action: action, unexpected: unexpected}
	fixed, err := r.value(tree, reflect.TypeFor[T](), "Data", "Data", true)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(fixed)
	if err != nil {
		return nil, &ResponseError{Action: action, Code: CodeInvalidResponse, Detail: fmt.Sprintf("re-encoding Data: %v", err)}
	}
	out := new(T)
	if err := json.Unmarshal(raw, out); err != nil { // the reader missed a case: fail loudly, as before
		return nil, &ResponseError{Action: action, Code: CodeInvalidResponse, Detail: fmt.Sprintf("decoding Data: %v", err)}
	}
	return out, nil
}

type reader struct {
	action     string
	unexpected func(field string)
}

// fail reports a needed value that cannot be read exactly. It names the
// path and what was there, never the value: an id field may be an account's.
func (r *reader) fail(path, found, want string) error {
	return &ResponseError{Action: r.action, Code: CodeInvalidResponse,
		Detail: fmt.Sprintf("%s is %s, want %s: a needed value that cannot be read exactly", path, found, want)}
}

// unreadable is what becomes of a value v that is not want: the answer
// fails when the value is needed; otherwise the field is reported as a
// surprise and read as tolerated, its empty value.
func (r *reader) unreadable(v any, path, field string, needed bool, want string, tolerated any) (any, error) {
	if needed {
		return nil, r.fail(path, jsonKind(v), want)
	}
	r.surprise(field)
	return tolerated, nil
}

func (r *reader) surprise(field string) {
	if r.unexpected != nil {
		r.unexpected(field)
	}
}

// jsonKind names a decoded JSON value's type for messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "a value"
}

// value returns v made to fit t. path names the value with row indexes
// (for errors), field without them (for the counters).
func (r *reader) value(v any, t reflect.Type, path, field string, needed bool) (any, error) {
	switch t {
	case moneyType:
		return r.money(v, path, field)
	case flexIntType:
		return r.integer(v, path, field, needed, true)
	case isoTimeType:
		return r.isoTime(v, path, field, needed)
	}
	switch t.Kind() {
	case reflect.Pointer:
		return r.value(v, t.Elem(), path, field, needed)
	case reflect.Struct:
		return r.object(v, t, path, field, needed)
	case reflect.Slice:
		return r.array(v, t, path, field, needed)
	case reflect.String:
		return r.text(v, path, field, needed)
	case reflect.Int, reflect.Int32, reflect.Int64:
		return r.integer(v, path, field, needed, false)
	case reflect.Bool:
		return r.boolean(v, path, field, needed)
	}
	return v, nil
}

// object fits a JSON object to struct type t, field by field; an embedded
// struct's fields (Amounts) sit in the same object, as encoding/json reads
// them. Keys t does not have are left for encoding/json to ignore.
func (r *reader) object(v any, t reflect.Type, path, field string, needed bool) (any, error) {
	if v == nil {
		return nil, nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return r.unreadable(v, path, field, needed, "an object", nil)
	}
	if err := r.fields(obj, t, path, field); err != nil {
		return nil, err
	}
	return obj, nil
}

func (r *reader) fields(obj map[string]any, t reflect.Type, path, field string) error {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			// encoding/json reads an embedded struct's exported fields
			// even when its type is unexported (tokenPaging, flexPaging).
			if err := r.fields(obj, f.Type, path, field); err != nil {
				return err
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		key = cmp.Or(key, f.Name)
		if key == "-" {
			continue
		}
		v, present := obj[key]
		if !present {
			continue
		}
		needed := neededFields[t.Name()+"."+f.Name] || isContainer(f.Type)
		fixed, err := r.value(v, f.Type, path+"."+key, field+"."+key, needed)
		if err != nil {
			return err
		}
		obj[key] = fixed
	}
	return nil
}

// isContainer reports a slice or a plain struct that holds a needed value
// (rows, their amounts and labels): it must be what it is declared to be.
// One that holds none (a list of applicable products) is informational.
func isContainer(t reflect.Type) bool { return t != moneyType && holdsNeeded(t) }

// holdsNeeded reports whether a value of t holds a needed field.
func holdsNeeded(t reflect.Type) bool {
	switch t {
	case moneyType:
		return true
	case flexIntType, isoTimeType:
		return false
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice:
		return holdsNeeded(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if neededFields[t.Name()+"."+f.Name] || holdsNeeded(f.Type) {
				return true
			}
		}
	}
	return false
}

func (r *reader) array(v any, t reflect.Type, path, field string, needed bool) (any, error) {
	if v == nil {
		return nil, nil
	}
	arr, ok := v.([]any)
	if !ok {
		return r.unreadable(v, path, field, needed, "an array", nil)
	}
	for i, e := range arr {
		fixed, err := r.value(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), field+"[]", needed)
		if err != nil {
			return nil, err
		}
		arr[i] = fixed
	}
	return arr, nil
}

// text: a string as it is; a number's literal text, exact; null as "". A
// boolean, object or array is no string: a needed one fails, an
// informational one becomes "".
func (r *reader) text(v any, path, field string, needed bool) (any, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		r.surprise(field)
		return x.String(), nil
	case nil:
		r.surprise(field)
		return "", nil
	}
	return r.unreadable(v, path, field, needed, "a string", "")
}

// integer: a JSON integer, or a decimal string of one; "" or null is 0. A
// string is a surprise only where the field's type does not take one
// (FlexInt does).
func (r *reader) integer(v any, path, field string, needed, takesStrings bool) (any, error) {
	text, isString := v.(string)
	switch x := v.(type) {
	case json.Number:
		text = x.String()
	case string:
		text = cmp.Or(strings.TrimSpace(x), "0")
	case nil:
		return nil, nil
	}
	if _, err := strconv.ParseInt(text, 10, 64); err == nil {
		if isString && !takesStrings {
			r.surprise(field)
		}
		return json.Number(text), nil
	}
	return r.unreadable(v, path, field, needed, "an integer", json.Number("0"))
}

func (r *reader) boolean(v any, path, field string, needed bool) (any, error) {
	switch x := v.(type) {
	case bool, nil:
		return x, nil
	case string:
		if b, err := strconv.ParseBool(x); err == nil {
			r.surprise(field)
			return b, nil
		}
	}
	return r.unreadable(v, path, field, needed, "a boolean", false)
}

// money: every amount is needed. Money reads a number or a decimal string
// exactly, and null as 0 (none of them a surprise: the strict pass reads
// them too); anything else fails.
func (r *reader) money(v any, path, field string) (any, error) {
	raw, _ := json.Marshal(v)
	var m Money
	if err := m.UnmarshalJSON(raw); err != nil {
		// An amount holds no id or secret: it is quoted, briefly.
		return nil, r.fail(path, jsonKind(v)+" "+truncateForError(string(raw)), "an amount (a decimal number or string)")
	}
	return v, nil
}

// isoTime: RFC 3339, or a zoneless form read in UTC+8 (zonelessLayouts);
// "" or null is no time.
func (r *reader) isoTime(v any, path, field string, needed bool) (any, error) {
	s, ok := v.(string)
	if v == nil || (ok && s == "") {
		return v, nil
	}
	if ok {
		if _, err := time.Parse(time.RFC3339, s); err == nil {
			return s, nil
		}
		for _, layout := range zonelessLayouts {
			if t, err := time.ParseInLocation(layout, strings.TrimSpace(s), BillingZone); err == nil {
				r.surprise(field)
				return t.UTC().Format(time.RFC3339), nil
			}
		}
	}
	return r.unreadable(v, path, field, needed, "a time (RFC 3339, or 2006-01-02 15:04:05 in UTC+8)", "")
}
