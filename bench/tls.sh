#!/usr/bin/env bash
# HTTPS speed of httpkit-server against nginx (Debian), side by side.
#
# Both servers answer GET / with the same 1024-byte text/plain body over
# TLS, with the same certificate, 2 event loops (httpkit --threads 2) and 2
# workers (nginx), TLS 1.2 and 1.3 enabled (both negotiate 1.3 with these
# clients), session tickets on (2 per handshake, OpenSSL's default, and a
# fresh one on each TLS 1.3 resumption, both),
# the same TLS 1.3 suites in the same order with the server's choice (so
# both run TLS_AES_128_GCM_SHA256 with X25519; checked and printed before
# the rounds), nginx's access log off. For each certificate, ECDSA P-256 and then
# RSA-2048 (a test CA's, scripts/lib/certs.sh), both servers start once and
# then every load runs in rounds alternating httpkit, nginx, httpkit, ...:
#
#   wrk      wrk -t2 -c100 -d<D>s https://...           keep-alive, 100 connections
#   h2load   h2load --h1 -D <D> -c 100 -m 16 -t 2        16 pipelined requests per connection
#   full     openssl s_time -new -www / -time <H>, 2 in parallel: a full
#            handshake and one GET per connection (connections/s)
#   resumed  openssl s_time -reuse -www / -time <H>, 2 in parallel: the same,
#            each connection resuming the first one's session (a TLS 1.3
#            ticket: PSK with ECDHE, no certificate signature)
#   burst    h2load --h1 -n <B> -c <B> -t 2: B connections opened at once,
#            one request each (connections/s): full handshakes with the
#            cores saturated rather than two clients waiting in turn, the
#            rate bound by CPU alone (h2load neither verifies the
#            certificate nor resumes)
#
# The machine's load average (uptime) is printed before each round, so that
# the quiet rounds can be told apart. Beside each rate: the server's CPU time
# per request or connection (its processes' utime + stime over the run), a
# figure that a busy host disturbs much less than the rates. The table has medians per server and
# load, and httpkit/nginx. Client and servers share the 2 cores: s_time's
# handshakes cost the client as much as the server, so the handshake ratios
# are compressed toward 1.
#
# Usage: bench/tls.sh [--rounds N] [--duration S] [--handshake-time S]
#                     [--certs ec,rsa] [--quick] [--bin-dir DIR] [--save] [--tag WHAT]
#                     [--httpkit-args "ARGS"] [--burst B]
#   --httpkit-args  more httpkit-server flags (e.g. "--accept shared")
#   --burst B       connections of the burst load (default 3000)
#   --save   also write the whole output to bench/results/<date>-tls.txt
#            (<date>-tls-WHAT.txt with --tag WHAT)

set -euo pipefail

ROUNDS=3
DURATION=8
HS_TIME=5
CERTS=ec,rsa
SAVE=0
TAG=""
HTTPKIT_ARGS=""
BURST=3000
REPO_ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN_DIR=${HTTPKIT_BIN_DIR:-build/bin}

usage() { sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

while [ $# -gt 0 ]; do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --handshake-time) HS_TIME=$2; shift 2 ;;
    --certs) CERTS=$2; shift 2 ;;
    --quick) ROUNDS=1; DURATION=2; HS_TIME=2; shift ;;
    --bin-dir) BIN_DIR=$2; shift 2 ;;
    --save) SAVE=1; shift ;;
    --tag) TAG=-$2; shift 2 ;;
    --httpkit-args) HTTPKIT_ARGS=$2; shift 2 ;;
    --burst) BURST=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "unknown option: $1" >&2; usage 2 ;;
  esac
done
source "$REPO_ROOT/bench/lib/bench.sh"
bench_find_httpkit "$BIN_DIR"
bench_require nginx wrk h2load openssl curl
# The burst opens BURST sockets in one h2load, and the servers hold them.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

if [ "$SAVE" = 1 ]; then
  mkdir -p "$REPO_ROOT/bench/results"
  SAVE_FILE="$REPO_ROOT/bench/results/$(date -u +%Y-%m-%d)-tls$TAG.txt"
  exec > >(tee "$SAVE_FILE") 2>&1
fi

