package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/proctest"

	"golang.org/x/crypto/bcrypt"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
)

// distinctiveSecret must never leave the process: not in a log line at any
// level, an error, the landing page or /metrics.
const (
	distinctiveKeyID  = "LTAI5tSecretsTestKey42"
	distinctiveSecret = "Zebra-Quasar-4711-do-not-log"
)

func TestSecretNeverAppears(t *testing.T) {
	bin := proctest.Build(t, "aliyun-billing-exporter")
	world, err := bsssim.NewWorld(bsssim.WorldConfig{Seed: 7, Owners: 1, InstancesPerOwner: 3})
	if err != nil {
		t.Fatal(err)
	}
	sim, err := bsssim.Start(bsssim.Config{World: world, Credentials: []bsssim.Credential{{AccessKeyID: distinctiveKeyID, AccessKeySecret: distinctiveSecret}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })

	dir := t.TempDir()
	writeConfig := func(name, secret string) string {
		path := filepath.Join(dir, name)
		cfg := fmt.Sprintf("accounts:\n  - name: acct\n    endpoint: %s\n    credentials:\n      type: access_key\n      access_key_id: %s\n      access_key_secret: %s\n", sim.URL, distinctiveKeyID, secret)
		if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil { // group/world-readable on purpose: the warning path
			t.Fatal(err)
		}
		return path
	}
	good := writeConfig("good.yml", distinctiveSecret)
	// A wrong secret whose text we also watch: the server answers
	// SignatureDoesNotMatch with its string to sign, the error path.
	wrongSecret := distinctiveSecret + "-wrong"
	wrong := writeConfig("wrong.yml", wrongSecret)

	var seen strings.Builder
	check := func(where, text string) {
		t.Helper()
		seen.WriteString(text)
		for _, s := range []string{distinctiveSecret, wrongSecret} {
			if strings.Contains(text, s) {
				t.Errorf("%s contains a secret:\n%s", where, text)
			}
		}
	}

	out, err := exec.Command(bin, "--config.file="+good, "--config.check", "--log.level=debug").CombinedOutput()
	if err != nil {
		t.Fatalf("--config.check: %v\n%s", err, out)
	}
	check("--config.check output", string(out))
	if !strings.Contains(string(out), "readable by group or others") {
		t.Errorf("no warning for a world-readable config file holding a secret:\n%s", out)
	}

	for _, tc := range []struct{ name, config, format string }{
		{"good secret, logfmt", good, "logfmt"},
		{"wrong secret, json", wrong, "json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startExporter(t, bin, "--config.file="+tc.config, "--log.level=debug", "--log.format="+tc.format)
			p.waitReady(t)
			for _, path := range []string{"/", "/metrics", "/-/ready", "/-/healthy"} {
				_, body := p.get(t, path)
				check(path, body)
			}
			if tc.config == wrong {
				_, metrics := p.get(t, "/metrics")
				if !strings.Contains(metrics, `outcome="SignatureDoesNotMatch"`) {
					t.Errorf("the wrong secret was not counted as SignatureDoesNotMatch")
				}
			}
			_ = p.Signal(syscall.SIGTERM)
			_ = p.Wait()
			check("the log", p.Log())
		})
	}
	if seen.Len() == 0 {
		t.Fatal("nothing was checked")
	}
	if !strings.Contains(seen.String(), distinctiveKeyID[len(distinctiveKeyID)-4:]) && !strings.Contains(seen.String(), "acct") {
		t.Error("the output checked does not even mention the account; the test would prove nothing")
	}
}

// testPKI is a CA and a server certificate for 127.0.0.1.
type testPKI struct {
	caPool            *x509.CertPool
	certFile, keyFile string
}

