package logging

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/go-kit/log/level"
)

// Lines logged through go-kit and through the slog bridge carry the same
// timestamp key, in both formats, and no second one.
func TestOneTimestampKey(t *testing.T) {
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			l, err := New(&buf, Config{Level: "debug", Format: format})
			if err != nil {
				t.Fatal(err)
			}
			level.Info(l).Log("msg", "from go-kit")
			l.Slog.Info("from slog", "address", "127.0.0.1:9848")
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if len(lines) != 2 {
				t.Fatalf("%d lines: %q", len(lines), buf.String())
			}
			for _, line := range lines {
				keys := map[string]any{}
				if format == "json" {
					if err := json.Unmarshal([]byte(line), &keys); err != nil {
						t.Fatalf("%q: %v", line, err)
					}
				} else {
					for _, f := range strings.Fields(line) {
						k, v, _ := strings.Cut(f, "=")
						keys[k] = v
					}
				}
				if _, ok := keys[TimestampKey]; !ok {
					t.Errorf("no %s in %q", TimestampKey, line)
				}
				if _, ok := keys["time"]; ok {
					t.Errorf("a second timestamp key, time, in %q", line)
				}
				if _, ok := keys["caller"]; !ok {
					t.Errorf("no caller in %q", line)
				}
			}
		})
	}
}

func TestLevelFilter(t *testing.T) {
	var buf bytes.Buffer
	l, err := New(&buf, Config{Level: "warn", Format: "logfmt"})
	if err != nil {
		t.Fatal(err)
	}
	level.Info(l).Log("msg", "dropped")
	l.Slog.Debug("dropped too")
	level.Warn(l).Log("msg", "kept")
	l.Slog.Error("kept too")
	if got := strings.Count(buf.String(), "kept"); got != 2 || strings.Contains(buf.String(), "dropped") {
		t.Errorf("filtered output:\n%s", buf.String())
	}
}

func TestBadLevelAndFormat(t *testing.T) {
	if _, err := New(&bytes.Buffer{}, Config{Level: "chatty", Format: "logfmt"}); err == nil || err.Error() != `--log.level: "chatty" is not one of debug, info, warn, error` {
		t.Errorf("level: %v", err)
	}
	if _, err := New(&bytes.Buffer{}, Config{Level: "info", Format: "xml"}); err == nil || err.Error() != `--log.format: "xml" is not one of logfmt, json` {
		t.Errorf("format: %v", err)
	}
}
