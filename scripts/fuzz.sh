#!/usr/bin/env bash
# Builds the libFuzzer target and fuzzes the request parser for SECONDS
# (default 60), seeded with h2o's HTTP/1 corpus and dictionary from
# ../shared/corpora. Exits non-zero if the fuzzer finds a crash.
#
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail

seconds="${1:-60}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
shared="${HTTPKIT_CORPUS_DIR:-$repo/../shared/corpora}/h2o-http1-fuzz"
build="$repo/build-fuzz"

cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DHTTPKIT_FUZZ=ON -DHTTPKIT_TESTS=OFF -DHTTPKIT_APPS=OFF \
  -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null
ninja -C "$build" request_parser_fuzz

# The shared corpus is read-only: the fuzzer gets a writable copy to grow.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$work/artifacts"
cp "$shared"/corpus/* "$work/corpus/"

# Use the dictionary as it is if libFuzzer can read it; otherwise keep only
# the `name="value"` lines it understands.
dict="$shared/http.dict"
if ! "$build/bin/request_parser_fuzz" -dict="$dict" -runs=0 "$work/artifacts" >/dev/null 2>&1; then
  grep -E '^[[:space:]]*([A-Za-z0-9_]*=)?".*"[[:space:]]*$' "$dict" >"$work/http.dict"
  dict="$work/http.dict"
  echo "dictionary cleaned into $dict"
fi

echo "fuzzing for ${seconds}s with $(ls "$work/corpus" | wc -l) seeds"
status=0
"$build/bin/request_parser_fuzz" "$work/corpus" \
  -dict="$dict" \
  -max_total_time="$seconds" \
  -max_len=8192 \
  -timeout=10 \
  -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" 2>"$work/fuzz.log" || status=$?
grep -E '^Dictionary:' "$work/fuzz.log" || true
tail -n 8 "$work/fuzz.log"

if [[ $status -ne 0 ]] || compgen -G "$work/artifacts/*" >/dev/null; then
  mkdir -p "$repo/build-fuzz/crashes"
  cp "$work"/artifacts/* "$repo/build-fuzz/crashes/" 2>/dev/null || true
  echo "fuzzer failed (status $status); inputs kept in build-fuzz/crashes/" >&2
  exit 1
fi
echo "no crashes"
