package test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestToolListsAgree: the Makefile's tools-check, .ci/run and the README
// name the same tools and Debian packages, so a fresh machine gets what
// make test needs.
func TestToolListsAgree(t *testing.T) {
	read := func(path string) string {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	pairs := func(block string) []string {
		out := regexp.MustCompile(`[a-z-]+:[a-z-]+`).FindAllString(block, -1)
		slices.Sort(out)
		return out
	}

	makefile := read("../../Makefile")
	m := regexp.MustCompile(`(?s)\nTOOLS = (.*?)\ntools-check:`).FindStringSubmatch(makefile)
	if m == nil {
		t.Fatal("no TOOLS = ... before tools-check: in the Makefile")
	}
	fromMake := pairs(m[1])

	ci := read("../../.ci/run")
	c := regexp.MustCompile(`(?s)\ntools=\((.*?)\n\)`).FindStringSubmatch(ci)
	if c == nil {
		t.Fatal("no tools=( ... ) in .ci/run")
	}
	// make runs the Makefile, so only .ci/run can install it.
	fromCI := slices.DeleteFunc(pairs(c[1]), func(p string) bool { return p == "make:make" })
	if !slices.Equal(fromMake, fromCI) {
		t.Errorf("the Makefile checks %v, .ci/run installs %v", fromMake, fromCI)
	}

	readme := read("../../README.md")
	dev := readme[strings.Index(readme, "## Development"):]
	for _, p := range fromMake {
		pkg := p[strings.Index(p, ":")+1:]
		if !strings.Contains(dev, "`"+pkg+"`") {
			t.Errorf("README's Development section does not name the package `%s`", pkg)
		}
	}
}
