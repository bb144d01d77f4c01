#!/usr/bin/env bash
# Client throughput: the httpkit client (one loop thread) against wrk -t1,
# both loading the same nginx with 100 keep-alive connections, alternating
# A B A B ...; prints the median req/s of each and the ratio client/wrk.
# Then the memory one idle pooled connection costs the client.
#
# Usage: bench/client_bench.sh [--rounds N] [--duration S] [--connections C]
#                              [--idle N] [--bin-dir DIR]
# The machine is shared and noisy: read the ratio of one run, not absolute numbers.
set -euo pipefail

ROUNDS=5
DURATION=8
CONNECTIONS=100
IDLE=10000
REPO_ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN_DIR=${HTTPKIT_BIN_DIR:-build/bin}
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --idle) IDLE=$2; shift 2 ;;
    --bin-dir) BIN_DIR=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set/p' "$0" | sed 's/^# \{0,1\}//;/^set/d'; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
case "$BIN_DIR" in /*) ;; *) BIN_DIR="$REPO_ROOT/$BIN_DIR" ;; esac
BENCH="$BIN_DIR/httpkit-client-bench"
[ -x "$BENCH" ] || { echo "missing $BENCH (build first)" >&2; exit 2; }
for tool in nginx wrk; do command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 2; }; done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/httpkit-client-bench.XXXXXX")
source "$REPO_ROOT/scripts/lib/nginx.sh"
cleanup() {
  nginx_stop
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PORT=$(low_free_port)
head -c 1024 /dev/zero | tr '\0' 'x' >"$WORK/body"
nginx_bench_conf "$WORK/nginx" "$PORT" 2 "$WORK/body" backlog=20000
nginx_start "$WORK/nginx" "$PORT" || exit 1
URL="http://127.0.0.1:$PORT/"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

echo "nginx 2 workers, 1024-byte body, $CONNECTIONS connections, ${DURATION}s per run, $ROUNDS rounds"
wrk -t1 -c"$CONNECTIONS" -d1s "$URL" >/dev/null  # warm-up
"$BENCH" --url "$URL" -c "$CONNECTIONS" -d 1 --warmup 0.5 >/dev/null
WRK_RUNS=() CLIENT_RUNS=()
for round in $(seq 1 "$ROUNDS"); do
  w=$(wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "$URL" | awk '/Requests\/sec/ {printf "%.0f", $2}')
  c=$("$BENCH" --url "$URL" -c "$CONNECTIONS" -d "$DURATION" | awk '/requests\/sec/ {print $2}')
  echo "round $round: wrk -t1 $w req/s, httpkit client $c req/s"
  WRK_RUNS+=("$w"); CLIENT_RUNS+=("$c")
done
W=$(printf '%s\n' "${WRK_RUNS[@]}" | median)
C=$(printf '%s\n' "${CLIENT_RUNS[@]}" | median)
printf 'median: wrk -t1 %s req/s, httpkit client (1 loop thread) %s req/s, client/wrk = %.2f\n' \
  "$W" "$C" "$(awk -v c="$C" -v w="$W" 'BEGIN {print c / w}')"

echo "memory: $IDLE pooled idle connections"
"$BENCH" --url "$URL" --idle "$IDLE"
