package bssclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Distinctive values that must never be printed.
const (
	testSecret = "SECRETzq8Jw4vV1xKp"
	testToken  = "TOKENm3Rr9Lw0aQe5"
)

// isolateCredentialEnv clears every variable the credentials-go chain reads
// and points its files at an empty directory, so that a test sees only what
// it sets and never reaches the ECS metadata service.
func isolateCredentialEnv(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{
		"ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN",
		"ALIBABA_CLOUD_ROLE_ARN", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
		"ALIBABA_CLOUD_OIDC_TOKEN", "ALIBABA_CLOUD_PROFILE", "ALIBABA_CLOUD_CREDENTIALS_URI",
		"ALIBABA_CLOUD_ECS_METADATA", "ALIBABA_CLOUD_CLI_PROFILE_DISABLED",
	} {
		t.Setenv(name, "")
	}
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	t.Setenv("ALIBABA_CLOUD_CONFIG_FILE", filepath.Join(dir, "no-config.json"))
	t.Setenv("ALIBABA_CLOUD_CREDENTIALS_FILE", filepath.Join(dir, "no-credentials"))
	t.Setenv("HOME", dir)
}

func TestCredentialsNeverPrintSecrets(t *testing.T) {
	cred := Credentials{AccessKeyID: "LTAI5tQvExampleKeyabcd", AccessKeySecret: testSecret, SecurityToken: testToken}
	src := CredentialSource{Type: "sts", AccessKeyID: "LTAI5tQvExampleKeyabcd", AccessKeySecret: testSecret, SecurityToken: testToken}
	chain, err := NewCredentialsProvider(src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chain.Credentials(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, v := range []any{cred, &cred, src, &src, []Credentials{cred}, map[string]CredentialSource{"a": src}, StaticCredentials("id", testSecret, testToken), chain} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T %v"} {
			out := fmt.Sprintf(verb, v)
			if strings.Contains(out, testSecret) || strings.Contains(out, testToken) ||
				strings.Contains(strings.ToLower(out), strings.ToLower(fmt.Sprintf("%x", testSecret))) {
				t.Errorf("fmt %s of %T reveals a secret: %s", verb, v, out)
			}
		}
	}
	for _, s := range []string{cred.String(), cred.GoString(), src.String(), src.GoString()} {
		if strings.Contains(s, testSecret) || strings.Contains(s, testToken) {
			t.Errorf("reveals a secret: %s", s)
		}
	}
}

func TestCredentialsString(t *testing.T) {
	tests := []struct {
		cred Credentials
		want string
	}{
		{Credentials{"LTAI5tQvExampleKeyabcd", testSecret, testToken}, "Credentials{AccessKeyId: LTAI****abcd, secret: [redacted], token: [redacted]}"},
		{Credentials{"LTAI5tQvExampleKeyabcd", testSecret, ""}, "Credentials{AccessKeyId: LTAI****abcd, secret: [redacted], token: none}"},
		{Credentials{"shortid1wxyz", "", ""}, "Credentials{AccessKeyId: shor****wxyz, secret: none, token: none}"},
		{Credentials{"abcdefghi", "", ""}, "Credentials{AccessKeyId: ****fghi, secret: none, token: none}"},
		{Credentials{"abcd", "", ""}, "Credentials{AccessKeyId: ****, secret: none, token: none}"},
		{Credentials{}, "Credentials{AccessKeyId: none, secret: none, token: none}"},
	}
	for _, tt := range tests {
		if got := tt.cred.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
		if got := fmt.Sprintf("%#v", tt.cred); got != "bssclient."+tt.want {
			t.Errorf("%%#v = %q, want %q", got, "bssclient."+tt.want)
		}
	}
	src := CredentialSource{Type: "ram_role_arn", AccessKeyID: "LTAI5tQvExampleKeyabcd", AccessKeySecret: testSecret,
		RoleArn: "acs:ram::123:role/billing", CredentialsURI: ""}
	const want = "CredentialSource{type: ram_role_arn, access_key_id: LTAI****abcd, access_key_secret: [redacted], role_arn: acs:ram::123:role/billing}"
	if got := src.String(); got != want {
		t.Errorf("CredentialSource.String() = %q, want %q", got, want)
	}
	uriSrc := CredentialSource{Type: "credentials_uri", CredentialsURI: "http://user:pw@127.0.0.1:8080/creds?token=" + testToken}
	if got := uriSrc.String(); got != "CredentialSource{type: credentials_uri, credentials_uri: http://redacted@127.0.0.1:8080/creds?redacted}" {
		t.Errorf("CredentialSource.String() = %q", got)
	}
}

