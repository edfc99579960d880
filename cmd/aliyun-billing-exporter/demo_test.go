package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// quickstartRE finds the README's demo commands and the output block after
// them: the grep pattern, the stated billing clock and the sample lines.
var quickstartRE = regexp.MustCompile("(?s)```sh\ngo run ./cmd/aliyun-billing-exporter --demo\ncurl -s localhost:9848/metrics \\| grep -E '([^']+)'\n```" +
	`.*?billing\s+clock at (\d{4}-\d\d-\d\d \d\d:\d\d) UTC\+8.*?` + "```\n(.*?)```")

// TestReadmeDemoOutput: the Quickstart's sample output is what its command
// prints: every line matches the command's grep and is a line of the golden
// exposition, taken at the billing time the README names.
func TestReadmeDemoOutput(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := quickstartRE.FindStringSubmatch(string(readme))
	if m == nil {
		t.Fatal("README's Quickstart lacks the demo command with its grep -E pattern, the billing clock and an output block")
	}
	grep, err := regexp.Compile(m[1])
	if err != nil {
		t.Fatalf("the Quickstart's grep pattern %q: %v", m[1], err)
	}
	clock, _ := time.Parse(time.RFC3339, demoClock)
	if want := clock.Format("2006-01-02 15:04"); m[2] != want {
		t.Errorf("the Quickstart names billing clock %s, the golden test runs at %s", m[2], want)
	}
	golden, err := os.ReadFile("testdata/e2e-demo.prom")
	if err != nil {
		t.Fatal(err)
	}
	goldenLines := map[string]bool{}
	for _, l := range strings.Split(string(golden), "\n") {
		goldenLines[l] = true
	}
	lines := strings.Split(strings.TrimSpace(m[3]), "\n")
	if len(lines) < 3 {
		t.Fatalf("the Quickstart shows %d output lines", len(lines))
	}
	for _, l := range lines {
		if !grep.MatchString(l) {
			t.Errorf("the Quickstart's grep cannot print %q", l)
		}
		if !goldenLines[l] {
			t.Errorf("the demo does not print %q (not in testdata/e2e-demo.prom)", l)
		}
	}
}
