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
bin=${HTTPKIT_BIN_DIR:-$here/../../build/bin}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/httpkit-ws-scale.XXXXXX")
started=$SECONDS
server_pid="" plain_pid="" deflate_pid=""
declare -A saved_sysctl=()

log() { printf 'ws-scale: %s\n' "$*"; }

stop_pid() {  # SIGTERM, a bounded wait, then SIGKILL: only PIDs we started
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$? key run
  [ -n "$plain_pid" ] && stop_pid "$plain_pid"
  [ -n "$deflate_pid" ] && stop_pid "$deflate_pid"
  [ -n "$server_pid" ] && stop_pid "$server_pid"
  for key in "${!saved_sysctl[@]}"; do
    sysctl -qw "$key=${saved_sysctl[$key]}" >/dev/null 2>&1 || log "could not restore $key"
  done
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

# Headroom over the total: see scale_test.sh (SO_REUSEPORT spreads unevenly).
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

failures=0
check() {  # check DESCRIPTION ACTUAL OP EXPECTED
  if [ "$2" "$3" "$4" ] 2>/dev/null; then
    log "ok   - $1 ($2)"
  else
    log "FAIL - $1: $2, wanted $3 $4"
    failures=$((failures + 1))
  fi
}
field() {  # field RUN NAME: a value of that run's summary
  python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print("null" if v is None else v)' \
    "$tmp/$1.json" "$2"
}
check_run() {  # check_run NAME CONNECTIONS STATUS
  local name=$1 count=$2 status=$3
  log "== $name"
  grep -E '^(time|target)' "$tmp/$name.log" | awk 'NR % 5 == 0 || /target/' | sed 's/^/  /'
  sed -n '/== httpkit-load summary/,$p' "$tmp/$name.log" | grep -v summary-json | sed 's/^/  /'
  if [ ! -s "$tmp/$name.json" ]; then
    log "FAIL - $name: httpkit-load wrote no summary (exit $status)"
    failures=$((failures + 1))
    return
  fi
  check "$name: httpkit-load exit status" "$status" -eq 0
  check "$name: errors" "$(field "$name" errors)" -eq 0
  check "$name: peak concurrency" "$(field "$name" peak_concurrency)" -eq "$count"
  check "$name: connections that completed fewer than 2 echoes" \
    "$(field "$name" connections_below_2_requests)" -eq 0
  check "$name: fewest echoes completed by one connection" \
    "$(field "$name" min_requests_per_connection)" -ge 2
  check "$name: load workers that failed" "$(field "$name" workers_failed)" -eq 0
}
check_run plain "$plain_connections" "$plain_status"
check_run deflate "$deflate_connections" "$deflate_status"

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
