package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFilesThatAreNotRegularAreRefused: a config, web config or OIDC token
// file that is a named pipe or a device, or a config larger than any real
// one, is refused at startup with an error naming the path and what it is;
// nothing blocks on a pipe or reads a device without end.
func TestFilesThatAreNotRegularAreRefused(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "config.yml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yml")
	if err := os.WriteFile(big, bytes.Repeat([]byte("# padding\n"), maxConfigBytes/10+1), 0o600); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.yml")
	if err := os.WriteFile(good, []byte("accounts:\n  - name: a\n    credentials:\n      type: access_key\n      access_key_id: LTAI0000000000000000\n      access_key_secret: s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	oidc := filepath.Join(dir, "oidc.yml")
	if err := os.WriteFile(oidc, []byte("accounts:\n  - name: rrsa\n    credentials:\n      type: oidc_role_arn\n      role_arn: acs:ram::1:role/r\n      oidc_provider_arn: acs:ram::1:oidc-provider/p\n      oidc_token_file: "+fifo+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--config.file=" + fifo}, fifo + " is a named pipe, not a regular file"},
		{[]string{"--config.file=/dev/zero"}, "/dev/zero is a character device, not a regular file"},
		{[]string{"--config.file=" + big}, big + " is larger than 4 MiB, the most read from such a file"},
		{[]string{"--config.file=" + good, "--web.config.file=" + fifo}, "--web.config.file: " + fifo + " is a named pipe, not a regular file"},
		{[]string{"--config.file=" + good, "--web.config.file=/dev/zero"}, "--web.config.file: /dev/zero is a character device, not a regular file"},
		{[]string{"--config.file=" + oidc}, "account rrsa: credentials: type \\\"oidc_role_arn\\\": " + fifo + " is a named pipe, not a regular file"},
	} {
		done := make(chan struct{})
		var code int
		var stderr bytes.Buffer
		go func() {
			defer close(done)
			code = run(context.Background(), append([]string{"--config.check"}, tc.args...), &bytes.Buffer{}, &stderr, nil)
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second): // a hang, not a timing assertion
			t.Fatalf("%v: the check did not return", tc.args)
		}
		if code != 2 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}
