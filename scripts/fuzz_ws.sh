#!/usr/bin/env bash
# Builds the WebSocket libFuzzer target (fuzz/ws_frame_fuzz.cpp) and fuzzes
# the frame decoder and message assembler for SECONDS (default 60), seeded
# with the RFC 6455 and RFC 7692 example frames. Exits non-zero if the
# fuzzer finds a crash or a broken invariant.
#
#   scripts/fuzz_ws.sh [SECONDS]
set -euo pipefail

seconds="${1:-60}"
repo="$(cd "$(dirname "$0")/.." && pwd)"

if grep -q 'ws.cmake' "$repo/fuzz/CMakeLists.txt" 2>/dev/null; then
  # The project's fuzz build includes the target (scripts/fuzz.sh's build).
  build="$repo/build-fuzz"
  cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DHTTPKIT_FUZZ=ON -DHTTPKIT_TESTS=OFF -DHTTPKIT_APPS=OFF \
    -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null
else
  # Not wired into fuzz/CMakeLists.txt yet: build fuzz/ws.cmake on its own.
  build="$repo/build-fuzz-ws"
  wrapper="$build/wrapper"
  mkdir -p "$wrapper"
  cat >"$wrapper/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.20)
project(httpkit_ws_fuzz LANGUAGES CXX)
set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_RUNTIME_OUTPUT_DIRECTORY \${CMAKE_BINARY_DIR}/bin)
add_compile_options(-Wall -Wextra)
include($repo/fuzz/ws.cmake)
CMAKE
  cmake -S "$wrapper" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null
fi
ninja -C "$build" ws_frame_fuzz

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$work/artifacts"

# Seeds: two config bytes (see ws_frame_fuzz.cpp), then the wire bytes.
seed() { printf "$2" >"$work/corpus/$1"; }
seed hello-unmasked   '\x01\x05\x81\x05Hello'
seed hello-masked     '\x00\x07\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58'
seed fragmented       '\x01\x03\x01\x03Hel\x89\x00\x80\x02lo'
seed ping-pong        '\x01\x09\x89\x05Hello\x8a\x00'
seed binary-256       "\\x01\\x0b\\x82\\x7e\\x01\\x00$(printf 'b%.0s' {1..256})"
seed close-masked     '\x00\x01\x88\x85\x00\x00\x00\x00\x03\xe8bye'
seed deflate-hello    '\x03\x02\xc1\x07\xf2\x48\xcd\xc9\xc9\x07\x00'
seed deflate-takeover '\x07\x04\xc1\x07\xf2\x48\xcd\xc9\xc9\x07\x00\xc1\x05\xf2\x00\x11\x00\x00'
seed deflate-frag     '\x0b\x06\x41\x03\xf2\x48\xcd\x80\x04\xc9\xc9\x07\x00'
seed extensions       '\x21\x00permessage-deflate; client_max_window_bits; server_max_window_bits="10", permessage-deflate'

echo "fuzzing for ${seconds}s with $(ls "$work/corpus" | wc -l) seeds"
status=0
"$build/bin/ws_frame_fuzz" "$work/corpus" \
  -max_total_time="$seconds" \
  -max_len=4096 \
  -timeout=10 \
  -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" 2>"$work/fuzz.log" || status=$?
tail -n 12 "$work/fuzz.log"

if [[ $status -ne 0 ]] || compgen -G "$work/artifacts/*" >/dev/null; then
  mkdir -p "$build/crashes"
  cp "$work"/artifacts/* "$build/crashes/" 2>/dev/null || true
  echo "fuzzer failed (status $status); inputs kept in $build/crashes/" >&2
  exit 1
fi
echo "no crashes"
