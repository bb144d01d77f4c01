#!/usr/bin/env bash
# h2load in HTTP/1.1 mode with 8 pipelined requests per connection:
# every request must succeed with 2xx.
source "$(dirname "$0")/lib.sh"

start_server --threads 2
BASE="http://127.0.0.1:$SERVER_PORT"

# run_h2load DESCRIPTION N H2LOAD-ARGS...: run h2load --h1 and check its report.
run_h2load() {
  local what=$1 n=$2; shift 2
  local out line codes
  log "running: h2load --h1 -n $n $*"
  out=$(timeout 120 h2load --h1 -n "$n" "$@" 2>&1) || { log "$out"; check "$what: h2load exited 0" false; return; }
  line=$(grep -E '^requests:' <<<"$out" || true)
  codes=$(grep -E '^status codes:' <<<"$out" || true)
  log "     $line"
  log "     $codes"
  check_eq "$what: requests line" \
    "requests: $n total, $n started, $n done, $n succeeded, 0 failed, 0 errored, 0 timeout" "$line"
  check_eq "$what: status codes" "status codes: $n 2xx, 0 3xx, 0 4xx, 0 5xx" "$codes"
  log "     $(grep -E '^finished in' <<<"$out")"
}

run_h2load "GET 1024 B -c 20 -m 8" 20000 -c 20 -m 8 -t 2 "$BASE/"
run_h2load "GET 10240 B -c 20 -m 8" 5000 -c 20 -m 8 -t 2 "$BASE/?length=10240"

check "server still alive" server_alive
finish h2load_test
