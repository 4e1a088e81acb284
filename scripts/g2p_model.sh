#!/usr/bin/env bash
# make g2p-model: reproduces the shipped English G2P model (models/g2p-en) from scratch:
#   1. the CMUdict split (make g2p-data: build/g2p/{train,dev,test}.tsv);
#   2. training with data/g2p/recipe.json (config, seed, steps) into $OUT; an interrupted run
#      resumes from its last checkpoint when the script is run again;
#   3. the average of the last 5 step checkpoints ($OUT-avg5), as in section 6.1 of the paper;
#   4. WER and PER of the average on dev and test (beam 4), by word length, into $OUT-avg5/eval.txt.
# With --install, the averaged model is copied to models/g2p-en (config, weights, vocabularies).
# The recipe runs with THREADS=2 and PRECISION=fp32, as the shipped model was trained (on an AMD
# EPYC without AVX-512). PRECISION=bf16 (matrix products in bfloat16; needs AVX512_BF16) runs
# about 1.3x as many steps an hour and cost 0.36 points of test WER at 3,000 steps. The result
# is bit-for-bit the same for the same thread count, precision and instruction set, and differs
# in rounding for another.
# Usage: scripts/g2p_model.sh [--install]   (env: BIN, OUT, THREADS, PRECISION)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${BIN:-$root/build/transformer}
out=${OUT:-$root/build/g2p-model}
threads=${THREADS:-2}
precision=()
case "${PRECISION:-fp32}" in
  bf16) precision=(--bf16) ;;
  fp32) ;;
  *) echo "g2p_model.sh: PRECISION must be bf16 or fp32, not '$PRECISION'" >&2; exit 2 ;;
esac
data=$root/build/g2p
install=0
[ "${1:-}" = "--install" ] && install=1
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}

[ -f "$data/test.tsv" ] || bash "$root/scripts/g2p_data.sh" "$bin" "$data"

if [ -f "$out/model.safetensors" ]; then
  echo "== $out is trained (delete it to train again)"
else
  resume=()
  if [ -d "$out/checkpoints" ] && ls "$out/checkpoints" | grep -q '^step-'; then
    resume=(--resume)
    echo "== resuming $out from its last checkpoint"
  fi
  start=$(date +%s)
  "$bin" --threads "$threads" "${precision[@]}" train --model "$out" --config "$root/data/g2p/recipe.json" \
    --train-tsv "$data/train.tsv" --valid-tsv "$data/dev.tsv" "${resume[@]}" 2>&1 | tee -a "$out.log"
  echo "== training (this run) took $(( $(date +%s) - start )) s"
fi

rm -rf "$out-avg5"
"$bin" average --checkpoints "$out/checkpoints" --last 5 --out "$out-avg5"
{
  for split in dev test; do
    echo "== $split (beam 4)"
    "$bin" eval --model "$out-avg5" --split "$data/$split.tsv" --beam 4 --by-length
  done
} 2>&1 | tee "$out-avg5/eval.txt"

if [ "$install" = 1 ]; then
  mkdir -p "$root/models/g2p-en"
  cp "$out-avg5/config.json" "$out-avg5/model.safetensors" "$out-avg5/src.vocab" "$out-avg5/tgt.vocab" \
    "$root/models/g2p-en/"
  echo "== installed into models/g2p-en"
fi
