package main

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/collector"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/regularfile"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/remotewrite"
)

// settings is the validated whole of the flags and the file: what startup
// runs, what --config.check approves, and what a reload swaps in. Load is
// the only way to get one.
type settings struct {
	accounts    []account
	budgets     []collector.Budget
	remoteWrite []remotewrite.Receiver
}

// account is one payer account with the flags' defaults filled in.
type account struct {
	name        string
	site        string // used when endpoint is empty
	endpoint    string
	currency    string // "" when not known
	rateLimit   float64
	signature   bssclient.SignatureVersion
	credentials bssclient.CredentialSource
	billFiles   billFilesConfig // Region "": no bill files
}

// Load is the one check of the whole configuration: the flags together,
// what they point at (the web config file, the config file), and the file
// merged with the flags. Each flag's value was parsed as kingpin read it
// (flagvalue). Startup, --config.check, reload, backfill and doctor all
// call it, so that what one accepts the others accept.
func Load(opts *options, logger log.Logger) (*settings, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if err := checkWebConfig(*opts.webFlags.WebConfigFile); err != nil {
		return nil, err
	}
	file, err := loadFile(opts, logger)
	if err != nil {
		return nil, err
	}
	s := &settings{budgets: file.budgets()}
	if s.remoteWrite, err = loadRemoteWrite(opts, file); err != nil {
		return nil, err
	}
	currencies := map[string]string{}
	for i, a := range file.Accounts {
		r := resolveAccount(opts, a)
		if src := opts.billFilesSource(); src != "" && r.billFiles.Region == "" && !opts.demo {
			where := "set --bill-files.region"
			if opts.configFile != "" {
				where += fmt.Sprintf(", or accounts[%d].bill_files.region in %s", i, opts.configFile)
			}
			return nil, fmt.Errorf("%s reads the bill files of account %q, which names no bucket region: %s", src, r.name, where)
		}
		currencies[r.name] = r.currency
		s.accounts = append(s.accounts, r)
	}
	for i, b := range file.Budgets {
		if c := currencies[b.Account]; c != "" && c != b.Currency {
			return nil, fmt.Errorf("%s: budgets[%d].currency: %s, but account %q bills in %s", opts.configFile, i, bssclient.Quote(b.Currency), b.Account, c)
		}
	}
	return s, nil
}

// loadFile reads --config.file, if any, fills in the accounts the flags
// imply (the demo's, or --bss.account-name's when there is no file), and
// validates the whole.
func loadFile(opts *options, logger log.Logger) (*fileConfig, error) {
	file := &fileConfig{}
	if opts.configFile != "" {
		data, err := regularfile.Read(opts.configFile, maxConfigBytes)
		if err != nil {
			return nil, err // names the file
		}
		if file, err = decodeConfig(data); err != nil {
			return nil, fmt.Errorf("%s: %w", opts.configFile, err)
		}
		if file.holdsCredentials() && tooOpen(opts.configFile) {
			level.Warn(logger).Log("msg", "the config file holds credentials and is readable by group or others; restrict it with chmod 600", "file", opts.configFile)
		}
	}
	switch {
	case opts.demo && len(file.Accounts) > 0:
		return nil, fmt.Errorf("%s: with --demo the file may hold budgets only; the demo reads its own simulated account %q", opts.configFile, demoAccountName)
	case opts.demo:
		file.Accounts = []accountConfig{{Name: demoAccountName}}
		if len(file.Budgets) == 0 {
			b, err := demoBudgets()
			if err != nil {
				return nil, err
			}
			file.Budgets = b
		}
	case opts.configFile == "":
		file.Accounts = []accountConfig{{Name: opts.accountName}}
	}
	if err := file.validate(); err != nil {
		if opts.configFile != "" {
			return nil, fmt.Errorf("%s: %w", opts.configFile, err)
		}
		return nil, err
	}
	return file, nil
}

// resolveAccount is a validated account of the file with the flags'
// defaults filled in where the file is silent.
func resolveAccount(opts *options, a accountConfig) account {
	r := account{name: a.Name, site: a.Site, endpoint: a.Endpoint, currency: a.Currency,
		rateLimit: opts.rateLimit, signature: opts.signatureVersion, credentials: a.Credentials}
	if r.site == "" && r.endpoint == "" {
		r.site, r.endpoint = opts.site, opts.endpoint
	}
	if a.RateLimit != nil {
		r.rateLimit = *a.RateLimit
	}
	if a.SignatureVersion != "" {
		r.signature, _ = parseSignatureVersion(a.SignatureVersion) // validated with the file
	}
	if r.credentials.Type == "" {
		r.credentials.Type = "default"
	}
	r.billFiles = a.BillFiles
	if r.billFiles.Region == "" {
		r.billFiles = billFilesConfig{Region: opts.billFilesRegion, Endpoint: opts.billFilesEndpoint}
	}
	if r.currency == "" && r.endpoint == "" {
		r.currency = siteCurrency[r.site]
	}
	return r
}

// loadRemoteWrite is the receivers of --remote-write.url, then those of
// the file's remote_write, checked one by one and together.
func loadRemoteWrite(opts *options, file *fileConfig) ([]remotewrite.Receiver, error) {
	var rs []remotewrite.Receiver
	for _, u := range opts.remoteWriteURLs {
		rs = append(rs, remotewrite.Receiver{URL: u})
	}
	rs = append(rs, file.RemoteWrite...)
	for i, r := range rs {
		if err := r.Validate(); err != nil {
			if i < len(opts.remoteWriteURLs) {
				return nil, fmt.Errorf("--remote-write.url: %w", err)
			}
			return nil, fmt.Errorf("%s: remote_write[%d].%w", opts.configFile, i-len(opts.remoteWriteURLs), err)
		}
	}
	if err := remotewrite.CheckDistinct(rs); err != nil {
		where := "--remote-write.url"
		if len(file.RemoteWrite) > 0 {
			where = fmt.Sprintf("%s: remote_write (receivers counted from 0, the --remote-write.url flags first)", opts.configFile)
		}
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if len(rs) > 0 && opts.collector.StateDir == "" {
		return nil, errors.New("remote write needs --storage.path: the days each receiver acknowledged are kept there, so that a restart sends none twice")
	}
	return rs, nil
}

// checkWebConfig validates --web.config.file with exporter-toolkit's own
// parser, so the check and the server agree. That parser reads any path it
// is given, so the path is checked to be a regular file of a sane size
// first: a pipe would hang it.
func checkWebConfig(path string) error {
	if path != "" {
		if _, err := regularfile.Read(path, maxConfigBytes); err != nil && !errors.Is(err, fs.ErrNotExist) { // a missing file: web.Validate says so
			return fmt.Errorf("--web.config.file: %w", err)
		}
	}
	if err := web.Validate(path); err != nil {
		return fmt.Errorf("--web.config.file: %s: %w", path, err)
	}
	return nil
}