func TestCredentialSourceValidate(t *testing.T) {
	const validTypes = "default, access_key, sts, ecs_ram_role, ram_role_arn, oidc_role_arn, credentials_uri, cli_profile, environment"
	tests := []struct {
		name    string
		src     CredentialSource
		wantErr string
	}{
		{name: "empty means default", src: CredentialSource{}},
		{name: "default", src: CredentialSource{Type: "default"}},
		{name: "environment", src: CredentialSource{Type: "environment"}},
		{name: "access_key", src: CredentialSource{Type: "access_key", AccessKeyID: "id", AccessKeySecret: "s"}},
		{name: "sts", src: CredentialSource{Type: "sts", AccessKeyID: "id", AccessKeySecret: "s", SecurityToken: "t"}},
		{name: "ecs_ram_role", src: CredentialSource{Type: "ecs_ram_role"}},
		{name: "ecs_ram_role named", src: CredentialSource{Type: "ecs_ram_role", RoleName: "billing"}},
		{name: "ram_role_arn", src: CredentialSource{Type: "ram_role_arn", AccessKeyID: "id", AccessKeySecret: "s",
			RoleArn: "acs:ram::1:role/r", RoleSessionName: "exporter", STSEndpoint: "sts.cn-hangzhou.aliyuncs.com"}},
		{name: "oidc_role_arn", src: CredentialSource{Type: "oidc_role_arn", RoleArn: "acs:ram::1:role/r",
			OIDCProviderArn: "acs:ram::1:oidc-provider/ack", OIDCTokenFile: "/var/run/token"}},
		{name: "credentials_uri", src: CredentialSource{Type: "credentials_uri", CredentialsURI: "http://127.0.0.1:1/creds"}},
		{name: "cli_profile", src: CredentialSource{Type: "cli_profile"}},
		{name: "cli_profile named", src: CredentialSource{Type: "cli_profile", ProfileName: "billing"}},

		{name: "unknown type", src: CredentialSource{Type: "bearer"},
			wantErr: `credentials: unknown type "bearer"; valid types: ` + validTypes},
		{name: "empty type with a field", src: CredentialSource{AccessKeyID: "id"},
			wantErr: "credentials: type is empty but access_key_id is set; set type to one of: " + validTypes},
		{name: "access_key without secret", src: CredentialSource{Type: "access_key", AccessKeyID: "id"},
			wantErr: `credentials: type "access_key" needs access_key_secret`},
		{name: "access_key without both", src: CredentialSource{Type: "access_key"},
			wantErr: `credentials: type "access_key" needs access_key_id and access_key_secret`},
		{name: "access_key with token", src: CredentialSource{Type: "access_key", AccessKeyID: "id", AccessKeySecret: "s", SecurityToken: "t"},
			wantErr: `credentials: type "access_key" does not use security_token`},
		{name: "sts without token", src: CredentialSource{Type: "sts", AccessKeyID: "id", AccessKeySecret: "s"},
			wantErr: `credentials: type "sts" needs security_token`},
		{name: "ram_role_arn without anything", src: CredentialSource{Type: "ram_role_arn"},
			wantErr: `credentials: type "ram_role_arn" needs access_key_id, access_key_secret and role_arn`},
		{name: "oidc without token file", src: CredentialSource{Type: "oidc_role_arn", RoleArn: "r", OIDCProviderArn: "p"},
			wantErr: `credentials: type "oidc_role_arn" needs oidc_token_file`},
		{name: "credentials_uri missing", src: CredentialSource{Type: "credentials_uri"},
			wantErr: `credentials: type "credentials_uri" needs credentials_uri`},
		{name: "credentials_uri not http", src: CredentialSource{Type: "credentials_uri", CredentialsURI: "file:///etc/creds"},
			wantErr: `credentials: credentials_uri "file:///etc/creds" is not an http(s) URL`},
		{name: "default with a secret", src: CredentialSource{Type: "default", AccessKeySecret: testSecret},
			wantErr: `credentials: type "default" does not use access_key_secret`},
		{name: "environment with a profile", src: CredentialSource{Type: "environment", ProfileName: "p"},
			wantErr: `credentials: type "environment" does not use profile`},
		{name: "ecs_ram_role with role_arn", src: CredentialSource{Type: "ecs_ram_role", RoleArn: "r"},
			wantErr: `credentials: type "ecs_ram_role" does not use role_arn`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.src.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("Validate() = %v\nwant %s", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), testSecret) {
				t.Errorf("error reveals the secret: %v", err)
			}
			if _, perr := NewCredentialsProvider(tt.src); perr == nil || perr.Error() != tt.wantErr {
				t.Errorf("NewCredentialsProvider error = %v, want the Validate error", perr)
			}
		})
	}
}

