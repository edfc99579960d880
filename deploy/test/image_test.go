package test

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

var image = flag.String("image", "", "the image `make image` built (the Makefile passes it)")

// podman runs podman with the options this machine needs: the runc runtime
// (Debian's podman defaults to crun, which may be absent) and the default
// storage. Everything runs as root here, as buildah built the image.
func podman(args ...string) (string, error) {
	out, err := exec.Command("podman", append([]string{"--runtime", "runc"}, args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("podman %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// TestImageConfig: the image runs as nobody, exposes 9848, and its entrypoint
// is the binary.
func TestImageConfig(t *testing.T) {
	if *image == "" {
		t.Fatal("-image is required: run `make image-test`")
	}
	out, err := podman("image", "inspect", *image)
	if err != nil {
		t.Fatal(err)
	}
	var inspect []struct {
		Config struct {
			User         string
			ExposedPorts map[string]struct{}
			Entrypoint   []string
			Cmd          []string
		}
	}
	if err := json.Unmarshal([]byte(out), &inspect); err != nil || len(inspect) != 1 {
		t.Fatalf("podman image inspect: %v\n%s", err, out)
	}
	c := inspect[0].Config
	if c.User != "65534:65534" {
		t.Errorf("User %q, want 65534:65534", c.User)
	}
	if _, ok := c.ExposedPorts["9848/tcp"]; !ok || len(c.ExposedPorts) != 1 {
		t.Errorf("ExposedPorts %v, want 9848/tcp", c.ExposedPorts)
	}
	if strings.Join(c.Entrypoint, " ") != "/bin/aliyun-billing-exporter" || len(c.Cmd) != 0 {
		t.Errorf("Entrypoint %q Cmd %q, want the binary and no arguments", c.Entrypoint, c.Cmd)
	}

	// The state directory belongs to nobody, so that a fresh volume mounted
	// there does too; nothing else is writable by that user.
	root, err := podman("image", "mount", *image)
	if err != nil {
		t.Fatal(err)
	}
	defer podman("image", "unmount", *image)
	var files []string
	err = filepath.WalkDir(strings.TrimSpace(root), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		st := info.Sys().(*syscall.Stat_t)
		rel, _ := filepath.Rel(strings.TrimSpace(root), path)
		if rel == "." { // the mount point, not the image's
			return nil
		}
		files = append(files, fmt.Sprintf("%s %d:%d %v", rel, st.Uid, st.Gid, info.Mode()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"bin 0:0 drwxr-xr-x",
		"bin/aliyun-billing-exporter 0:0 -rwxr-xr-x",
		"etc 0:0 drwxr-xr-x",
		"etc/ssl 0:0 drwxr-xr-x",
		"etc/ssl/certs 0:0 drwxr-xr-x",
		"etc/ssl/certs/ca-certificates.crt 0:0 -rw-r--r--",
		"var 0:0 drwxr-xr-x",
		"var/lib 0:0 drwxr-xr-x",
		"var/lib/aliyun-billing-exporter 65534:65534 drwxr-xr-x",
	}
	if !slices.Equal(files, want) {
		t.Errorf("the image holds\n%s\nwant\n%s", strings.Join(files, "\n"), strings.Join(want, "\n"))
	}
}

// TestImageServesDemo runs --demo in the image on a free loopback port, with
// a read-only root, no capabilities and a volume for the state directory (as
// the Helm chart runs it), scrapes it, stops it with SIGTERM and checks that
// it exits 0.
func TestImageServesDemo(t *testing.T) {
	if *image == "" {
		t.Fatal("-image is required: run `make image-test`")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	name := fmt.Sprintf("aliyun-billing-exporter-test-%d", time.Now().UnixNano())
	if _, err := podman("run", "--detach", "--name", name,
		// podman's default limits (nofile 1048576, nproc 4194304) exceed
		// the hard limits of some hosts, this one included, and runc then
		// cannot start the container. The exporter needs neither.
		"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096",
		"--network", "host",
		"--read-only", "--cap-drop", "all", "--security-opt", "no-new-privileges",
		// The state directory as users mount it: a fresh volume, which
		// takes the image directory's owner (65534).
		"--volume", "/var/lib/aliyun-billing-exporter",
		*image, "--demo", "--web.listen-address="+addr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := podman("logs", name)
			t.Logf("container log:\n%s", logs)
		}
		_, _ = podman("rm", "--force", "--volumes", name)
	})

	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the container was not ready on %s within 90s (last: %v)", addr, err)
		}
		time.Sleep(500 * time.Millisecond)
	}

	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`aliyun_billing_account_cycle_payable{account="demo"`,
		`aliyun_billing_exporter_build_info{`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics has no %s", want)
		}
	}
	if strings.Contains(string(body), `version="devel"`) || strings.Contains(string(body), `version=""`) {
		t.Errorf("the image's binary is not stamped: %s", grep(string(body), "build_info"))
	}

	if _, err := podman("kill", "--signal", "TERM", name); err != nil {
		t.Fatal(err)
	}
	code, err := podman("wait", name)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(code) != "0" {
		t.Errorf("exit code %s after SIGTERM, want 0", strings.TrimSpace(code))
	}
	logs, _ := podman("logs", name)
	if !strings.Contains(logs, "shutting down") {
		t.Errorf("no clean shutdown in the log:\n%s", logs)
	}
}

func grep(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
