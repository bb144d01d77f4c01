#!/usr/bin/env bash
# CI WebSocket scale test: 20,000 WebSocket connections from httpkit-load
# --websocket to httpkit-server's /ws echo at once, half of them with
# permessage-deflate: two httpkit-load runs side by side, one plain to
# 127.0.0.1 and one --deflate to 127.0.0.2 (the server listens on 0.0.0.0,
# and distinct destinations keep their source tuples apart). Each
# connection upgrades, then every 1-3 s sends a text message of 1-4096
# bytes and checks its echo byte for byte; held 15 s after the ramp.
# Asserts 0 errors, at least 2 echoes on every connection, and that all
# three programs exit cleanly (the server on SIGTERM with status 0), all
# within 3 minutes. Stops only its own PIDs and restores any sysctl it raised.
set -euo pipefail

connections=${HTTPKIT_WS_SCALE_CONNECTIONS:-20000}
steady=${HTTPKIT_WS_SCALE_STEADY:-15}
plain_connections=$((connections / 2))
deflate_connections=$((connections - plain_connections))
here=$(cd "$(dirname "$0")" && pwd)
bin=${HTTPKIT_BIN_DIR:-$here/../../../build/bin}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/httpkit-ws-scale.XXXXXX")
scale_name=ws-scale
plain_pid="" deflate_pid=""
# shellcheck source=scale_lib.sh
source "$here/scale_lib.sh"

cleanup() {
  local rc=$? run
  [ -n "$plain_pid" ] && stop_pid "$plain_pid"
  [ -n "$deflate_pid" ] && stop_pid "$deflate_pid"
  [ -n "$server_pid" ] && stop_pid "$server_pid"
  restore_sysctls
  if [ "$rc" -ne 0 ]; then
    log "--- server log (tail)"; tail -n 20 "$tmp/server.log" 2>/dev/null || true
    for run in plain deflate; do
      log "--- $run load log (tail)"; tail -n 30 "$tmp/$run.log" 2>/dev/null || true
    done
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

prepare
start_server

log "httpkit-load --websocket: $plain_connections plain + $deflate_connections --deflate" \
  "connections, idle 1-3 s, length 1-4096, $steady s steady"
load() {  # load NAME HOST CONNECTIONS [options...]: one run in the background
  local name=$1 host=$2 count=$3
  shift 3
  timeout -k 10 150 "$bin/httpkit-load" --websocket --host "$host" --port "$port" \
    --connections "$count" --idle 1-3 --length 1-4096 --steady "$steady" --duration 120 \
    --summary "$tmp/$name.json" "$@" >"$tmp/$name.log" 2>&1 &
}
set +e
load plain 127.0.0.1 "$plain_connections"
plain_pid=$!
load deflate 127.0.0.2 "$deflate_connections" --deflate
deflate_pid=$!
wait "$plain_pid"
plain_status=$?
plain_pid=""
wait "$deflate_pid"
deflate_status=$?
deflate_pid=""
set -e

log "== plain"
check_load_run "plain: " plain "$plain_connections" "$plain_status" echoes
log "== deflate"
check_load_run "deflate: " deflate "$deflate_connections" "$deflate_status" echoes
stop_server_and_finish
