package collector

import (
	"slices"
	"testing"
)

// focusServiceCategories are the values FOCUS allows for ServiceCategory.
var focusServiceCategories = []string{"AI and Machine Learning", "Analytics", "Business Applications", "Compute", "Databases",
	"Developer Tools", "Multicloud", "Identity", "Integration", "Internet of Things", "Management and Governance", "Media",
	"Migration", "Mobile", "Networking", "Security", "Storage", "Web", "Other"}

func TestServiceCategoriesAreFOCUSValues(t *testing.T) {
	for code, c := range serviceCategories {
		if !slices.Contains(focusServiceCategories, c) {
			t.Errorf("product %s: %q is not a FOCUS ServiceCategory", code, c)
		}
	}
	for code, want := range map[string]string{"ecs": "Compute", "oss": "Storage", "rds": "Databases", "slb": "Networking", "nosuchproduct": "Other"} {
		if got := ServiceCategory(code); got != want {
			t.Errorf("ServiceCategory(%s) = %q, want %q", code, got, want)
		}
	}
}
