#!/usr/bin/env bash
# CI scale test: 50,000 keep-alive connections from httpkit-load to
# httpkit-server, idle 1-3 s between requests, held 20 s after the ramp.
# Asserts 0 errors, at least 2 completed requests on every connection, and
# that both programs exit cleanly (the server on SIGTERM with status 0), all
# within 3 minutes. Stops only its own PIDs and restores any sysctl it raised.
set -euo pipefail

scale_name=scale
connections=${HTTPKIT_SCALE_CONNECTIONS:-50000}
steady=${HTTPKIT_SCALE_STEADY:-20}
here=$(cd "$(dirname "$0")" && pwd)
bin=${HTTPKIT_BIN_DIR:-$here/../../../build/bin}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/httpkit-scale.XXXXXX")
load_pid=""
# shellcheck source=scale_lib.sh
source "$here/scale_lib.sh"

cleanup() {
  local rc=$?
  [ -n "$load_pid" ] && stop_pid "$load_pid"
  [ -n "$server_pid" ] && stop_pid "$server_pid"
  restore_sysctls
  if [ "$rc" -ne 0 ]; then
    log "--- server log (tail)"; tail -n 20 "$tmp/server.log" 2>/dev/null || true
    log "--- load log (tail)"; tail -n 30 "$tmp/load.log" 2>/dev/null || true
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

prepare
start_server

log "httpkit-load: $connections connections, idle 1-3 s, $steady s steady"
set +e
timeout -k 10 150 "$bin/httpkit-load" --port "$port" --connections "$connections" --idle 1-3 \
  --steady "$steady" --duration 120 --summary "$tmp/load.json" >"$tmp/load.log" 2>&1 &
load_pid=$!
wait "$load_pid"
load_status=$?
load_pid=""
set -e

check_load_run "" load "$connections" "$load_status" requests
stop_server_and_finish
