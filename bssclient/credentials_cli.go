package bssclient

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// credentials-go quotes a CLI config file it cannot parse whole, private
// keys and AccessKey secrets included: "unmarshal aliyun cli config from
// '<path>' failed: <content>" (providers/cli_profile.go). The message is cut
// at the content and names the file and the place in it instead.
const (
	cliConfigQuotePrefix = "unmarshal aliyun cli config from '"
	cliConfigQuoteInfix  = "' failed: "
)

// withoutCLIConfigContent replaces a quoted CLI config file in text by the
// file's name and what is wrong with it. The quote runs to the end of the
// file's text: when the file still reads the same, the text after it (the
// rest of a provider chain's errors) is kept; otherwise everything after the
// name is dropped, because where the quote ends is unknown.
func withoutCLIConfigContent(text string) string {
	i := strings.Index(text, cliConfigQuotePrefix)
	if i < 0 {
		return text
	}
	rest := text[i+len(cliConfigQuotePrefix):]
	j := strings.Index(rest, cliConfigQuoteInfix)
	if j < 0 {
		return text[:i] + "malformed Alibaba Cloud CLI config file (content withheld)"
	}
	path, quoted := rest[:j], rest[j+len(cliConfigQuoteInfix):]
	content, readErr := os.ReadFile(path)
	described := fmt.Sprintf("malformed Alibaba Cloud CLI config file %s: %s (content withheld)", path, describeCLIConfig(content, readErr))
	if readErr == nil && strings.HasPrefix(quoted, string(content)) {
		return text[:i] + described + quoted[len(content):]
	}
	return text[:i] + described
}

// cliConfigShape is the part of the CLI config that credentials-go reads,
// with its types, so that a mismatch can be named by its JSON path.
type cliConfigShape struct {
	Current  string `json:"current"`
	Profiles []struct {
		Name                   string `json:"name"`
		Mode                   string `json:"mode"`
		AccessKeyID            string `json:"access_key_id"`
		AccessKeySecret        string `json:"access_key_secret"`
		SecurityToken          string `json:"sts_token"`
		RegionID               string `json:"region_id"`
		RoleArn                string `json:"ram_role_arn"`
		RoleSessionName        string `json:"ram_session_name"`
		DurationSeconds        int    `json:"expired_seconds"`
		StsRegion              string `json:"sts_region"`
		EnableVpc              bool   `json:"enable_vpc"`
		SourceProfile          string `json:"source_profile"`
		RoleName               string `json:"ram_role_name"`
		OIDCTokenFile          string `json:"oidc_token_file"`
		OIDCToken              string `json:"oidc_token"`
		OIDCProviderARN        string `json:"oidc_provider_arn"`
		Policy                 string `json:"policy"`
		ExternalID             string `json:"external_id"`
		SignInURL              string `json:"cloud_sso_sign_in_url"`
		AccountID              string `json:"cloud_sso_account_id"`
		AccessConfig           string `json:"cloud_sso_access_config"`
		AccessToken            string `json:"access_token"`
		AccessTokenExpire      int64  `json:"cloud_sso_access_token_expire"`
		OauthSiteType          string `json:"oauth_site_type"`
		OauthRefreshToken      string `json:"oauth_refresh_token"`
		OauthAccessToken       string `json:"oauth_access_token"`
		OauthAccessTokenExpire int64  `json:"oauth_access_token_expire"`
		StsExpire              int64  `json:"sts_expiration"`
		ProcessCommand         string `json:"process_command"`
	} `json:"profiles"`
}

// describeCLIConfig says where the file's JSON goes wrong, without quoting
// any of it.
func describeCLIConfig(content []byte, readErr error) string {
	if readErr != nil {
		return "it can no longer be read to say where"
	}
	var shape cliConfigShape
	err := json.Unmarshal(content, &shape)
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return "it parses now; it may have changed since it was read"
	case errors.As(err, &syntaxErr):
		line, col := lineColumn(content, syntaxErr.Offset)
		return fmt.Sprintf("not valid JSON at line %d, column %d", line, col)
	case errors.As(err, &typeErr):
		line, col := lineColumn(content, typeErr.Offset)
		return fmt.Sprintf("%s is a JSON %s, want %s (line %d, column %d)", cmp.Or(typeErr.Field, "the top level"), typeErr.Value, typeErr.Type.Kind(), line, col)
	case strings.Contains(err.Error(), "unexpected end of JSON input"):
		return "it ends before its JSON does"
	}
	return "not a CLI configuration"
}

// lineColumn turns a byte offset into a 1-based line and column.
func lineColumn(content []byte, offset int64) (line, col int) {
	offset = min(max(offset, 0), int64(len(content)))
	before := content[:offset]
	line = 1 + bytes.Count(before, []byte("\n"))
	col = int(offset) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}
