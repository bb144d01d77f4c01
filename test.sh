#!/usr/bin/env bash
# Runs every test of httpkit: set-up, build, unit tests, the unit tests
# again under ASan+UBSan, real peers against a live server, the scale test
# and the fuzzers. Usage: ./test.sh [--quick]   (--quick skips scale and fuzz)
set -euo pipefail
cd "$(dirname "$0")"

quick=0
[ "${1:-}" = "--quick" ] && quick=1
fuzz_seconds=${HTTPKIT_FUZZ_SECONDS:-60}

scripts/setup.sh

echo "== build (release)"
scripts/build.sh build
echo "== build (ASan+UBSan)"
scripts/build.sh build-asan -DHTTPKIT_SANITIZE=ON -DHTTPKIT_APPS=OFF

failed=0
run() {
  echo "== $1"
  shift
  if ! "$@"; then
    echo "!! failed: $*"
    failed=1
  fi
}

run "unit tests" ctest --test-dir build -L unit --output-on-failure -j2
run "unit tests under ASan+UBSan" env ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan -L unit --output-on-failure -j2
run "real peers against httpkit-server" ctest --test-dir build -L peer --output-on-failure
if ((!quick)); then
  run "scale" ctest --test-dir build -L scale --output-on-failure
  for fuzzer in scripts/fuzz*.sh; do
    [ -x "$fuzzer" ] && run "fuzz: $fuzzer" "$fuzzer" "$fuzz_seconds"
  done
fi

if ((failed)); then
  echo "test.sh: FAILED"
  exit 1
fi
echo "test.sh: all tests passed"
