#!/usr/bin/env bash
# ApacheBench (HTTP/1.0 + Connection: Keep-Alive) against httpkit-server:
# every request must succeed with 2xx on reused keep-alive connections.
source "$(dirname "$0")/lib.sh"

start_server --threads 2
BASE="http://127.0.0.1:$SERVER_PORT"

# ab_field OUTPUT LABEL -> the number after "LABEL:" in ab's report (0 if absent).
ab_field() {
  local v
  v=$(grep -E "^$2:" <<<"$1" | head -n1 | awk -F: '{print $2}' | awk '{print $1}' || true)
  echo "${v:-0}"
}

# run_ab DESCRIPTION N AB-ARGS...: run ab -k and check its report.
run_ab() {
  local what=$1 n=$2; shift 2
  local out
  log "running: ab -k -n $n $*"
  out=$(timeout 120 ab -k -n "$n" "$@" 2>&1) || { log "$out"; check "$what: ab exited 0" false; return; }
  check_eq "$what: complete requests" "$n" "$(ab_field "$out" 'Complete requests')"
  check_eq "$what: failed requests" 0 "$(ab_field "$out" 'Failed requests')"
  check_eq "$what: non-2xx responses" 0 "$(ab_field "$out" 'Non-2xx responses')"
  check_eq "$what: keep-alive requests" "$n" "$(ab_field "$out" 'Keep-Alive requests')"
  check_eq "$what: write errors" 0 "$(ab_field "$out" 'Write errors')"
  log "     $(grep -E '^Requests per second' <<<"$out")"
}

run_ab "GET 1024 B, c=10" 20000 -c 10 "$BASE/"
run_ab "GET 10240 B, c=10" 5000 -c 10 "$BASE/?length=10240"
head -c 3000 /dev/urandom >"$PEER_TMP/post.bin"
run_ab "POST 3000 B, c=10" 5000 -c 10 -p "$PEER_TMP/post.bin" -T application/octet-stream "$BASE/?length=16"

check "server still alive" server_alive
finish ab_test
