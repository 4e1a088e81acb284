#!/usr/bin/env bash
# make demo (or demo-g2p): English grapheme-to-phoneme with a trained model (G2P_MODEL, default
# models/g2p-en, made by `bash scripts/g2p_model.sh --install`): converts a list of words, some of them not in the dictionary,
# and any words given on the command line, to ARPAbet phonemes. No training, a few seconds.
# Usage: scripts/demo_g2p.sh [TRANSFORMER_BIN] [WORD...]     (make demo WORDS="some words")
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/transformer}
shift || true
model=${G2P_MODEL:-$root/models/g2p-en}
if [ ! -f "$model/model.safetensors" ]; then
  echo "demo-g2p: $model holds no model; train one with 'bash scripts/g2p_model.sh --install'" \
       "(about 2 hours; data/g2p/README.md), or point G2P_MODEL at a model directory" >&2
  exit 1
fi
# In CMUdict (the model saw most of them in training) and not in it (it never saw these).
known="hello world speech attention transformer phoneme wikipedia podcast"
unseen="covid blockchain smartphone cryptocurrency emoji bitcoin vaping"
words=$(printf '%s\n' $known $unseen "$@" | tr 'A-Z' 'a-z')
echo "== $("$bin" info --model "$model" | grep '^parameters') (models/g2p-en), beam 4"
start=$(date +%s.%N)
phones=$(printf '%s\n' "$words" | "$bin" translate --model "$model" --beam 4)
end=$(date +%s.%N)
paste <(printf '%s\n' "$words") <(printf '%s\n' "$phones") | awk -F'\t' -v known="$known" '
  BEGIN { n = split(known, k, " "); for (i = 1; i <= n; i++) in_dict[k[i]] = 1 }
  { printf "   %-22s %-7s %s\n", $1, ($1 in in_dict) ? "(dict)" : "", $2 }'
awk -v s="$start" -v e="$end" -v n="$(printf '%s\n' "$words" | wc -l)" \
  'BEGIN { printf "== %d words in %.2f s\n", n, e - s }'
echo "== convert your own: echo word | $bin translate --model models/g2p-en --beam 4"
