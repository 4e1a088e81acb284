#!/usr/bin/env bash
# Installs every Debian package the build and tests need, when missing.
# Idempotent and quiet when all is there. Usage: scripts/setup.sh [--bench] [--g2p] [--experiments]
#   --bench also installs python3-torch, needed only by the benchmarks and fixture scripts, and
#           OpenBLAS: Debian's torch does its fp32 GEMMs in libblas.so.3, which without OpenBLAS is
#           the reference BLAS (~3 GFLOP/s), and the benchmark would compare against a crippled PyTorch;
#   --g2p also installs npm, which fetches CMUdict (make g2p-data) when it is not there yet;
#   --experiments also installs python3, which drives the measured claims (make claim-*).
set -euo pipefail
pkgs=(build-essential cmake libdnnl-dev libsentencepiece-dev nlohmann-json3-dev libcli11-dev
      libgtest-dev libgmock-dev libbenchmark-dev libomp-dev
      ocl-icd-opencl-dev)  # oneDNN's CMake package requires OpenCL (a Recommends of libdnnl-dev)
for arg in "$@"; do
  case "$arg" in
    --bench) pkgs+=(python3-torch libopenblas0-pthread) ;;
    --g2p) command -v npm >/dev/null || pkgs+=(npm) ;;
    --experiments) command -v python3 >/dev/null || pkgs+=(python3) ;;
    *) echo "setup: unknown option $arg (expected --bench, --g2p or --experiments)" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=""; [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
