package collector

import (
	"maps"
	"testing"
)

func TestParseTags(t *testing.T) {
	cases := []struct {
		in   string
		want map[string]string
	}{
		{"", nil},
		{"key:env value:prod", map[string]string{"env": "prod"}},
		{"key:env value:prod; key:team value:payments", map[string]string{"env": "prod", "team": "payments"}},
		{"key:env value:prod;key:team value:payments;", map[string]string{"env": "prod", "team": "payments"}},
		{"  key:env value:prod  ;  key:team value:data platform ", map[string]string{"env": "prod", "team": "data platform"}},
		// A key without a value is kept with an empty value.
		{"key:costcenter", map[string]string{"costcenter": ""}},
		{"key:costcenter value:", map[string]string{"costcenter": ""}},
		// The value may hold colons; the first " value:" separates.
		{"key:url value:https://example.com", map[string]string{"url": "https://example.com"}},
		// Malformed pairs are skipped, good ones kept.
		{"env:prod; key:team value:payments", map[string]string{"team": "payments"}},
		{"value:prod", map[string]string{}},
		{"key: value:prod", map[string]string{}},
		{";;", map[string]string{}},
		// A repeated key keeps the last value.
		{"key:env value:dev; key:env value:prod", map[string]string{"env": "prod"}},
	}
	for _, tc := range cases {
		got := parseTags(tc.in)
		if !maps.Equal(got, tc.want) || (got == nil) != (tc.want == nil) {
			t.Errorf("parseTags(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