func TestCredentialSourceHasSecret(t *testing.T) {
	tests := []struct {
		src  CredentialSource
		want bool
	}{
		{CredentialSource{Type: "access_key", AccessKeyID: "id", AccessKeySecret: "s"}, true},
		{CredentialSource{Type: "sts", AccessKeyID: "id", AccessKeySecret: "s", SecurityToken: "t"}, true},
		{CredentialSource{Type: "ram_role_arn", AccessKeyID: "id", AccessKeySecret: "s", RoleArn: "r"}, true},
		{CredentialSource{Type: "default"}, false},
		{CredentialSource{Type: "cli_profile", ProfileName: "p"}, false},
		{CredentialSource{Type: "credentials_uri", CredentialsURI: "http://127.0.0.1/"}, false},
	}
	for _, tt := range tests {
		if got := tt.src.HasSecret(); got != tt.want {
			t.Errorf("%v.HasSecret() = %v, want %v", tt.src, got, tt.want)
		}
	}
}

func TestStaticCredentials(t *testing.T) {
	ctx := context.Background()
	got, err := StaticCredentials("id", "secret", "token").Credentials(ctx)
	if err != nil || got != (Credentials{"id", "secret", "token"}) {
		t.Errorf("StaticCredentials = %v, %v", got, err)
	}
	_, err = StaticCredentials("id", "", "").Credentials(ctx)
	var credErr *CredentialsError
	if !errors.As(err, &credErr) {
		t.Errorf("empty secret: error = %v, want *CredentialsError", err)
	}
}

