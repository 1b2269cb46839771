# synod — the README's two commands are `make demo` and `make test`.
# Every target first installs missing Debian packages (scripts/bootstrap).
BUILD ?= build
SANITIZE_BUILD ?= build-sanitize
PYTHON := /usr/bin/python3
JOBS ?= $(shell nproc)

.PHONY: all bootstrap build test test-sanitize bench demo clean

all: build

bootstrap:
	@scripts/bootstrap

$(BUILD)/build.ninja: | bootstrap
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: bootstrap $(BUILD)/build.ninja
	@cmake --build $(BUILD) -j $(JOBS)

# Four real synod server processes under load with a SIGKILL, then a simulated sweep.
demo: build
	@$(BUILD)/node/synod demo

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	@SYNOD_BUILD=$(abspath $(BUILD)) $(PYTHON) -m pytest -q scenarios tests/python tests/process

# Unit tests under AddressSanitizer and UndefinedBehaviorSanitizer (CI runs it).
# The swarm sweeps (100 and 500 seeds) run in `make test`; under ASan they take minutes
# and cover no code the other simulator tests do not, so they are left out here.
test-sanitize: bootstrap
	@cmake -S . -B $(SANITIZE_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSYNOD_SANITIZE=ON >/dev/null
	@cmake --build $(SANITIZE_BUILD) -j $(JOBS) --target synod_tests
	@cd $(SANITIZE_BUILD) && ctest --output-on-failure -j $(JOBS) -E '^Swarm\.(HundredSeeds|FiveHundredSeeds)'

bench: build
	@$(BUILD)/bench/synod-bench
	@/usr/bin/python3 bench/client_api_latency.py --build $(BUILD)

clean:
	rm -rf $(BUILD) $(SANITIZE_BUILD)