bench_init
HTTPKIT_PID="" NGINX_PID_OURS=""
source "$REPO_ROOT/scripts/lib/nginx.sh"
source "$REPO_ROOT/scripts/lib/certs.sh"
make_test_certs "$WORK/certs" || { echo "could not make the test certificates" >&2; exit 1; }
"$REPO_ROOT/scripts/lib/benchmark_text.py" >"$WORK/body"

# httpkit-server's port speaks TLS: bench_start_httpkit probes it over https.
bench_probe() {
  curl -s -o /dev/null --max-time 1 --cacert "$WORK/certs/ca.pem" "https://localhost:$1/"
}

start_servers() {  # start_servers ec|rsa
  local cert=$WORK/certs/localhost-$1.pem key=$WORK/certs/localhost-$1.key i
  NGINX_PORT=$(low_free_port)
  rm -rf "$WORK/nginx"
  # The same TLS 1.3 suite as httpkit (nginx.sh says why).
  nginx_bench_conf "$WORK/nginx" "$NGINX_PORT" 2 "$WORK/body" "ssl backlog=4096" \
    "$(nginx_tls_speed_lines "$cert" "$key")"
  nginx_start "$WORK/nginx" "$NGINX_PORT" || exit 1
  NGINX_PID_OURS=$NGINX_PID
  bench_track "$NGINX_PID_OURS"
  # shellcheck disable=SC2086  # HTTPKIT_ARGS is a list of flags
  bench_start_httpkit "$HTTPKIT_BIN" --threads 2 --tls-cert "$cert" --tls-key "$key" $HTTPKIT_ARGS
  PORT_httpkit=$HTTPKIT_PORT
  PORT_nginx=$NGINX_PORT
}

stop_servers() {
  bench_stop_pid "$HTTPKIT_PID"; HTTPKIT_PID=""
  bench_stop_pid "$NGINX_PID_OURS"; NGINX_PID_OURS=""; NGINX_PID=""
}