func TestNewCredentialsProviderStaticAndEnvironment(t *testing.T) {
	tests := []struct {
		name string
		src  CredentialSource
		env  map[string]string
		want Credentials
	}{
		{
			name: "access_key",
			src:  CredentialSource{Type: "access_key", AccessKeyID: "LTAIak", AccessKeySecret: testSecret},
			want: Credentials{"LTAIak", testSecret, ""},
		},
		{
			name: "sts",
			src:  CredentialSource{Type: "sts", AccessKeyID: "STS.ak", AccessKeySecret: testSecret, SecurityToken: testToken},
			want: Credentials{"STS.ak", testSecret, testToken},
		},
		{
			name: "environment",
			src:  CredentialSource{Type: "environment"},
			env:  map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIenv", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": testSecret},
			want: Credentials{"LTAIenv", testSecret, ""},
		},
		{
			name: "environment with token",
			src:  CredentialSource{Type: "environment"},
			env: map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": "STS.env", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": testSecret,
				"ALIBABA_CLOUD_SECURITY_TOKEN": testToken},
			want: Credentials{"STS.env", testSecret, testToken},
		},
		{
			name: "default chain takes the environment first",
			src:  CredentialSource{Type: "default"},
			env:  map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIdefault", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": testSecret},
			want: Credentials{"LTAIdefault", testSecret, ""},
		},
		{
			name: "empty type is the default chain",
			src:  CredentialSource{},
			env:  map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIdefault", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": testSecret},
			want: Credentials{"LTAIdefault", testSecret, ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateCredentialEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			p, err := NewCredentialsProvider(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				got, err := p.Credentials(context.Background())
				if err != nil || got != tt.want {
					t.Errorf("Credentials() = %v, %v; want %v", got, err, tt.want)
				}
			}
		})
	}
}

// checkCredentialsError asserts err is a *CredentialsError, classified as an
// authentication failure, whose text holds want and no secret.
func checkCredentialsError(t *testing.T, err error, want string, secrets ...string) {
	t.Helper()
	var credErr *CredentialsError
	if !errors.As(err, &credErr) {
		t.Fatalf("error = %v (%T), want *CredentialsError", err, err)
	}
	t.Logf("error text: %v", err)
	if Classify(err) != ClassAuthentication || ErrorCode(err) != CodeCredentials {
		t.Errorf("Classify = %s, ErrorCode = %s", Classify(err), ErrorCode(err))
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not mention %q", err, want)
	}
	for _, s := range append(secrets, testSecret, testToken) {
		for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			if strings.Contains(text, s) {
				t.Errorf("error text reveals a secret: %s", text)
			}
		}
	}
}

