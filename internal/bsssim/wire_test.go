package bsssim

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestWireTypesMatchTheAPIPagesExamples compares real answers of the
// simulator with the example responses of the API pages
// (testdata/seeds/README.md): every field both show must have the same JSON
// type, and every field either shows must be accounted for.
func TestWireTypesMatchTheAPIPagesExamples(t *testing.T) {
	w, err := NewWorld(WorldConfig{Seed: 7, Owners: 2, InstancesPerOwner: 20, SplitBillEnabled: true})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, w)
	day := dayOf(testBillingNow).AddDays(-5) // instance attributes are in
	for _, tc := range []struct {
		seed   string
		action string
		params url.Values
		// onlySim are fields the simulator writes that the page's example
		// leaves out (they are in the page's parameter table).
		onlySim []string
		// onlySeed are fields of the example the simulator does not model.
		onlySeed []string
	}{
		{
			seed: "queryaccountbill.json", action: actionQueryAccountBill,
			params: vals("BillingCycle", day.Cycle().String(), "Granularity", "DAILY", "BillingDate", day.String(), "IsGroupByProduct", "true"),
			onlySim: []string{"AdjustAmount", "CashAmount", "DeductedByCashCoupons", "DeductedByPrepaidCard",
				"OutstandingAmount", "PaymentAmount", "PretaxAmount"},
		},
		{
			seed: "queryinstancebill.json", action: actionQueryInstanceBill,
			params:   vals("BillingCycle", day.Cycle().String(), "Granularity", "DAILY", "BillingDate", day.String()),
			onlySim:  []string{"BillAccountID", "BillAccountName", "BillingItemCode"},
			onlySeed: []string{"ListPrice", "ListPriceUnit", "Usage", "UsageUnit"},
		},
		{seed: "querybilltoosssubscription.json", action: actionQueryBillToOSSSubscription},
	} {
		t.Run(tc.action, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", "seeds", tc.seed))
			if err != nil {
				t.Fatal(err)
			}
			var seed, sim any
			if err := json.Unmarshal(raw, &seed); err != nil {
				t.Fatal(err)
			}
			r := e.callV3(tc.action, tc.params)
			if err := json.Unmarshal(r.body, &sim); err != nil {
				t.Fatalf("%v: %s", err, r.body)
			}
			var onlySim, onlySeed []string
			compareJSONShapes(t, "", seed, sim, &onlySim, &onlySeed)
			slices.Sort(onlySim)
			slices.Sort(onlySeed)
			if want := sortedCopy(tc.onlySim); !slices.Equal(onlySim, want) {
				t.Errorf("fields the simulator writes beyond the example: %q, want %q", onlySim, want)
			}
			if want := sortedCopy(tc.onlySeed); !slices.Equal(onlySeed, want) {
				t.Errorf("fields of the example the simulator leaves out: %q, want %q", onlySeed, want)
			}
		})
	}
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	if s == nil {
		s = []string{}
	}
	return s
}

// compareJSONShapes walks both documents: objects key by key, arrays by
// their first element. Keys on one side only are collected by name.
func compareJSONShapes(t *testing.T, path string, seed, sim any, onlySim, onlySeed *[]string) {
	t.Helper()
	if *onlySim == nil {
		*onlySim, *onlySeed = []string{}, []string{}
	}
	if kind(seed) != kind(sim) {
		t.Errorf("%s: the page's example has a JSON %s (%v), the simulator writes a %s (%v)", path, kind(seed), seed, kind(sim), sim)
		return
	}
	switch s := seed.(type) {
	case map[string]any:
		m := sim.(map[string]any)
		for k, v := range s {
			if w, ok := m[k]; ok {
				compareJSONShapes(t, path+"."+k, v, w, onlySim, onlySeed)
			} else {
				*onlySeed = append(*onlySeed, k)
			}
		}
		for k := range m {
			if _, ok := s[k]; !ok {
				*onlySim = append(*onlySim, k)
			}
		}
	case []any:
		a := sim.([]any)
		if len(s) == 0 || len(a) == 0 {
			t.Fatalf("%s: an empty array; nothing to compare", path)
		}
		compareJSONShapes(t, path+"[0]", s[0], a[0], onlySim, onlySeed)
	}
}

func kind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}
