package collector

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/proctest"

	"github.com/go-kit/log"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
)

// billFamiliesOf lists every bill family the three day-keeping collectors emit.
func billFamiliesOf() []string {
	return concat(accountDailyFamilies, accountCycleFamilies, instanceDailyFamilies, instanceCycleFamilies,
		ossDailyFamilies, ossCycleFamilies, []string{perInstanceFamily, newestDayFamily})
}

func withState(dir string) func(*Config) {
	return func(c *Config) {
		c.StateDir = dir
		everything(c)
	}
}

// TestRestartWithStateReadsNoSettledDay: a second exporter on the same
// state directory publishes the same bills as the first, and asks BSS only
// for what can still change (the account collector's cycles and unsettled
// days), never for a settled day.
func TestRestartWithStateReadsNoSettledDay(t *testing.T) {
	dir := t.TempDir()
	first := startSim(t, simOptions{start: midMarch, configure: withState(dir)})
	first.mustStep(midMarch)
	first.assertModel()
	want := formatText(t, first.exp, billFamiliesOf()...)

	logs := &proctest.Buffer{}
	second := startSim(t, simOptions{start: midMarch, configure: withState(dir), logger: log.NewLogfmtLogger(logs)})
	second.mustStep(midMarch)
	for _, w := range second.bss.takeWalks() {
		if !strings.Contains(w, "QueryAccountBill MONTHLY") && !isUnsettledAccountDay(w, midMarch) {
			t.Errorf("after a restart with state: walked %s", w)
		}
	}
	if got := formatText(t, second.exp, billFamiliesOf()...); got != want {
		t.Errorf("after a restart with state the bills differ:\n%s\nwant:\n%s", got, want)
	}
	if n := strings.Count(logs.String(), "read settled days from the state file"); n != 3 {
		t.Errorf("%d collectors read their state, want 3:\n%s", n, logs)
	}

	// A day later, only the newly settled days are read, and saved.
	next := midMarch.Add(24 * time.Hour)
	second.mustStep(next)
	second.assertModel()
	third := startSim(t, simOptions{start: next, configure: withState(dir)})
	third.mustStep(next)
	for _, w := range third.bss.takeWalks() {
		if !strings.Contains(w, "QueryAccountBill MONTHLY") && !isUnsettledAccountDay(w, next) {
			t.Errorf("after a second restart: walked %s", w)
		}
	}
	// The days as the second exporter first read them: a settled day's
	// value never changes once published, even if BSS restated it later.
	if got, want := formatText(t, third.exp, billFamiliesOf()...), formatText(t, second.exp, billFamiliesOf()...); got != want {
		t.Errorf("after a second restart the bills differ:\n%s\nwant:\n%s", got, want)
	}
}

// isUnsettledAccountDay reports an account DAILY walk of a day that has not
// settled at now: the cycle gauges subtract those every refresh.
func isUnsettledAccountDay(walk string, now time.Time) bool {
	if !strings.HasPrefix(walk, "QueryAccountBill DAILY") {
		return false
	}
	f := strings.Fields(walk)
	day := f[len(f)-1]
	return day > newestAmountsDay(now)
}

func newestAmountsDay(now time.Time) string {
	return bssclient.Calendar{}.NewestSettledDay(now, bssclient.KindAmounts).String()
}

