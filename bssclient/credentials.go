package bssclient

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/alibabacloud-go/tea/tea"
	alicred "github.com/aliyun/credentials-go/credentials"
	"github.com/aliyun/credentials-go/credentials/providers"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/regularfile"
)

const redacted = "[redacted]"

// Credentials are one AccessKey pair, optionally temporary (STS). Printing
// them in any form never reveals the secret or the token.
type Credentials struct {
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string
}

func (c Credentials) String() string {
	return fmt.Sprintf("Credentials{AccessKeyId: %s, secret: %s, token: %s}",
		maskKeyID(c.AccessKeyID), redactedOrNone(c.AccessKeySecret), redactedOrNone(c.SecurityToken))
}

func (c Credentials) GoString() string { return "bssclient." + c.String() }

// Format makes every verb (%d and %x included, which would otherwise print
// the fields) go through String or GoString.
func (c Credentials) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, c.String(), c.GoString())
}

func formatRedacted(f fmt.State, verb rune, s, goString string) {
	switch {
	case verb == 'v' && f.Flag('#'):
		fmt.Fprint(f, goString)
	case verb == 'q':
		fmt.Fprintf(f, "%q", s)
	default:
		fmt.Fprint(f, s)
	}
}

// maskKeyID keeps the first and last 4 characters of a long AccessKey ID
// (the prefix only says "LTAI" or "STS."), and only the last 4 of a shorter one.
func maskKeyID(id string) string {
	switch {
	case id == "":
		return "none"
	case len(id) >= 12:
		return id[:4] + "****" + id[len(id)-4:]
	case len(id) > 8:
		return "****" + id[len(id)-4:]
	}
	return "****"
}

func redactedOrNone(s string) string {
	if s == "" {
		return "none"
	}
	return redacted
}

// CredentialsProvider returns credentials for each request; implementations
// cache and refresh temporary credentials before they expire.
type CredentialsProvider interface {
	Credentials(ctx context.Context) (Credentials, error)
}

type staticProvider struct{ cred Credentials }

func (p staticProvider) Credentials(ctx context.Context) (Credentials, error) {
	if p.cred.AccessKeyID == "" || p.cred.AccessKeySecret == "" {
		return Credentials{}, &CredentialsError{Err: errors.New("static credentials need an AccessKey ID and secret")}
	}
	return p.cred, nil
}

func (p staticProvider) String() string { return "static " + p.cred.String() }

// Format keeps %#v and %d from printing the unexported credentials.
func (p staticProvider) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, p.String(), p.String())
}

// StaticCredentials always returns the same credentials.
func StaticCredentials(accessKeyID, accessKeySecret, securityToken string) CredentialsProvider {
	return staticProvider{Credentials{AccessKeyID: accessKeyID, AccessKeySecret: accessKeySecret, SecurityToken: securityToken}}
}

// Credential source types.
const (
	CredentialsDefault     = "default"
	CredentialsAccessKey   = "access_key"
	CredentialsSTS         = "sts"
	CredentialsECSRAMRole  = "ecs_ram_role"
	CredentialsRAMRoleARN  = "ram_role_arn"
	CredentialsOIDCRoleARN = "oidc_role_arn"
	CredentialsURI         = "credentials_uri"
	CredentialsCLIProfile  = "cli_profile"
	CredentialsEnvironment = "environment"
)

// credentialTypes lists the valid types in the order error messages show them.
var credentialTypes = []string{
	CredentialsDefault, CredentialsAccessKey, CredentialsSTS, CredentialsECSRAMRole, CredentialsRAMRoleARN,
	CredentialsOIDCRoleARN, CredentialsURI, CredentialsCLIProfile, CredentialsEnvironment,
}

