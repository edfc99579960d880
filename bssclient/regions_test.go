package bssclient

import "testing"

func TestRegionID(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"cn-hangzhou", "cn-hangzhou"},
		{"China (Hangzhou)", "cn-hangzhou"},
		{" China (Hangzhou) ", "cn-hangzhou"},
		{"华东1（杭州）", "cn-hangzhou"},
		{"Singapore", "ap-southeast-1"},
		{"Mars (Olympus Mons)", "Mars (Olympus Mons)"},
		{"", ""},
	} {
		if got := RegionID(tc.in); got != tc.want {
			t.Errorf("RegionID(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRegionNamesRoundTrip(t *testing.T) {
	for id, names := range regionNames {
		for _, name := range names {
			if got := RegionID(name); got != id {
				t.Errorf("RegionID(%q) = %q, want %q", name, got, id)
			}
		}
	}
}