func newTestPKI(t *testing.T, dir string) testPKI {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	p := testPKI{caPool: x509.NewCertPool(), certFile: filepath.Join(dir, "server.crt"), keyFile: filepath.Join(dir, "server.key")}
	p.caPool.AddCert(caCert)
	if err := os.WriteFile(p.certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestWebConfigTLSAndBasicAuth(t *testing.T) {
	bin := proctest.Build(t, "aliyun-billing-exporter")
	dir := t.TempDir()
	pki := newTestPKI(t, dir)
	hash, err := bcrypt.GenerateFromPassword([]byte("right-password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := filepath.Join(dir, "web.yml")
	if err := os.WriteFile(webConfig, []byte(fmt.Sprintf("tls_server_config:\n  cert_file: %s\n  key_file: %s\nbasic_auth_users:\n  prometheus: %s\n", pki.certFile, pki.keyFile, hash)), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startExporter(t, bin, "--demo", "--web.config.file="+webConfig, "--log.format=json")

	trusted := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.caPool}}}
	url := "https://" + p.addr + "/metrics"
	deadline := time.Now().Add(60 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, "https://"+p.addr+"/-/ready", nil)
		req.SetBasicAuth("prometheus", "right-password")
		resp, err := trusted.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready over TLS within 60s: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}

	for _, tc := range []struct {
		name       string
		user, pass string
		want       int
	}{
		{"no credentials", "", "", http.StatusUnauthorized},
		{"wrong password", "prometheus", "wrong", http.StatusUnauthorized},
		{"unknown user", "grafana", "right-password", http.StatusUnauthorized},
		{"right credentials", "prometheus", "right-password", http.StatusOK},
	} {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if tc.user != "" {
			req.SetBasicAuth(tc.user, tc.pass)
		}
		resp, err := trusted.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: HTTP %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}

	// Without the CA the handshake fails; plain HTTP gets no metrics either.
	untrusted := &http.Client{Timeout: 10 * time.Second}
	if resp, err := untrusted.Get(url); err == nil {
		resp.Body.Close()
		t.Errorf("a client without the CA completed the TLS handshake (HTTP %d)", resp.StatusCode)
	} else if !strings.Contains(err.Error(), "certificate") {
		t.Errorf("want a certificate error, got %v", err)
	}
	if resp, err := untrusted.Get("http://" + p.addr + "/metrics"); err == nil {
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP served metrics on a TLS listener")
		}
		resp.Body.Close()
	}

	// The failed handshakes above reach the log through the structured
	// logger, so that --log.format=json stays JSON.
	_ = p.Signal(syscall.SIGTERM)
	_ = p.Wait()
	handshakes := 0
	for _, line := range strings.Split(strings.TrimSpace(p.Log()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("a log line is not JSON: %q", line)
			continue
		}
		if _, ok := rec["ts"]; !ok || rec["time"] != nil {
			t.Errorf("a log line without the one timestamp key ts: %q", line)
		}
		if strings.Contains(fmt.Sprint(rec["err"]), "TLS handshake error") {
			handshakes++
		}
	}
	if handshakes == 0 {
		t.Errorf("no TLS handshake error logged:\n%s", p.Log())
	}
}

// --web.max-requests bounds concurrent scrapes: with 1, a burst of
// simultaneous scrapes gets some 503s; with 0 (no limit) none.
func TestWebMaxRequests(t *testing.T) {
	bin := proctest.Build(t, "aliyun-billing-exporter")
	for _, tc := range []struct {
		limit    string
		want503s bool
	}{{"1", true}, {"0", false}} {
		t.Run("max-requests="+tc.limit, func(t *testing.T) {
			p := startExporter(t, bin, "--demo", "--web.max-requests="+tc.limit, "--collector.instance.per-instance")
			p.waitReady(t)
			const n = 64
			var (
				wg    sync.WaitGroup
				start = make(chan struct{})
				mu    sync.Mutex
				codes = map[int]int{}
			)
			client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxConnsPerHost: n, MaxIdleConnsPerHost: n}}
			for range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					resp, err := client.Get("http://" + p.addr + "/metrics")
					code := 0
					if err == nil {
						code = resp.StatusCode
						resp.Body.Close()
					}
					mu.Lock()
					codes[code]++
					mu.Unlock()
				}()
			}
			close(start)
			wg.Wait()
			if codes[0] > 0 {
				t.Errorf("%d scrapes failed at the transport level: %v", codes[0], codes)
			}
			if codes[http.StatusOK] == 0 {
				t.Errorf("no scrape succeeded: %v", codes)
			}
			if got := codes[http.StatusServiceUnavailable] > 0; got != tc.want503s {
				t.Errorf("503s: %v (%v), want %v", got, codes, tc.want503s)
			}
		})
	}
}
