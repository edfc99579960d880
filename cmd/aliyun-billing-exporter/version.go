package main

import (
	"runtime/debug"
	"strings"

	"github.com/prometheus/common/version"
)

// The Makefile and .goreleaser.yaml stamp github.com/prometheus/common/version
// with -ldflags -X (version, revision, branch, build user, date). A plain
// `go build` or `go install ...@v1.2.3` stamps nothing there, so the module
// version and VCS revision the go command records in the binary fill what
// -ldflags left empty. --version, aliyun_billing_exporter_build_info, the
// landing page and the User-Agent all read these variables, so they agree.
func init() {
	if info, ok := debug.ReadBuildInfo(); ok {
		fillVersion(info)
	}
}

// fillVersion sets version.Version and version.Revision from info where
// -ldflags did not set them.
func fillVersion(info *debug.BuildInfo) {
	if version.Version == "" {
		version.Version = moduleVersion(info.Main.Version)
	}
	if version.Revision == "" {
		version.Revision = vcsRevision(info.Settings)
	}
}

// moduleVersion turns the main module's version as the go command records it
// ("v1.2.3", a pseudo-version, or "(devel)" when it knows none) into the
// Prometheus convention, without the leading "v". "(devel)" becomes "devel":
// a User-Agent product version may not contain parentheses (RFC 9110, 10.1.5).
func moduleVersion(v string) string {
	switch v {
	case "", "(devel)":
		return "devel"
	}
	return strings.TrimPrefix(v, "v")
}

// vcsRevision is the commit the binary was built from, suffixed "-modified"
// when the work tree had uncommitted changes (as prometheus/common/version
// computes it), or "unknown" when the build recorded no VCS information
// (-buildvcs=false, or a source tree without .git).
func vcsRevision(settings []debug.BuildSetting) string {
	rev, modified := "", false
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	switch {
	case rev == "":
		return "unknown"
	case modified:
		return rev + "-modified"
	}
	return rev
}

// userAgent is the User-Agent sent to BSS: the program and its version, so
// that a request in an Alibaba Cloud audit trail names the build that sent it.
func userAgent() string {
	return "aliyun-billing-exporter/" + version.Version
}
