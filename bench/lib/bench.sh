# What the benchmarks against nginx share (sourced, not run): a work
# directory removed on exit, the processes they started stopped by PID,
# httpkit-server started on a port the kernel picks, and medians.
#
#   bench_init                   WORK (a temp dir), PIDS=(), the EXIT trap
#   bench_track PID              stop PID on exit (SIGTERM, bounded wait, SIGKILL)
#   bench_start_httpkit BIN ARGS...
#       starts BIN --port 0 --bind 127.0.0.1 ARGS, reads the port back from
#       its "listen at ADDR:PORT" line, waits until it answers (bounded);
#       sets HTTPKIT_PID and HTTPKIT_PORT, or prints its output and exits 1.
#   wait_for_port PORT PID       true once bench_probe PORT answers (bounded)
#   bench_probe PORT             GET http://127.0.0.1:PORT/; a script may
#                                redefine it (bench/tls.sh probes over https)
#   median <<<"1 2 3"            the median of the numbers (n/a for none)
#   ratio A B                    A / B with two decimals (n/a if either is)
#   cpu_ticks PID...             clock ticks of CPU the processes used so far
#   ended_children_ticks         the same for this shell's ended children
#   cpu_per_op TICKS RATE SECS   microseconds of CPU per request/connection
#   host_ticks                   "IDLE BUSY": the whole host's CPU ticks so far
#   idle_percent BEFORE AFTER    % of the cores idle between two host_ticks
#   bench_find_httpkit DIR       HTTPKIT_BIN=DIR/httpkit-server (DIR relative
#                                to the repository unless absolute), or exit 2
#   bench_require TOOL...        exit 2 naming the first tool not installed

bench_stop_pid() {
  local pid=$1 i
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

bench_cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do bench_stop_pid "$pid"; done
  rm -rf "$WORK"
}

bench_init() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/httpkit-bench.XXXXXX")
  PIDS=()
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

bench_track() { PIDS+=("$1"); }

bench_probe() { curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/"; }

wait_for_port() {
  local port=$1 pid=$2 i
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 1
    bench_probe "$port" && return 0
    sleep 0.1
  done
  return 1
}

bench_start_httpkit() {
  local bin=$1 i
  shift
  "$bin" --port 0 --bind 127.0.0.1 "$@" >"$WORK/httpkit.log" 2>&1 &
  HTTPKIT_PID=$!
  bench_track "$HTTPKIT_PID"
  HTTPKIT_PORT=""
  for i in $(seq 1 100); do
    HTTPKIT_PORT=$(sed -nE 's/.*listen at [^ ]+:([0-9]+).*/\1/p' "$WORK/httpkit.log" | head -1)
    [ -n "$HTTPKIT_PORT" ] && break
    sleep 0.1
  done
  [ -n "$HTTPKIT_PORT" ] && wait_for_port "$HTTPKIT_PORT" "$HTTPKIT_PID" ||
    { cat "$WORK/httpkit.log"; echo "httpkit-server did not start" >&2; exit 1; }
}

median() {
  tr ' ' '\n' | grep -E '^[0-9.]+$' | sort -g | awk '{v[NR] = $1} END {
    if (NR == 0) { print "n/a"; exit }
    if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() {
  if [ "$1" = n/a ] || [ "$2" = n/a ]; then echo n/a; return; fi
  awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'
}

# /proc/PID/stat from its third field on (the command name, which may hold
# spaces, cut off): field N of proc(5) is $((N - 2)) here.
proc_stat() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  echo "${stat##*) }"
}

# CPU time (clock ticks) that processes PID... used so far: utime + stime.
cpu_ticks() {
  local total=0 p stat
  for p in "$@"; do
    stat=$(proc_stat "$p") || continue
    total=$((total + $(awk '{print $12 + $13}' <<<"$stat")))
  done
  echo "$total"
}
cpu_per_op() {
  awk -v t="$1" -v r="$2" -v s="$3" -v hz="$(getconf CLK_TCK)" 'BEGIN {
    if (r !~ /^[0-9.]+$/ || r * s == 0) { print "n/a"; exit }
    printf "%.1f\n", t / hz * 1e6 / (r * s) }'
}

bench_find_httpkit() {
  local dir=$1
  case "$dir" in /*) ;; *) dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/$dir" ;; esac
  HTTPKIT_BIN="$dir/httpkit-server"
  [ -x "$HTTPKIT_BIN" ] || {
    echo "httpkit-server not found at $HTTPKIT_BIN (build it or pass --bin-dir)" >&2
    exit 2
  }
}

bench_require() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 2; }
  done
}

# The whole host's CPU ticks so far, "idle busy" (idle + iowait, the rest
# but steal). Two readings give the share of the cores nobody used.
host_ticks() {
  awk '/^cpu / {print $5 + $6, $2 + $3 + $4 + $7 + $8; exit}' /proc/stat
}
idle_percent() {  # idle_percent "IDLE0 BUSY0" "IDLE1 BUSY1"
  awk -v a="$1" -v b="$2" 'BEGIN {
    split(a, x, " "); split(b, y, " "); i = y[1] - x[1]; t = i + y[2] - x[2]
    if (t <= 0) { print "n/a"; exit }
    printf "%.0f\n", 100 * i / t }'
}

# CPU time (clock ticks) of the calling shell's children that have ended and
# been waited for (cutime + cstime): a load tool run in a command
# substitution counts once the substitution returns.
ended_children_ticks() {
  awk '{print $14 + $15}' <<<"$(proc_stat $$)"
}