// CredentialSource is how a configured account obtains credentials; it is
// what the exporter's YAML config holds.
type CredentialSource struct {
	// Type is one of: "default" (the credentials-go chain: environment,
	// OIDC/RRSA, aliyun CLI profile, credentials file, ECS RAM role,
	// credentials URI), "access_key", "sts", "ecs_ram_role", "ram_role_arn",
	// "oidc_role_arn", "credentials_uri", "cli_profile", "environment".
	// Empty means "default" when no other field is set.
	Type            string `yaml:"type"`
	AccessKeyID     string `yaml:"access_key_id"`
	AccessKeySecret string `yaml:"access_key_secret"`
	SecurityToken   string `yaml:"security_token"`
	ProfileName     string `yaml:"profile"`
	RoleArn         string `yaml:"role_arn"`
	RoleSessionName string `yaml:"role_session_name"`
	RoleName        string `yaml:"role_name"`
	OIDCProviderArn string `yaml:"oidc_provider_arn"`
	OIDCTokenFile   string `yaml:"oidc_token_file"`
	CredentialsURI  string `yaml:"credentials_uri"`
	STSEndpoint     string `yaml:"sts_endpoint"`
}

// sourceField is one settable field of a CredentialSource, by its YAML name.
type sourceField struct {
	name  string
	value string
}

func (s CredentialSource) fields() []sourceField {
	return []sourceField{
		{"access_key_id", s.AccessKeyID},
		{"access_key_secret", s.AccessKeySecret},
		{"security_token", s.SecurityToken},
		{"profile", s.ProfileName},
		{"role_arn", s.RoleArn},
		{"role_session_name", s.RoleSessionName},
		{"role_name", s.RoleName},
		{"oidc_provider_arn", s.OIDCProviderArn},
		{"oidc_token_file", s.OIDCTokenFile},
		{"credentials_uri", s.CredentialsURI},
		{"sts_endpoint", s.STSEndpoint},
	}
}

// credentialTypeFields says which fields each type uses: required ones first,
// then optional ones. A field outside both is a configuration mistake (for
// example a secret under type "default" would be silently ignored).
var credentialTypeFields = map[string]struct{ required, optional []string }{
	CredentialsDefault:     {},
	CredentialsEnvironment: {},
	CredentialsAccessKey:   {required: []string{"access_key_id", "access_key_secret"}},
	CredentialsSTS:         {required: []string{"access_key_id", "access_key_secret", "security_token"}},
	CredentialsECSRAMRole:  {optional: []string{"role_name"}},
	CredentialsRAMRoleARN: {
		required: []string{"access_key_id", "access_key_secret", "role_arn"},
		optional: []string{"security_token", "role_session_name", "sts_endpoint"},
	},
	CredentialsOIDCRoleARN: {
		required: []string{"role_arn", "oidc_provider_arn", "oidc_token_file"},
		optional: []string{"role_session_name", "sts_endpoint"},
	},
	CredentialsURI:        {required: []string{"credentials_uri"}},
	CredentialsCLIProfile: {optional: []string{"profile"}},
}

// effectiveType resolves an empty type to "default".
func (s CredentialSource) effectiveType() string { return cmp.Or(s.Type, CredentialsDefault) }

