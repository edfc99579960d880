package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

// quote quotes a value in an error: bssclient.Quote, the one quoting.
func quote(s string) string { return bssclient.Quote(s) }

// checkedValue is a kingpin flag value whose parse errors name the flag and
// quote the value cut to a sane length, which kingpin's own values do not
// ("time: invalid duration", a strconv error, a wrapped integer).
type checkedValue[T any] struct {
	flag   string
	target *T
	parse  func(string) (T, error)
	text   string
}

func (v *checkedValue[T]) Set(s string) error {
	x, err := v.parse(s)
	if err != nil {
		return fmt.Errorf("--%s: %s %w", v.flag, quote(s), err)
	}
	*v.target, v.text = x, s
	return nil
}

func (v *checkedValue[T]) String() string { return v.text }

// checkedFlag declares a flag of type T parsed by parse.
func checkedFlag[T any](app *kingpin.Application, name, help, def string, target *T, parse func(string) (T, error)) *kingpin.FlagClause {
	f := app.Flag(name, help)
	if def != "" {
		f = f.Default(def)
	}
	f.SetValue(&checkedValue[T]{flag: name, target: target, parse: parse})
	return f
}

func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New("is not a duration such as 90s, 30m or 6h")
	}
	return d, nil
}

func parseFloat(s string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return 0, errors.New("is out of range")
	case err != nil, math.IsNaN(f):
		return 0, errors.New("is not a number")
	}
	return f, nil
}

func parseInt(s string) (int, error) {
	n, err := strconv.Atoi(s)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return 0, errors.New("is out of range")
	case err != nil:
		return 0, errors.New("is not a whole number")
	}
	return n, nil
}

// oneOf returns a parser accepting only the given words.
func oneOf(words ...string) func(string) (string, error) {
	return func(s string) (string, error) {
		for _, w := range words {
			if s == w {
				return s, nil
			}
		}
		return "", fmt.Errorf("is not one of %s", strings.Join(words, ", "))
	}
}
