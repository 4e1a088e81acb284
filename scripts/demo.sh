#!/usr/bin/env bash
# make demo-reverse: trains a small Transformer to reverse strings of letters (an embedded task, no
# download), then reverses 200 held-out strings and prints the exact-match accuracy.
set -euo pipefail
bin=${1:-build/transformer}
root=$(cd "$(dirname "$0")/.." && pwd)
work=${DEMO_DIR:-$root/build/demo}
mkdir -p "$work"
awk -v seed=1 -v count=20000 -f "$root/data/demo/reverse.awk" > "$work/train.tsv"
awk -v seed=2 -v count=200 -f "$root/data/demo/reverse.awk" > "$work/test.tsv"
echo "== training a 2+2-layer Transformer (d_model 64) to reverse strings; about 1-2 minutes on 2 cores"
rm -rf "$work/model"
start=$(date +%s)
"$bin" train --model "$work/model" --train-tsv "$work/train.tsv" --valid-tsv "$work/test.tsv" \
  --config "$root/data/demo/reverse.json" --log-every 200
echo "== training took $(( $(date +%s) - start )) s"
cut -f1 "$work/test.tsv" > "$work/test.src"
cut -f2 "$work/test.tsv" > "$work/test.ref"
"$bin" translate --model "$work/model" --beam 4 < "$work/test.src" > "$work/test.hyp"
echo "== five held-out examples (source -> output):"
paste "$work/test.src" "$work/test.hyp" | head -5 | awk -F'\t' '{ printf "   %-22s -> %s\n", $1, $2 }'
paste "$work/test.ref" "$work/test.hyp" | awk -F'\t' '$1 == $2 { ok++ } END {
  printf "== exact match on %d held-out strings (beam 4): %.1f%%\n", NR, 100 * ok / NR }'
