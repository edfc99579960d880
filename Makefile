# The one test command is `make test`: unit tests with -race, the golden
# end-to-end test of the built binary, promtool checks, the real Prometheus,
# Alertmanager and VictoriaMetrics tests, and the deployment tests (container
# image, Helm chart, systemd units, release config). `make tools-check` names
# every tool it needs and the Debian package that provides it; .ci/run
# installs what is missing on a fresh Debian machine.

GO      ?= go
GOFLAGS ?=
BIN     := aliyun-billing-exporter bss-simulator

# Version stamping into github.com/prometheus/common/version, as Prometheus's
# promu does. Override any of these on the command line. A build without them
# (plain `go build`, `go install ...@version`) takes the module version and
# VCS revision from the binary's build information instead (version.go).
# The version is the newest v* tag without its v; between tags, git describe
# adds the commits since and the commit (1.2.3-4-gabcdef0), and without any
# tag it is 0.0.0-<short commit>. "-dirty" marks uncommitted changes. Outside
# a git checkout it is empty, and the binary falls back to its build info.
GIT_TAG    := $(shell git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null)
GIT_COMMIT := $(shell git describe --always --dirty 2>/dev/null)
VERSION    ?= $(if $(GIT_TAG),$(patsubst v%,%,$(GIT_TAG)),$(if $(GIT_COMMIT),0.0.0-$(GIT_COMMIT)))
REVISION   ?= $(shell git rev-parse HEAD 2>/dev/null)
BRANCH     ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null)
BUILD_USER ?= $(shell id -un 2>/dev/null)@$(shell hostname 2>/dev/null)
BUILD_DATE ?= $(shell date -u +%Y%m%d-%H:%M:%S)
VERSION_PKG := github.com/prometheus/common/version
LDFLAGS = -X $(VERSION_PKG).Version=$(VERSION) -X $(VERSION_PKG).Revision=$(REVISION) \
	-X $(VERSION_PKG).Branch=$(BRANCH) -X $(VERSION_PKG).BuildUser=$(BUILD_USER) \
	-X $(VERSION_PKG).BuildDate=$(BUILD_DATE)

# Pinned tools, built from the Go module proxy into .build/tools once.
# Prometheus 3 (module version v0.316.0 is Prometheus 3.16) runs the
# dashboards tests a second time, beside Debian's Prometheus 2.
HELM_VERSION        := v3.22.0
GORELEASER_VERSION  := v2.15.1
PROMETHEUS3_VERSION := v0.316.0
TOOLS_DIR   := .build/tools
HELM        ?= $(TOOLS_DIR)/helm-$(HELM_VERSION)
GORELEASER  ?= $(TOOLS_DIR)/goreleaser-$(GORELEASER_VERSION)
PROMETHEUS3 ?= $(TOOLS_DIR)/prometheus-$(PROMETHEUS3_VERSION)

# The container image: FROM scratch plus the static binary built here and the
# build host's CA bundle (registries are not needed).
IMAGE      ?= localhost/aliyun-billing-exporter:$(or $(VERSION),dev)
GOARCH_IMG ?= $(shell $(GO) env GOARCH)
CA_BUNDLE  ?= /etc/ssl/certs/ca-certificates.crt

.PHONY: all build print-ldflags build-static test unit-test dashboards-prometheus3 vet fmt-check tools-check \
	image image-test chart-test systemd-test tool-lists-test release-check release-snapshot bench fuzz clean

all: build test

build:
	@mkdir -p bin
	$(foreach b,$(BIN),$(GO) build $(GOFLAGS) -ldflags '$(LDFLAGS)' -o bin/$(b) ./cmd/$(b) &&) true

# The -ldflags value of every stamped build; version_test.go builds with it.
print-ldflags:
	@echo '$(LDFLAGS)'

# A static linux binary for the container image: no libc, so FROM scratch.
# It goes into the image's build context, which holds nothing else but the
# CA bundle and an empty directory, the state directory's mount point.
IMAGE_CONTEXT := .build/image
build-static:
	@mkdir -p $(IMAGE_CONTEXT)/linux-$(GOARCH_IMG)
	CGO_ENABLED=0 GOOS=linux GOARCH=$(GOARCH_IMG) $(GO) build $(GOFLAGS) -trimpath -ldflags '$(LDFLAGS)' \
		-o $(IMAGE_CONTEXT)/linux-$(GOARCH_IMG)/aliyun-billing-exporter ./cmd/aliyun-billing-exporter

test: fmt-check vet tools-check unit-test dashboards-prometheus3 image-test chart-test systemd-test tool-lists-test release-check

unit-test:
	$(GO) test $(GOFLAGS) -race -count=1 -timeout 20m ./...

