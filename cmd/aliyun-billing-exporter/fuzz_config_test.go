package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseConfig: any file either parses into a configuration that
// validates, or fails with an error; it never panics, and an error never
// quotes a secret the file holds.
func FuzzParseConfig(f *testing.F) {
	files, err := filepath.Glob("testdata/config/*.yml")
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed fixtures: %v", err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := parseConfig(data)
		if err != nil {
			if strings.Contains(err.Error(), "example-secret-not-real") || strings.Contains(err.Error(), "SimulatorSecret0000000000000001") {
				t.Fatalf("error quotes a secret: %v", err)
			}
			return
		}
		if len(cfg.Accounts) == 0 {
			t.Fatal("a configuration without accounts validated")
		}
		if err := cfg.validate(); err != nil {
			t.Fatalf("a parsed configuration does not validate again: %v", err)
		}
		if _, err := newBudgetCollector(cfg.Budgets); err != nil {
			t.Fatalf("validated budgets do not build: %v", err)
		}
	})
}