// TestCorruptStateIsRefetchedNeverWrong: whatever happened to the file
// (torn, bit-flipped, another version, other options, not JSON), the
// exporter logs it once, reads the days from BSS again, publishes exactly
// the model, and rewrites a good file.
func TestCorruptStateIsRefetchedNeverWrong(t *testing.T) {
	seed := t.TempDir()
	first := startSim(t, simOptions{start: midMarch, collectors: []string{"instance"}, configure: withState(seed)})
	first.mustStep(midMarch)
	good, err := os.ReadFile(filepath.Join(seed, testAccount+".instance.json"))
	if err != nil {
		t.Fatal(err)
	}
	digit := bytes.IndexAny(good[bytes.Index(good, []byte(`"a":[`))+5:], "123456789") + bytes.Index(good, []byte(`"a":[`)) + 5
	flipped := bytes.Clone(good)
	flipped[digit] = '0' + (flipped[digit]-'0'+1)%10
	for _, tc := range []struct {
		name    string
		content []byte
		reason  string
	}{
		{"torn write", good[:len(good)/2], "not a state file"},
		{"one digit changed", flipped, "checksum mismatch"},
		{"another version", bytes.Replace(good, fmt.Appendf(nil, `"version":%d`, stateVersion), []byte(`"version":99`), 1), "format version 99"},
		{"not JSON", []byte("\x00\x01garbage"), "not a state file"},
		{"empty", nil, "not a state file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, testAccount+".instance.json")
			if err := os.WriteFile(path, tc.content, 0o600); err != nil {
				t.Fatal(err)
			}
			logs := &proctest.Buffer{}
			h := startSim(t, simOptions{start: midMarch, collectors: []string{"instance"}, configure: withState(dir), logger: log.NewLogfmtLogger(logs)})
			h.mustStep(midMarch)
			h.mustStep(midMarch.Add(time.Hour))
			h.assertModel()
			if n := strings.Count(logs.String(), "ignoring the state file"); n != 1 {
				t.Errorf("logged %d times, want once:\n%s", n, logs)
			}
			if !strings.Contains(logs.String(), tc.reason) {
				t.Errorf("the log does not say %q:\n%s", tc.reason, logs)
			}
			from, to := h.bookRange("instance", midMarch)
			walks := 0
			for _, w := range h.bss.takeWalks() {
				f := strings.Fields(w)
				if strings.Contains(w, "DescribeInstanceBill DAILY") && f[len(f)-1] <= to.String() {
					walks++ // a settled day: the cycle's unsettled days are read anyway
				}
			}
			if want := int(to.Start().Sub(from.Start())/(24*time.Hour)) + 1; walks != want {
				t.Errorf("%d walks after a bad state file, want every day again (%d)", walks, want)
			}
			rewritten, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(rewritten, good) {
				t.Errorf("the state file was not rewritten to the good state (err %v)", err)
			}
		})
	}
}

// TestStateOfOtherOptionsIsNotReused: days booked with other labels (here:
// a zone label turned on) are not mixed into the new shape.
func TestStateOfOtherOptionsIsNotReused(t *testing.T) {
	dir := t.TempDir()
	startSim(t, simOptions{start: midMarch, collectors: []string{"instance"}, configure: func(c *Config) { c.StateDir = dir }}).mustStep(midMarch)
	logs := &proctest.Buffer{}
	h := startSim(t, simOptions{start: midMarch, collectors: []string{"instance"}, logger: log.NewLogfmtLogger(logs),
		configure: func(c *Config) { c.StateDir = dir; c.Instance.Zone = true }})
	h.mustStep(midMarch)
	h.assertModel()
	if !strings.Contains(logs.String(), "written with other options") {
		t.Errorf("no warning about the options:\n%s", logs)
	}
}

