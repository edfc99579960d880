package dashboards

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// billedCurrencies are the currencies BSS bills in, each with Grafana's
// currency unit.
var billedCurrencies = map[string]string{"CNY": "currencyCNY", "USD": "currencyUSD", "JPY": "currencyJPY"}

// TestMoneyPanelsUseCurrencyUnits: Grafana does not expand variables in a
// unit, so a money panel (its title names ${currency}) carries one override
// per billed currency, matching the series whose display name ends with
// "(<currency>)", and every one of its queries puts ({{currency}}) at the
// end of its legend. Tables cannot, and show a Currency column instead.
func TestMoneyPanelsUseCurrencyUnits(t *testing.T) {
	type override struct {
		Matcher struct {
			ID      string `json:"id"`
			Options string `json:"options"`
		} `json:"matcher"`
		Properties []struct {
			ID    string `json:"id"`
			Value any    `json:"value"`
		} `json:"properties"`
	}
	type panel struct {
		ID          int    `json:"id"`
		Type        string `json:"type"`
		Title       string `json:"title"`
		FieldConfig struct {
			Defaults struct {
				Unit string `json:"unit"`
			} `json:"defaults"`
			Overrides []override `json:"overrides"`
		} `json:"fieldConfig"`
		Targets []struct {
			Expr         string `json:"expr"`
			LegendFormat string `json:"legendFormat"`
		} `json:"targets"`
		Panels []panel `json:"panels"`
	}
	money := 0
	for _, d := range loadDashboards(t) {
		var raw struct {
			Panels []panel `json:"panels"`
		}
		if err := json.Unmarshal(mustRead(t, d.file), &raw); err != nil {
			t.Fatal(err)
		}
		var walk func([]panel)
		walk = func(ps []panel) {
			for _, p := range ps {
				walk(p.Panels)
				if !strings.Contains(p.Title, "${currency}") {
					continue
				}
				money++
				if p.FieldConfig.Defaults.Unit != "locale" {
					t.Errorf("%s panel %d %q: default unit %q, want locale (a plain number) for a currency no override knows", d.file, p.ID, p.Title, p.FieldConfig.Defaults.Unit)
				}
				if p.Type == "table" {
					continue
				}
				units := map[string]string{}
				for _, o := range p.FieldConfig.Overrides {
					if o.Matcher.ID != "byRegexp" {
						continue
					}
					for cur := range billedCurrencies {
						if regexp.MustCompile("^(?:" + o.Matcher.Options + ")$").MatchString("ecs (" + cur + ")") {
							for _, prop := range o.Properties {
								if prop.ID == "unit" {
									units[cur], _ = prop.Value.(string)
								}
							}
						}
					}
				}
				for cur, unit := range billedCurrencies {
					if units[cur] != unit {
						t.Errorf("%s panel %d %q: series in %s get unit %q, want %s", d.file, p.ID, p.Title, cur, units[cur], unit)
					}
				}
				for _, tg := range p.Targets {
					if strings.Contains(tg.Expr, "currency") && !strings.HasSuffix(tg.LegendFormat, "({{currency}})") {
						t.Errorf("%s panel %d %q: legend %q does not end with ({{currency}}), so no unit override matches", d.file, p.ID, p.Title, tg.LegendFormat)
					}
				}
			}
		}
		walk(raw.Panels)
	}
	if money < 20 {
		t.Errorf("found only %d money panels", money)
	}
}
