// Package flagvalue declares the typed kingpin flags of the project's
// commands (the exporter, its backfill and doctor, and bss-simulator). A
// value is parsed as kingpin reads it, and a refused one gets an error that
// names the flag and quotes the value, cut to a sane length, which
// kingpin's own typed flags do not give ("time: invalid duration", a
// strconv error). Checks of a value against the others belong to the
// command's check of its whole configuration, not here.
package flagvalue

import (
	"errors"
	"fmt"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

// Group is where flags are declared: a kingpin application (flags every
// command takes) or one of its commands.
type Group interface {
	Flag(name, help string) *kingpin.FlagClause
}

// value is a flag of type T, parsed by parse.
type value[T any] struct {
	flag   string
	target *T
	parse  func(string) (T, error)
	text   string
}

func (v *value[T]) Set(s string) error {
	x, err := v.parse(s)
	if err != nil {
		return fmt.Errorf("--%s: %s %w", v.flag, bssclient.Quote(s), err)
	}
	*v.target, v.text = x, s
	return nil
}

func (v *value[T]) String() string { return v.text }

// Declare declares flag name of type T, parsed by parse into target; def,
// when not empty, is its default. Errors of parse complete the sentence
// `--name: "value" …`: "is not a duration such as 90s".
func Declare[T any](g Group, name, help, def string, target *T, parse func(string) (T, error)) *kingpin.FlagClause {
	f := g.Flag(name, help)
	if def != "" {
		f = f.Default(def)
	}
	f.SetValue(&value[T]{flag: name, target: target, parse: parse})
	return f
}

// Refused adapts a parser whose errors are sentences of their own, not the
// end of `--name: "value" …`, to Declare: they read `--name: "value" is
// refused: <the parser's error>`.
func Refused[T any](parse func(string) (T, error)) func(string) (T, error) {
	return func(s string) (T, error) {
		v, err := parse(s)
		if err != nil {
			return v, fmt.Errorf("is refused: %w", err)
		}
		return v, nil
	}
}

// Duration parses a Go duration.
func Duration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New("is not a duration such as 90s, 30m or 6h")
	}
	return d, nil
}

// Float parses a finite number.
func Float(s string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return 0, errors.New("is out of range")
	case err != nil, math.IsNaN(f):
		return 0, errors.New("is not a number")
	}
	return f, nil
}

// Int parses a whole number.
func Int(s string) (int, error) {
	n, err := whole(s, strconv.IntSize)
	return int(n), err
}

// Int64 parses a whole number of 64 bits.
func Int64(s string) (int64, error) { return whole(s, 64) }

func whole(s string, bits int) (int64, error) {
	n, err := strconv.ParseInt(s, 10, bits)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return 0, errors.New("is out of range")
	case err != nil:
		return 0, errors.New("is not a whole number")
	}
	return n, nil
}

// OneOf returns a parser accepting only the given words.
func OneOf(words ...string) func(string) (string, error) {
	return func(s string) (string, error) {
		if !slices.Contains(words, s) {
			return "", fmt.Errorf("is not one of %s", strings.Join(words, ", "))
		}
		return s, nil
	}
}

// HostPort parses an address to listen on, host:port.
func HostPort(s string) (string, error) {
	if _, _, err := net.SplitHostPort(s); err != nil {
		return "", errors.New("is not HOST:PORT such as 127.0.0.1:8417")
	}
	return s, nil
}

// Time parses an RFC 3339 time.
func Time(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, errors.New("is not an RFC 3339 time such as 2026-03-02T10:00:00+08:00")
	}
	return t, nil
}