# Both must send the same body over a verified TLS 1.3 connection.
check_server() {
  local name=$1 port=$2
  curl -s --tlsv1.3 --cacert "$WORK/certs/ca.pem" -D "$WORK/$name.hdr" -o "$WORK/$name.body" \
    "https://localhost:$port/"
  if ! cmp -s "$WORK/$name.body" "$WORK/body"; then
    echo "$name does not answer https://localhost:$port/ with the expected 1024-byte body" >&2
    exit 1
  fi
  # What was negotiated: version, suite, key exchange, tickets sent.
  local proto
  proto=$( (sleep 0.5) | openssl s_client -connect "127.0.0.1:$port" -servername localhost \
    -CAfile "$WORK/certs/ca.pem" -alpn http/1.1 -msg 2>/dev/null | awk '
      /^New, / {sub(/^New, /, ""); sub(/, Cipher is /, " "); c = $0}
      /^Server Temp Key:/ {sub(/^Server Temp Key: /, ""); sub(/,.*/, ""); g = $0}
      /^<<< .*NewSessionTicket/ {t++}
      /^Verify return code/ {sub(/^Verify return code: /, ""); v = $0}
      END {printf "%s, %s, %d tickets, verify %s", c, g, t, v}')
  printf '  %-8s body 1024 B, head %s B, %s\n' "$name" "$(wc -c <"$WORK/$name.hdr")" "$proto"
}

# s_time_rate PORT new|reuse: connections per second of 2 s_time processes.
s_time_rate() {
  local port=$1 mode=$2 i start end total=0 n pids=()
  start=$(date +%s.%N)
  for i in 1 2; do
    timeout $((HS_TIME + 30)) openssl s_time -connect "127.0.0.1:$port" "-$mode" -www / \
      -time "$HS_TIME" >"$WORK/s_time.$i" 2>&1 &
    pids+=($!)
  done
  wait "${pids[@]}" || true
  end=$(date +%s.%N)
  for i in 1 2; do
    n=$(sed -nE 's/^([0-9]+) connections in [0-9.]+ real seconds.*/\1/p' "$WORK/s_time.$i" | tail -1)
    if [ -z "$n" ] || grep -qiE 'error|ERROR' "$WORK/s_time.$i"; then
      echo ERR; { echo "--- s_time $mode"; tail -c 2000 "$WORK/s_time.$i"; } >>"$WORK/errors.log"; return
    fi
    # -reuse: every connection after the first must have resumed ('r'), not made a new session ('*')
    if [ "$mode" = reuse ] && [ "$(tr -cd '*' <"$WORK/s_time.$i" | wc -c)" -gt 2 ]; then
      echo ERR; echo "--- s_time reuse: sessions were not resumed" >>"$WORK/errors.log"; return
    fi
    total=$((total + n))
  done
  awk -v n="$total" -v a="$start" -v b="$end" 'BEGIN {printf "%.0f\n", n / (b - a)}'
}

# h2load_rate SECONDS SUCCEEDED ARGS...: h2load's req/s, or ERR unless
# SUCCEEDED requests (a number, or a regex) succeeded and none failed.
h2load_rate() {
  local seconds=$1 succeeded=$2 out
  shift 2
  out=$(timeout "$seconds" h2load "$@" 2>&1) || true
  if ! grep -qE "^requests: .* $succeeded succeeded, 0 failed, 0 errored" <<<"$out"; then
    echo "ERR"; echo "$out" >>"$WORK/errors.log"; return
  fi
  sed -nE 's/^finished in [^,]+, ([0-9.]+) req\/s.*/\1/p' <<<"$out"
}

# run_load LOAD PORT -> prints req/s or connections/s ("ERR" on failures).
run_load() {
  local load=$1 port=$2 out url="https://127.0.0.1:$2/"
  case $load in
    wrk)
      out=$(timeout $((DURATION + 30)) wrk -t2 -c100 -d"${DURATION}s" "$url" 2>&1) || true
      if grep -qE 'Socket errors|Non-2xx' <<<"$out" || ! grep -q '^Requests/sec:' <<<"$out"; then
        echo "ERR"; echo "$out" >>"$WORK/errors.log"; return
      fi
      awk '/^Requests\/sec:/ {print $2}' <<<"$out" ;;
    h2load) h2load_rate $((DURATION + 60)) '[0-9]+' --h1 -D "$DURATION" -c 100 -m 16 -t 2 "$url" ;;
    full) s_time_rate "$port" new ;;
    resumed) s_time_rate "$port" reuse ;;
    burst) h2load_rate 120 "$BURST" --h1 -n "$BURST" -c "$BURST" -t 2 "$url" ;;
  esac
}

# The server's processes, for cpu_ticks (bench.sh): httpkit's one process
# (all its loops), nginx's workers. On a shared host the rate depends on
# what else runs; the server's CPU per request or handshake much less, so
# it is printed beside the rate.
server_pids() {
  if [ "$1" = httpkit ]; then echo "$HTTPKIT_PID"; else pgrep -P "$NGINX_PID_OURS" | tr '\n' ' '; fi
}
LOADS=(wrk h2load full resumed burst)
SERVERS=(httpkit nginx)
declare -A RESULTS=() CPU=() CLIENT_CPU=() IDLE=()