# The dashboards tests (rules, alerts, panels, HA deduplication, the
# backends) and the backfill's end-to-end tests once more, with Prometheus
# 3's prometheus and promtool first on PATH (WANT_PROMETHEUS_MAJOR makes
# them check that they run the one asked for), and with the simulator
# writing a mix of the representations BSS's documentation shows
# (BSS_SIMULATOR_DIALECT): every number must be the same as in the first run.
PROMETHEUS3_PASS_ENV = PATH=$(abspath $(PROMETHEUS3)):$$PATH WANT_PROMETHEUS_MAJOR=3 BSS_SIMULATOR_DIALECT=mixed
dashboards-prometheus3: $(PROMETHEUS3)/prometheus
	$(PROMETHEUS3_PASS_ENV) $(GO) test $(GOFLAGS) -race -count=1 -timeout 20m ./dashboards/
	$(PROMETHEUS3_PASS_ENV) $(GO) test $(GOFLAGS) -race -count=1 -timeout 20m -run '^TestBackfill(EndToEnd|VictoriaMetrics)$$' ./cmd/aliyun-billing-exporter/

$(TOOLS_DIR)/prometheus-%/prometheus:
	@mkdir -p $(TOOLS_DIR)/prometheus-$*
	GOBIN=$(abspath $(TOOLS_DIR)/prometheus-$*) GOFLAGS= $(GO) install \
		github.com/prometheus/prometheus/cmd/prometheus@$* github.com/prometheus/prometheus/cmd/promtool@$*

# The deployment tests live in their own module (deploy/test), so that the
# Kubernetes API types they decode into stay out of the exporter's go.mod.
DEPLOY_TEST = cd deploy/test && $(GO) test $(GOFLAGS) -count=1 -timeout 15m

image: build-static
	cp $(CA_BUNDLE) $(IMAGE_CONTEXT)/ca-certificates.crt
	mkdir -p $(IMAGE_CONTEXT)/state $(IMAGE_CONTEXT)/var/lib
	buildah build --quiet --layers=false -f Containerfile --build-arg ARCH=$(GOARCH_IMG) -t $(IMAGE) $(IMAGE_CONTEXT)

# Runs --demo in the image with podman, scrapes it, stops it with SIGTERM.
image-test: image
	$(DEPLOY_TEST) -run '^TestImage' -args -image=$(IMAGE)

# helm lint and template with every values file under deploy/test/testdata,
# each rendered object decoded strictly into the Kubernetes API types.
chart-test: $(HELM)
	$(DEPLOY_TEST) -run '^TestChart' -args -helm=$(abspath $(HELM))

$(TOOLS_DIR)/helm-%:
	@mkdir -p $(TOOLS_DIR)
	GOBIN=$(abspath $(TOOLS_DIR)) GOFLAGS= $(GO) install helm.sh/helm/v3/cmd/helm@$*
	mv $(TOOLS_DIR)/helm $@

$(TOOLS_DIR)/goreleaser-%:
	@mkdir -p $(TOOLS_DIR)
	GOBIN=$(abspath $(TOOLS_DIR)) GOFLAGS= $(GO) install github.com/goreleaser/goreleaser/v2@$*
	mv $(TOOLS_DIR)/goreleaser $@

systemd-test:
	$(DEPLOY_TEST) -run '^TestSystemd'

# The Makefile, .ci/run and the README name the same tools and packages.
tool-lists-test:
	$(DEPLOY_TEST) -run '^TestToolLists'

