package main

import (
	"fmt"
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
			for _, secret := range secretValues(data) {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error quotes the secret %q: %v", secret, err)
				}
			}
			return
		}
		if len(cfg.Accounts) == 0 {
			t.Fatal("a configuration without accounts validated")
		}
		if err := cfg.validate(); err != nil {
			t.Fatalf("a parsed configuration does not validate again: %v", err)
		}
		if got := len(cfg.budgets()); got != len(cfg.Budgets) {
			t.Fatalf("%d validated budgets built %d gauges", len(cfg.Budgets), got)
		}
	})
}

// secretValues returns the values of the secret fields of a file that
// decodes, leaving out values short enough to occur by chance and values that
// also stand in a field that is not secret (an error may quote those).
func secretValues(data []byte) []string {
	cfg, err := decodeConfig(data)
	if err != nil {
		return nil
	}
	var public strings.Builder
	for _, a := range cfg.Accounts {
		c := a.Credentials
		fmt.Fprintln(&public, a.Name, a.Site, a.Endpoint, a.SignatureVersion, c.Type, c.AccessKeyID, c.ProfileName,
			c.RoleArn, c.RoleSessionName, c.RoleName, c.OIDCProviderArn, c.OIDCTokenFile, c.CredentialsURI, c.STSEndpoint)
	}
	for _, b := range cfg.Budgets {
		fmt.Fprintln(&public, b.Account, b.ProductCode, b.OwnerID, b.Monthly, b.Currency)
	}
	var out []string
	for _, a := range cfg.Accounts {
		for _, s := range []string{a.Credentials.AccessKeySecret, a.Credentials.SecurityToken} {
			if len(s) >= 8 && !strings.Contains(public.String(), s) {
				out = append(out, s)
			}
		}
	}
	return out
}
