package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
)

func TestBadFlagsAreRefusedByName(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--no-such-flag"}, "--no-such-flag"},
		{[]string{"--listen-address=8417"}, `--listen-address="8417"`},
		{[]string{"--seed=one"}, `--seed="one"`},
		{[]string{"--owners=-1"}, `--owners="-1"`},
		{[]string{"--instances-per-owner=0"}, `--instances-per-owner="0"`},
		{[]string{"--buckets-per-oss-instance=many"}, `--buckets-per-oss-instance="many"`},
		{[]string{"--currency=EUR"}, `--currency="EUR"`},
		{[]string{"--quota=fast"}, `--quota="fast"`},
		{[]string{"--latency=-1s"}, `--latency="-1s"`},
		{[]string{"--faults=explode=1"}, `--faults: fault "explode=1"`},
		{[]string{"--clock.start=yesterday"}, `--clock.start="yesterday"`},
		{[]string{"--access-key-id="}, "--access-key-id is empty"},
		{[]string{"--access-key-secret="}, "--access-key-secret is empty"},
		{[]string{"--log.level=loud"}, `--log.level="loud"`},
		{[]string{"--owners=2000"}, "--owners"}, // the World's own limit
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			// Should a bad flag slip through, the simulator starts on a free
			// port and stops at once instead of serving forever.
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			args := tc.args
			if !strings.HasPrefix(args[0], "--listen-address") {
				args = append([]string{"--listen-address=127.0.0.1:0"}, args...)
			}
			var stdout, stderr bytes.Buffer
			code := runContext(ctx, args, &stdout, &stderr)
			if code == exitOK {
				t.Fatalf("exit 0 for %v", tc.args)
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tc.want)
			}
		})
	}
}

func TestSettings(t *testing.T) {
	now := time.Date(2024, 6, 15, 4, 0, 0, 0, time.UTC)
	var v flagValues
	if _, err := newApp(&v).Parse([]string{"--seed=42", "--owners=5", "--instances-per-owner=7", "--currency=USD",
		"--no-split-bill", "--quota=-1", "--latency=150ms", "--faults=throttle=2,action=QueryAccountBill",
		"--clock.start=2024-06-03T11:00:00+08:00", "--log.level=debug"}); err != nil {
		t.Fatal(err)
	}
	s, err := v.settings(now)
	if err != nil {
		t.Fatal(err)
	}
	wantWorld := bsssim.WorldConfig{Seed: 42, Owners: 5, InstancesPerOwner: 7, Currency: "USD", SplitBillEnabled: false, BucketsPerOSSInstance: 3}
	if s.world != wantWorld {
		t.Errorf("world %+v, want %+v", s.world, wantWorld)
	}
	if s.quota != -1 || s.latency != 150*time.Millisecond || s.faults.String() != "throttle=2,action=QueryAccountBill" {
		t.Errorf("quota %d, latency %v, faults %q", s.quota, s.latency, s.faults.String())
	}
	if want := time.Date(2024, 6, 3, 3, 0, 0, 0, time.UTC); !s.clockStart.Equal(want) {
		t.Errorf("clock start %v, want %v", s.clockStart, want)
	}
	if s.credential.AccessKeyID != bsssim.TestAccessKeyID || s.credential.AccessKeySecret != bsssim.TestAccessKeySecret {
		t.Errorf("credential %v is not the test key", s.credential)
	}

	var defaults flagValues
	if _, err := newApp(&defaults).Parse(nil); err != nil {
		t.Fatal(err)
	}
	d, err := defaults.settings(now)
	if err != nil {
		t.Fatal(err)
	}
	if d.listenAddress != "127.0.0.1:8417" || !d.world.SplitBillEnabled || d.quota != 10 || !d.clockStart.Equal(now) || d.faults.String() != "" {
		t.Errorf("defaults %+v", d)
	}
}

func TestHelpExplainsEveryFlag(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := runContext(context.Background(), []string{"--help"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("--help exited %d; stderr %s", code, stderr.String())
	}
	for _, flag := range []string{"--listen-address", "--seed", "--owners", "--instances-per-owner", "--buckets-per-oss-instance",
		"--currency", "--[no-]split-bill", "--quota", "--latency", "--faults", "--clock.start", "--access-key-id",
		"--access-key-secret", "--log.level"} {
		if !strings.Contains(stdout.String(), flag) {
			t.Errorf("--help does not explain %s", flag)
		}
	}
}

// syncBuffer collects output written by the running simulator.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestStartServeAndStop(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdoutR, stdoutW := io.Pipe()
	stderr := &syncBuffer{}
	exited := make(chan int, 1)
	go func() {
		defer stdoutW.Close()
		exited <- runContext(ctx, []string{"--listen-address=127.0.0.1:0", "--log.level=debug", "--quota=-1"}, stdoutW, stderr)
	}()

	// The banner names the endpoint, the keys and the exporter flag.
	var banner []string
	endpoint := ""
	lines := bufio.NewScanner(stdoutR)
	for endpoint == "" || len(banner) < 6 {
		if !lines.Scan() {
			t.Fatalf("simulator stopped printing after %q; stderr %s", banner, stderr.String())
		}
		line := lines.Text()
		banner = append(banner, line)
		if _, after, ok := strings.Cut(line, " listening on "); ok {
			endpoint = after
		}
	}
	go func() { _, _ = io.Copy(io.Discard, stdoutR) }()
	text := strings.Join(banner, "\n")
	for _, want := range []string{bsssim.TestAccessKeyID, bsssim.TestAccessKeySecret, exporterEndpointFlag + "=" + endpoint} {
		if !strings.Contains(text, want) {
			t.Errorf("banner lacks %q:\n%s", want, text)
		}
	}

	req, _ := http.NewRequest(http.MethodPost, endpoint+"/", nil)
	bssclient.SignRequestV3(req, bssclient.ActionQueryAccountBalance, bssclient.APIVersion,
		bssclient.Credentials{AccessKeyID: bsssim.TestAccessKeyID, AccessKeySecret: bsssim.TestAccessKeySecret}, time.Now(), bssclient.NewNonce())
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("request to %s: %v", endpoint, err)
	}
	var env bssclient.Envelope
	err = json.NewDecoder(resp.Body).Decode(&env)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || env.Code != "200" {
		t.Errorf("QueryAccountBalance: HTTP %d, Code %q, err %v", resp.StatusCode, env.Code, err)
	}

	cancel() // as SIGINT does
	select {
	case code := <-exited:
		if code != exitOK {
			t.Errorf("exit %d after stop; stderr %s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("simulator did not stop")
	}
	logs := stderr.String()
	for _, want := range []string{`msg="serving BSS simulator"`, `msg=answered`, `action=QueryAccountBalance`, `status=200`, `msg=stopped`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
	if strings.Count(logs, bsssim.TestAccessKeySecret) > 0 {
		t.Errorf("logs show the secret:\n%s", logs)
	}
}

func TestListenFailureExits(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := runContext(context.Background(), []string{"--listen-address=127.0.0.1:99999"}, &stdout, &stderr); code != exitError {
		t.Errorf("exit %d, want %d; stderr %s", code, exitError, stderr.String())
	}
	if !strings.Contains(stderr.String(), "cannot listen") || !strings.Contains(stderr.String(), "127.0.0.1:99999") {
		t.Errorf("stderr %q does not name the address", stderr.String())
	}
}