func TestNewCredentialsProviderFailures(t *testing.T) {
	t.Run("environment unset", func(t *testing.T) {
		isolateCredentialEnv(t)
		p, err := NewCredentialsProvider(CredentialSource{Type: "environment"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Credentials(context.Background())
		checkCredentialsError(t, err, "ALIBABA_CLOUD_ACCESS_KEY_ID")
	})
	t.Run("default chain with nothing configured", func(t *testing.T) {
		isolateCredentialEnv(t)
		p, err := NewCredentialsProvider(CredentialSource{Type: "default"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Credentials(context.Background())
		checkCredentialsError(t, err, "unable to get credentials from any of the providers in the chain")
	})
	t.Run("environment secret without key id", func(t *testing.T) {
		isolateCredentialEnv(t)
		t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", testSecret)
		p, err := NewCredentialsProvider(CredentialSource{Type: "environment"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Credentials(context.Background())
		checkCredentialsError(t, err, "environment")
	})
	t.Run("canceled context", func(t *testing.T) {
		p, err := NewCredentialsProvider(CredentialSource{Type: "access_key", AccessKeyID: "id", AccessKeySecret: testSecret})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err = p.Credentials(ctx)
		checkCredentialsError(t, err, "canceled")
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v does not wrap context.Canceled", err)
		}
	})
}

// writeCLIConfig writes an aliyun CLI config.json and points
// ALIBABA_CLOUD_CONFIG_FILE at it.
func writeCLIConfig(t *testing.T, content string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ALIBABA_CLOUD_CONFIG_FILE", path)
}

func TestNewCredentialsProviderCLIProfile(t *testing.T) {
	config := `{
  "current": "main",
  "profiles": [
    {"name": "main", "mode": "AK", "access_key_id": "LTAImain", "access_key_secret": "` + testSecret + `"},
    {"name": "temp", "mode": "StsToken", "access_key_id": "STS.temp", "access_key_secret": "` + testSecret + `", "sts_token": "` + testToken + `"}
  ]
}`
	tests := []struct {
		name    string
		profile string
		want    Credentials
		wantErr string
	}{
		{name: "current profile", want: Credentials{"LTAImain", testSecret, ""}},
		{name: "named AK profile", profile: "main", want: Credentials{"LTAImain", testSecret, ""}},
		{name: "named StsToken profile", profile: "temp", want: Credentials{"STS.temp", testSecret, testToken}},
		{name: "missing profile", profile: "nope", wantErr: "unable to get profile with 'nope'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateCredentialEnv(t)
			writeCLIConfig(t, config)
			p, err := NewCredentialsProvider(CredentialSource{Type: "cli_profile", ProfileName: tt.profile})
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Credentials(context.Background())
			if tt.wantErr != "" {
				checkCredentialsError(t, err, tt.wantErr)
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Credentials() = %v, %v; want %v", got, err, tt.want)
			}
		})
	}

	// credentials-go quotes the whole file when it cannot parse it; the
	// error names the file and the place instead, for the profile alone and
	// inside the default chain's list of errors.
	const privateKey = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7"
	malformed := []struct {
		name, content, want string
	}{
		{"syntax error", "{\n  \"current\": \"main\",\n  \"profiles\": [{\"name\": \"main\", \"mode\": \"RsaKeyPair\", \"private_key\": \"-----BEGIN PRIVATE KEY-----\\n" + privateKey + "\\n-----END PRIVATE KEY-----\", \"access_key_secret\": \"" + testSecret + "\",}]\n}",
			"not valid JSON at line 3, column"},
		{"wrong type", `{"current": "main", "profiles": [{"name": "main", "private_key": "` + privateKey + `", "access_key_secret": "` + testSecret + `", "expired_seconds": "3600"}]}`,
			"profiles.expired_seconds is a JSON string, want int"},
	}
	for _, tt := range malformed {
		for _, typ := range []string{"cli_profile", "default"} {
			t.Run("malformed file, "+tt.name+", "+typ, func(t *testing.T) {
				isolateCredentialEnv(t)
				writeCLIConfig(t, tt.content)
				p, err := NewCredentialsProvider(CredentialSource{Type: typ})
				if err != nil {
					t.Fatal(err)
				}
				_, err = p.Credentials(context.Background())
				checkCredentialsError(t, err, "malformed Alibaba Cloud CLI config file "+os.Getenv("ALIBABA_CLOUD_CONFIG_FILE")+": "+tt.want, privateKey, "PRIVATE KEY")
				if typ == "default" && !strings.Contains(err.Error(), "no-credentials") {
					t.Errorf("error %q lost the chain's later providers", err)
				}
			})
		}
	}
}

// credentialsServer is a credentials URI endpoint (the ECS-metadata-style
// JSON credentials-go expects). Each fetch hands out a new key pair.
type credentialsServer struct {
	*httptest.Server
	hits     atomic.Int32
	validFor atomic.Int64 // seconds until Expiration, from the time of the fetch
	fail     atomic.Bool  // answer 500 and echo a previously issued secret
}

func newCredentialsServer(t *testing.T, validFor time.Duration) *credentialsServer {
	t.Helper()
	s := &credentialsServer{}
	s.validFor.Store(int64(validFor / time.Second))
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := s.hits.Add(1)
		if s.fail.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, "backend broke while handing out %s-1 / %s-1", testSecret, testToken)
			return
		}
		expiration := time.Now().UTC().Add(time.Duration(s.validFor.Load()) * time.Second).Format("2006-01-02T15:04:05Z")
		fmt.Fprintf(w, `{"Code":"Success","AccessKeyId":"STS.key-%d","AccessKeySecret":"%s-%d","SecurityToken":"%s-%d","Expiration":"%s"}`,
			n, testSecret, n, testToken, n, expiration)
	}))
	t.Cleanup(s.Close)
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Fatalf("server not on 127.0.0.1: %s", s.URL)
	}
	return s
}

