package bssclient

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseMoney checks, for any text: ParseMoney never panics; an accepted
// amount prints canonically and parses back to itself; and ParseMoney agrees
// with the JSON decoder both on the text as a JSON number and on the text
// wrapped in a JSON string (QueryAccountBalance's form).
func FuzzParseMoney(f *testing.F) {
	for _, seed := range []string{
		// Values as the API pages' examples write them.
		"0", "100", "10", "10000.00", "0.1", "40.000", "NULL", "", "CNY", "元",
		"300000", "1369168081849304", "2019-10-30 15:40:11", "2020-03", "CPU:12",
		// Shapes a float32-typed gateway or a spreadsheet may write.
		"12.34", "-0.5", "0.00000001", "1.2E-5", "1e3", "+3", ".5", "007.50",
		"1,234.50", "1,2", "0.123456789", "0.123456780",
		"92233720368.54775807", "-92233720368.54775808", "92233720368.54775808",
		"1e99999999999999999999", "0e-99999999999999999999", "1e-50",
		"abc", "1.2.3", "1e", "--1", "0x10", "NaN", "Infinity", `"10000.00"`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMoney(s)
		if err != nil {
			if !m.IsZero() {
				t.Errorf("ParseMoney(%q) returned %d units with error %v", s, m.Units(), err)
			}
			if !strings.HasPrefix(err.Error(), "invalid amount ") {
				t.Errorf("ParseMoney(%q) error %q does not name the problem", s, err)
			}
		} else {
			text := m.String()
			back, err := ParseMoney(text)
			if err != nil || back != m {
				t.Errorf("ParseMoney(%q) = %s, which parses back as %d units, %v", s, text, back.Units(), err)
			}
			if back.String() != text {
				t.Errorf("String() not canonical: %q then %q", text, back.String())
			}
			if want, _ := strconv.ParseFloat(text, 64); m.Float64() != want {
				t.Errorf("%s.Float64() = %v, want %v", text, m.Float64(), want)
			}
		}

		// As a JSON number, the way bill APIs send amounts. The decoder hands
		// UnmarshalJSON the literal only, so compare on valid JSON numbers.
		trimmed := strings.TrimSpace(s)
		if json.Valid([]byte(s)) && trimmed != "" && (trimmed[0] == '-' || trimmed[0] >= '0' && trimmed[0] <= '9') {
			var fromJSON Money
			jsonErr := json.Unmarshal([]byte(s), &fromJSON)
			if (jsonErr == nil) != (err == nil) || fromJSON != m {
				t.Errorf("JSON number %q decodes to %d units, %v; ParseMoney gives %d units, %v", s, fromJSON.Units(), jsonErr, m.Units(), err)
			}
		}

		// As a JSON string, the way QueryAccountBalance sends amounts.
		if utf8.ValidString(s) { // json.Marshal would replace invalid bytes
			quoted, merr := json.Marshal(s)
			if merr != nil {
				t.Fatal(merr)
			}
			var fromString Money
			strErr := fromString.UnmarshalJSON(quoted)
			if (strErr == nil) != (err == nil) || fromString != m {
				t.Errorf("JSON string %s decodes to %d units, %v; ParseMoney gives %d units, %v", quoted, fromString.Units(), strErr, m.Units(), err)
			}
			if strErr != nil && err != nil && strErr.Error() != err.Error() {
				t.Errorf("JSON string %s error %q, ParseMoney error %q", quoted, strErr, err)
			}
		}
	})
}
