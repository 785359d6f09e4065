# Thin wrapper over the CMake presets. `make test` and `make serve` are the two
# commands the README promises on a fresh Debian 12 machine.
JOBS ?= $(shell nproc)
DEMO_MODEL ?= build/demo-small-q8_0.gguf
# The web app's accounts and chats for `make serve`.
DATA_DIR ?= build/demo-data

# Seconds each fuzz target runs in `make fuzz`.
FUZZ_SECONDS ?= 300

.PHONY: setup build test test-release test-asan test-fuzz test-tsan fuzz serve clean format web web-test

setup:
	./scripts/setup.sh

build: setup
	cmake --preset release
	cmake --build --preset release -j $(JOBS)

test: build test-release test-asan test-tsan

test-release:
	ctest --preset release -j $(JOBS)

# One clang build with ASan + UBSan (build/asan) runs the unit tests and the
# libFuzzer targets (tests/fuzz): each replays its corpus and fuzzes for a few
# seconds; `make fuzz` runs each for FUZZ_SECONDS.
test-asan:
	cmake --preset asan
	cmake --build --preset asan -j $(JOBS)
	ctest --preset asan -j $(JOBS)
	ctest --preset fuzz -j $(JOBS)

test-fuzz:
	cmake --preset asan
	cmake --build --preset fuzz -j $(JOBS)
	ctest --preset fuzz -j $(JOBS)

fuzz:
	cmake --preset asan
	cmake --build --preset fuzz -j $(JOBS)
	./tests/fuzz/run_all.sh build/asan $(FUZZ_SECONDS)

# ThreadSanitizer over the concurrent parts (thread pool, scheduler, KV
# blocks, store, HTTP server): its own build of just those tests and autan.
test-tsan:
	cmake --preset tsan
	cmake --build --preset tsan -j $(JOBS)
	ctest --preset tsan

$(DEMO_MODEL): build
	./build/release/autan synth --shape small --type q8_0 $(DEMO_MODEL)

# `make serve MODEL=path/to/model.gguf` serves that model instead of the demo.
MODEL ?=
SERVE_MODEL = $(if $(MODEL),$(MODEL),$(DEMO_MODEL))

serve: build $(if $(MODEL),,$(DEMO_MODEL))
ifeq ($(MODEL),)
	@echo "autan: serving the demo model $(DEMO_MODEL): its weights are random, so its answers"
	@echo "       are random text. Serve a real model with: make serve MODEL=path/to/model.gguf"
endif
	@echo "autan: the chat app on http://127.0.0.1:8080/ (the first visit creates the administrator"
	@echo "       account; or: build/release/autan user add --admin --name NAME --data-dir $(DATA_DIR)),"
	@echo "       the OpenAI/Mistral API on http://127.0.0.1:8080/v1; data in $(DATA_DIR); Ctrl-C stops it"
	./build/release/autan serve -m $(SERVE_MODEL) --host 127.0.0.1 --port 8080 --data-dir $(DATA_DIR)

# The chat web app (web/): a production build into web/dist (embedded into the
# binary by the server build), and its unit tests. `make test` runs them too,
# through CTest (web.unit).
web: setup
	npm --prefix web run build

web-test: setup
	npm --prefix web test

format:
	git ls-files '*.cpp' '*.h' | xargs clang-format -i

clean:
	rm -rf build

# The long campaigns of docs/SECURITY.md, on an otherwise idle machine: the
# soak at saturation (SOAK_SECONDS, default 30 minutes; `make test` runs a
# 2-minute smoke) and 50 rounds of kill -9 (CRASH_ROUNDS). Results go to
# build/soak/soak.md for bench/RESULTS.md.
SOAK_SECONDS ?= 1800
CRASH_ROUNDS ?= 50
.PHONY: soak
soak: build
	AUTAN_BIN=build/release/autan SOAK_SECONDS=$(SOAK_SECONDS) SOAK_OUT=build/soak \
	  python3 tests/soak/soak.py
	AUTAN_BIN=build/release/autan CRASH_ROUNDS=$(CRASH_ROUNDS) \
	  python3 tests/security/test_crash.py KillNineTest
