package remotewrite

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
)

// DefaultTimeout bounds one remote-write request.
const DefaultTimeout = 30 * time.Second

// Receiver is one remote-write receiver: --remote-write.url, or an entry
// of the config file's remote_write list, which adds headers, a timeout
// and prometheus/common's HTTP client settings (basic_auth,
// authorization, oauth2, tls_config, proxy_url, …).
type Receiver struct {
	URL string `yaml:"url"`
	// Name is the receiver label of the remote-write metrics; default
	// the URL's host and path.
	Name string `yaml:"name"`
	// Headers are sent with every request, e.g. X-Scope-OrgID for a
	// Mimir or Thanos tenant. They hold no secret: credentials go in
	// basic_auth or authorization, read from files.
	Headers map[string]string `yaml:"headers"`
	// Timeout bounds one request; default DefaultTimeout.
	Timeout model.Duration `yaml:"timeout"`

	HTTPClientConfig config.HTTPClientConfig `yaml:",inline"`
}

// reservedHeaders are set by the protocol, or carry a secret.
var reservedHeaders = []string{"Content-Type", "Content-Encoding", "Content-Length", "User-Agent",
	"X-Prometheus-Remote-Write-Version", "Authorization"}

// Validate checks r, naming the field at fault; secrets must come from
// files, as the BSS credentials do, so that a config file holds none.
func (r *Receiver) Validate() error {
	u, err := url.Parse(r.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("url %q: want an http or https URL with a host", redactURL(r.URL))
	}
	if u.User != nil {
		return errors.New("url: holds credentials; use basic_auth with password_file")
	}
	// A name given twice in two cases is one header with two values: which
	// one is sent, and the outbox's name (identity), would depend on the
	// map's order.
	named := map[string]string{}
	for _, h := range slices.Sorted(maps.Keys(r.Headers)) {
		if slices.ContainsFunc(reservedHeaders, func(reserved string) bool { return strings.EqualFold(h, reserved) }) {
			return fmt.Errorf("headers: %s is set by the exporter (credentials go in basic_auth or authorization, read from files)", h)
		}
		canonical := http.CanonicalHeaderKey(h)
		if canonical == "" || strings.ContainsAny(h, " :\r\n") {
			return fmt.Errorf("headers: %q is not a header name", h)
		}
		if other, ok := named[canonical]; ok {
			return fmt.Errorf("headers: %s and %s name one header (names are case-insensitive); keep one", other, h)
		}
		named[canonical] = h
	}
	if r.Timeout < 0 {
		return fmt.Errorf("timeout: %s is negative", r.Timeout)
	}
	c := r.HTTPClientConfig
	switch {
	case c.BasicAuth != nil && c.BasicAuth.Password != "":
		return errors.New("basic_auth.password: secrets come from files here; use password_file")
	case c.Authorization != nil && c.Authorization.Credentials != "":
		return errors.New("authorization.credentials: secrets come from files here; use credentials_file")
	case c.BearerToken != "":
		return errors.New("bearer_token: secrets come from files here; use authorization.credentials_file")
	case c.OAuth2 != nil && c.OAuth2.ClientSecret != "":
		return errors.New("oauth2.client_secret: secrets come from files here; use client_secret_file")
	}
	return r.HTTPClientConfig.Validate()
}

// identity names where a receiver's days go: its full URL (a query may
// name a tenant) and its headers (X-Scope-OrgID does), so that two tenants
// of one store keep separate outboxes. Only its hash is written down: the
// URL's query may hold a token.
func (r *Receiver) identity() string {
	var b strings.Builder
	b.WriteString(r.URL)
	keys := make([]string, 0, len(r.Headers))
	for k := range r.Headers {
		keys = append(keys, http.CanonicalHeaderKey(k))
	}
	slices.Sort(keys)
	for _, k := range keys {
		b.WriteString("\n" + k + ": " + r.header(k))
	}
	return b.String()
}

func (r *Receiver) header(canonical string) string {
	for k, v := range r.Headers {
		if http.CanonicalHeaderKey(k) == canonical {
			return v
		}
	}
	return ""
}

// CheckDistinct checks that no two receivers share an identity (they would
// share an outbox) or a receiver label (their metrics would merge); the
// error names the later one by its index.
func CheckDistinct(rs []Receiver) error {
	ids, labels := map[string]int{}, map[string]int{}
	for i, r := range rs {
		if j, ok := ids[r.identity()]; ok {
			return fmt.Errorf("receiver %d is receiver %d again (same url and headers)", i, j)
		}
		ids[r.identity()] = i
		if j, ok := labels[r.Label()]; ok {
			return fmt.Errorf("receiver %d has the receiver label %q of receiver %d; give one a name", i, r.Label(), j)
		}
		labels[r.Label()] = i
	}
	return nil
}

// Label is the receiver label of the remote-write metrics and log lines:
// Name, or the URL's host and path.
func (r *Receiver) Label() string {
	if r.Name != "" {
		return r.Name
	}
	u, err := url.Parse(r.URL)
	if err != nil {
		return "invalid"
	}
	return u.Host + u.Path
}

// redactURL is a URL fit for a log: no user info, query or fragment.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}
