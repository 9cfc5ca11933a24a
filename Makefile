# msrpd — the two commands a newcomer needs are `make run` and `make test`.
GO       ?= go
BIN      := bin
FUZZTIME ?= 3s
BENCHOUT ?= bench.txt

# package:FuzzTarget pairs, each run for FUZZTIME by `make test`.
FUZZ_TARGETS := \
	./msrp:FuzzReader \
	./msrp:FuzzParse \
	./msrp:FuzzParseURI \
	./internal/digest:FuzzParse \
	./relay:FuzzRelayRequest \
	./sdp:FuzzParse \
	./transport:FuzzWSReader

.PHONY: all build run test vet cross unit js unit-file fuzz-short fuzz bench soak clean

all: build

build:
	$(GO) build -o $(BIN)/msrpd ./cmd/msrpd
	$(GO) build -o $(BIN)/msrpcat ./cmd/msrpcat

run: build
	$(BIN)/msrpd

test: vet cross unit js unit-file fuzz-short

vet:
	$(GO) vet ./...

# msrpcat runs on testers' desktops: everything must build for macOS and
# Windows too (a build only; the tests run on Linux).
cross:
	GOOS=darwin $(GO) build ./...
	GOOS=windows $(GO) build ./...

unit:
	$(GO) test -race -timeout 300s ./...
	# Memory bounds mean nothing under -race: check them in a plain build.
	$(GO) test -count=1 -run 'TestLargeTransferRechunked|TestReliabilitySlowConsumer$$|TestWebSocketChunkMemory|TestWebSocketUploadsRSS' ./relay/
	$(GO) test -count=1 -v -run 'TestCallFileRSS$$' ./cmd/msrpcat/

# The JavaScript client's unit tests (web/msrp_cases.js); the same cases
# run in Chromium in web/browser_test.go.
js:
	node --test web/

# contrib/msrpd.service through `systemd-analyze verify` (skipped loudly
# without systemd-analyze unless MSRPD_SYSTEMD=1).
unit-file:
	scripts/check-unit.sh

fuzz-short:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; \
		echo "fuzz $$pkg $$fn for $(FUZZTIME)"; \
		$(GO) test -run='^$$' -fuzz="^$$fn$$" -fuzztime=$(FUZZTIME) $$pkg; \
	done

fuzz:
	$(MAKE) fuzz-short FUZZTIME=3m

# Ten minutes of mixed load against one msrpd (make test runs one minute),
# then the chaos test with 10 000 kills (make test runs 150).
soak:
	MSRPD_SOAK_DURATION=$${MSRPD_SOAK_DURATION:-10m} $(GO) test -count=1 -timeout 0 -run TestSoak -v ./soak/
	MSRPD_CHAOS_KILLS=$${MSRPD_CHAOS_KILLS:-10000} $(GO) test -count=1 -timeout 0 -run TestChaos -v ./relay/

bench:
	$(GO) test -run='^$$' -bench=. -benchmem -count=5 ./... | tee $(BENCHOUT)
	# The kernel's own cost of BenchmarkIdleWebSocket10k's round trips, its floor.
	$(GO) run ./bench/idlefloor | tee -a $(BENCHOUT)

clean:
	rm -rf $(BIN) $(BENCHOUT)

# Side by side with Kamailio (bench/run.sh, then bench/report writes
# BENCHMARKS.md and bench/results/*.png). Long (about 13 minutes), needs root
# for apt-get; not part of `make test`.
.PHONY: bench-relays
bench-relays:
	bench/run.sh
	$(GO) run ./bench/report
