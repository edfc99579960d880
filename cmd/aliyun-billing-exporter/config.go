package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/collector"
)

// fileConfig is the optional YAML file (--config.file) for organisations with
// more than one payer account, and for budgets. Unknown keys are rejected.
type fileConfig struct {
	Accounts []accountConfig `yaml:"accounts"`
	Budgets  []budgetConfig  `yaml:"budgets"`
}

// accountConfig is one payer account.
type accountConfig struct {
	// Name labels every series of the account (label "account").
	Name string `yaml:"name"`
	// Site is "china" (aliyun.com accounts) or "international"
	// (alibabacloud.com accounts). Endpoint, when set, overrides it.
	Site     string `yaml:"site"`
	Endpoint string `yaml:"endpoint"`
	// RateLimit is this account's request budget per second, shared by all
	// its collectors. BSS allows 10.
	RateLimit        *float64                   `yaml:"rate_limit"`
	SignatureVersion string                     `yaml:"signature_version"`
	Credentials      bssclient.CredentialSource `yaml:"credentials"`
}

// budgetConfig is a monthly budget, exposed as a gauge so that alert rules
// compare spend with it and nobody edits PromQL to change a budget.
type budgetConfig struct {
	Account     string `yaml:"account"`
	ProductCode string `yaml:"product_code"`
	OwnerID     string `yaml:"owner_id"`
	Monthly     string `yaml:"monthly_amount"` // a decimal, kept exact
	Currency    string `yaml:"currency"`
}

// knownCurrencies are those BSS bills in (Currency: CNY, USD, JPY).
var knownCurrencies = map[string]bool{"CNY": true, "USD": true, "JPY": true}

var accountNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`)

// parseConfig decodes and validates a config file's bytes. Errors name the
// field, e.g. `accounts[1].rate_limit: must be > 0, got -1`.
func parseConfig(data []byte) (*fileConfig, error) {
	cfg, err := decodeConfig(data)
	if err != nil {
		return nil, err
	}
	return cfg, cfg.validate()
}

// decodeConfig decodes a config file strictly, without validating it.
func decodeConfig(data []byte) (*fileConfig, error) {
	var cfg fileConfig
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the file is empty: it needs at least one entry under accounts")
		}
		return nil, explainYAMLError(err)
	}
	return &cfg, nil
}

func (c *fileConfig) validate() error {
	if len(c.Accounts) == 0 {
		return errors.New("accounts: at least one account is needed")
	}
	names := map[string]bool{}
	for i, a := range c.Accounts {
		field := fmt.Sprintf("accounts[%d]", i)
		switch {
		case a.Name == "":
			return fmt.Errorf("%s.name: must not be empty", field)
		case !accountNameRE.MatchString(a.Name):
			return fmt.Errorf("%s.name: %q must be 1 to 63 letters, digits, '_', '.' or '-'", field, a.Name)
		case names[a.Name]:
			return fmt.Errorf("%s.name: %q is used by another account", field, a.Name)
		}
		names[a.Name] = true
		field = fmt.Sprintf("accounts[%d] (%s)", i, a.Name)
		if a.Site != "" && a.Site != "china" && a.Site != "international" {
			return fmt.Errorf("%s.site: %q is not one of china, international", field, a.Site)
		}
		if a.Endpoint != "" {
			if err := validateEndpointURL(a.Endpoint); err != nil {
				return fmt.Errorf("%s.endpoint: %w", field, err)
			}
		}
		if a.RateLimit != nil && !(*a.RateLimit > 0 && *a.RateLimit <= 1000) {
			return fmt.Errorf("%s.rate_limit: must be > 0 and at most 1000 requests per second, got %v", field, *a.RateLimit)
		}
		if a.SignatureVersion != "" {
			if _, err := bssclient.ParseSignatureVersion(a.SignatureVersion); err != nil {
				return fmt.Errorf("%s.signature_version: %w", field, err)
			}
		}
		src := a.Credentials
		if src.Type == "" {
			src.Type = "default"
		}
		if err := src.Validate(); err != nil {
			return fmt.Errorf("%s.%w", field, err) // err starts with "credentials: "
		}
	}
	budgets := map[[4]string]bool{}
	for i, b := range c.Budgets {
		field := fmt.Sprintf("budgets[%d]", i)
		key := [4]string{b.Account, b.ProductCode, b.OwnerID, b.Currency}
		switch {
		case budgets[key]:
			return fmt.Errorf("%s: a budget for account %q, product_code %q, owner_id %q in %s is already declared", field, b.Account, b.ProductCode, b.OwnerID, b.Currency)
		case !names[b.Account]:
			return fmt.Errorf("%s.account: %q is not a configured account", field, b.Account)
		case !knownCurrencies[b.Currency]:
			return fmt.Errorf("%s.currency: %q is not one BSS bills in (CNY, USD, JPY)", field, b.Currency)
		}
		amount, err := bssclient.ParseMoney(b.Monthly)
		if err != nil || b.Monthly == "" {
			return fmt.Errorf("%s.monthly_amount: %q is not a decimal amount", field, b.Monthly)
		}
		if amount.Units() <= 0 {
			return fmt.Errorf("%s.monthly_amount: must be positive, got %s", field, b.Monthly)
		}
		budgets[key] = true
	}
	return nil
}

// yamlSections names the config sections behind the Go types yaml.v3 quotes.
var yamlSections = strings.NewReplacer(
	"main.fileConfig", "the top level (accounts, budgets)",
	"main.accountConfig", "an account",
	"main.budgetConfig", "a budget",
	"bssclient.CredentialSource", "credentials",
)

var (
	yamlUnknownFieldRE = regexp.MustCompile(`field (\S+) not found in type (\S+)`)
	yamlWrongTypeRE    = regexp.MustCompile("cannot unmarshal !!(\\w+) `([^`]*)` into (\\S+)")
)

// yamlTypeNames describes the Go types a config value may have to fit.
var yamlTypeNames = map[string]string{
	"float64": "a number", "*float64": "a number", "int64": "a whole number", "string": "text",
	"[]main.accountConfig": "a list of accounts", "[]main.budgetConfig": "a list of budgets",
	"main.fileConfig": "a mapping of accounts and budgets", "main.accountConfig": "an account mapping",
	"main.budgetConfig": "a budget mapping", "bssclient.CredentialSource": "a credentials mapping",
}

// explainYAMLError rewrites yaml.v3's messages, which speak of Go types, into
// the file's own terms: `line 3: unknown key "sight" in an account`.
func explainYAMLError(err error) error {
	var typeErr *yaml.TypeError
	if !errors.As(err, &typeErr) {
		return fmt.Errorf("not valid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	msgs := make([]string, 0, len(typeErr.Errors))
	for _, m := range typeErr.Errors {
		m = yamlUnknownFieldRE.ReplaceAllString(m, `unknown key "$1" in $2`)
		m = yamlWrongTypeRE.ReplaceAllStringFunc(m, func(s string) string {
			sub := yamlWrongTypeRE.FindStringSubmatch(s)
			return fmt.Sprintf("`%s` is not %s", sub[2], yamlTypeNames[sub[3]])
		})
		msgs = append(msgs, yamlSections.Replace(m))
	}
	return errors.New(strings.Join(msgs, "; "))
}

// validateEndpointURL accepts a host name or an http(s) URL without a path.
func validateEndpointURL(s string) error {
	if !strings.Contains(s, "://") {
		if strings.ContainsAny(s, "/ ?#") || s == "" {
			return fmt.Errorf("%q is neither a host name nor an http(s) URL", s)
		}
		return nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q is not a valid URL", s)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q: scheme must be http or https", s)
	}
	if u.Host == "" {
		return fmt.Errorf("%q has no host", s)
	}
	if u.Path != "" && u.Path != "/" {
		return fmt.Errorf("%q: BSS is served at /, remove the path %q", s, u.Path)
	}
	return nil
}

// loadConfigFile reads and decodes the file (the caller validates it once
// the flags have filled in defaults), and reports whether it is readable by
// group or others while it holds a secret, so the caller can warn.
func loadConfigFile(path string) (cfg *fileConfig, tooOpen bool, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, false, err
	}
	cfg, err = decodeConfig(data)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", path, err)
	}
	if st, statErr := os.Stat(path); statErr == nil && st.Mode().Perm()&0o077 != 0 {
		for _, a := range cfg.Accounts {
			if a.Credentials.HasSecret() {
				tooOpen = true
			}
		}
	}
	return cfg, tooOpen, nil
}

// newBudgetCollector turns validated budgets into their gauges.
func newBudgetCollector(budgets []budgetConfig) (*collector.BudgetCollector, error) {
	var out []collector.Budget
	for i, b := range budgets {
		amount, err := bssclient.ParseMoney(b.Monthly)
		if err != nil {
			return nil, fmt.Errorf("budgets[%d].monthly_amount: %w", i, err)
		}
		out = append(out, collector.Budget{Account: b.Account, ProductCode: b.ProductCode, OwnerID: b.OwnerID, Currency: b.Currency, Monthly: amount})
	}
	return collector.NewBudgetCollector(out), nil
}
