#!/usr/bin/env bash
# haproxy (HTTP mode, keep-alive and connection reuse towards the server) in
# front of httpkit-server.  haproxy is a strict HTTP/1.1 parser of the
# server's responses: any malformed or unexpected response shows up as a 502,
# a termination state starting with S/s (server side) or P (protocol error)
# in its log, a response error in its stats, or an entry in "show errors".
source "$(dirname "$0")/lib.sh"

start_server --threads 2

# haproxy cannot report a port it chose: low_free_port picks one below the
# kernel's ephemeral range (scripts/lib/ports.sh says why).
source "$PEER_REPO_ROOT/scripts/lib/ports.sh"

HAPROXY_SOCK="$PEER_TMP/haproxy.sock"
HAPROXY_LOG="$PEER_TMP/haproxy.log"

# start_haproxy: own config in the temp dir, logs (one line per request:
# status, termination state, timers, backend/server, request) to stdout.
start_haproxy() {
  local attempt i
  for attempt in 1 2 3 4 5; do
    HAPROXY_PORT=$(low_free_port)
    cat >"$PEER_TMP/haproxy.cfg" <<EOF
global
  log stdout format raw local0
  stats socket $HAPROXY_SOCK mode 600 level admin
  maxconn 4000
defaults
  mode http
  log global
  log-format "%ST %tsc %Ta %b/%s %{+Q}r"
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  timeout http-keep-alive 30s
frontend fe
  bind 127.0.0.1:$HAPROXY_PORT
  default_backend be
backend be
  http-reuse always
  server httpkit 127.0.0.1:$SERVER_PORT maxconn 64
EOF
    haproxy -f "$PEER_TMP/haproxy.cfg" -db >"$HAPROXY_LOG" 2>&1 &
    HAPROXY_PID=$!
    PEER_EXTRA_PIDS+=("$HAPROXY_PID")
    for i in $(seq 1 50); do
      kill -0 "$HAPROXY_PID" 2>/dev/null || break
      if port_answers "$HAPROXY_PORT"; then
        log "started haproxy pid $HAPROXY_PID on 127.0.0.1:$HAPROXY_PORT -> httpkit 127.0.0.1:$SERVER_PORT"
        return 0
      fi
      sleep 0.1
    done
    stop_pid "$HAPROXY_PID"
    log "note: haproxy did not come up on port $HAPROXY_PORT (attempt $attempt)"
  done
  cat "$HAPROXY_LOG"
  log "FAIL - could not start haproxy"
  exit 2
}

# haproxy_cmd COMMAND: run a command on haproxy's stats socket.
haproxy_cmd() {
  /usr/bin/python3 - "$HAPROXY_SOCK" "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
out = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    out += d
sys.stdout.write(out.decode("utf-8", "replace"))
EOF
}

# stat_field PROXY SVNAME FIELD: one column of "show stat" (CSV with a "# " header).
stat_field() {
  haproxy_cmd "show stat" | awk -F, -v px="$1" -v sv="$2" -v f="$3" '
    NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) col[$i] = i; next }
    $1 == px && $2 == sv { v = $(col[f]); print (v == "" ? 0 : v); exit }'
}

start_haproxy
BASE="http://127.0.0.1:$HAPROXY_PORT"
curlx() { timeout 30 curl -sS --max-time 25 "$@" || true; }

# --- traffic through haproxy ----------------------------------------------

drive_curl() {
  local out big="$PEER_TMP/big"
  out=$(curlx -o /dev/null -w '%{http_code} %{size_download} ' "$BASE/" \
        --next -o /dev/null -w '%{http_code} %{size_download} ' "$BASE/?length=10240" \
        --next -o /dev/null -w '%{http_code} %{size_download} ' -I "$BASE/?length=77" \
        --next -o /dev/null -w '%{http_code} %{size_download}' "$BASE/?length=3")
  check_eq "curl GET, GET 10240, HEAD, GET through haproxy" "200 1024 200 10240 200 0 200 3" "$out"
  out=$(curlx -o /dev/null -w '%{http_code}' "$BASE/?length=abc")
  check_eq "curl length=abc through haproxy -> 400 from the server" 400 "$out"
  out=$(curlx --http1.0 -o /dev/null -w '%{http_code} %{size_download}' "$BASE/?length=50")
  check_eq "curl HTTP/1.0 through haproxy" "200 50" "$out"
  head -c $((2 * 1024 * 1024)) /dev/urandom >"$big"
  out=$(curlx -o /dev/null -w '%{http_code}' --data-binary @"$big" "$BASE/?length=5")
  check_eq "curl POST 2 MiB (Expect: 100-continue) through haproxy" 200 "$out"
  out=$(curlx -o /dev/null -w '%{http_code}' -H 'Transfer-Encoding: chunked' --data-binary @"$big" "$BASE/")
  check_eq "curl chunked upload through haproxy" 200 "$out"
}

