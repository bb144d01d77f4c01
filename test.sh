#!/usr/bin/env bash
# Runs every test of httpkit: set-up, build, unit tests (with the fuzzers'
# committed corpora replayed), the unit tests again under ASan+UBSan, the
# hostile-input peers against the ASan+UBSan httpkit-server, real peers
# against the release server, the scale tests and the fuzzers.
# Usage: ./test.sh [--quick]   (--quick skips scale and fuzz)
set -euo pipefail
cd "$(dirname "$0")"

quick=0
[ "${1:-}" = "--quick" ] && quick=1
fuzz_seconds=${HTTPKIT_FUZZ_SECONDS:-60}

scripts/setup.sh

echo "== build (release)"
scripts/build.sh build
echo "== build (ASan+UBSan)"
scripts/build.sh build-asan -DHTTPKIT_SANITIZE=ON

failed=0
run() {
  echo "== $1"
  shift
  if ! "$@"; then
    echo "!! failed: $*"
    failed=1
  fi
}

# --no-tests=error: a label that selects nothing is a broken suite, not a pass.
ctest_run() { ctest --no-tests=error --output-on-failure "$@"; }
# A subshell, not env(1): what it runs may be one of the functions above.
sanitized() { (
  export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
  "$@"
); }

run "unit tests" ctest_run --test-dir build -L unit -j2
run "unit tests under ASan+UBSan" sanitized ctest_run --test-dir build-asan -L unit -j2
run "hostile peers against the ASan+UBSan server" sanitized ctest_run --test-dir build-asan -L hostile
run "real peers against httpkit-server" ctest_run --test-dir build -L peer
if ((!quick)); then
  run "scale" ctest_run --test-dir build -L scale
  for fuzzer in scripts/fuzz*.sh; do
    if [ ! -x "$fuzzer" ]; then
      echo "!! $fuzzer is not executable: it would never run"
      failed=1
      continue
    fi
    run "fuzz: $fuzzer" "$fuzzer" "$fuzz_seconds"
  done
fi

if ((failed)); then
  echo "test.sh: FAILED"
  exit 1
fi
echo "test.sh: all tests passed"
