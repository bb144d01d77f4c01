#!/usr/bin/env bash
# Throughput of httpkit-server against nginx (Debian) on this machine.
#
# Both servers answer every request with the same 1024-byte text/plain body.
# Three loads, each run alternately against nginx and httpkit (A B A B A B):
#   wrk    -t2 -c100 -d<duration>s                       (keep-alive, 100 connections)
#   ab     -n 100000 -c 10 -k                            (HTTP/1.0 keep-alive, 10 connections)
#   h2load --h1 -n 400000 -c 100 -m 16 -t 2              (16 pipelined requests per connection)
# and the median req/s per server and load plus the ratio httpkit/nginx are printed.
#
# Fairness: both servers start once and stay up for the whole run, and only one
# is loaded at a time.  An idle event-driven server sleeps in epoll and costs
# nothing, while restarting per round would add start-up and warm-up effects
# (page faults, allocator growth, cold caches) to every sample.  Each server
# gets one short warm-up load before the first round, and the A/B alternation
# spreads slow drifts of this shared, noisy 2-core machine evenly over both.
# Client and server share the 2 cores, so absolute numbers are lower than on
# separate machines; compare ratios measured in one run.
#
# Usage: bench/throughput.sh [--rounds N] [--duration S] [--quick]
#                            [--bin-dir DIR] [--nginx-only]

set -euo pipefail

ROUNDS=3
DURATION=10
AB_N=100000
H2_N=400000
NGINX_ONLY=0
REPO_ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN_DIR=${HTTPKIT_BIN_DIR:-build/bin}

usage() { sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

while [ $# -gt 0 ]; do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --quick) ROUNDS=1; DURATION=2; AB_N=20000; H2_N=80000; shift ;;
    --bin-dir) BIN_DIR=$2; shift 2 ;;
    --nginx-only) NGINX_ONLY=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "unknown option: $1" >&2; usage 2 ;;
  esac
done
source "$REPO_ROOT/bench/lib/bench.sh"
[ "$NGINX_ONLY" = 1 ] || bench_find_httpkit "$BIN_DIR"
bench_require nginx wrk ab h2load curl

bench_init
source "$REPO_ROOT/scripts/lib/nginx.sh"

# The 1024-byte body httpkit-server sends by default (the first 1024 bytes
# of its text, apps/common/benchmark_text.hpp); nginx returns the very same bytes.
"$REPO_ROOT/scripts/lib/benchmark_text.py" >"$WORK/body"
body_1024() { cat "$WORK/body"; }

start_nginx() {
  NGINX_PORT=$(low_free_port)
  nginx_bench_conf "$WORK/nginx" "$NGINX_PORT" 2 "$WORK/body"
  nginx_start "$WORK/nginx" "$NGINX_PORT" || exit 1
  bench_track "$NGINX_PID"
}

start_httpkit() { bench_start_httpkit "$HTTPKIT_BIN" --threads 2; }

# Both must send the same body, or the comparison is meaningless.
check_same_body() {
  local name=$1 port=$2
  curl -s -D "$WORK/$name.hdr" -o "$WORK/$name.body" "http://127.0.0.1:$port/"
  if ! cmp -s "$WORK/$name.body" <(body_1024); then
    echo "$name does not answer with the expected 1024-byte body" >&2
    exit 1
  fi
  printf '  %-8s body 1024 B, response head %s B (%s)\n' "$name" "$(wc -c <"$WORK/$name.hdr")" \
    "$(grep -i '^Server:' "$WORK/$name.hdr" | tr -d '\r' || true)"
}

# run_load TOOL PORT -> prints req/s (or "ERR" when the tool reported failures).
run_load() {
  local tool=$1 port=$2 out url="http://127.0.0.1:$2/"
  case $tool in
    wrk)
      out=$(timeout $((DURATION + 30)) wrk -t2 -c100 -d"${DURATION}s" "$url" 2>&1) || true
      if grep -qE 'Socket errors|Non-2xx' <<<"$out"; then echo "ERR"; echo "$out" >>"$WORK/errors.log"; return; fi
      awk '/^Requests\/sec:/ {print $2}' <<<"$out" ;;
    ab)
      out=$(timeout 300 ab -n "$AB_N" -c 10 -k "$url" 2>&1) || true
      if ! grep -qE '^Failed requests: +0$' <<<"$out" || grep -q 'Non-2xx' <<<"$out"; then
        echo "ERR"; echo "$out" >>"$WORK/errors.log"; return
      fi
      awk '/^Requests per second:/ {print $4}' <<<"$out" ;;
    h2load)
      out=$(timeout 300 h2load --h1 -n "$H2_N" -c 100 -m 16 -t 2 "$url" 2>&1) || true
      if ! grep -qE "^requests: $H2_N total, $H2_N started, $H2_N done, $H2_N succeeded" <<<"$out"; then
        echo "ERR"; echo "$out" >>"$WORK/errors.log"; return
      fi
      sed -nE 's/^finished in [^,]+, ([0-9.]+) req\/s.*/\1/p' <<<"$out" ;;
  esac
}

main() {
  echo "throughput: $ROUNDS round(s), wrk ${DURATION}s, ab -n $AB_N, h2load -n $H2_N ($(nproc) cores, client and servers share them)"
  start_nginx
  SERVERS=(nginx)
  PORT_nginx=$NGINX_PORT
  if [ "$NGINX_ONLY" = 0 ]; then
    start_httpkit
    SERVERS+=(httpkit)
    PORT_httpkit=$HTTPKIT_PORT
  fi
  local s tool r port rate
  for s in "${SERVERS[@]}"; do
    port_var=PORT_$s
    check_same_body "$s" "${!port_var}"
  done

  echo "warm-up..."
  for s in "${SERVERS[@]}"; do
    port_var=PORT_$s
    timeout 30 wrk -t2 -c100 -d1s "http://127.0.0.1:${!port_var}/" >/dev/null 2>&1 || true
  done

  declare -gA RESULTS=()
  for tool in wrk ab h2load; do
    for r in $(seq 1 "$ROUNDS"); do
      for s in "${SERVERS[@]}"; do
        port_var=PORT_$s
        rate=$(run_load "$tool" "${!port_var}")
        printf '  %-7s round %d  %-8s %12s req/s\n' "$tool" "$r" "$s" "$rate"
        RESULTS[$tool.$s]+="$rate "
      done
    done
  done

  echo
  printf '%-8s | %16s | %16s | %15s\n' load "nginx req/s" "httpkit req/s" "httpkit/nginx"
  printf '%s\n' "---------+------------------+------------------+----------------"
  local mn mh ratio
  for tool in wrk ab h2load; do
    mn=$(median <<<"${RESULTS[$tool.nginx]}")
    mh=n/a; ratio=n/a
    if [ "$NGINX_ONLY" = 0 ]; then
      mh=$(median <<<"${RESULTS[$tool.httpkit]}")
      ratio=$(ratio "$mh" "$mn")
    fi
    printf '%-8s | %16s | %16s | %15s\n' "$tool" "$mn" "$mh" "$ratio"
  done
  echo "(medians of $ROUNDS round(s); ERR = the tool reported failed/non-2xx requests, not counted)"
  if [ -s "$WORK/errors.log" ]; then
    echo "--- tool output of failed runs (tail) ---"
    tail -n 30 "$WORK/errors.log"
    return 1
  fi
}

main
