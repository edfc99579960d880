# The one test command is `make test`: unit tests with -race, the golden
# end-to-end test of the built binary, promtool checks and the real
# Prometheus and Alertmanager tests. It needs promtool, prometheus,
# prometheus-alertmanager and amtool on PATH (Debian: apt-get install
# prometheus prometheus-alertmanager); .ci/run installs them.

GO      ?= go
GOFLAGS ?=
BIN     := aliyun-billing-exporter bss-simulator

.PHONY: all build test vet fmt-check tools-check bench fuzz clean

all: build test

build:
	@mkdir -p bin
	$(foreach b,$(BIN),$(GO) build $(GOFLAGS) -o bin/$(b) ./cmd/$(b) &&) true

test: fmt-check vet tools-check
	$(GO) test $(GOFLAGS) -race -count=1 -timeout 20m ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# The tests fail rather than skip when a tool is missing; say which one first.
tools-check:
	@for t in promtool prometheus amtool prometheus-alertmanager; do \
		command -v $$t >/dev/null || { echo "missing $$t: apt-get install prometheus prometheus-alertmanager"; exit 1; }; \
	done

# Benchmarks and the benchmark harness; not part of `make test`.
bench:
	$(GO) test $(GOFLAGS) -run '^$$' -bench . -benchmem -count=1 -timeout 60m ./...

# Each fuzz target for FUZZTIME (default 10m); `make test` replays their corpora.
FUZZTIME ?= 10m
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

clean:
	rm -rf bin
