package bssclient

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// corpusDecoders decodes a documented answer of each action the corpus
// holds into the type the client uses for it.
var corpusDecoders = map[string]func([]byte, func(string)) (any, error){
	ActionQueryAccountBill:                  corpusDecode[AccountBillData](ActionQueryAccountBill),
	ActionDescribeInstanceBill:              corpusDecode[InstanceBillData](ActionDescribeInstanceBill),
	ActionDescribeSplitItemBill:             corpusDecode[SplitItemBillData](ActionDescribeSplitItemBill),
	ActionQueryBillToOSSSubscription:        corpusDecode[BillSubscriptionData](ActionQueryBillToOSSSubscription),
	ActionQueryAccountBalance:               corpusDecode[AccountBalance](ActionQueryAccountBalance),
	ActionQueryCashCoupons:                  corpusDecode[CashCouponsData](ActionQueryCashCoupons),
	ActionQueryPrepaidCards:                 corpusDecode[PrepaidCardsData](ActionQueryPrepaidCards),
	ActionDescribeResourceUsageTotal:        corpusDecode[ResourceUsageTotal](ActionDescribeResourceUsageTotal),
	ActionDescribeSavingsPlansCoverageTotal: corpusDecode[SavingsPlansCoverageTotal](ActionDescribeSavingsPlansCoverageTotal),
	ActionQueryAvailableInstances:           corpusDecode[AvailableInstancesData](ActionQueryAvailableInstances),
	ActionDescribeSavingsPlansUsageTotal:    corpusDecode[SavingsPlansUsageTotal](ActionDescribeSavingsPlansUsageTotal),
	ActionDescribeResourceCoverageTotal:     corpusDecode[ResourceCoverageTotal](ActionDescribeResourceCoverageTotal),
	ActionQueryResourcePackageInstances:     corpusDecode[ResourcePackageData](ActionQueryResourcePackageInstances),
	ActionQuerySavingsPlansInstance:         corpusDecode[SavingsPlansInstanceData](ActionQuerySavingsPlansInstance),
	ActionDescribeProductAmortizedCost:      corpusDecode[ProductAmortizedCostData](ActionDescribeProductAmortizedCost),
	ActionQueryBillOverview:                 corpusDecode[BillOverviewData](ActionQueryBillOverview),
}

func corpusDecode[T any](action string) func([]byte, func(string)) (any, error) {
	return func(body []byte, unexpected func(string)) (any, error) {
		return decodeResponseReporting[T](action, 200, body, unexpected)
	}
}

// TestCorpusOfDocumentedAnswers decodes every answer Alibaba's API
// reference pages show (testdata/corpus, sources in its README) and checks
// each needed value the exporter exposes (amounts, labels, keys, dates,
// paging fields, times) against the JSON's own text, exactly.
func TestCorpusOfDocumentedAnswers(t *testing.T) {
	files, err := filepath.Glob("testdata/corpus/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	readme, err := os.ReadFile("testdata/corpus/README.md")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			if !bytes.Contains(readme, []byte("`"+name+"`")) {
				t.Errorf("%s has no source in testdata/corpus/README.md", name)
			}
			action, _, _ := strings.Cut(name, ".")
			decode, ok := corpusDecoders[action]
			if !ok {
				t.Fatalf("no decoder for action %s", action)
			}
			seen[action] = true
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(name, ".invalid.json") {
				// A documented fragment, `"Data": {...},`: the envelope it
				// leaves out is added around it, its text is left as it is.
				body = append(append([]byte(`{"Code":"Success","Success":true,`), bytes.TrimSuffix(bytes.TrimSpace(body), []byte(","))...), '}')
			}
			var tolerated []string
			got, err := decode(body, func(field string) { tolerated = append(tolerated, field) })
			if err != nil {
				t.Fatalf("a documented answer does not decode: %v", err)
			}
			if len(tolerated) > 0 {
				t.Logf("read with the tolerant reader: %v", tolerated)
			}
			var env struct{ Data json.RawMessage }
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.UseNumber()
			if err := dec.Decode(&env); err != nil {
				t.Fatal(err)
			}
			var tree any
			dec = json.NewDecoder(bytes.NewReader(env.Data))
			dec.UseNumber()
			if err := dec.Decode(&tree); err != nil {
				t.Fatal(err)
			}
			compareExposed(t, "Data", tree, reflect.ValueOf(got).Elem(), true)
		})
	}
	for action := range corpusDecoders {
		if !seen[action] {
			t.Errorf("no documented answer of %s in testdata/corpus", action)
		}
	}
}

// compareExposed walks the JSON tree beside the decoded value and checks
// every needed field (neededFields, amounts) against the JSON's text.
func compareExposed(t *testing.T, path string, raw any, v reflect.Value, needed bool) {
	t.Helper()
	switch v.Type() {
	case moneyType:
		want := Money{}
		switch x := raw.(type) {
		case json.Number:
			want = MustParseMoney(x.String())
		case string:
			var err error
			if want, err = ParseMoney(x); err != nil {
				t.Errorf("%s: %q is not an amount: %v", path, x, err)
				return
			}
		}
		if got := v.Interface().(Money); got != want {
			t.Errorf("%s: decoded %s, the JSON says %v", path, got, raw)
		}
		return
	case isoTimeType:
		s, _ := raw.(string)
		got := v.Interface().(ISOTime).Time
		want, err := time.Parse(time.RFC3339, s)
		if err != nil {
			want, err = time.ParseInLocation("2006-01-02 15:04:05", s, BillingZone)
		}
		if needed && (err != nil || !got.Equal(want)) {
			t.Errorf("%s: decoded %s, the JSON says %q", path, got, s)
		}
		return
	case flexIntType:
		if needed {
			text := strings.Trim(toText(raw), `"`)
			if n, _ := strconv.ParseInt(text, 10, 64); FlexInt(n) != v.Interface().(FlexInt) {
				t.Errorf("%s: decoded %d, the JSON says %v", path, v.Interface(), raw)
			}
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		obj, _ := raw.(map[string]any)
		compareFields(t, path, obj, v)
	case reflect.Slice:
		arr, _ := raw.([]any)
		if v.Len() != len(arr) {
			t.Errorf("%s: %d rows decoded, the JSON has %d", path, v.Len(), len(arr))
			return
		}
		for i := range arr {
			compareExposed(t, path+"["+strconv.Itoa(i)+"]", arr[i], v.Index(i), true)
		}
	case reflect.String:
		if needed && raw != nil && v.String() != toText(raw) {
			t.Errorf("%s: decoded %q, the JSON says %v", path, v.String(), raw)
		}
	case reflect.Int, reflect.Int64:
		if needed && raw != nil && strconv.FormatInt(v.Int(), 10) != strings.Trim(toText(raw), `"`) {
			t.Errorf("%s: decoded %d, the JSON says %v", path, v.Int(), raw)
		}
	}
}

func compareFields(t *testing.T, path string, obj map[string]any, v reflect.Value) {
	t.Helper()
	typ := v.Type()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			compareFields(t, path, obj, v.Field(i))
			continue
		}
		key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		raw, ok := obj[key]
		if !ok {
			continue
		}
		compareExposed(t, path+"."+key, raw, v.Field(i), neededFields[typ.Name()+"."+f.Name] || isContainer(f.Type))
	}
}

// toText is a JSON scalar's text: a string's content, a number's literal.
func toText(raw any) string {
	switch x := raw.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	}
	b, _ := json.Marshal(raw)
	return string(b)
}