// Validate reports the first missing, invalid or unused field.
func (s CredentialSource) Validate() error {
	if s.Type == "" {
		for _, f := range s.fields() {
			if f.value != "" {
				return fmt.Errorf("credentials: type is empty but %s is set; set type to one of: %s", f.name, strings.Join(credentialTypes, ", "))
			}
		}
	}
	typ := s.effectiveType()
	spec, ok := credentialTypeFields[typ]
	if !ok {
		return fmt.Errorf("credentials: unknown type %q; valid types: %s", truncateForError(typ), strings.Join(credentialTypes, ", "))
	}
	var missing []string
	for _, f := range s.fields() {
		switch {
		case slices.Contains(spec.required, f.name):
			if strings.TrimSpace(f.value) == "" {
				missing = append(missing, f.name)
			}
		case slices.Contains(spec.optional, f.name):
		case f.value != "":
			return fmt.Errorf("credentials: type %q does not use %s", typ, f.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("credentials: type %q needs %s", typ, joinAnd(missing))
	}
	if typ == CredentialsURI {
		u, err := url.Parse(s.CredentialsURI)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("credentials: credentials_uri %q is not an http(s) URL", truncateForError(RedactURL(s.CredentialsURI)))
		}
	}
	return nil
}

// joinAnd joins names as "a", "a and b", "a, b and c".
func joinAnd(names []string) string {
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// HasSecret reports whether the source itself holds a secret, so that the
// file holding it deserves care: an AccessKey secret, a security token, or a
// credentials_uri with user info or a query (either may carry a password or
// a token; RedactURL hides both).
func (s CredentialSource) HasSecret() bool {
	if s.AccessKeySecret != "" || s.SecurityToken != "" {
		return true
	}
	if s.CredentialsURI == "" {
		return false
	}
	u, err := url.Parse(s.CredentialsURI)
	return err != nil || u.User != nil || u.RawQuery != ""
}

// String lists the set fields with the key id masked and secrets redacted.
func (s CredentialSource) String() string {
	out := "CredentialSource{type: " + s.effectiveType()
	for _, f := range s.fields() {
		if f.value == "" {
			continue
		}
		v := f.value
		switch f.name {
		case "access_key_id":
			v = maskKeyID(v)
		case "access_key_secret", "security_token":
			v = redacted
		case "credentials_uri":
			v = RedactURL(v)
		}
		out += ", " + f.name + ": " + v
	}
	return out + "}"
}

func (s CredentialSource) GoString() string { return "bssclient." + s.String() }

// Format keeps every verb from printing the raw fields.
func (s CredentialSource) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, s.String(), s.GoString())
}

// NewCredentialsProvider builds a provider for the source on top of
// github.com/aliyun/credentials-go. Construction reads nothing: it only
// checks that the files the source may read are regular files, and the
// default chain and the ECS RAM role reach the metadata service only on
// first use.
// The provider asks credentials-go on every call; credentials-go caches STS
// credentials and refreshes them when 180 s or less remain (https://github.com/aliyun/credentials-go).
func NewCredentialsProvider(src CredentialSource) (CredentialsProvider, error) {
	if err := src.Validate(); err != nil {
		return nil, err
	}
	typ := src.effectiveType()
	if err := checkCredentialFiles(typ, src); err != nil {
		return nil, fmt.Errorf("credentials: type %q: %w", typ, err)
	}
	cred, err := newAliCredential(typ, src)
	p := &chainProvider{typ: typ, cred: cred, sem: make(chan struct{}, 1), credentialsURI: src.CredentialsURI}
	p.addKnownSecrets(src.AccessKeySecret, src.SecurityToken)
	if err != nil {
		return nil, fmt.Errorf("credentials: type %q: %s", typ, p.scrub(err.Error()))
	}
	return p, nil
}

// checkCredentialFiles refuses a file credentials-go would read for typ
// that exists but is not a regular file: a named pipe or a device there
// would hang or exhaust every refresh. The paths and variables are
// credentials-go's own (credentials/providers: profile.go, cli_profile.go,
// oidc.go). A missing file is credentials-go's to report.
func checkCredentialFiles(typ string, src CredentialSource) error {
	home, _ := os.UserHomeDir()
	var paths []string
	switch typ {
	case CredentialsDefault:
		paths = []string{os.Getenv("ALIBABA_CLOUD_CREDENTIALS_FILE"), os.Getenv("ALIBABA_CLOUD_CONFIG_FILE"),
			os.Getenv("ALIBABA_CLOUD_OIDC_TOKEN_FILE")}
		if home != "" {
			paths = append(paths, filepath.Join(home, ".alibabacloud", "credentials"), filepath.Join(home, ".aliyun", "config.json"))
		}
	case CredentialsCLIProfile:
		paths = []string{os.Getenv("ALIBABA_CLOUD_CONFIG_FILE")}
		if home != "" {
			paths = append(paths, filepath.Join(home, ".aliyun", "config.json"))
		}
	case CredentialsOIDCRoleARN:
		paths = []string{src.OIDCTokenFile}
	}
	for _, p := range paths {
		if err := regularfile.Check(p); err != nil { // "" (unset) is missing too
			return err
		}
	}
	return nil
}

