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

# Benchmarks and the benchmark harness behind BENCHMARKS.md; not part of
# `make test` (Go benchmarks run only with -bench). Each figure is one run of
# its own benchmark, printed with the ratios it reports. The harnesses are a
# fixed amount of work or a fixed duration, so they run once (-benchtime 1x);
# the CPU figure runs on one core (-cpu 1). About 8 minutes on 2 cores.
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
	$(BENCH) -bench '^BenchmarkPeakHeap$$' -benchtime 1x -v ./collector/
	@echo "== 5. scrape cost and load"
	$(BENCH) -bench '^BenchmarkScrape$$' -benchtime 21x ./cmd/aliyun-billing-exporter/
	$(BENCH) -bench '^BenchmarkScrapeLoad$$' -benchtime 1x -v ./cmd/aliyun-billing-exporter/
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
	rm -rf bin
