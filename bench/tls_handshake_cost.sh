#!/usr/bin/env bash
# Instructions per TLS handshake, httpkit-server against nginx, counted by
# valgrind's callgrind: a figure that does not move with the load of a
# shared host, where bench/tls.sh's rates swing by ±10% from round to round.
#
# Each server runs alone under callgrind with one event loop or one worker
# process (nginx: master_process off), the same certificate and the same
# TLS 1.3 suites in the same order (both run TLS_AES_128_GCM_SHA256 with
# X25519). After a few warm-up connections the counters are zeroed, N
# connections are made one after another by `openssl s_client`, each a
# handshake and one GET / HTTP/1.0 answered with 1024 bytes and a close,
# and the counters are dumped: the server's instructions (user space; the
# kernel's share is not counted) divided by N.
#
#   full     a new session each time: certificate, signature, key share,
#            and the two session tickets OpenSSL sends by default (both)
#   resumed  every connection resumes the session of a first one (-sess_in:
#            a TLS 1.3 ticket, PSK with ECDHE, no signature)
#
# httpkit is counted twice: as it runs by default (TLS 1.3 connections leave
# OpenSSL after the handshake for httpkit's record layer, which needs the
# traffic secrets from OpenSSL's key-log callback) and with
# --tls-openssl-records (OpenSSL's record layer, no callbacks).
#
# Usage: bench/tls_handshake_cost.sh [--connections N] [--certs ec,rsa]
#                                    [--bin-dir DIR] [--save] [--tag WHAT]
#   --save   also write the output to bench/results/<date>-tls-cost.txt

set -euo pipefail

N=100
CERTS=ec
SAVE=0
TAG=""
REPO_ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN_DIR=${HTTPKIT_BIN_DIR:-build/bin}

usage() { sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

while [ $# -gt 0 ]; do
  case $1 in
    --connections) N=$2; shift 2 ;;
    --certs) CERTS=$2; shift 2 ;;
    --bin-dir) BIN_DIR=$2; shift 2 ;;
    --save) SAVE=1; shift ;;
    --tag) TAG=-$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "unknown option: $1" >&2; usage 2 ;;
  esac
done
source "$REPO_ROOT/bench/lib/bench.sh"
bench_find_httpkit "$BIN_DIR"
bench_require nginx valgrind callgrind_control openssl

if [ "$SAVE" = 1 ]; then
  mkdir -p "$REPO_ROOT/bench/results"
  exec > >(tee "$REPO_ROOT/bench/results/$(date -u +%Y-%m-%d)-tls-cost$TAG.txt") 2>&1
fi

bench_init
source "$REPO_ROOT/scripts/lib/nginx.sh"
source "$REPO_ROOT/scripts/lib/certs.sh"
source "$REPO_ROOT/scripts/lib/ports.sh"
make_test_certs "$WORK/certs" || { echo "could not make the test certificates" >&2; exit 1; }
"$REPO_ROOT/scripts/lib/benchmark_text.py" >"$WORK/body"

# One connection: a handshake, GET, the answer read to the server's close.
# Extra s_client flags (-sess_in/-sess_out) follow the port.
connect_once() {
  local port=$1
  shift
  printf 'GET / HTTP/1.0\r\n\r\n' |
    timeout 20 openssl s_client -connect "127.0.0.1:$port" -servername localhost -ign_eof \
      "$@" 2>/dev/null
}

# Waits (bounded: valgrind starts slowly) until the port completes a
# handshake and answers with the body.
wait_for_tls() {
  local port=$1 pid=$2 i
  for i in $(seq 1 120); do
    kill -0 "$pid" 2>/dev/null || return 1
    connect_once "$port" | grep -q "http-kit" && return 0
    sleep 0.5
  done
  return 1
}

