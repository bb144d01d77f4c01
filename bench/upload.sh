#!/usr/bin/env bash
# 1 GiB uploads through a streamed route: server memory stays flat.
#
# Starts tests/server/upload_server (one loop, its /count route streams the
# body: it counts the bytes and hashes them, nothing is kept), then sends
# 1 GiB with curl twice: with Content-Length from a file this script makes,
# and chunked from a pipe (curl -T - with Transfer-Encoding: chunked).
# Each time the server's answer (byte count and SHA-256) is checked against
# the file's, and the server's VmRSS and VmHWM (/proc/PID/status) before
# and after are printed. Target: growth under 16 MB.
#
#   bench/upload.sh [--build DIR] [--size MiB]
set -euo pipefail

build=build
size_mib=1024
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --size) size_mib=$2; shift 2 ;;
    *) echo "usage: $0 [--build DIR] [--size MiB]" >&2; exit 2 ;;
  esac
done
bin="$build/bin/upload_server"
[[ -x $bin ]] || { echo "$bin missing: ninja -C $build upload_server" >&2; exit 1; }

work=$(mktemp -d)
server_pid=
cleanup() {
  local status=$?
  if [[ -n $server_pid ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

echo "making a ${size_mib} MiB file..."
head -c $((size_mib * 1024 * 1024)) /dev/urandom > "$work/body"
want="$((size_mib * 1024 * 1024)) $(sha256sum "$work/body" | cut -d' ' -f1)"

mkdir "$work/spool"
"$bin" "$work/spool" > "$work/port" &
server_pid=$!
for _ in $(seq 100); do [[ -s $work/port ]] && break; sleep 0.05; done
port=$(awk '{print $2}' "$work/port")

status() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }
rss0=$(status "$server_pid" VmRSS); hwm0=$(status "$server_pid" VmHWM)
printf 'server before:            VmRSS %6d KiB  VmHWM %6d KiB\n' "$rss0" "$hwm0"

run() {  # name, then curl's arguments
  local name=$1; shift
  local start end got
  start=$(date +%s.%N)
  got=$(curl -sS --fail -H 'Expect:' "$@" "http://127.0.0.1:$port/count")
  end=$(date +%s.%N)
  if [[ $got != "$want" ]]; then
    echo "$name: server saw '$got', sent '$want'" >&2
    exit 1
  fi
  local rss hwm
  rss=$(status "$server_pid" VmRSS); hwm=$(status "$server_pid" VmHWM)
  printf '%-25s VmRSS %6d KiB  VmHWM %6d KiB  (%.1f s, count and sha256 match)\n' \
    "after $name:" "$rss" "$hwm" "$(echo "$end - $start" | bc)"
}
run "Content-Length" -X POST -T "$work/body"
run "chunked (pipe)" -X POST -T - -H 'Transfer-Encoding: chunked' < <(cat "$work/body")

rss1=$(status "$server_pid" VmRSS); hwm1=$(status "$server_pid" VmHWM)
printf 'growth: VmRSS %+d KiB, VmHWM %+d KiB (target < 16 MB)\n' $((rss1 - rss0)) $((hwm1 - hwm0))
(( (hwm1 - hwm0) < 16 * 1024 )) || { echo "FAIL: grew 16 MB or more" >&2; exit 1; }
