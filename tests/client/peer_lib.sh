# Helpers for the client's peer tests (sourced). Every process a test starts
# is registered in PIDS and stopped by PID from the EXIT trap; configs,
# certificates and logs live in a temp dir that goes with it.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN_DIR=${HTTPKIT_BIN_DIR:-$REPO_ROOT/build/bin}
case "$BIN_DIR" in /*) ;; *) BIN_DIR="$REPO_ROOT/$BIN_DIR" ;; esac
FETCH="$BIN_DIR/httpkit-fetch"
PY=/usr/bin/python3
WORK=$(mktemp -d "${TMPDIR:-/tmp}/httpkit-client-peer.XXXXXX")
PIDS=()
CHECKS=0
FAILURES=0

log() { printf '%s\n' "$*"; }

cleanup() {
  local pid i
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || continue
    for i in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

check() {
  local what=$1; shift
  CHECKS=$((CHECKS + 1))
  if "$@"; then log "ok   - $what"; else log "FAIL - $what"; FAILURES=$((FAILURES + 1)); fi
}

check_eq() {
  local what=$1 expected=$2 actual=$3
  CHECKS=$((CHECKS + 1))
  if [ "$expected" = "$actual" ]; then
    log "ok   - $what ($actual)"
  else
    log "FAIL - $what: expected '$expected', got '$actual'"
    FAILURES=$((FAILURES + 1))
  fi
}

# Runs httpkit-fetch; sets RC, OUT (stdout), ERR (stderr).
run_fetch() {
  set +e
  OUT=$("$FETCH" "$@" 2>"$WORK/stderr")
  RC=$?
  set -e
  ERR=$(cat "$WORK/stderr")
}

# nginx (scripts/lib/nginx.sh) and low_free_port (scripts/lib/ports.sh): the
# helpers take a port and nginx cannot report one it chose, so their ports
# are picked below the kernel's ephemeral range.
source "$REPO_ROOT/scripts/lib/nginx.sh"
pick_port() { low_free_port; }

wait_port() {
  local port=$1 i
  for i in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.05
  done
  log "port $port never opened"
  return 1
}

finish() {
  log "$((CHECKS - FAILURES))/$CHECKS checks passed"
  [ "$FAILURES" = 0 ]
}

[ -x "$FETCH" ] || { log "missing $FETCH (build first)"; exit 2; }
