package flagvalue

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kingpin/v2"
)

// A refused value is named by its flag and quoted, cut to a sane length;
// a parser's own sentence follows "is refused:".
func TestRefusedValuesNameTheFlag(t *testing.T) {
	var (
		d     time.Duration
		f     float64
		n     int
		n64   int64
		word  string
		addr  string
		at    time.Time
		other string
	)
	app := kingpin.New("test", "")
	Declare(app, "d", "", "", &d, Duration)
	Declare(app, "f", "", "", &f, Float)
	Declare(app, "n", "", "", &n, Int)
	Declare(app, "n64", "", "", &n64, Int64)
	Declare(app, "word", "", "a", &word, OneOf("a", "b"))
	Declare(app, "addr", "", "", &addr, HostPort)
	Declare(app, "at", "", "", &at, Time)
	Declare(app, "other", "", "", &other, Refused(func(string) (string, error) { return "", errors.New("no such thing") }))
	for _, tc := range []struct{ arg, want string }{
		{"--d=soon", `--d: "soon" is not a duration such as 90s, 30m or 6h`},
		{"--f=NaN", `--f: "NaN" is not a number`},
		{"--f=1e400", `--f: "1e400" is out of range`},
		{"--n=1.5", `--n: "1.5" is not a whole number`},
		{"--n64=99999999999999999999", `--n64: "99999999999999999999" is out of range`},
		{"--word=c", `--word: "c" is not one of a, b`},
		{"--addr=8417", `--addr: "8417" is not HOST:PORT such as 127.0.0.1:8417`},
		{"--at=yesterday", `--at: "yesterday" is not an RFC 3339 time such as 2026-03-02T10:00:00+08:00`},
		{"--other=x", `--other: "x" is refused: no such thing`},
		{"--word=" + strings.Repeat("z", 500), `--word: "zzzz`},
	} {
		_, err := app.Parse([]string{tc.arg})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%.40s: got %v, want %q", tc.arg, err, tc.want)
		}
		if err != nil && len(err.Error()) > 300 {
			t.Errorf("%.40s: the error quotes the value whole (%d bytes)", tc.arg, len(err.Error()))
		}
	}
	if _, err := app.Parse([]string{"--d=90s", "--n=-3", "--n64=5000000000", "--addr=:0", "--at=2026-03-02T10:00:00+08:00"}); err != nil {
		t.Fatal(err)
	}
	if d != 90*time.Second || n != -3 || n64 != 5_000_000_000 || addr != ":0" || at.Day() != 2 || word != "a" {
		t.Errorf("parsed %v %d %d %q %v %q", d, n, n64, addr, at, word)
	}
}
