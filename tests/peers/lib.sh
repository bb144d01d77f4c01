# Shared helpers for the peer tests (sourced, not executed).
#
# Every test starts its own httpkit-server on a loopback port the kernel picks,
# drives a real third-party peer against it and stops the server by PID from
# an EXIT trap, so nothing is left running even when a check fails.

set -euo pipefail

PEER_REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PEER_BIN_DIR=${HTTPKIT_BIN_DIR:-build/bin}
case "$PEER_BIN_DIR" in
  /*) ;;
  *) PEER_BIN_DIR="$PEER_REPO_ROOT/$PEER_BIN_DIR" ;;
esac
SERVER_BIN="$PEER_BIN_DIR/httpkit-server"

PEER_TMP=$(mktemp -d "${TMPDIR:-/tmp}/httpkit-peer.XXXXXX")
SERVER_PID=""
SERVER_PORT=""
PEER_FAILURES=0
PEER_CHECKS=0
# Extra PIDs (haproxy, ...) a test registers so the trap stops them too.
PEER_EXTRA_PIDS=()

# The text the server answers with: apps/common/benchmark_text.hpp, read by
# scripts/lib/benchmark_text.py (the one definition the C++ code uses too).
PEER_BENCHMARK_TEXT="$PEER_REPO_ROOT/scripts/lib/benchmark_text.py"

log() { printf '%s\n' "$*"; }

# Record one assertion: check "description" <command...>
check() {
  local what=$1; shift
  PEER_CHECKS=$((PEER_CHECKS + 1))
  if "$@"; then
    log "ok   - $what"
  else
    log "FAIL - $what"
    PEER_FAILURES=$((PEER_FAILURES + 1))
  fi
}

# Assert two strings are equal, printing both on mismatch.
check_eq() {
  local what=$1 expected=$2 actual=$3
  PEER_CHECKS=$((PEER_CHECKS + 1))
  if [ "$expected" = "$actual" ]; then
    log "ok   - $what ($actual)"
  else
    log "FAIL - $what: expected '$expected', got '$actual'"
    PEER_FAILURES=$((PEER_FAILURES + 1))
  fi
}

# expected_body LENGTH-PARAM -> writes the body the handler must return
# ("": no ?length=).
expected_body() {
  /usr/bin/python3 "$PEER_BENCHMARK_TEXT" "$1"
}

# Stop a PID we started: SIGTERM, bounded wait, then SIGKILL.  Prints nothing.
stop_pid() {
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

peer_cleanup() {
  local rc=$?
  local pid
  for pid in "${PEER_EXTRA_PIDS[@]}"; do stop_pid "$pid"; done
  if [ -n "$SERVER_PID" ]; then stop_pid "$SERVER_PID"; fi
  if [ "$rc" -ne 0 ] && [ -f "$PEER_TMP/server.log" ]; then
    log "--- server output (tail) ---"
    tail -n 20 "$PEER_TMP/server.log" || true
  fi
  rm -rf "$PEER_TMP"
  exit "$rc"
}
trap peer_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# port_answers PORT: true once an HTTP request to the port gets any answer.
port_answers() {
  curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/" 2>/dev/null
}

# start_server [server args...]: start httpkit-server on --port 0 (the
# kernel picks a free port: no search, no race, never a port in use by an
# outgoing connection), read the port back from its "listen at ADDR:PORT"
# line, wait until it answers (bounded), set SERVER_PID and SERVER_PORT.
start_server() {
  if [ ! -x "$SERVER_BIN" ]; then
    log "FAIL - server binary not found: $SERVER_BIN (set HTTPKIT_BIN_DIR)"
    exit 2
  fi
  local port="" i
  "$SERVER_BIN" --port 0 --bind 127.0.0.1 "$@" >"$PEER_TMP/server.log" 2>&1 &
  SERVER_PID=$!
  local scale=${HTTPKIT_TIMEOUT_SCALE:-1}
  for i in $(seq 1 $((100 * ${scale%%.*}))); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    [ -n "$port" ] || port=$(server_port_from_log "$PEER_TMP/server.log")
    if [ -n "$port" ] && port_answers "$port"; then
      SERVER_PORT=$port
      log "started httpkit-server pid $SERVER_PID on 127.0.0.1:$port ($*)"
      return 0
    fi
    sleep 0.1
  done
  log "FAIL - could not start $SERVER_BIN"
  cat "$PEER_TMP/server.log" || true
  stop_pid "$SERVER_PID"
  SERVER_PID=""
  exit 2
}

# server_port_from_log FILE: the port of a "Server started. ... :PORT" line.
server_port_from_log() {
  sed -nE 's#^Server started\..*:([0-9]+)/?$#\1#p' "$1" | head -1
}

# stop_server: SIGTERM the server (it must drain and exit 0); sets
# SERVER_EXIT to its exit status, or "timeout" if it had to be killed.
SERVER_EXIT=""
stop_server() {
  local pid=$SERVER_PID i
  SERVER_PID=""
  SERVER_EXIT=0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    SERVER_EXIT=timeout
    return 0
  fi
  wait "$pid" 2>/dev/null || SERVER_EXIT=$?
}

# require_server: abort the test (with the server's output) if the server
# process died - every later check would only fail for the same reason.
require_server() {
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    log "FAIL - httpkit-server (pid $SERVER_PID) died; its output:"
    tail -n 40 "$PEER_TMP/server.log" || true
    PEER_FAILURES=$((PEER_FAILURES + 1))
    finish "$(basename "$0" .sh)"
  fi
}

# server_alive: the server process still runs and answers a plain GET with 200.
server_alive() {
  kill -0 "$SERVER_PID" 2>/dev/null &&
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$SERVER_PORT/")" = 200 ]
}

# finish: print the summary and exit non-zero if any check failed.
finish() {
  local name=$1
  if [ "$PEER_FAILURES" -eq 0 ]; then
    log "PASS $name: $PEER_CHECKS checks"
    exit 0
  fi
  log "FAILED $name: $PEER_FAILURES of $PEER_CHECKS checks failed"
  exit 1
}
