#!/usr/bin/env bash
# Builds one libFuzzer target (fuzz/<target>_fuzz.cpp, clang-14, into
# build-fuzz/) and fuzzes it for SECONDS (default 60), starting from its
# committed corpus fuzz/corpus/<target>/ and, for the targets that read
# requests, h2o's HTTP/1 corpus and dictionary from ../shared/corpora.
# Exits non-zero if the fuzzer finds a crash, a hang or a broken invariant;
# the input is kept in build-fuzz/crashes/<target>/.
#
# New inputs go to a temporary directory and are thrown away, so that a CI
# run leaves the tree clean. With --grow, those that add coverage are merged
# into fuzz/corpus/<target>/ (libFuzzer -merge=1) to be committed.
#
#   scripts/fuzz.sh [--grow] [--target TARGET] [SECONDS]
#
# TARGET: request_parser (the default), ws_frame, server_connection,
# client_response, tls_record. scripts/fuzz_ws.sh, fuzz_server.sh,
# fuzz_client.sh and fuzz_tls.sh call this with their target.
set -euo pipefail

target=request_parser
grow=0
seconds=60
while (($#)); do
  case "$1" in
    --grow) grow=1 ;;
    --target) target="$2"; shift ;;
    *) seconds="$1" ;;
  esac
  shift
done

repo="$(cd "$(dirname "$0")/.." && pwd)"
shared="${HTTPKIT_CORPUS_DIR:-$repo/../shared/corpora}/h2o-http1-fuzz"
build="$repo/build-fuzz"
corpus="$repo/fuzz/corpus/$target"

# What each target reads: the longest input worth trying, and whether the
# input is raw HTTP request bytes (then h2o's corpus and dictionary help;
# server_connection's inputs have a 7-byte control prefix in front).
case "$target" in
  request_parser) max_len=8192; http=1 ;;
  server_connection) max_len=4096; http=1 ;;
  client_response) max_len=8192; http=0 ;;
  ws_frame) max_len=4096; http=0 ;;
  tls_record) max_len=20000; http=0 ;;
  *) echo "unknown fuzz target '$target'" >&2; exit 2 ;;
esac

cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DHTTPKIT_FUZZ=ON -DHTTPKIT_TESTS=OFF -DHTTPKIT_APPS=OFF \
  -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null
ninja -C "$build" "${target}_fuzz"
fuzzer="$build/bin/${target}_fuzz"

count() { find "$1" -type f | wc -l; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/new" "$work/artifacts" "$work/seeds"
mkdir -p "$corpus"

flags=()
if ((http)) && [[ -d "$shared/corpus" ]]; then
  if [[ "$target" == server_connection ]]; then
    # Prefix each request with control bytes: FIN, limits, pool, trickle
    # and FIN-with-data cycle through the seeds; no cuts.
    i=0
    for f in "$shared"/corpus/*; do
      { printf '%b' "\\x$(printf %02x $((i % 32)))\\0\\0\\0\\0\\0\\0"; cat "$f"; } >"$work/seeds/$i"
      i=$((i + 1))
    done
  else
    cp "$shared"/corpus/* "$work/seeds/"
  fi
  # Use the dictionary as it is if libFuzzer can read it; otherwise keep
  # only the `name="value"` lines it understands.
  dict="$shared/http.dict"
  if ! "$fuzzer" -dict="$dict" -runs=0 "$work/artifacts" >/dev/null 2>&1; then
    grep -E '^[[:space:]]*([A-Za-z0-9_]*=)?".*"[[:space:]]*$' "$dict" >"$work/http.dict"
    dict="$work/http.dict"
  fi
  flags+=(-dict="$dict")
fi

echo "fuzzing $target for ${seconds}s from $(count "$corpus") corpus inputs" \
  "and $(count "$work/seeds") seeds"
status=0
"$fuzzer" "$work/new" "$corpus" "$work/seeds" "${flags[@]}" \
  -max_total_time="$seconds" \
  -max_len="$max_len" \
  -timeout=10 \
  -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" 2>"$work/fuzz.log" || status=$?
grep -E '^Dictionary:' "$work/fuzz.log" || true
grep -E '^(#[0-9]+[[:space:]]+DONE|stat::)' "$work/fuzz.log" || tail -n 12 "$work/fuzz.log"

# slow-unit-* files only report slowness; anything else is a failure.
if [[ $status -ne 0 ]] || compgen -G "$work/artifacts/[!s]*" >/dev/null; then
  tail -n 40 "$work/fuzz.log" >&2
  mkdir -p "$build/crashes/$target"
  cp "$work"/artifacts/* "$build/crashes/$target/" 2>/dev/null || true
  echo "fuzzer failed (status $status); inputs kept in build-fuzz/crashes/$target/" >&2
  exit 1
fi
echo "no crashes ($(count "$work/new") new inputs)"

if ((grow)); then
  before=$(count "$corpus")
  # Edges only (no hit counts): a few hundred files cover what thousands would.
  "$fuzzer" -merge=1 -use_counters=0 -max_len="$max_len" -timeout=10 "$corpus" "$work/new" \
    >/dev/null 2>"$work/merge.log" || { tail -n 20 "$work/merge.log" >&2; exit 1; }
  echo "corpus grown: $before -> $(count "$corpus") inputs in fuzz/corpus/$target/" \
    "($(du -sh --apparent-size "$corpus" | cut -f1))"
fi