func TestNewCredentialsProviderCredentialsURI(t *testing.T) {
	ctx := context.Background()
	want := func(n int) Credentials {
		return Credentials{fmt.Sprintf("STS.key-%d", n), fmt.Sprintf("%s-%d", testSecret, n), fmt.Sprintf("%s-%d", testToken, n)}
	}

	t.Run("fetched once and reused while valid", func(t *testing.T) {
		srv := newCredentialsServer(t, time.Hour)
		p, err := NewCredentialsProvider(CredentialSource{Type: "credentials_uri", CredentialsURI: srv.URL + "/creds"})
		if err != nil {
			t.Fatal(err)
		}
		if srv.hits.Load() != 0 {
			t.Fatalf("construction fetched credentials (%d hits)", srv.hits.Load())
		}
		for range 3 {
			got, err := p.Credentials(ctx)
			if err != nil || got != want(1) {
				t.Errorf("Credentials() = %v, %v; want %v", got, err, want(1))
			}
		}
		if n := srv.hits.Load(); n != 1 {
			t.Errorf("server hit %d times, want 1", n)
		}
	})

	t.Run("refreshed when close to expiry", func(t *testing.T) {
		// credentials-go refreshes when 180 s or less remain.
		srv := newCredentialsServer(t, 60*time.Second)
		p, err := NewCredentialsProvider(CredentialSource{Type: "credentials_uri", CredentialsURI: srv.URL + "/creds"})
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 3; i++ {
			got, err := p.Credentials(ctx)
			if err != nil || got != want(i) {
				t.Errorf("call %d: Credentials() = %v, %v; want %v", i, got, err, want(i))
			}
		}
		// Once a long-lived pair is handed out, it is kept.
		srv.validFor.Store(3600)
		for range 2 {
			if got, err := p.Credentials(ctx); err != nil || got != want(4) {
				t.Errorf("Credentials() = %v, %v; want %v", got, err, want(4))
			}
		}
		if n := srv.hits.Load(); n != 4 {
			t.Errorf("server hit %d times, want 4", n)
		}
	})

	t.Run("failure never reveals a secret", func(t *testing.T) {
		srv := newCredentialsServer(t, 60*time.Second)
		p, err := NewCredentialsProvider(CredentialSource{Type: "credentials_uri", CredentialsURI: srv.URL + "/creds"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Credentials(ctx); err != nil {
			t.Fatal(err)
		}
		srv.fail.Store(true)
		_, err = p.Credentials(ctx)
		checkCredentialsError(t, err, "backend broke", want(1).AccessKeySecret, want(1).SecurityToken)
	})

	t.Run("secret fields in an unexpected answer are scrubbed", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// No Expiration: credentials-go rejects it and quotes the body.
			fmt.Fprintf(w, `{"AccessKeyId":"STS.x","AccessKeySecret":"%s","SecurityToken":"%s"}`, testSecret, testToken)
		}))
		defer srv.Close()
		p, err := NewCredentialsProvider(CredentialSource{Type: "credentials_uri", CredentialsURI: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Credentials(ctx)
		checkCredentialsError(t, err, "refresh credentials from")
	})

	t.Run("user info in the URI is never quoted", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "backend broke", http.StatusInternalServerError)
		}))
		defer srv.Close()
		const password = "PASSwq7Uy2"
		uri := strings.Replace(srv.URL, "http://", "http://user:"+password+"@", 1) + "/creds?key=" + testToken
		src := CredentialSource{Type: "credentials_uri", CredentialsURI: uri}
		if !src.HasSecret() {
			t.Errorf("HasSecret() = false for a credentials_uri with a password")
		}
		p, err := NewCredentialsProvider(src)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 { // every refresh
			_, err = p.Credentials(ctx)
			checkCredentialsError(t, err, "http://redacted@127.0.0.1", password, "user:")
		}
		for _, text := range []string{src.String(), fmt.Sprint(src)} {
			if strings.Contains(text, password) || strings.Contains(text, testToken) {
				t.Errorf("source prints a secret: %s", text)
			}
		}
	})

	t.Run("unreachable URI with user info", func(t *testing.T) {
		const password = "PASSwq7Uy2"
		p, err := NewCredentialsProvider(CredentialSource{Type: "credentials_uri", CredentialsURI: "http://user:" + password + "@127.0.0.1:1/creds"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Credentials(ctx)
		checkCredentialsError(t, err, "127.0.0.1:1", password)
	})

	t.Run("concurrent callers share one fetch", func(t *testing.T) {
		srv := newCredentialsServer(t, time.Hour)
		p, err := NewCredentialsProvider(CredentialSource{Type: "credentials_uri", CredentialsURI: srv.URL + "/creds"})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				if got, err := p.Credentials(ctx); err != nil || got != want(1) {
					t.Errorf("Credentials() = %v, %v; want %v", got, err, want(1))
				}
			})
		}
		wg.Wait()
		if n := srv.hits.Load(); n != 1 {
			t.Errorf("server hit %d times, want 1", n)
		}
	})
}

