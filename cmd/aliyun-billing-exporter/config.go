package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/collector"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/flagvalue"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/remotewrite"
)

// fileConfig is the optional YAML file (--config.file) for organisations with
// more than one payer account, and for budgets. Unknown keys are rejected.
type fileConfig struct {
	Accounts    []accountConfig        `yaml:"accounts"`
	Budgets     []budgetConfig         `yaml:"budgets"`
	RemoteWrite []remotewrite.Receiver `yaml:"remote_write"`
}

// accountConfig is one payer account.
type accountConfig struct {
	// Name labels every series of the account (label "account").
	Name string `yaml:"name"`
	// Site is "china" (aliyun.com accounts) or "international"
	// (alibabacloud.com accounts). Endpoint, when set, overrides it.
	Site     string `yaml:"site"`
	Endpoint string `yaml:"endpoint"`
	// Currency the account bills in, when known; budgets of the account
	// must use it.
	Currency string `yaml:"currency"`
	// RateLimit is this account's request budget per second, shared by all
	// its collectors. BSS allows 10.
	RateLimit        *float64                   `yaml:"rate_limit"`
	SignatureVersion string                     `yaml:"signature_version"`
	Credentials      bssclient.CredentialSource `yaml:"credentials"`
	// BillFiles locates the bucket the account's bill subscriptions push
	// to; unset, --bill-files.region and --bill-files.endpoint apply.
	BillFiles billFilesConfig `yaml:"bill_files"`
}

// billFilesConfig is where an account's bill files are read: the bucket's
// region, and an endpoint that replaces the region's public one.
type billFilesConfig struct {
	Region   string `yaml:"region"`
	Endpoint string `yaml:"endpoint"`
}