// newAliCredential builds typ's credentials-go Credential; on error, the
// caller uses only the error.
func newAliCredential(typ string, src CredentialSource) (alicred.Credential, error) {
	switch typ {
	case CredentialsDefault:
		return alicred.NewCredential(nil)
	case CredentialsEnvironment:
		p, err := providers.NewEnvironmentVariableCredentialsProviderBuilder().Build()
		return alicred.FromCredentialsProvider(CredentialsEnvironment, p), err
	case CredentialsCLIProfile:
		p, err := providers.NewCLIProfileCredentialsProviderBuilder().WithProfileName(src.ProfileName).Build()
		return alicred.FromCredentialsProvider(CredentialsCLIProfile, p), err
	}
	cfg := new(alicred.Config).SetType(typ)
	switch typ {
	case CredentialsAccessKey:
		cfg.SetAccessKeyId(src.AccessKeyID).SetAccessKeySecret(src.AccessKeySecret)
	case CredentialsSTS:
		cfg.SetAccessKeyId(src.AccessKeyID).SetAccessKeySecret(src.AccessKeySecret).SetSecurityToken(src.SecurityToken)
	case CredentialsECSRAMRole:
		cfg.SetRoleName(src.RoleName)
	case CredentialsRAMRoleARN:
		cfg.SetAccessKeyId(src.AccessKeyID).SetAccessKeySecret(src.AccessKeySecret).SetRoleArn(src.RoleArn)
		setOptional(cfg.SetSecurityToken, src.SecurityToken)
		setOptional(cfg.SetRoleSessionName, src.RoleSessionName)
		setOptional(cfg.SetSTSEndpoint, src.STSEndpoint)
	case CredentialsOIDCRoleARN:
		cfg.SetRoleArn(src.RoleArn).SetOIDCProviderArn(src.OIDCProviderArn).SetOIDCTokenFilePath(src.OIDCTokenFile)
		setOptional(cfg.SetRoleSessionName, src.RoleSessionName)
		setOptional(cfg.SetSTSEndpoint, src.STSEndpoint)
	case CredentialsURI:
		cfg.SetURLCredential(src.CredentialsURI)
	}
	return alicred.NewCredential(cfg)
}

func setOptional(set func(string) *alicred.Config, v string) {
	if v != "" {
		set(v)
	}
}

// chainProvider adapts a credentials-go Credential. credentials-go providers
// are not safe for concurrent use (they cache without locks), so calls are
// serialized through sem; a caller whose context ends stops waiting, and the
// call in flight still completes and fills credentials-go's cache.
type chainProvider struct {
	typ  string
	cred alicred.Credential
	sem  chan struct{}

	// credentialsURI is the source's credentials_uri, quoted whole by
	// credentials-go's errors; scrub replaces it with RedactURL's form.
	credentialsURI string

	// secrets seen so far (from the source and from answers), scrubbed from
	// error text. Guarded by sem.
	knownSecrets []string
}

func (p *chainProvider) String() string { return "credentials provider " + p.typ }

// Format keeps %#v and %d from printing the remembered secrets.
func (p *chainProvider) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, p.String(), p.String())
}

type credentialsResult struct {
	cred Credentials
	err  error
}