# measure NAME PORT PID CALLGRIND_OUT: prints full and resumed instructions
# per handshake; checks that each resumed connection did resume.
measure() {
  local name=$1 port=$2 pid=$3 out=$4 mode i part=0 flags total new
  for mode in full resumed; do
    flags=()
    if [ "$mode" = resumed ]; then
      connect_once "$port" -sess_out "$WORK/session.pem" >/dev/null
      flags=(-sess_in "$WORK/session.pem")
    fi
    for i in 1 2 3 4 5; do connect_once "$port" "${flags[@]}" >/dev/null; done
    callgrind_control -z "$pid" >/dev/null 2>&1
    new=0
    for i in $(seq 1 "$N"); do
      connect_once "$port" "${flags[@]}" >"$WORK/answer" || true
      grep -q "http-kit" "$WORK/answer" || { echo "$name: connection $i got no answer" >&2; exit 1; }
      grep -q '^New, ' "$WORK/answer" && new=$((new + 1))
    done
    if [ "$mode" = resumed ] && [ "$new" -gt 0 ]; then
      echo "$name: $new of $N connections did not resume" >&2
      exit 1
    fi
    callgrind_control -d "$pid" >/dev/null 2>&1
    part=$((part + 1))
    # callgrind writes the dump as OUT.<part>; its "summary:" line holds Ir.
    for i in $(seq 1 50); do [ -s "$out.$part" ] && break; sleep 0.2; done
    total=$(awk '/^(summary|totals):/ {print $2; exit}' "$out.$part")
    printf '%s %s\n' "$mode" $((total / N))
  done
}

run_httpkit() {  # run_httpkit CERT KEY EXTRA_FLAGS...
  local cert=$1 key=$2 port pid out=$WORK/callgrind.httpkit.$RANDOM
  shift 2
  port=$(low_free_port)
  valgrind --tool=callgrind --callgrind-out-file="$out" "$HTTPKIT_BIN" --port "$port" \
    --bind 127.0.0.1 --threads 1 --tls-cert "$cert" --tls-key "$key" "$@" \
    >"$WORK/httpkit.log" 2>&1 &
  pid=$!
  bench_track "$pid"
  wait_for_tls "$port" "$pid" || { cat "$WORK/httpkit.log" >&2; echo "httpkit-server did not start" >&2; exit 1; }
  measure httpkit "$port" "$pid" "$out"
  bench_stop_pid "$pid"
}

run_nginx() {  # run_nginx CERT KEY
  local cert=$1 key=$2 port pid out=$WORK/callgrind.nginx.$RANDOM dir=$WORK/nginx
  port=$(low_free_port)
  rm -rf "$dir"
  nginx_bench_conf "$dir" "$port" 1 "$WORK/body" "ssl backlog=4096" \
    "$(nginx_tls_speed_lines "$cert" "$key")"
  mkdir -p "$dir/tmp"
  valgrind --tool=callgrind --callgrind-out-file="$out" nginx -p "$dir" -c "$dir/nginx.conf" \
    -g "daemon off; master_process off; user $(id -un);" >"$dir/stdout.log" 2>&1 &
  pid=$!
  bench_track "$pid"
  wait_for_tls "$port" "$pid" || { cat "$dir/stdout.log" "$dir/error.log" >&2; echo "nginx did not start" >&2; exit 1; }
  measure nginx "$port" "$pid" "$out"
  bench_stop_pid "$pid"
}

commit=$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo -)
echo "tls handshake cost: $N connections each, instructions per connection (callgrind, user space)"
echo "  commit $commit; $(openssl version); nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'), 1 process; httpkit-server --threads 1"
echo "  $(date -u '+%Y-%m-%d %H:%M UTC'); load $(cut -d' ' -f1-3 /proc/loadavg) (does not change the counts)"
IFS=, read -ra cert_kinds <<<"$CERTS"
for kind in "${cert_kinds[@]}"; do
  cert=$WORK/certs/localhost-$kind.pem key=$WORK/certs/localhost-$kind.key
  run_httpkit "$cert" "$key" >"$WORK/cost.httpkit"
  run_httpkit "$cert" "$key" --tls-openssl-records >"$WORK/cost.openssl"
  run_nginx "$cert" "$key" >"$WORK/cost.nginx"
  declare -A cost=()
  for server in httpkit openssl nginx; do
    while read -r mode n; do cost[$server,$mode]=$n; done <"$WORK/cost.$server"
  done
  echo
  echo "certificate $kind"
  printf '  %-9s %10s %10s %10s %15s %15s\n' handshake httpkit "(openssl)" nginx \
    "httpkit/nginx" "(openssl)/nginx"
  for mode in full resumed; do
    printf '  %-9s %10s %10s %10s %15s %15s\n' "$mode" "${cost[httpkit,$mode]}" \
      "${cost[openssl,$mode]}" "${cost[nginx,$mode]}" \
      "$(ratio "${cost[httpkit,$mode]}" "${cost[nginx,$mode]}")" \
      "$(ratio "${cost[openssl,$mode]}" "${cost[nginx,$mode]}")"
  done
  echo "  (openssl): httpkit-server --tls-openssl-records"
done
