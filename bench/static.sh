#!/usr/bin/env bash
# Static files: httpkit-server --static against nginx (Debian) serving the
# same files, a 1 KB and a 1 MB one, with wrk:
#   wrk -t2 -c<conns> -d<duration>s http://127.0.0.1:PORT/files/<file>
# alternating (A B, then B A, ...) for several rounds; prints the median
# req/s per server and file (and MB/s for the 1 MB file) and httpkit/nginx.
#
# Comparable configs: 2 event loops / 2 nginx workers, sendfile on both,
# keep-alive without a request limit, no access log on either, nginx's
# open_file_cache off (its default) and etag on (its default), httpkit's
# serve_files defaults (ETag, Last-Modified, ranges). Both servers stay up
# for the whole run and get one warm-up load each; only one is loaded at a
# time. Client and servers share this machine's cores: compare ratios.
#
# Usage: bench/static.sh [--rounds N] [--duration S] [--connections C]
#                        [--quick] [--only 1k.bin|1m.bin] [--bin-dir DIR]

set -euo pipefail

ROUNDS=5
DURATION=10
CONNECTIONS=64
ONLY=""
REPO_ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN_DIR=${HTTPKIT_BIN_DIR:-build/bin}

usage() { sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

while [ $# -gt 0 ]; do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --quick) ROUNDS=1; DURATION=2; shift ;;
    --only) ONLY=$2; shift 2 ;;
    --bin-dir) BIN_DIR=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "unknown option: $1" >&2; usage 2 ;;
  esac
done
source "$REPO_ROOT/bench/lib/bench.sh"
bench_find_httpkit "$BIN_DIR"
bench_require nginx wrk curl

bench_init
source "$REPO_ROOT/scripts/lib/nginx.sh"

ROOT=$WORK/www
mkdir -p "$ROOT"
head -c 1024 /dev/urandom >"$ROOT/1k.bin"
head -c 1048576 /dev/urandom >"$ROOT/1m.bin"
FILES=(1k.bin 1m.bin)
[ -z "$ONLY" ] || FILES=("$ONLY")

start_nginx() {
  NGINX_PORT=$(low_free_port)
  local dir=$WORK/nginx
  mkdir -p "$dir"
  {
    nginx_main_conf "$dir" 2
    echo "http {"
    echo "  access_log off;"
    echo "  sendfile on;"
    echo "  keepalive_requests 1000000000;"
    echo "  keepalive_timeout 75s;"
    echo "  default_type application/octet-stream;"
    nginx_temp_paths "$dir"
    echo "  server {"
    echo "    listen 127.0.0.1:$NGINX_PORT backlog=4096;"
    echo "    location /files/ { alias $ROOT/; }"
    echo "  }"
    echo "}"
  } >"$dir/nginx.conf"
  nginx_start "$dir" "$NGINX_PORT" || exit 1
  bench_track "$NGINX_PID"
}

# Both must send the file's bytes, or the comparison is meaningless.
check_same_files() {
  local name=$1 port=$2 f
  for f in "${FILES[@]}"; do
    curl -s -D "$WORK/$name.hdr" -o "$WORK/$name.body" "http://127.0.0.1:$port/files/$f"
    cmp -s "$WORK/$name.body" "$ROOT/$f" || { echo "$name does not serve $f" >&2; exit 1; }
  done
  printf '  %-8s response head %s B for %s\n' "$name" "$(wc -c <"$WORK/$name.hdr")" "${FILES[-1]}"
}