func (p *chainProvider) Credentials(ctx context.Context) (Credentials, error) {
	if err := ctx.Err(); err != nil {
		return Credentials{}, p.failure("%w", err)
	}
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return Credentials{}, p.failure("%w", ctx.Err())
	}
	done := make(chan credentialsResult, 1)
	go func() {
		defer func() { <-p.sem }()
		done <- p.fetch()
	}()
	select {
	case r := <-done:
		return r.cred, r.err
	case <-ctx.Done():
		return Credentials{}, p.failure("%w", ctx.Err())
	}
}

// failure is a *CredentialsError whose text starts with the source type.
func (p *chainProvider) failure(format string, args ...any) error {
	return &CredentialsError{Err: fmt.Errorf("%s: "+format, append([]any{p.typ}, args...)...)}
}

// fetch runs with sem held.
func (p *chainProvider) fetch() (res credentialsResult) {
	defer func() {
		// A panic inside credentials-go must not take the exporter down.
		if r := recover(); r != nil {
			res = credentialsResult{err: p.failure("%s", p.scrub(fmt.Sprint(r)))}
		}
	}()
	m, err := p.cred.GetCredential()
	if err != nil {
		return credentialsResult{err: p.failure("%s", p.scrub(err.Error()))}
	}
	var c Credentials
	if m != nil {
		c = Credentials{AccessKeyID: tea.StringValue(m.AccessKeyId), AccessKeySecret: tea.StringValue(m.AccessKeySecret),
			SecurityToken: tea.StringValue(m.SecurityToken)}
	}
	p.addKnownSecrets(c.AccessKeySecret, c.SecurityToken)
	if c.AccessKeyID == "" || c.AccessKeySecret == "" {
		return credentialsResult{err: p.failure("provider returned no AccessKey ID or secret")}
	}
	return credentialsResult{cred: c}
}

// maxKnownSecrets bounds the scrub list; rotated STS credentials add two
// entries per refresh.
const maxKnownSecrets = 16

func (p *chainProvider) addKnownSecrets(secrets ...string) {
	for _, s := range secrets {
		if s == "" || slices.Contains(p.knownSecrets, s) {
			continue
		}
		p.knownSecrets = append(p.knownSecrets, s)
		if len(p.knownSecrets) > maxKnownSecrets {
			p.knownSecrets = p.knownSecrets[len(p.knownSecrets)-maxKnownSecrets:]
		}
	}
}

// secretFieldPattern matches a secret-looking key and its quoted or bare value
// in JSON, ini or key=value text, e.g. "AccessKeySecret":"…", sts_token = …,
// as echoed by credentials-go errors that quote whole response bodies or
// config files.
var secretFieldPattern = regexp.MustCompile(`(?i)("?[a-z_\-]*(?:secret|token|password)[a-z_\-]*"?\s*[:=]\s*)("(?:[^"\\]|\\.)*"|[^\s,&}"]+)`)

// iniLinePattern matches the errors of gopkg.in/ini.v1, which credentials-go
// reads the credentials file (~/.alibabacloud/credentials.ini) with, that
// quote a line of the file: a malformed line may be a secret.
var iniLinePattern = regexp.MustCompile(`(key-value delimiter not found|empty key name|missing closing key quote|unclosed section)(:| from) .*`)

// scrub removes from text, before it leaves the package in an error: a
// quoted CLI config file (named instead), a quoted line of the credentials
// file, the credentials URI's user info and query, every known secret, the
// user info of any URL, and any secret-looking field.
func (p *chainProvider) scrub(text string) string {
	text = withoutCLIConfigContent(text)
	text = iniLinePattern.ReplaceAllString(text, "${1} in the credentials file (the line is withheld)")
	if p.credentialsURI != "" {
		text = strings.ReplaceAll(text, p.credentialsURI, RedactURL(p.credentialsURI))
	}
	for _, s := range p.knownSecrets {
		text = strings.ReplaceAll(text, s, redacted)
	}
	text = redactUserinfo(text)
	return secretFieldPattern.ReplaceAllString(text, `${1}"`+redacted+`"`)
}
