package bssclient

import (
	"net/url"
	"regexp"
	"strings"
)

// RedactURL returns raw fit for a log line or an error: user info (a user
// name may be a token, a password is a secret) becomes "redacted", and so
// does a query, which may carry a token. Text that does not parse as a URL
// has its user info and query cut by pattern; it is never returned as is.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		text := oneURLUserinfoPattern.ReplaceAllString(raw, "${1}redacted@")
		if i := strings.IndexByte(text, '?'); i >= 0 {
			text = text[:i+1] + "redacted"
		}
		return text
	}
	if u.User != nil {
		u.User = url.User("redacted")
	}
	if u.RawQuery != "" || u.ForceQuery {
		u.RawQuery, u.ForceQuery = "redacted", false
	}
	return u.String()
}

// userinfoPattern matches the user info of every URL in a text: a scheme,
// "://", then anything up to an "@" before the host ends.
var userinfoPattern = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.\-]*://)[^/?#@\s'"]*@`)

// oneURLUserinfoPattern is userinfoPattern for a text that is one URL, whose
// user info may hold anything up to the host, spaces included.
var oneURLUserinfoPattern = regexp.MustCompile(`(?i)^(\s*[a-z][a-z0-9+.\-]*://)[^/?#]*@`)

// redactUserinfo replaces the user info of every URL in text.
func redactUserinfo(text string) string {
	return userinfoPattern.ReplaceAllString(text, "${1}redacted@")
}
