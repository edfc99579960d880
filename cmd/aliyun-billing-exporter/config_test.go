package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestGoodConfigFiles(t *testing.T) {
	for _, name := range []string{"good-multi-account.yml", "good-simulator.yml"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata/config", name))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := parseConfig(data); err != nil {
				t.Fatalf("parseConfig: %v", err)
			}
		})
	}
}

func TestGoodConfigFileContents(t *testing.T) {
	data, err := os.ReadFile("testdata/config/good-multi-account.yml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := parseConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Accounts) != 2 || cfg.Accounts[0].Name != "cn-payer" || *cfg.Accounts[0].RateLimit != 8 ||
		cfg.Accounts[1].Site != "international" || cfg.Accounts[1].Credentials.RoleArn != "acs:ram::1234567890123456:role/billing-reader" {
		t.Errorf("accounts decoded as %+v", cfg.Accounts)
	}
	if len(cfg.Budgets) != 3 || cfg.Budgets[1].ProductCode != "ecs" || cfg.Budgets[2].Monthly != "8000.50" || cfg.Budgets[2].OwnerID != "1234567890123457" {
		t.Errorf("budgets decoded as %+v", cfg.Budgets)
	}
}

// Every bad fixture fails with a message that names the field at fault.
func TestBadConfigFiles(t *testing.T) {
	for name, want := range map[string]string{
		"bad-unknown-key.yml":                `line 3: unknown key "sight" in an account`,
		"bad-empty.yml":                      `the file is empty: it needs at least one entry under accounts`,
		"bad-no-accounts.yml":                `accounts: at least one account is needed`,
		"bad-empty-name.yml":                 `accounts[0].name: must not be empty`,
		"bad-duplicate-name.yml":             `accounts[1].name: "a" is used by another account`,
		"bad-bad-site.yml":                   `accounts[0] (a).site: "mars" is not one of china, international`,
		"bad-bad-url.yml":                    `accounts[0] (a).endpoint: "ftp://business.aliyuncs.com": scheme must be http or https`,
		"bad-url-path.yml":                   `accounts[0] (a).endpoint: "https://business.aliyuncs.com/api": BSS is served at /, remove the path "/api"`,
		"bad-zero-rate.yml":                  `accounts[0] (a).rate_limit: must be > 0 and at most 1000 requests per second, got 0`,
		"bad-negative-rate.yml":              `accounts[0] (a).rate_limit: must be > 0 and at most 1000 requests per second, got -1`,
		"bad-bad-signature.yml":              `accounts[0] (a).signature_version: unknown signature version "v2": want v3 or v1`,
		"bad-credentials-type.yml":           `accounts[0] (a).credentials: unknown type "password"; valid types: default, access_key, sts, ecs_ram_role, ram_role_arn, oidc_role_arn, credentials_uri, cli_profile, environment`,
		"bad-credentials-missing-secret.yml": `accounts[0] (a).credentials: type "access_key" needs access_key_secret`,
		"bad-budget-currency.yml":            `budgets[0].currency: "EUR" is not one BSS bills in (CNY, USD, JPY)`,
		"bad-budget-account.yml":             `budgets[0].account: "b" is not a configured account`,
		"bad-budget-amount.yml":              `budgets[0].monthly_amount: "a lot" is not a decimal amount`,
		"bad-budget-negative.yml":            `budgets[0].monthly_amount: must be positive, got -5`,
		"bad-budget-duplicate.yml":           `budgets[1]: a budget for account "a", product_code "", owner_id "" in CNY is already declared`,
		"bad-not-yaml.yml":                   `not valid YAML: line 1: did not find expected ',' or '}'`,
		"bad-bad-type.yml":                   "line 3: `fast` is not a number",
	} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata/config", name))
			if err != nil {
				t.Fatal(err)
			}
			_, err = parseConfig(data)
			if err == nil || err.Error() != want {
				t.Errorf("got error %v\nwant          %s", err, want)
			}
		})
	}
	// Every fixture on disk is covered by one of the two tests above.
	files, _ := filepath.Glob("testdata/config/bad-*.yml")
	if len(files) != 20 {
		t.Errorf("%d bad fixtures on disk, 20 tested: add the new ones to this table", len(files))
	}
}

func TestConfigFilePermissionWarning(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret.yml")
	data, _ := os.ReadFile("testdata/config/good-simulator.yml") // holds an access_key_secret
	for _, tc := range []struct {
		mode    os.FileMode
		tooOpen bool
	}{{0o600, false}, {0o640, true}, {0o604, true}} {
		if err := os.WriteFile(secret, data, tc.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(secret, tc.mode); err != nil {
			t.Fatal(err)
		}
		_, tooOpen, err := loadConfigFile(secret)
		if err != nil || tooOpen != tc.tooOpen {
			t.Errorf("mode %o: tooOpen=%v err=%v, want tooOpen=%v", tc.mode, tooOpen, err, tc.tooOpen)
		}
	}
	// A file without secrets may be world-readable.
	noSecret := filepath.Join(dir, "open.yml")
	if err := os.WriteFile(noSecret, []byte("accounts:\n  - name: a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, tooOpen, err := loadConfigFile(noSecret); err != nil || tooOpen {
		t.Errorf("a file without secrets: tooOpen=%v err=%v", tooOpen, err)
	}
}