main() {
  local commit cert s load r rate pids c0 c1 t0 t1 cpu k0 k1 kcpu secs h0 h1 idle
  commit=$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo -)
  echo "tls: $ROUNDS round(s); wrk and h2load ${DURATION}s, s_time ${HS_TIME}s, burst $BURST connections; certificates $CERTS"
  [ -z "$HTTPKIT_ARGS" ] || echo "httpkit-server flags added: $HTTPKIT_ARGS"
  echo "  $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit, $(nproc) cores (client and servers share them)"
  echo "  $(openssl version); httpkit-server --threads 2; nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'), 2 workers"
  for cert in ${CERTS//,/ }; do
    echo
    echo "== certificate: $([ "$cert" = ec ] && echo "ECDSA P-256" || echo "RSA-2048") (localhost-$cert.pem)"
    start_servers "$cert"
    for s in "${SERVERS[@]}"; do
      port_var=PORT_$s
      check_server "$s" "${!port_var}"
    done
    for s in "${SERVERS[@]}"; do  # warm-up
      port_var=PORT_$s
      timeout 30 wrk -t2 -c100 -d1s "https://127.0.0.1:${!port_var}/" >/dev/null 2>&1 || true
    done
    for r in $(seq 1 "$ROUNDS"); do
      echo "  round $r: load average $(cut -d' ' -f1-3 /proc/loadavg)"
      for load in "${LOADS[@]}"; do
        for s in "${SERVERS[@]}"; do
          port_var=PORT_$s
          pids=$(server_pids "$s")
          c0=$(cpu_ticks $pids) k0=$(ended_children_ticks) t0=$(date +%s.%N) h0=$(host_ticks)
          rate=$(run_load "$load" "${!port_var}")
          c1=$(cpu_ticks $pids) k1=$(ended_children_ticks) t1=$(date +%s.%N) h1=$(host_ticks)
          secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')
          cpu=$(cpu_per_op $((c1 - c0)) "$rate" "$secs")
          kcpu=$(cpu_per_op $((k1 - k0)) "$rate" "$secs")
          idle=$(idle_percent "$h0" "$h1")
          printf '    %-8s %-8s %12s %-6s CPU us each: server %8s, client %8s; host idle %3s%%\n' \
            "$load" "$s" "$rate" \
            "$(case $load in wrk | h2load) echo req/s ;; *) echo conn/s ;; esac)" "$cpu" \
            "$kcpu" "$idle"
          IDLE[$cert.$load.$s]+="$idle "
          RESULTS[$cert.$load.$s]+="$rate "
          CPU[$cert.$load.$s]+="$cpu "
          CLIENT_CPU[$cert.$load.$s]+="$kcpu "
        done
      done
    done
    stop_servers
  done

  echo
  printf '%-6s | %-8s | %14s | %14s | %13s | %21s | %21s | %12s\n' cert load "httpkit" "nginx" \
    "httpkit/nginx" "server CPU us: hk/ngx" "client CPU us: hk/ngx" "idle %: hk/ngx"
  printf '%s\n' "-------+----------+----------------+----------------+---------------+-----------------------+-----------------------+-------------"
  local mh mn ratio ch cn kh kn ih in
  for cert in ${CERTS//,/ }; do
    for load in "${LOADS[@]}"; do
      mh=$(median <<<"${RESULTS[$cert.$load.httpkit]}")
      mn=$(median <<<"${RESULTS[$cert.$load.nginx]}")
      ratio=n/a
      if [ "$mh" != n/a ] && [ "$mn" != n/a ]; then ratio=$(awk -v a="$mh" -v b="$mn" 'BEGIN {printf "%.2f", a / b}'); fi
      ch=$(median <<<"${CPU[$cert.$load.httpkit]}")
      cn=$(median <<<"${CPU[$cert.$load.nginx]}")
      kh=$(median <<<"${CLIENT_CPU[$cert.$load.httpkit]}")
      kn=$(median <<<"${CLIENT_CPU[$cert.$load.nginx]}")
      ih=$(median <<<"${IDLE[$cert.$load.httpkit]}")
      in=$(median <<<"${IDLE[$cert.$load.nginx]}")
      printf '%-6s | %-8s | %14s | %14s | %13s | %21s | %21s | %12s\n' \
        "$([ "$cert" = ec ] && echo ECDSA || echo RSA)" "$load" "$mh" "$mn" "$ratio" "$ch / $cn" \
        "$kh / $kn" "$ih / $in"
    done
  done
  echo "(medians of $ROUNDS round(s); wrk and h2load in req/s, full, resumed and burst in TLS connections/s"
  echo " each with one GET; ERR = the tool reported failures, not counted; server CPU: microseconds"
  echo " of the server processes' CPU time per request or connection, from /proc/PID/stat; client"
  echo " CPU: the same for the load tool. With both on the same cores, a server that cost nothing"
  echo " would reach at most (client + nginx's server CPU) / client times nginx's rate; idle: the"
  echo " share of both cores that nobody used during the run, from /proc/stat: a rate lower with"
  echo " less CPU spent is a rate lost to waiting)"
  echo "  load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  [ "$SAVE" = 1 ] && echo "  saved: bench/results/$(basename "$SAVE_FILE")"
  if [ -s "$WORK/errors.log" ]; then
    echo "--- tool output of failed runs (tail) ---"
    tail -n 30 "$WORK/errors.log"
    return 1
  fi
}

main