func TestScrub(t *testing.T) {
	p := &chainProvider{}
	p.addKnownSecrets(testSecret, "", testToken)
	tests := []struct{ in, want string }{
		{"plain " + testSecret + " and " + testToken, "plain [redacted] and [redacted]"},
		{`{"AccessKeySecret":"abc\"def","AccessKeyId":"id"}`, `{"AccessKeySecret":"[redacted]","AccessKeyId":"id"}`},
		{`"access_key_secret": "xyz", "sts_token": "t1"`, `"access_key_secret": "[redacted]", "sts_token": "[redacted]"`},
		{"access_key_secret = xyz\nregion = cn", "access_key_secret = \"[redacted]\"\nregion = cn"},
		{"SecurityToken=abc&x=1", "SecurityToken=\"[redacted]\"&x=1"},
		{"the OIDCTokenFilePath is empty", "the OIDCTokenFilePath is empty"},
		{"get https://u:PASS@host/x failed", "get https://redacted@host/x failed"},
		{"dial 'http://tok@10.0.0.1:80/a'", "dial 'http://redacted@10.0.0.1:80/a'"},
	}
	for _, tt := range tests {
		if got := p.scrub(tt.in); got != tt.want {
			t.Errorf("scrub(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMalformedCredentialsFileIsNotQuoted(t *testing.T) {
	isolateCredentialEnv(t)
	path := filepath.Join(t.TempDir(), "credentials.ini")
	content := "[default]\ntype = access_key\naccess_key_id = LTAIini\naccess_key_secret " + testSecret + "\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ALIBABA_CLOUD_CREDENTIALS_FILE", path)
	p, err := NewCredentialsProvider(CredentialSource{Type: "default"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Credentials(context.Background())
	checkCredentialsError(t, err, "key-value delimiter not found in the credentials file (the line is withheld)")
}

func TestRedactURL(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"https://business.aliyuncs.com", "https://business.aliyuncs.com"},
		{"https://u:PASS@business.aliyuncs.com:443", "https://redacted@business.aliyuncs.com:443"},
		{"https://TOKEN@business.aliyuncs.com/", "https://redacted@business.aliyuncs.com/"},
		{"http://u:PASS@host/creds?token=T", "http://redacted@host/creds?redacted"},
		{"http://u:PASS@host:99999999999999999999/x", "http://redacted@host:99999999999999999999/x"},
		{"http://u:PA SS@ho st/%zz?token=T", "http://redacted@ho st/%zz?redacted"},
		{"business.aliyuncs.com", "business.aliyuncs.com"},
	} {
		if got := RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
