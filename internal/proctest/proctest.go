// Package proctest runs the project's own binaries and the tools the tests
// need (Prometheus, Alertmanager, VictoriaMetrics) as processes: it builds
// each command of cmd/ once per test binary, finds free loopback ports,
// starts processes with their output in a log file, and waits for them to
// be ready. Only tests import it.
package proctest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// modulePath is the module the commands are built from, so that Build works
// from any package's directory.
const modulePath = "github.com/aliyun-billing-exporter/aliyun-billing-exporter"

var (
	buildDir = sync.OnceValues(func() (string, error) { return os.MkdirTemp("", "proctest-") })
	builds   sync.Map    // command → its build, a func() (string, error) run once
	built    atomic.Bool // a build was tried: there is a directory to remove
)

// Build builds cmd/<command> of this module once per test binary and
// returns the path of the binary. Main (or RemoveBuilds) removes it after
// the tests.
func Build(tb testing.TB, command string) string {
	tb.Helper()
	bin, err := Built(command)
	if err != nil {
		tb.Fatal(err)
	}
	return bin
}

// Built is Build for code that has no testing.TB at hand.
func Built(command string) (string, error) {
	build, _ := builds.LoadOrStore(command, sync.OnceValues(func() (string, error) { return buildCommand(command) }))
	return build.(func() (string, error))()
}

func buildCommand(command string) (string, error) {
	built.Store(true)
	dir, err := buildDir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, command)
	out, err := exec.Command("go", "build", "-o", bin, modulePath+"/cmd/"+command).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build cmd/%s: %v\n%s", command, err, out)
	}
	return bin, nil
}

// Main runs the tests of m and then removes what Build built. A package
// that calls Build calls it from its TestMain.
func Main(m *testing.M) {
	code := m.Run()
	RemoveBuilds()
	os.Exit(code)
}

// RemoveBuilds removes what Build built, for a TestMain that does more
// than Main.
func RemoveBuilds() {
	if !built.Load() {
		return
	}
	if dir, err := buildDir(); err == nil {
		os.RemoveAll(dir)
	}
}

// FreeAddr is a loopback address with a port that was free a moment ago.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	addr, err := FreeAddrOf()
	if err != nil {
		tb.Fatal(err)
	}
	return addr
}

// FreeAddrOf is FreeAddr for code that has no testing.TB at hand.
func FreeAddrOf() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Process is a process started by a test, with its output in a log file.
type Process struct {
	Name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	waitErr error
}

// Start runs bin with args in dir, its output in logPath.
func Start(name, logPath, dir, bin string, args ...string) (*Process, error) {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	return StartCmd(name, logPath, cmd)
}

// StartCmd is Start for a command the caller prepared (its environment,
// say); its output goes to logPath.
func StartCmd(name, logPath string, cmd *exec.Cmd) (*Process, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &Process{Name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// StartT is Start for one test: the log is dir/name.log, the process is
// killed when the test ends, and the end of its log is printed if the test
// failed.
func StartT(tb testing.TB, name, dir, bin string, args ...string) *Process {
	tb.Helper()
	p, err := Start(name, filepath.Join(dir, name+".log"), dir, bin, args...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		p.Stop()
		if tb.Failed() {
			tb.Logf("last lines of the %s log:\n%s", name, p.LogTail(40))
		}
	})
	return p
}

// Stop kills the process and waits for it.
func (p *Process) Stop() {
	if p.Exited() == nil {
		_ = p.cmd.Process.Kill()
	}
	<-p.done
}

// Exited is nil while the process runs, and says how it ended after.
func (p *Process) Exited() error {
	select {
	case <-p.done:
		if p.waitErr == nil {
			return fmt.Errorf("%s exited", p.Name)
		}
		return fmt.Errorf("%s exited: %w", p.Name, p.waitErr)
	default:
		return nil
	}
}

// Done is closed when the process has ended.
func (p *Process) Done() <-chan struct{} { return p.done }

// Wait waits for the process to end and returns how it ended, as
// exec.Cmd.Wait does.
func (p *Process) Wait() error {
	<-p.done
	return p.waitErr
}

// Signal sends sig to the process.
func (p *Process) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Log is the whole log so far.
func (p *Process) Log() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// LogTail is the last n lines of the log.
func (p *Process) LogTail(n int) string {
	lines := strings.Split(strings.TrimRight(p.Log(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// WaitReady polls url until it answers 200, the process ends, or timeout
// passes.
func (p *Process) WaitReady(url string, timeout time.Duration) error {
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(timeout)
	last := errors.New("not asked yet")
	for time.Now().Before(deadline) {
		if err := p.Exited(); err != nil {
			return fmt.Errorf("%w; log:\n%s", err, p.LogTail(20))
		}
		resp, err := client.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		last = err
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready at %s after %s: %v", p.Name, url, timeout, last)
}

// Simulator is a bss-simulator process started by StartSimulator.
type Simulator struct {
	URL string // http://127.0.0.1:port
	cmd *exec.Cmd
}

// StartSimulator runs bss-simulator with args on a free loopback port,
// waits for the address it prints, and interrupts it when the test ends.
func StartSimulator(tb testing.TB, args ...string) *Simulator {
	tb.Helper()
	cmd := exec.Command(Build(tb, "bss-simulator"), append([]string{"--listen-address=127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() })
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		// "BSS simulator (BssOpenApi 2017-12-14) listening on http://127.0.0.1:port"
		if _, url, ok := strings.Cut(lines.Text(), " listening on "); ok {
			go func() { _, _ = io.Copy(io.Discard, stdout) }()
			return &Simulator{URL: strings.TrimSpace(url), cmd: cmd}
		}
	}
	tb.Fatal("bss-simulator printed no address")
	return nil
}

// PeakRSS is the simulator's peak resident set so far.
func (s *Simulator) PeakRSS() int64 { return PeakRSS(s.cmd.Process.Pid) }

// PeakRSS is the peak resident set (VmHWM) of process pid, in bytes; 0
// once it has ended.
func PeakRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// Buffer is a log destination that goroutines may write while a test
// reads it.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
