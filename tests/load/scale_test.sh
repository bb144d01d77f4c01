#!/usr/bin/env bash
# CI scale test: 50,000 keep-alive connections from httpkit-load to
# httpkit-server, idle 1-3 s between requests, held 20 s after the ramp.
# Asserts 0 errors, at least 2 completed requests on every connection, and
# that both programs exit cleanly (the server on SIGTERM with status 0), all
# within 3 minutes. Stops only its own PIDs and restores any sysctl it raised.
set -euo pipefail

connections=${HTTPKIT_SCALE_CONNECTIONS:-50000}
steady=${HTTPKIT_SCALE_STEADY:-20}
here=$(cd "$(dirname "$0")" && pwd)
bin=${HTTPKIT_BIN_DIR:-$here/../../build/bin}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/httpkit-scale.XXXXXX")
started=$SECONDS
server_pid="" load_pid=""
declare -A saved_sysctl=()

log() { printf 'scale: %s\n' "$*"; }

stop_pid() {  # SIGTERM, a bounded wait, then SIGKILL: only PIDs we started
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$? key
  [ -n "$load_pid" ] && stop_pid "$load_pid"
  [ -n "$server_pid" ] && stop_pid "$server_pid"
  for key in "${!saved_sysctl[@]}"; do
    sysctl -qw "$key=${saved_sysctl[$key]}" >/dev/null 2>&1 || log "could not restore $key"
  done
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

# raise_sysctl KEY MIN: raise KEY to at least MIN (if writable), remembering the old value.
raise_sysctl() {
  local key=$1 want=$2 path current
  path=/proc/sys/${key//.//}
  [ -w "$path" ] || return 0
  current=$(cat "$path")
  if [ "$current" -lt "$want" ]; then
    saved_sysctl[$key]=$current
    sysctl -qw "$key=$want" >/dev/null && log "raised $key $current -> $want (restored on exit)"
  fi
}

fail() { log "FAIL: $*"; exit 1; }

for b in httpkit-server httpkit-load; do
  [ -x "$bin/$b" ] || fail "$bin/$b not built (set HTTPKIT_BIN_DIR)"
done

# Both ends live here: two sockets per connection, plus slack.
raise_sysctl fs.file-max $((2 * connections + 100000))
if [ -e /proc/sys/net/netfilter/nf_conntrack_max ]; then
  raise_sysctl net.netfilter.nf_conntrack_max $((2 * connections + 65536))
fi

# The server enforces --max-connections per event loop (the total split
# evenly), while SO_REUSEPORT spreads connections unevenly over the loops: a
# loop at its share leaves its extra connections unaccepted in the backlog.
# A quarter of headroom keeps every loop below its share.
server_limit=$((connections + connections / 4))

# A free port: the server refuses to start on a taken one, so retry.
port=""
for attempt in 1 2 3 4 5 6 7 8; do
  candidate=$((40000 + RANDOM % 20000))
  if (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then continue; fi
  "$bin/httpkit-server" --port "$candidate" --processes auto --max-connections "$server_limit" \
    >"$tmp/server.log" 2>&1 &
  server_pid=$!
  for i in $(seq 1 100); do
    kill -0 "$server_pid" 2>/dev/null || break
    if grep -q 'Server started' "$tmp/server.log"; then port=$candidate; break 2; fi
    sleep 0.1
  done
  stop_pid "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
done
[ -n "$port" ] || fail "httpkit-server did not start"
log "httpkit-server pid $server_pid on port $port: $(pgrep -c -P "$server_pid" || echo 0) worker processes"

log "httpkit-load: $connections connections, idle 1-3 s, $steady s steady"
set +e
timeout -k 10 150 "$bin/httpkit-load" --port "$port" --connections "$connections" --idle 1-3 \
  --steady "$steady" --duration 120 --summary "$tmp/summary.json" >"$tmp/load.log" 2>&1 &
load_pid=$!
wait "$load_pid"
load_status=$?
load_pid=""
set -e
grep -E '^(time|target)' "$tmp/load.log" | awk 'NR % 5 == 0 || /target/' | sed 's/^/  /'
sed -n '/== httpkit-load summary/,$p' "$tmp/load.log" | grep -v summary-json | sed 's/^/  /'

[ -s "$tmp/summary.json" ] || fail "httpkit-load wrote no summary (exit $load_status)"
field() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print("null" if v is None else v)' "$tmp/summary.json" "$1"; }

failures=0
check() {  # check DESCRIPTION ACTUAL OP EXPECTED
  if [ "$2" "$3" "$4" ] 2>/dev/null; then
    log "ok   - $1 ($2)"
  else
    log "FAIL - $1: $2, wanted $3 $4"
    failures=$((failures + 1))
  fi
}
check "httpkit-load exit status" "$load_status" -eq 0
check "errors" "$(field errors)" -eq 0
check "peak concurrency" "$(field peak_concurrency)" -eq "$connections"
check "connections that completed fewer than 2 requests" "$(field connections_below_2_requests)" -eq 0
check "fewest requests completed by one connection" "$(field min_requests_per_connection)" -ge 2
check "load workers that failed" "$(field workers_failed)" -eq 0

# The server drains on SIGTERM and must exit 0 on its own.
kill -TERM "$server_pid"
server_status=timeout
for i in $(seq 1 300); do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    set +e; wait "$server_pid"; server_status=$?; set -e
    break
  fi
  sleep 0.1
done
[ "$server_status" = timeout ] || server_pid=""
check "httpkit-server exit status after SIGTERM" "$server_status" = 0
check "seconds taken" "$((SECONDS - started))" -lt 180

if [ "$failures" -ne 0 ]; then
  log "FAILED: $failures checks"
  exit 1
fi
log "PASS"