drive_ab() {
  local out
  out=$(timeout 120 ab -k -n 20000 -c 20 "$BASE/" 2>&1) || { log "$out"; check "ab through haproxy exited 0" false; return; }
  check_eq "ab -k through haproxy: failed requests" 0 "$(grep -E '^Failed requests:' <<<"$out" | awk '{print $3}')"
  local non2xx
  non2xx=$(grep -E '^Non-2xx responses:' <<<"$out" | awk '{print $3}' || true)
  check_eq "ab -k through haproxy: non-2xx" 0 "${non2xx:-0}"
  check_eq "ab -k through haproxy: keep-alive requests" 20000 "$(grep -E '^Keep-Alive requests:' <<<"$out" | awk '{print $3}')"
  out=$(timeout 120 ab -k -n 5000 -c 20 -i "$BASE/?length=300" 2>&1) || { log "$out"; check "ab -i (HEAD) exited 0" false; return; }
  check_eq "ab -k -i (HEAD) through haproxy: failed requests" 0 "$(grep -E '^Failed requests:' <<<"$out" | awk '{print $3}')"
}

drive_pipelined() {
  # h2load sends 8 requests back to back per connection; haproxy forwards
  # them one by one over its reused server connections.
  local out
  out=$(timeout 120 h2load --h1 -n 20000 -c 20 -m 8 -t 2 "$BASE/?length=700" 2>&1) || true
  check_eq "h2load -m 8 through haproxy" \
    "requests: 20000 total, 20000 started, 20000 done, 20000 succeeded, 0 failed, 0 errored, 0 timeout" \
    "$(grep -E '^requests:' <<<"$out")"
  # Raw pipelined HEAD/GET mix in one write, straight from a socket.
  out=$(/usr/bin/python3 - "$HAPROXY_PORT" <<'EOF' || true
import socket, sys, re
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
reqs = []
for i in range(20):
    m = "HEAD" if i % 3 == 0 else "GET"
    reqs.append(f"{m} /?length={i + 1} HTTP/1.1\r\nHost: h\r\n\r\n".encode())
s.sendall(b"".join(reqs))
data, got = b"", []
while len(got) < 20:
    d = s.recv(65536)
    if not d:
        break
    data += d
    while True:
        end = data.find(b"\r\n\r\n")
        if end < 0:
            break
        head = data[:end].decode("latin-1")
        status = int(head.split(" ")[1])
        cl = int(re.search(r"(?im)^content-length:\s*(\d+)", head).group(1))
        body = 0 if len(got) % 3 == 0 else cl
        if len(data) < end + 4 + body:
            break
        got.append(f"{status}:{cl}:{body}")
        data = data[end + 4 + body:]
print(" ".join(got))
EOF
)
  local want="" i
  for i in $(seq 0 19); do
    if [ $((i % 3)) -eq 0 ]; then want+="200:$((i + 1)):0 "; else want+="200:$((i + 1)):$((i + 1)) "; fi
  done
  check_eq "20 pipelined HEAD/GET requests in one write through haproxy" "${want% }" "$out"
}

drive_curl
drive_ab
drive_pipelined
sleep 0.5   # let haproxy flush its last log lines

# --- haproxy's verdict --------------------------------------------------------

total=$(grep -cE '^[0-9]{3} ' "$HAPROXY_LOG" || true)
bad_status=$(grep -cE '^(502|503|504) ' "$HAPROXY_LOG" || true)
bad_term=$(awk '$2 ~ /^[SsPRI]/' "$HAPROXY_LOG" | wc -l)
log "     haproxy logged $total requests"
check "haproxy logged the traffic" test "$total" -gt 40000
check_eq "no 502/503/504 in haproxy's log" 0 "$bad_status"
check_eq "no termination state S*/s*/P*/R*/I* (server or protocol error) in haproxy's log" 0 "$bad_term"
awk '$2 ~ /^[SsPRI]/ || $1 ~ /^50[234]$/' "$HAPROXY_LOG" | sort | uniq -c | sort -rn | head -5 | sed 's/^/     /'
check_eq "haproxy backend response errors (eresp)" 0 "$(stat_field be httpkit eresp)"
check_eq "haproxy backend connection errors (econ)" 0 "$(stat_field be httpkit econ)"
check_eq "haproxy server aborts (srv_abrt)" 0 "$(stat_field be httpkit srv_abrt)"
check_eq "haproxy frontend 5xx responses" 0 "$(stat_field fe FRONTEND hrsp_5xx)"
errors=$(haproxy_cmd "show errors" | grep -vE '^(Total events captured|$)' || true)
check "haproxy 'show errors' captured no invalid response" test -z "$errors"
[ -z "$errors" ] || head -n 30 <<<"$errors"
connects=$(stat_field be httpkit connect)
log "     haproxy opened $connects connections to the server for $total requests"
check "haproxy kept server connections alive (connects < requests / 50)" test "${connects:-0}" -lt $((total / 50))

check "server still alive" server_alive
finish haproxy_test
