package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/proctest"

	"github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	"github.com/alibabacloud-go/tea/dara"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/logging"
)

func TestBadFlagsAreRefusedByName(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--no-such-flag"}, "--no-such-flag"},
		{[]string{"--listen-address=8417"}, `--listen-address: "8417" is not HOST:PORT such as 127.0.0.1:8417`},
		{[]string{"--seed=one"}, `--seed: "one" is not a whole number`},
		{[]string{"--owners=-1"}, `--owners: must be at least 1, got -1`},
		{[]string{"--owners", "0"}, `--owners: must be at least 1, got 0`},
		{[]string{"--instances-per-owner=0"}, `--instances-per-owner: must be at least 1, got 0`},
		{[]string{"--buckets-per-oss-instance=many"}, `--buckets-per-oss-instance: "many" is not a whole number`},
		{[]string{"--currency=EUR"}, `--currency: "EUR" is not one of CNY, USD, JPY`},
		{[]string{"--quota=fast"}, `--quota: "fast" is not a whole number`},
		{[]string{"--latency=-1s"}, `--latency: must be between 0 and 5m0s, got -1s`},
		{[]string{"--latency", "-1s"}, `--latency: must be between 0 and 5m0s, got -1s`},
		{[]string{"--faults=explode=1"}, `--faults: "explode=1" is refused: fault "explode=1": unknown fault "explode"`},
		{[]string{"--faults=no-permission=DescribeRegions"}, `fault "no-permission=DescribeRegions": unknown action`},
		{[]string{"--faults=clock-skew=late"}, `fault "clock-skew=late": clock-skew must be a duration`},
		{[]string{"--clock.start=yesterday"}, `--clock.start: "yesterday" is not an RFC 3339 time`},
		{[]string{"--http.read-timeout=0s"}, `--http.read-timeout: must be positive, got 0s`},
		{[]string{"--access-key-id="}, "--access-key-id is empty"},
		{[]string{"--access-key-secret="}, "--access-key-secret is empty"},
		{[]string{"--log.level=loud"}, `--log.level: "loud" is not one of debug, info, warn, error`}, // internal/logging's wording
		{[]string{"--log.format=xml"}, `--log.format: "xml" is not one of logfmt, json`},
		{[]string{"--owners=2000"}, "Owners 2000 out of range"}, // the World's own limit
		{[]string{"--oss.listen-address=8418"}, `--oss.listen-address: "8418" is not HOST:PORT`},
		{[]string{"--oss.row-limit=-5"}, `--oss.row-limit: must not be negative, got -5`},
		{[]string{"--oss.faults=missing-day=June"}, `--oss.faults: "missing-day=June" is refused: OSS fault "missing-day=June"`},
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

func TestFlags(t *testing.T) {
	var out bytes.Buffer
	s, code, done := parseFlags([]string{"--seed", "-42", "--owners=5", "--instances-per-owner=7", "--currency=USD",
		"--no-split-bill", "--quota", "-1", "--latency=150ms", "--faults=throttle=2,clock-skew=-5m,action=QueryAccountBill",
		"--clock.start=2024-06-03T11:00:00+08:00", "--log.level=debug"}, &out, &out)
	if done {
		t.Fatalf("refused (exit %d): %s", code, out.String())
	}
	wantWorld := bsssim.WorldConfig{Seed: -42, Owners: 5, InstancesPerOwner: 7, Currency: "USD", SplitBillEnabled: false, BucketsPerOSSInstance: 3}
	if s.world != wantWorld {
		t.Errorf("world %+v, want %+v", s.world, wantWorld)
	}
	if s.quota != -1 || s.latency != 150*time.Millisecond || s.faults.String() != "throttle=2,clock-skew=-5m0s,action=QueryAccountBill" {
		t.Errorf("quota %d, latency %v, faults %q", s.quota, s.latency, s.faults.String())
	}
	if want := time.Date(2024, 6, 3, 3, 0, 0, 0, time.UTC); !s.clockStart.Equal(want) {
		t.Errorf("clock start %v, want %v", s.clockStart, want)
	}
	if s.credential.AccessKeyID != bsssim.TestAccessKeyID || s.credential.AccessKeySecret != bsssim.TestAccessKeySecret {
		t.Errorf("credential %v is not the test key", s.credential)
	}

	d, code, done := parseFlags(nil, &out, &out)
	if done {
		t.Fatalf("defaults refused (exit %d): %s", code, out.String())
	}
	if d.listenAddress != "127.0.0.1:8417" || !d.world.SplitBillEnabled || d.quota != 10 || !d.clockStart.IsZero() ||
		d.faults.String() != "" || d.world.Owners != 3 || d.readTimeout != bsssim.DefaultReadTimeout || d.idleTimeout != bsssim.DefaultIdleTimeout {
		t.Errorf("defaults %+v", d)
	}
}

func TestHelpExplainsEveryFlag(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := runContext(context.Background(), []string{"--help"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("--help exited %d; stderr %s", code, stderr.String())
	}
	for _, flag := range []string{"--listen-address", "--seed", "--owners", "--instances-per-owner", "--buckets-per-oss-instance",
		"--currency", "--[no-]split-bill", "--[no-]amortized-cost", "--quota", "--latency", "--faults", "--clock.start", "--http.read-timeout",
		"--http.idle-timeout", "--access-key-id", "--access-key-secret", "--log.level", "--log.format",
		"--oss.listen-address", "--oss.region", "--oss.row-limit", "--oss.faults", "--[no-]split-item-subscription"} {
		if !strings.Contains(stdout.String(), flag) {
			t.Errorf("--help does not explain %s", flag)
		}
	}
}

func TestStartServeAndStop(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdoutR, stdoutW := io.Pipe()
	stderr := &proctest.Buffer{}
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

	if code, _ := callBalance(t, endpoint, time.Now()); code != "200" {
		t.Errorf("QueryAccountBalance: Code %q, want 200", code)
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

// startSimulator runs the command with args on a free port and returns its
// endpoint; it stops when the test ends.
func startSimulator(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdoutR, stdoutW := io.Pipe()
	stderr := &proctest.Buffer{}
	exited := make(chan int, 1)
	go func() {
		defer stdoutW.Close()
		exited <- runContext(ctx, append([]string{"--listen-address=127.0.0.1:0", "--quota=-1"}, args...), stdoutW, stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			t.Error("simulator did not stop")
		}
	})
	lines := bufio.NewScanner(stdoutR)
	for lines.Scan() {
		if _, after, ok := strings.Cut(lines.Text(), " listening on "); ok {
			go func() { _, _ = io.Copy(io.Discard, stdoutR) }()
			return after
		}
	}
	t.Fatalf("the simulator did not start; stderr %s", stderr.String())
	return ""
}

// callBalance sends QueryAccountBalance signed at date with the test key, by
// Alibaba's own V3 signing helper, and returns the answer's Code and Date.
func callBalance(t *testing.T, endpoint string, date time.Time) (code string, answered time.Time) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, endpoint+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	headers := map[string]string{
		"host": req.URL.Host, "x-acs-action": "QueryAccountBalance", "x-acs-version": "2017-12-14",
		"x-acs-date": date.UTC().Format("2006-01-02T15:04:05Z"), "x-acs-signature-nonce": fmt.Sprint(time.Now().UnixNano()),
		"x-acs-content-sha256": emptySHA256,
	}
	signed := map[string]*string{}
	for k, v := range headers {
		signed[k] = dara.String(v)
		if k != "host" {
			req.Header.Set(k, v)
		}
	}
	auth := utils.GetAuthorization(&dara.Request{Method: dara.String("POST"), Pathname: dara.String("/"), Headers: signed},
		dara.String("ACS3-HMAC-SHA256"), dara.String(emptySHA256), dara.String(bsssim.TestAccessKeyID), dara.String(bsssim.TestAccessKeySecret))
	req.Header.Set("Authorization", dara.StringValue(auth))
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("request to %s: %v", endpoint, err)
	}
	defer resp.Body.Close()
	var env struct{ Code string }
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		t.Fatalf("HTTP %d: %v", resp.StatusCode, err)
	}
	answered, _ = http.ParseTime(resp.Header.Get("Date"))
	return env.Code, answered
}

