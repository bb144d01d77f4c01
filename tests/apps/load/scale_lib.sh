# Shared by the CI scale tests (scale_test.sh, ws_scale_test.sh): sourced,
# not run. The test sets `scale_name` (its log prefix), `connections`,
# `bin` and `tmp` first, and calls restore_sysctls from its EXIT trap.
# Everything here stops only PIDs the test started.

started=$SECONDS
server_pid="" port=""
declare -A saved_sysctl=()
failures=0

log() { printf '%s: %s\n' "$scale_name" "$*"; }
fail() { log "FAIL: $*"; exit 1; }

stop_pid() {  # SIGTERM, a bounded wait, then SIGKILL: only PIDs we started
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

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

restore_sysctls() {
  local key
  for key in "${!saved_sysctl[@]}"; do
    sysctl -qw "$key=${saved_sysctl[$key]}" >/dev/null 2>&1 || log "could not restore $key"
  done
}

# Checks the binaries and raises what `connections` sockets at both ends need.
prepare() {
  local b
  for b in httpkit-server httpkit-load; do
    [ -x "$bin/$b" ] || fail "$bin/$b not built (set HTTPKIT_BIN_DIR)"
  done
  # Both ends live here: two sockets per connection, plus slack.
  raise_sysctl fs.file-max $((2 * connections + 100000))
  if [ -e /proc/sys/net/netfilter/nf_conntrack_max ]; then
    raise_sysctl net.netfilter.nf_conntrack_max $((2 * connections + 65536))
  fi
}

# Starts httpkit-server on a free port for `connections`: sets server_pid and port.
start_server() {
  # The server enforces --max-connections per event loop (the total split
  # evenly), while SO_REUSEPORT spreads connections unevenly over the loops:
  # a loop at its share leaves its extra connections unaccepted in the
  # backlog. A quarter of headroom keeps every loop below its share.
  local server_limit=$((connections + connections / 4)) i
  # --port 0: the kernel picks a free port (every worker process gets the
  # same one), read back from the server's "listen at ADDR:PORT" line.
  "$bin/httpkit-server" --port 0 --processes auto --max-connections "$server_limit" \
    >"$tmp/server.log" 2>&1 &
  server_pid=$!
  for i in $(seq 1 100); do
    kill -0 "$server_pid" 2>/dev/null || break
    port=$(sed -nE 's/^Server started\..*:([0-9]+)$/\1/p' "$tmp/server.log" | head -1)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || fail "httpkit-server did not start"
  log "httpkit-server pid $server_pid on port $port: $(pgrep -c -P "$server_pid" || echo 0) worker processes"
}

check() {  # check DESCRIPTION ACTUAL OP EXPECTED
  if [ "$2" "$3" "$4" ] 2>/dev/null; then
    log "ok   - $1 ($2)"
  else
    log "FAIL - $1: $2, wanted $3 $4"
    failures=$((failures + 1))
  fi
}

# check_load_run LABEL NAME COUNT STATUS EXCHANGES: shows $tmp/NAME.log and
# checks $tmp/NAME.json of one httpkit-load run of COUNT connections that
# exited with STATUS; EXCHANGES names what a connection completes.
check_load_run() {
  local label=$1 name=$2 count=$3 status=$4 exchanges=$5
  grep -E '^(time|target)' "$tmp/$name.log" | awk 'NR % 5 == 0 || /target/' | sed 's/^/  /'
  sed -n '/== httpkit-load summary/,$p' "$tmp/$name.log" | grep -v summary-json | sed 's/^/  /'
  if [ ! -s "$tmp/$name.json" ]; then
    log "FAIL - ${label}httpkit-load wrote no summary (exit $status)"
    failures=$((failures + 1))
    return
  fi
  field() {
    python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print("null" if v is None else v)' \
      "$tmp/$name.json" "$1"
  }
  check "${label}httpkit-load exit status" "$status" -eq 0
  check "${label}errors" "$(field errors)" -eq 0
  check "${label}peak concurrency" "$(field peak_concurrency)" -eq "$count"
  check "${label}connections that completed fewer than 2 $exchanges" \
    "$(field connections_below_2_requests)" -eq 0
  check "${label}fewest $exchanges completed by one connection" \
    "$(field min_requests_per_connection)" -ge 2
  check "${label}load workers that failed" "$(field workers_failed)" -eq 0
}

# The server drains on SIGTERM and must exit 0 on its own; then the verdict.
stop_server_and_finish() {
  local server_status=timeout i
  kill -TERM "$server_pid"
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
}
