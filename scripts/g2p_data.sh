#!/usr/bin/env bash
# make g2p-data: fetches CMUdict 0.7b into the cache (scripts/fetch_cmudict.sh) and splits it
# into train/dev/test TSV files (`transformer cmudict`, the rule in data/g2p/README.md), then
# checks the files against the committed checksums (data/g2p/split.sha256): the split is
# reproducible byte for byte, so a difference means the rule or the data changed.
# Usage: scripts/g2p_data.sh [TRANSFORMER_BIN [OUT_DIR]]   (defaults: build/transformer, build/g2p)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/transformer}
out=${2:-$root/build/g2p}
dict=$(bash "$root/scripts/fetch_cmudict.sh" --print-path)
"$bin" cmudict --dict "$dict" --out "$out"
if (cd "$out" && sha256sum --quiet -c "$root/data/g2p/split.sha256"); then
  echo "checksums: train.tsv, dev.tsv and test.tsv are those of data/g2p/split.sha256"
else
  echo "g2p_data: the split differs from data/g2p/split.sha256 (see data/g2p/README.md)" >&2
  exit 1
fi
