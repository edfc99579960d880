// Package logging builds the go-kit loggers of the project's binaries from
// --log.level and --log.format, and the slog bridge exporter-toolkit needs,
// so that every line of a process carries the same keys in both formats.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	slgk "github.com/tjhop/slog-gokit"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/flagvalue"
)

// TimestampKey is the one key every log line carries its time under, in
// logfmt and JSON alike, whether it was logged through go-kit or slog.
const TimestampKey = "ts"

// Levels are the values of --log.level, from the most to the least verbose.
var Levels = []string{"debug", "info", "warn", "error"}

// Formats are the values of --log.format.
var Formats = []string{"logfmt", "json"}

// Config is what the flags chose.
type Config struct {
	Level, Format string
}

// AddFlags declares --log.level and --log.format.
func AddFlags(g flagvalue.Group) *Config {
	c := &Config{}
	flagvalue.Declare(g, "log.level", "Only log messages with the given severity or above: debug, info, warn, error.", "info", &c.Level, flagvalue.OneOf(Levels...)).HintOptions(Levels...)
	flagvalue.Declare(g, "log.format", "Output format of log messages: logfmt, json.", "logfmt", &c.Format, flagvalue.OneOf(Formats...)).HintOptions(Formats...)
	return c
}

// Validate reports a level or format New would refuse, naming the flag:
// the flags refuse them as they are parsed, a Config built otherwise here.
func (c Config) Validate() error {
	if !slices.Contains(Formats, c.Format) {
		return fmt.Errorf("--log.format: %s is not one of logfmt, json", bssclient.QuoteUpTo(c.Format, 32))
	}
	if !slices.Contains(Levels, c.Level) {
		return fmt.Errorf("--log.level: %s is not one of debug, info, warn, error", bssclient.QuoteUpTo(c.Level, 32))
	}
	return nil
}

// Logger is a process's logger pair: Base for go-kit callers, Slog for
// libraries that take a *slog.Logger.
type Logger struct {
	log.Logger
	Slog *slog.Logger
}

// New returns loggers writing to w. Every line carries TimestampKey (UTC)
// and caller. It is the only place that parses a level or a format.
func New(w io.Writer, c Config) (Logger, error) {
	if err := c.Validate(); err != nil {
		return Logger{}, err
	}
	out := log.NewLogfmtLogger(log.NewSyncWriter(w))
	if c.Format == "json" {
		out = log.NewJSONLogger(log.NewSyncWriter(w))
	}
	filtered := level.NewFilter(out, levelOption(c.Level))
	stamped := log.With(filtered, TimestampKey, log.DefaultTimestampUTC)
	// slog-gokit adds its own caller (from the record's PC) and would add
	// the record's time under slog's "time" key; dropping the record's time
	// leaves the stamp above, so both paths write the same key.
	bridge := slog.New(untimedHandler{slgk.NewGoKitHandler(stamped, slog.LevelDebug)})
	return Logger{Logger: log.With(stamped, "caller", log.DefaultCaller), Slog: bridge}, nil
}

// levelOption maps a validated level to go-kit's filter.
func levelOption(l string) level.Option {
	switch l {
	case "debug":
		return level.AllowDebug()
	case "warn":
		return level.AllowWarn()
	case "error":
		return level.AllowError()
	}
	return level.AllowInfo()
}

// untimedHandler drops a record's time, so that the go-kit logger's own
// TimestampKey is the only timestamp on the line.
type untimedHandler struct{ slog.Handler }

func (h untimedHandler) Handle(ctx context.Context, r slog.Record) error {
	r.Time = time.Time{}
	return h.Handler.Handle(ctx, r)
}

func (h untimedHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return untimedHandler{h.Handler.WithAttrs(attrs)}
}

func (h untimedHandler) WithGroup(name string) slog.Handler {
	return untimedHandler{h.Handler.WithGroup(name)}
}