# goreleaser check, then a snapshot build for this machine's platform, whose
# --version must show the stamped snapshot version and the commit. goreleaser
# reads the commit only in a clone with a remote; a clone without one (a
# fresh `git init`, a checkout from a bundle) gets the project's URL as
# origin through git's environment, not its config.
RELEASE_GIT_ENV = $(if $(shell git remote 2>/dev/null),,GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=remote.origin.url \
	GIT_CONFIG_VALUE_0=https://github.com/aliyun-billing-exporter/aliyun-billing-exporter.git)
release-check: $(GORELEASER)
	$(GORELEASER) check
	@mkdir -p .build/release-check
	$(RELEASE_GIT_ENV) $(GORELEASER) build --snapshot --clean --single-target --output .build/release-check/aliyun-billing-exporter
	@out=$$(.build/release-check/aliyun-billing-exporter --version 2>&1); echo "$$out"; \
		echo "$$out" | grep -q 'version [0-9][^ ]*-SNAPSHOT-$(shell git rev-parse --short HEAD) (branch: $(BRANCH), revision: $(REVISION))' || \
		{ echo "release-check: the snapshot build is not stamped with this commit and branch"; exit 1; }

# Every archive and sha256sums.txt in dist/, as a release would make them
# (all four platforms: slower than release-check, so not in make test).
release-snapshot: $(GORELEASER)
	$(RELEASE_GIT_ENV) $(GORELEASER) release --snapshot --clean
	cd dist && sha256sum -c sha256sums.txt
	@# The archive's layout, apart from the rules and dashboards (their globs
	@# take whatever dashboards/ holds).
	tar tzf dist/aliyun-billing-exporter-*.linux-amd64.tar.gz | sed 's|^[^/]*/||' | grep -v '^dashboards/\|^rules/' | sort | \
		diff - deploy/test/testdata/archive-contents.txt

vet:
	$(GO) vet ./...
	cd deploy/test && $(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# The tests fail rather than skip when a tool is missing; say which ones
# first, and the Debian packages that provide them.
TOOLS = gcc:gcc git:git promtool:prometheus prometheus:prometheus amtool:prometheus-alertmanager \
	prometheus-alertmanager:prometheus-alertmanager victoria-metrics:victoria-metrics \
	buildah:buildah podman:podman runc:runc systemd-analyze:systemd
# Run as root on Debian, it installs what is missing (as .ci/run does);
# otherwise it names the packages and stops.
tools-check:
	@missing=; for tp in $(TOOLS); do \
		command -v $${tp%%:*} >/dev/null || PATH=$$PATH:/usr/sbin:/sbin command -v $${tp%%:*} >/dev/null || missing="$$missing $${tp#*:}"; \
	done; \
	pkgs="$$(echo $$missing | tr ' ' '\n' | sort -u | sed 's/^/ /' | tr -d '\n')"; \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing the Debian packages make test needs:$$pkgs"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$pkgs || exit 1; \
	elif [ -n "$$missing" ]; then \
		echo "make test needs these Debian packages:$$pkgs"; \
		echo "install them with: apt-get install$$pkgs  (or run make test, or .ci/run, as root)"; \
		exit 1; \
	fi

# Benchmarks and the benchmark harness behind BENCHMARKS.md; not part of
# `make test` (Go benchmarks run only with -bench). Each figure is one run of
# its own benchmark, printed with the ratios it reports. The harnesses are a
# fixed amount of work or a fixed duration, so they run once (-benchtime 1x);
# the CPU figure runs on one core (-cpu 1). About 20 minutes on 2 cores
# (figure 6 alone runs the big accounts at the real quota, about 10).
BENCH = $(GO) test $(GOFLAGS) -run '^$$' -count=1 -timeout 60m -benchmem
bench:
	@echo "== machine"; $(GO) version; grep -m1 'model name' /proc/cpuinfo || true; 		echo "cpus: $$(nproc)"; echo "load: $$(cat /proc/loadavg)"; date -u +%FT%TZ
	@echo "== 1. API efficiency"
	$(BENCH) -bench '^BenchmarkAPIEfficiency$$' -benchtime 1x -v ./collector/
	@echo "== 2. quota use"
	$(BENCH) -bench '^BenchmarkQuotaUse' -benchtime 1x -v ./collector/
	@echo "== 3. CPU cost"
	$(BENCH) -bench '^BenchmarkDecodeAggregate$$' -benchtime 10x -cpu 1 ./collector/
	$(BENCH) -bench '^BenchmarkDecodeInstancePage$$' -cpu 1 ./bssclient/
	@echo "== 4. memory"
	$(BENCH) -bench '^BenchmarkPeakHeap$$' -benchtime 1x -v ./internal/benchmarks/
	@echo "== 5. scrape cost and load"
	$(BENCH) -bench '^BenchmarkScrape$$' -benchtime 21x ./cmd/aliyun-billing-exporter/
	$(BENCH) -bench '^BenchmarkScrapeLoad$$' -benchtime 1x -v ./cmd/aliyun-billing-exporter/
	@echo "== 6. big accounts and bad days"
	$(BENCH) -bench '^BenchmarkBigAccount$$' -benchtime 1x -v ./internal/benchmarks/
	@echo "== 7. history backfill"
	$(BENCH) -bench '^BenchmarkBackfillQuota$$' -benchtime 1x -v ./internal/backfill/
	$(BENCH) -bench '^BenchmarkBackfillBillFiles$$' -benchtime 1x -v ./internal/benchmarks/
	@echo "== the simulator"
	$(BENCH) -bench . ./internal/bsssim/

# Each fuzz target for FUZZTIME (default 10m); `make test` replays their corpora.
FUZZTIME ?= 10m
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

clean:
	rm -rf bin .build dist
