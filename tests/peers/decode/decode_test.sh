#!/usr/bin/env bash
# Request bodies with a Content-Encoding (wrap_decode_request), sent by
# curl: every coding decoded and echoed back byte for byte (the handler
# saw the decoded body, without Content-Encoding, with the decoded
# Content-Length); 415 for an unknown or stacked coding, 400 for a corrupt
# or truncated body; a 64 MiB decompression bomb in every coding answered
# 413 with the server's peak RSS barely moving, and the server still
# serving. Then the same bomb against httpkit-server --decode-requests.
source "$(dirname "$0")/../lib.sh"

PY=/usr/bin/python3
TOOL="$PEER_BIN_DIR/decode_peer_tool"
T=$PEER_TMP
CODINGS="gzip deflate br zstd"

# ------------------------------------------------------------- the bodies
$PY - "$T/text.txt" <<'PY'
import random, sys
rnd = random.Random(12)
words = ["alpha", "beta", "gamma", "delta", "request", "body", "coding", "decoded"]
lines = [" ".join(rnd.choice(words) for _ in range(10)) + f" {i}" for i in range(5000)]
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY
gzip -c "$T/text.txt" >"$T/text.gzip"  # gzip itself for gzip, httpkit's encoders for the rest
head -c 64M /dev/zero | gzip -c >"$T/bomb.gzip"
for c in deflate br zstd; do
  "$TOOL" encode $c <"$T/text.txt" >"$T/text.$c"
  head -c 64M /dev/zero | "$TOOL" encode $c >"$T/bomb.$c"
done
TEXT_SIZE=$(stat -c %s "$T/text.txt")
log "text: $TEXT_SIZE bytes; bombs (64 MiB of zeros):" \
  "$(for c in $CODINGS; do printf '%s %s B  ' $c "$(stat -c %s "$T/bomb.$c")"; done)"

# ------------------------------------------------------- the echo server
"$TOOL" serve $((1 << 20)) >"$T/echo.log" 2>&1 &
ECHO_PID=$!
PEER_EXTRA_PIDS+=("$ECHO_PID")
EPORT=""
for _ in $(seq 1 100); do
  EPORT=$(sed -n 's/^port //p' "$T/echo.log" | head -1)
  [ -n "$EPORT" ] && break
  sleep 0.1
done
[ -n "$EPORT" ] || { log "FAIL - decode_peer_tool did not start"; cat "$T/echo.log"; exit 2; }
E="http://127.0.0.1:$EPORT/echo"

header() { tr -d '\r' <"$1" | sed -n "s/^$2: //Ip" | tail -1; }
status_of() { tr -d '\r' <"$1" | head -1 | cut -d' ' -f2; }
# send URL FILE [curl args...]: POST FILE; head in $T/h, body in $T/out.
send() {
  local url=$1 file=$2
  shift 2
  curl -s --max-time 20 -H 'Expect:' -D "$T/h" -o "$T/out" --data-binary @"$file" "$@" "$url"
}
server_alive_at() {
  send "$1" "$T/text.gzip" -H "Content-Encoding: gzip" && cmp -s "$T/out" "$T/text.txt"
}
peak_kb() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$1/status"; }

# The bombs first, while the server's peak is its start-up one.
BEFORE=$(peak_kb "$ECHO_PID")
for c in $CODINGS; do
  send "$E" "$T/bomb.$c" -H "Content-Encoding: $c"
  check_eq "$c bomb (limit 1 MiB): 413" 413 "$(status_of "$T/h")"
done
GROWTH=$(($(peak_kb "$ECHO_PID") - BEFORE))
log "echo server: peak RSS grew by $GROWTH KiB over four 64 MiB bombs (limit 1 MiB)"
check "its peak RSS grew by less than 6 MiB" test "$GROWTH" -lt 6144
check "and it still decodes the next request" server_alive_at "$E"

for c in $CODINGS; do
  send "$E" "$T/text.$c" -H "Content-Encoding: $c"
  check_eq "$c: 200" 200 "$(status_of "$T/h")"
  check "$c: the handler saw the decoded body" cmp -s "$T/out" "$T/text.txt"
  check_eq "$c: without Content-Encoding" - "$(header "$T/h" X-Seen-Content-Encoding)"
  check_eq "$c: with the decoded Content-Length" "$TEXT_SIZE" "$(header "$T/h" X-Seen-Content-Length)"
done
send "$E" "$T/text.br" -H "Content-Encoding: br" -H "Transfer-Encoding: chunked"
check "chunked br upload decoded" cmp -s "$T/out" "$T/text.txt"
send "$E" "$T/text.gzip" -H "Content-Encoding: x-gzip"
check "x-gzip is gzip" cmp -s "$T/out" "$T/text.txt"
send "$E" "$T/text.txt" -H "Content-Encoding: identity"
check "identity passes through" cmp -s "$T/out" "$T/text.txt"

send "$E" "$T/text.gzip" -H "Content-Encoding: compress"
check_eq "unknown coding: 415" 415 "$(status_of "$T/h")"
check_eq "415 lists what is accepted" "gzip, deflate, br, zstd" "$(header "$T/h" Accept-Encoding)"
send "$E" "$T/text.gzip" -H "Content-Encoding: gzip, br"
check_eq "stacked codings: 415" 415 "$(status_of "$T/h")"
head -c 20000 /dev/urandom >"$T/noise"
send "$E" "$T/noise" -H "Content-Encoding: gzip"
check_eq "corrupt gzip: 400" 400 "$(status_of "$T/h")"
head -c $(($(stat -c %s "$T/text.zstd") / 2)) "$T/text.zstd" >"$T/half.zstd"
send "$E" "$T/half.zstd" -H "Content-Encoding: zstd"
check_eq "truncated zstd: 400" 400 "$(status_of "$T/h")"

# ---------------------------------------- httpkit-server --decode-requests
start_server --decode-requests
U="http://127.0.0.1:$SERVER_PORT/"
send "$U" "$T/text.gzip" -H "Content-Encoding: gzip"
check_eq "httpkit-server: a gzip body gets /'s answer" 200 "$(status_of "$T/h")"
send "$U" "$T/noise" -H "Content-Encoding: gzip"
check_eq "httpkit-server: a corrupt one 400" 400 "$(status_of "$T/h")"
BEFORE=$(peak_kb "$SERVER_PID")
send "$U" "$T/bomb.gzip" -H "Content-Encoding: gzip"
check_eq "httpkit-server: the gzip bomb (limit 8 MiB) 413" 413 "$(status_of "$T/h")"
GROWTH=$(($(peak_kb "$SERVER_PID") - BEFORE))
log "httpkit-server: peak RSS grew by $GROWTH KiB for a 64 MiB gzip bomb (limit 8 MiB)"
check "its peak RSS grew by less than 12 MiB" test "$GROWTH" -lt 12288
check "it still serves another connection" server_alive
stop_server
check_eq "it stops cleanly" 0 "$SERVER_EXIT"

finish decode