// TestStateWritesAreCrashSafe: a write goes through a temporary file and a
// rename, so the file on disk is always a whole old or a whole new state.
// A crash before the rename leaves a temporary file behind, which is never
// read; and no prefix of a state file (a torn write without the rename) and
// no changed byte is ever accepted.
func TestStateWritesAreCrashSafe(t *testing.T) {
	dir := t.TempDir()
	h := startSim(t, simOptions{start: midMarch, collectors: []string{"ossbucket"}, configure: withState(dir)})
	h.mustStep(midMarch)
	path := filepath.Join(dir, testAccount+".ossbucket.json")
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("%d files in the state directory after a write, want only the state file", len(entries))
	}
	// A crash mid-write of the next state: the temporary file is torn.
	if err := os.WriteFile(filepath.Join(dir, "."+filepath.Base(path)+".tmp-123"), good[:len(good)/3], 0o600); err != nil {
		t.Fatal(err)
	}
	restarted := startSim(t, simOptions{start: midMarch, collectors: []string{"ossbucket"}, configure: withState(dir)})
	restarted.mustStep(midMarch)
	if walks := restarted.bss.takeWalks(); len(walks) != 0 {
		t.Errorf("after a crash mid-write the restart walked %v; the old file was intact", walks)
	}
	restarted.assertModel()

	store := &stateStore{path: path, collector: "ossbucket",
		identity: restarted.exp.workers[0].collector.(*ossBucketCollector).state.identity}
	for n := range len(good) {
		if err := os.WriteFile(path, good[:n], 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := store.read(); err == nil {
			t.Fatalf("a file torn after %d of %d bytes was accepted", n, len(good))
		}
	}
	for i := 0; i < len(good); i += max(1, len(good)/400) {
		bad := bytes.Clone(good)
		bad[i] ^= 0x01
		if err := os.WriteFile(path, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		d, err := store.read()
		if err == nil && (d.Days == nil || !bytes.Equal(bad, good)) {
			// Only a change JSON ignores (e.g. in whitespace) may be accepted.
			if err := os.WriteFile(path, good, 0o600); err != nil {
				t.Fatal(err)
			}
			want, _ := store.read()
			if !sameState(d, want) {
				t.Fatalf("byte %d changed: a different state was accepted", i)
			}
		}
	}
}

func sameState(a, b *stateData) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// TestStateOfAnotherPayerIsNotReused: a state directory written for payer
// A, offered to payer B under the same account label (two exporters
// without a config file sharing a volume, or the demo's state left behind
// for a real account), is logged once, naming the payer, and every number
// is a fresh exporter's for B; the file is then rewritten as B's.
func TestStateOfAnotherPayerIsNotReused(t *testing.T) {
	dir := t.TempDir()
	payerA := startSim(t, simOptions{start: midMarch, configure: withState(dir)})
	payerA.mustStep(midMarch)

	worldB := testWorld
	worldB.Seed = 11
	fresh := startSim(t, simOptions{world: &worldB, start: midMarch, configure: func(c *Config) { everything(c) }})
	fresh.mustStep(midMarch)
	want := formatText(t, fresh.exp, billFamiliesOf()...)
	if want == formatText(t, payerA.exp, billFamiliesOf()...) {
		t.Fatal("the two payers' bills are the same: the test proves nothing")
	}

	logs := &proctest.Buffer{}
	payerB := startSim(t, simOptions{world: &worldB, start: midMarch, configure: withState(dir), logger: log.NewLogfmtLogger(logs)})
	payerB.mustStep(midMarch)
	payerB.assertModel()
	if got := formatText(t, payerB.exp, billFamiliesOf()...); got != want {
		t.Errorf("payer B on payer A's state differs from a fresh exporter:\n%s\nwant:\n%s", got, want)
	}
	if n := strings.Count(logs.String(), "written for another payer account"); n != 3 {
		t.Errorf("%d collectors said the state is another payer's, want 3:\n%s", n, logs)
	}
	if strings.Contains(logs.String(), payerA.world.AccountID()) {
		t.Errorf("the log names payer A's account ID:\n%s", logs)
	}

	// The files are B's now: a restart of B reads them, and A's state is gone.
	logs = &proctest.Buffer{}
	again := startSim(t, simOptions{world: &worldB, start: midMarch, configure: withState(dir), logger: log.NewLogfmtLogger(logs)})
	again.mustStep(midMarch)
	if n := strings.Count(logs.String(), "read settled days from the state file"); n != 3 {
		t.Errorf("after the rewrite %d collectors read their state, want 3:\n%s", n, logs)
	}
	if got := formatText(t, again.exp, billFamiliesOf()...); got != want {
		t.Errorf("payer B restarted on its own state differs from a fresh exporter:\n%s\nwant:\n%s", got, want)
	}
}

// TestStateIsWrittenOnlyForAKnownPayer: while BSS cannot tell the payer,
// the refresh fails and no state file is read or written.
func TestStateIsWrittenOnlyForAKnownPayer(t *testing.T) {
	dir := t.TempDir()
	h := startSim(t, simOptions{start: midMarch, collectors: []string{"account"}, configure: withState(dir)})
	h.creds.set("LTAIunknownkey00000000", "wrong")
	h.failedStep(midMarch, bssclient.CodeInvalidAccessKeyID, "account")
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("%d files in the state directory before the payer is known, want none", len(entries))
	}
	h.creds.set(bsssim.TestAccessKeyID, bsssim.TestAccessKeySecret)
	h.mustStep(midMarch.Add(time.Minute))
	h.assertModel()
	if _, err := os.Stat(filepath.Join(dir, testAccount+".account.json")); err != nil {
		t.Errorf("no state file once the payer is known: %v", err)
	}
}

// TestStateFileThatIsNotARegularFile: a named pipe or a link to /dev/zero
// at a state file's path is refused at once, named in the log, and the
// days are read from BSS; nothing hangs and nothing is read from the device.
func TestStateFileThatIsNotARegularFile(t *testing.T) {
	for name, make := range map[string]func(path string) error{
		"named pipe": func(path string) error { return syscall.Mkfifo(path, 0o600) },
		"/dev/zero":  func(path string) error { return os.Symlink("/dev/zero", path) },
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := make(filepath.Join(dir, testAccount+".account.json")); err != nil {
				t.Fatal(err)
			}
			logs := &proctest.Buffer{}
			h := startSim(t, simOptions{start: midMarch, collectors: []string{"account"}, configure: withState(dir), logger: log.NewLogfmtLogger(logs)})
			h.mustStep(midMarch)
			h.assertModel()
			if !strings.Contains(logs.String(), "not a regular file") {
				t.Errorf("the log does not say the path is not a regular file:\n%s", logs)
			}
		})
	}
}
