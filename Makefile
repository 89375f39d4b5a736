# Tandem. `make run` sets up, builds (release) and starts the server; `make test` sets up and runs every test.
SWIFT ?= swift
RUN_ARGS ?=

.PHONY: setup build release run test bench bench-check clean

setup:
	@scripts/setup

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release --product tandem

run: release
	.build/release/tandem serve $(RUN_ARGS)

# Builds the package and its tests, then runs the whole suite (unit, C-library, end-to-end with the
# real `tandem` binary and real peers). The server tests need the executable, so everything is built first.
# Serial: many tests wait for real packets and processes, and on a 2-core machine parallel suites
# starve Swift's cooperative pool so that tasks a test waits for (replies, engine commands) miss
# their bounds. Serial runs take about two minutes and fail only for real reasons.
test: setup
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --no-parallel

# Micro-benchmarks in release mode (Benchmarks/ is its own package depending on this one).
bench: setup
	cd Benchmarks && $(SWIFT) package --allow-writing-to-package-directory benchmark --no-progress

# Fails when a benchmark's allocation count rises above Benchmarks/Thresholds.
bench-check: setup
	cd Benchmarks && $(SWIFT) package --allow-writing-to-package-directory benchmark thresholds check --no-progress

clean:
	rm -rf .build Benchmarks/.build