// TestFaultsFromTheCommandLine: the caller-side faults are switchable from
// --faults, not only from the Go API.
func TestFaultsFromTheCommandLine(t *testing.T) {
	for _, tc := range []struct {
		faults string
		codes  []string // of consecutive calls
	}{
		{"no-permission=QueryAccountBalance", []string{"NoPermission", "NoPermission"}},
		{"no-permission=DescribeInstanceBill", []string{"200"}},
		{"sts-expired=1", []string{"InvalidSecurityToken.Expired", "200"}},
		{"clock-skew=-20m", []string{"InvalidTimeStamp.Expired"}}, // beyond the gateway's 15 minutes
		{"throttle=1,5xx=1", []string{"Throttling.User", "ServiceUnavailable", "200"}},
	} {
		t.Run(tc.faults, func(t *testing.T) {
			endpoint := startSimulator(t, "--faults="+tc.faults)
			for i, want := range tc.codes {
				if got, _ := callBalance(t, endpoint, time.Now()); got != want {
					t.Errorf("call %d: %s, want %s", i+1, got, want)
				}
			}
		})
	}

	// Within the gateway's tolerance the skew shows in the Date header.
	endpoint := startSimulator(t, "--faults", "clock-skew=-10m")
	before := time.Now()
	code, date := callBalance(t, endpoint, before)
	if lag := before.Sub(date); code != "200" || lag < 9*time.Minute || lag > 11*time.Minute {
		t.Errorf("clock-skew=-10m: Code %s, Date %v, %v behind the host; want 200 and about 10m", code, date, lag)
	}
}

// TestSlowAndIdleConnectionsAreClosed: connections that send nothing, send a
// body slowly, or stay idle after a request are closed by the server.
func TestSlowAndIdleConnectionsAreClosed(t *testing.T) {
	endpoint := startSimulator(t, "--http.read-timeout=300ms", "--http.idle-timeout=300ms")
	addr := strings.TrimPrefix(endpoint, "http://")
	for _, tc := range []struct{ name, send string }{
		{"silent", ""},
		{"slow body", "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nAction="},
		{"idle after a request", "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, tc.send); err != nil {
				t.Fatal(err)
			}
			// Far longer than the timeouts: the server, not this deadline,
			// must end the connection.
			_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
			_, err = io.Copy(io.Discard, conn)
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("the server kept the connection open")
			}
		})
	}
}

// --log.format=json comes from internal/logging, as in the exporter: every
// line is a JSON object carrying the shared timestamp key.
func TestJSONLogsCarryTheSharedTimestampKey(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := runContext(context.Background(), []string{"--listen-address=127.0.0.1:99999", "--log.format=json"}, &stdout, &stderr); code != exitError {
		t.Fatalf("exit %d, want %d; stderr %s", code, exitError, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	for _, line := range lines {
		var fields map[string]any
		if err := json.Unmarshal([]byte(line), &fields); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		if _, ok := fields[logging.TimestampKey]; !ok {
			t.Errorf("log line %q lacks %q", line, logging.TimestampKey)
		}
		if fields["msg"] != "cannot listen" || fields["level"] != "error" {
			t.Errorf("log line %q, want level=error msg=\"cannot listen\"", line)
		}
	}
}