# run_wrk NAME PORT FILE -> "req/s MB/s server-us wrk-us" (or ERR for all
# when wrk saw errors): the last two are the CPU time per request of the
# server's processes and of wrk itself. With both on the same 2 cores, they
# say how much of the rate a faster server could still win.
run_wrk() {
  local name=$1 port=$2 file=$3 out c0 c1 t0 t1 secs
  local pids=$HTTPKIT_PID
  [ "$name" = nginx ] && pids=$(pgrep -P "$NGINX_PID" | tr '\n' ' ')
  c0=$(cpu_ticks $pids) t0=$(date +%s.%N)
  out=$( { TIMEFORMAT='%U %S'; time timeout $((DURATION + 30)) wrk -t2 -c"$CONNECTIONS" \
    -d"${DURATION}s" "http://127.0.0.1:$port/files/$file" >"$WORK/wrk.out" 2>&1; } 2>&1) || true
  c1=$(cpu_ticks $pids) t1=$(date +%s.%N)
  if grep -qE 'Socket errors|Non-2xx' "$WORK/wrk.out"; then
    echo "ERR ERR ERR ERR"
    cat "$WORK/wrk.out" >>"$WORK/errors.log"
    return
  fi
  local rps bytes
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$WORK/wrk.out")
  bytes=$(stat -c %s "$ROOT/$file")
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')
  awk -v r="$rps" -v b="$bytes" -v server="$(cpu_per_op $((c1 - c0)) "$rps" "$secs")" \
    -v client="$out" -v s="$secs" 'BEGIN {
      split(client, t, " ")
      printf "%s %.1f %s %.1f\n", r, r * b / 1048576, server, (t[1] + t[2]) * 1e6 / (r * s) }'
}

main() {
  echo "static files: $ROUNDS round(s) of wrk -t2 -c$CONNECTIONS -d${DURATION}s ($(nproc) cores, client and servers share them)"
  echo "commit $(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "load before: $(uptime)"
  start_nginx
  bench_start_httpkit "$HTTPKIT_BIN" --threads 2 --static "$ROOT"
  declare -A PORT=([nginx]=$NGINX_PORT [httpkit]=$HTTPKIT_PORT)
  local s f r order rps mbs scpu wcpu
  for s in nginx httpkit; do check_same_files "$s" "${PORT[$s]}"; done

  echo "warm-up..."
  for s in nginx httpkit; do
    for f in "${FILES[@]}"; do
      timeout 30 wrk -t2 -c"$CONNECTIONS" -d1s "http://127.0.0.1:${PORT[$s]}/files/$f" >/dev/null 2>&1 || true
    done
  done

  declare -A RPS=() MBS=() SCPU=() WCPU=()
  for f in "${FILES[@]}"; do
    for r in $(seq 1 "$ROUNDS"); do
      # Alternate which server goes first, so drifts land on both.
      if ((r % 2)); then order="nginx httpkit"; else order="httpkit nginx"; fi
      for s in $order; do
        read -r rps mbs scpu wcpu < <(run_wrk "$s" "${PORT[$s]}" "$f")
        printf '  %-7s round %d  %-8s %12s req/s %10s MB/s  CPU us/req: server %6s, wrk %6s\n' \
          "$f" "$r" "$s" "$rps" "$mbs" "$scpu" "$wcpu"
        RPS[$f.$s]+="$rps "
        MBS[$f.$s]+="$mbs "
        SCPU[$f.$s]+="$scpu "
        WCPU[$f.$s]+="$wcpu "
      done
    done
  done

  echo
  printf '%-7s | %14s | %14s | %12s | %10s | %10s\n' file "nginx req/s" "httpkit req/s" \
    "httpkit/nginx" "nginx MB/s" "httpkit MB/s"
  printf '%s\n' "--------+----------------+----------------+---------------+------------+-------------"
  local mn mh
  for f in "${FILES[@]}"; do
    mn=$(median <<<"${RPS[$f.nginx]}")
    mh=$(median <<<"${RPS[$f.httpkit]}")
    printf '%-7s | %14s | %14s | %13s | %10s | %10s\n' "$f" "$mn" "$mh" "$(ratio "$mh" "$mn")" \
      "$(median <<<"${MBS[$f.nginx]}")" "$(median <<<"${MBS[$f.httpkit]}")"
  done
  echo "(medians of $ROUNDS round(s); ERR = wrk reported socket errors or non-2xx, not counted)"
  echo "CPU per request, medians in microseconds (server processes / wrk):"
  for f in "${FILES[@]}"; do
    printf '  %-7s nginx %s / %s, httpkit %s / %s\n' "$f" \
      "$(median <<<"${SCPU[$f.nginx]}")" "$(median <<<"${WCPU[$f.nginx]}")" \
      "$(median <<<"${SCPU[$f.httpkit]}")" "$(median <<<"${WCPU[$f.httpkit]}")"
  done
  echo "load after: $(uptime)"
  if [ -s "$WORK/errors.log" ]; then
    echo "--- wrk output of failed runs (tail) ---"
    tail -n 30 "$WORK/errors.log"
    return 1
  fi
}

main