// checkBillFilesLocation accepts what bssclient.NewOSSReader accepts; an
// endpoint needs the region, which OSS signatures name.
func checkBillFilesLocation(region, endpoint string) error {
	switch {
	case region == "" && endpoint != "":
		return fmt.Errorf("an endpoint needs the bucket's region too: OSS signatures name it")
	case region == "":
		return nil
	}
	return bssclient.CheckOSSLocation(region, endpoint)
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

// maxAccounts is the ceiling on accounts per process. Each account runs one
// goroutine per collector and holds its snapshots in memory (about 0.5 MB
// and 20 goroutines an account were measured at 2,000 accounts); beyond
// this, run several exporters, each with its own --config.file listing a
// share of the accounts (docs/configuration.md, "Configuration file").
const maxAccounts = 100

// knownCurrencies are those BSS bills in (Currency: CNY, USD, JPY), see
// https://www.alibabacloud.com/help/en/boa/latest/api-bssopenapi-2017-12-14-queryaccountbill
var knownCurrencies = map[string]bool{"CNY": true, "USD": true, "JPY": true}

// siteCurrency is the currency an account of the site bills in, where the
// site alone says so. INFERRED: China-site (aliyun.com) accounts bill in
// CNY; international accounts bill in USD or JPY, so the site does not say.
var siteCurrency = map[string]string{"china": "CNY"}

var sites = []string{"china", "international"}

var accountNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`)

// The shapes a budget's scope must have to match any series: BSS product
// codes are lower case ("ecs", "oss", "yundun_waf"), as QueryAccountBill
// returns them in ProductCode
// (https://www.alibabacloud.com/help/en/boa/latest/api-bssopenapi-2017-12-14-queryaccountbill),
// and owner IDs are account IDs, digits only.
var (
	productCodeRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)
	ownerIDRE     = regexp.MustCompile(`^[0-9]{1,20}$`)
)

// decodeConfig decodes a config file strictly, without validating it:
// unknown keys and a second YAML document are errors. yaml.v3's own
// messages (with their line numbers) are passed through.
func decodeConfig(data []byte) (*fileConfig, error) {
	var cfg fileConfig
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the file is empty: it needs at least one entry under accounts")
		}
		var typeErr *yaml.TypeError
		if errors.As(err, &typeErr) {
			return nil, errors.New(strings.Join(withFieldPaths(data, typeErr.Errors), "; "))
		}
		return nil, err
	}
	// A second document would be ignored silently, and with it whatever
	// the operator meant by it.
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, err
	default:
		return nil, fmt.Errorf("line %d: a second YAML document; the file must hold exactly one (remove the ---)", next.Line)
	}
	return &cfg, nil
}

// withFieldPaths adds the field path to each of yaml.v3's messages, which
// name the line but not the field: "line 3: cannot unmarshal !!str `fast`
// into float64" becomes "line 3: accounts[0].rate_limit: cannot ...". The
// messages themselves pass through unchanged.
func withFieldPaths(data []byte, msgs []string) []string {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil {
		return msgs
	}
	paths := map[int]string{} // line -> the field whose key or value starts there
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := n.Content[i].Value
				if path != "" {
					p = path + "." + p
				}
				if _, seen := paths[n.Content[i].Line]; !seen {
					paths[n.Content[i].Line] = p
				}
				walk(n.Content[i+1], p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
	walk(&doc, "")
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m
		var line int
		if _, err := fmt.Sscanf(m, "line %d:", &line); err != nil {
			continue
		}
		if p, ok := paths[line]; ok {
			prefix := fmt.Sprintf("line %d: ", line)
			out[i] = prefix + p + ": " + strings.TrimPrefix(m, prefix)
		}
	}
	return out
}

// validate checks the file on its own; Load then fills what accounts omit
// from the flags. Errors name the field, e.g.
// `accounts[1] (b).rate_limit: must be between 0.1 and 1000 …, got -1`.
func (c *fileConfig) validate() error {
	if len(c.Accounts) == 0 {
		return errors.New("accounts: at least one account is needed")
	}
	if len(c.Accounts) > maxAccounts {
		return fmt.Errorf("accounts: %d accounts, at most %d per process: run one exporter per share of the accounts, each with its own --config.file", len(c.Accounts), maxAccounts)
	}
	names := map[string]bool{}
	for i, a := range c.Accounts {
		field := fmt.Sprintf("accounts[%d]", i)
		switch {
		case a.Name == "":
			return fmt.Errorf("%s.name: must not be empty", field)
		case !accountNameRE.MatchString(a.Name):
			return fmt.Errorf("%s.name: %s must be 1 to 63 letters, digits, '_', '.' or '-'", field, bssclient.Quote(a.Name))
		case names[a.Name]:
			return fmt.Errorf("%s.name: %q is used by another account", field, a.Name)
		}
		names[a.Name] = true
		field = fmt.Sprintf("accounts[%d] (%s)", i, a.Name)
		if a.Site != "" {
			if _, err := flagvalue.OneOf(sites...)(a.Site); err != nil {
				return fmt.Errorf("%s.site: %s %w", field, bssclient.Quote(a.Site), err)
			}
		}
		if a.Endpoint != "" {
			if _, err := bssclient.ParseEndpoint(a.Endpoint); err != nil {
				return fmt.Errorf("%s.endpoint: %w", field, err)
			}
		}
		if a.Currency != "" && !knownCurrencies[a.Currency] {
			return fmt.Errorf("%s.currency: %s is not one BSS bills in (CNY, USD, JPY)", field, bssclient.Quote(a.Currency))
		}
		if a.RateLimit != nil {
			if err := checkRateLimit(*a.RateLimit); err != nil {
				return fmt.Errorf("%s.rate_limit: %w", field, err)
			}
		}
		if a.SignatureVersion != "" {
			if _, err := parseSignatureVersion(a.SignatureVersion); err != nil {
				return fmt.Errorf("%s.signature_version: %s %w", field, bssclient.Quote(a.SignatureVersion), err)
			}
		}
		if err := checkBillFilesLocation(a.BillFiles.Region, a.BillFiles.Endpoint); err != nil {
			return fmt.Errorf("%s.bill_files: %w", field, err)
		}
		src := a.Credentials
		if src.Type == "" {
			src.Type = "default"
		}
		if err := src.Validate(); err != nil {
			return fmt.Errorf("%s.%w", field, err) // err starts with "credentials: "
		}
	}
	return c.validateBudgets(names)
}

// validateBudgets checks the budgets against the accounts named, and each
// scope for the shape that can match a series.
func (c *fileConfig) validateBudgets(accounts map[string]bool) error {
	budgets := map[[4]string]bool{}
	for i, b := range c.Budgets {
		field := fmt.Sprintf("budgets[%d]", i)
		key := [4]string{b.Account, b.ProductCode, b.OwnerID, b.Currency}
		switch {
		case budgets[key]:
			return fmt.Errorf("%s: a budget for account %s, product_code %s, owner_id %s in %s is already declared", field, bssclient.Quote(b.Account), bssclient.Quote(b.ProductCode), bssclient.Quote(b.OwnerID), bssclient.Quote(b.Currency))
		case !accounts[b.Account]:
			return fmt.Errorf("%s.account: %s is not a configured account", field, bssclient.Quote(b.Account))
		case !knownCurrencies[b.Currency]:
			return fmt.Errorf("%s.currency: %s is not one BSS bills in (CNY, USD, JPY)", field, bssclient.Quote(b.Currency))
		}
		if err := checkBudgetScope(b.ProductCode, b.OwnerID); err != nil {
			return fmt.Errorf("%s.%w", field, err)
		}
		if _, err := parseAmount(b.Monthly); err != nil {
			return fmt.Errorf("%s.monthly_amount: %w", field, err)
		}
		budgets[key] = true
	}
	return nil
}

// checkBudgetScope refuses a product code or owner ID that no series can
// carry; errors start with the field's name.
func checkBudgetScope(productCode, ownerID string) error {
	switch {
	case productCode != "" && productCodeRE.MatchString(strings.ToLower(productCode)) && !productCodeRE.MatchString(productCode):
		return fmt.Errorf("product_code: %s: BSS product codes are lower case; write %s", bssclient.Quote(productCode), bssclient.Quote(strings.ToLower(productCode)))
	case productCode != "" && !productCodeRE.MatchString(productCode):
		return fmt.Errorf("product_code: %s is not a BSS product code (lower-case letters, digits, '_', '.' or '-', such as \"ecs\")", bssclient.Quote(productCode))
	case ownerID != "" && !ownerIDRE.MatchString(ownerID):
		return fmt.Errorf("owner_id: %s is not an account ID (digits only)", bssclient.Quote(ownerID))
	}
	return nil
}

// amountRE is the one form a budget amount takes: digits, optionally a
// point and up to MoneyScale decimals.
var (
	amountRE    = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)
	exponentRE  = regexp.MustCompile(`^[0-9.]+[eE][+-]?[0-9]+$`)
	thousandsRE = regexp.MustCompile(`^[0-9]{1,3}([,_' ][0-9]{3})+(\.[0-9]+)?$`)
)

// parseAmount parses a budget amount, saying why one is refused. Thousands
// separators and exponents are refused rather than guessed at: "1,000" is
// 1000 in one locale and 1 in another.
func parseAmount(s string) (bssclient.Money, error) {
	const forms = `write a plain decimal such as "1200" or "1200.50"`
	t := strings.TrimSpace(s)
	switch {
	case t == "":
		return bssclient.Money{}, fmt.Errorf("is empty; %s", forms)
	case strings.HasPrefix(t, "-"):
		return bssclient.Money{}, fmt.Errorf("must be positive, got %s", bssclient.Quote(s))
	case thousandsRE.MatchString(t):
		return bssclient.Money{}, fmt.Errorf("%s has a thousands separator; %s", bssclient.Quote(s), forms)
	case exponentRE.MatchString(t):
		return bssclient.Money{}, fmt.Errorf("%s has an exponent; %s", bssclient.Quote(s), forms)
	case !amountRE.MatchString(t):
		return bssclient.Money{}, fmt.Errorf("%s is not a decimal amount; %s", bssclient.Quote(s), forms)
	}
	if _, frac, ok := strings.Cut(t, "."); ok && len(frac) > bssclient.MoneyScale {
		return bssclient.Money{}, fmt.Errorf("%s has %d decimal places; at most %d are kept", bssclient.Quote(s), len(frac), bssclient.MoneyScale)
	}
	m, err := bssclient.ParseMoney(t)
	if err != nil {
		return bssclient.Money{}, fmt.Errorf("%s is too large", bssclient.Quote(s))
	}
	if m.Units() <= 0 {
		return bssclient.Money{}, fmt.Errorf("must be positive, got %s", bssclient.Quote(s))
	}
	return m, nil
}

// Rate limits an account may have. Below the minimum a refresh of one
// month takes hours and the exporter seems never to become ready; BSS
// itself allows 10 per second (the simulator may allow more).
const (
	minRateLimit = 0.1
	maxRateLimit = 1000
)

// checkRateLimit is the one check of a rate limit, from a flag or a file.
func checkRateLimit(r float64) error {
	if !(r >= minRateLimit && r <= maxRateLimit) {
		return fmt.Errorf("must be between %v and %v requests per second (BSS allows 10), got %v", minRateLimit, maxRateLimit, r)
	}
	return nil
}

// parseSignatureVersion is the one parse of a signature version, from a
// flag or a file.
func parseSignatureVersion(s string) (bssclient.SignatureVersion, error) {
	if _, err := flagvalue.OneOf("v3", "v1")(s); err != nil {
		return 0, err
	}
	return bssclient.ParseSignatureVersion(s)
}

// checkListenAddress accepts what exporter-toolkit can listen on: host:port
// with a port, or vsock://:port.
func checkListenAddress(a string) error {
	if strings.HasPrefix(a, "vsock://") {
		u, err := url.Parse(a)
		if err == nil {
			_, port, err := net.SplitHostPort(u.Host)
			if _, perr := strconv.ParseUint(port, 10, 32); err == nil && perr == nil {
				return nil
			}
		}
		return fmt.Errorf("%s is not vsock://:PORT", bssclient.Quote(a))
	}
	host, port, err := net.SplitHostPort(a)
	if err != nil || port == "" {
		return fmt.Errorf("%s is not HOST:PORT such as :9848 or 127.0.0.1:9848", bssclient.Quote(a))
	}
	if strings.ContainsAny(host, " /") {
		return fmt.Errorf("%s: %s is not a host", bssclient.Quote(a), bssclient.Quote(host))
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		if _, err := net.LookupPort("tcp", port); err != nil {
			return fmt.Errorf("%s: port %s is neither a number up to 65535 nor a service name", bssclient.Quote(a), bssclient.Quote(port))
		}
	}
	return nil
}

// maxConfigBytes caps what is read of --config.file and --web.config.file:
// a config with the most accounts and budgets is a few tens of KiB.
const maxConfigBytes = 4 << 20

// holdsCredentials reports whether the file holds any credential-bearing
// field: an AccessKey, a token, or a credentials URI (which may carry a
// password or token of its own).
func (c *fileConfig) holdsCredentials() bool {
	for _, a := range c.Accounts {
		s := a.Credentials
		if s.HasSecret() || s.AccessKeyID != "" || s.CredentialsURI != "" {
			return true
		}
	}
	return false
}

// tooOpen reports whether path is readable by group or others.
func tooOpen(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().Perm()&0o077 != 0
}

// budgets converts validated budgets.
func (c *fileConfig) budgets() []collector.Budget {
	var out []collector.Budget
	for _, b := range c.Budgets {
		amount, _ := parseAmount(b.Monthly) // validated
		out = append(out, collector.Budget{Account: b.Account, ProductCode: b.ProductCode, OwnerID: b.OwnerID, Currency: b.Currency, Monthly: amount})
	}
	return out
}
