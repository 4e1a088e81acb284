#!/usr/bin/env bash
# The benchmark against PyTorch (bench/README.md): bench/run.sh [--quick] [more bench/run.py options].
# Uses the bench_engine of build/ (or of $BUILD; `make bench` builds it first). Writes bench/RESULTS.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec python3 "$here/run.py" --build "${BUILD:-$here/../build}" "$@"
