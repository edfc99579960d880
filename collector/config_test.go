package collector

import (
	"testing"
	"time"
)

func TestDefaultConfigIsValid(t *testing.T) {
	cfg := DefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if !cfg.DailySeries || cfg.ExposureDays != 7 || cfg.ConcurrentWalks != 4 || cfg.Instance.MaxInstances != 1000 || cfg.Instance.PerInstance {
		t.Errorf("defaults changed: %+v", cfg)
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Config)
		want   string // "" means valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"no clock", func(c *Config) { c.Now = nil }, "collector config: Now is nil"},
		{"exposure 0", func(c *Config) { c.ExposureDays = 0 }, "exposure days must be between 1 and 62, got 0"},
		{"exposure 1", func(c *Config) { c.ExposureDays = 1 }, ""},
		{"exposure 62", func(c *Config) { c.ExposureDays = 62 }, ""},
		{"exposure 63", func(c *Config) { c.ExposureDays = 63 }, "exposure days must be between 1 and 62, got 63"},
		{"walks 0", func(c *Config) { c.ConcurrentWalks = 0 }, "concurrent walks must be between 1 and 10, got 0"},
		{"walks 10", func(c *Config) { c.ConcurrentWalks = 10 }, ""},
		{"walks 11", func(c *Config) { c.ConcurrentWalks = 11 }, "concurrent walks must be between 1 and 10, got 11"},
		{"cap 0 per instance", func(c *Config) { c.Instance.PerInstance, c.Instance.MaxInstances = true, 0 }, "instance series cap must be at least 1, got 0"},
		{"renewal cap 0", func(c *Config) { c.Renewal.PerInstance, c.Renewal.MaxInstances = true, 0 }, "renewal instance series cap must be at least 1, got 0"},
		{"renewal cap 0 unused", func(c *Config) { c.Renewal.MaxInstances = 0 }, ""},
		{"cap 0 unused", func(c *Config) { c.Instance.MaxInstances = 0 }, ""},
		{"cap 1", func(c *Config) { c.Instance.PerInstance, c.Instance.MaxInstances = true, 1 }, ""},
		{"tag keys", func(c *Config) { c.Instance.TagKeys = []string{"env", "cost_center", "Team2"} }, ""},
		{"tag key with dash", func(c *Config) { c.Instance.TagKeys = []string{"env", "cost-center"} },
			`tag key "cost-center" cannot become a label name: use letters, digits and underscores`},
		// An empty key (a trailing comma in a flag) would be a label "tag_"
		// that no tag can ever fill.
		{"tag key empty", func(c *Config) { c.Instance.TagKeys = []string{"env", ""} },
			`tag key "" cannot become a label name: use letters, digits and underscores`},
		{"tag key with colon", func(c *Config) { c.Instance.TagKeys = []string{"acs:team"} },
			`tag key "acs:team" cannot become a label name: use letters, digits and underscores`},
		{"tag key repeated", func(c *Config) { c.Instance.TagKeys = []string{"env", "team", "env"} }, `tag key "env" is listed twice`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Now = func() time.Time { return time.Time{} }
			tc.change(&cfg)
			err := cfg.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case tc.want != "" && (err == nil || err.Error() != tc.want):
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}
