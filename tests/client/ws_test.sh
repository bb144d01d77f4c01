#!/usr/bin/env bash
# The WebSocket client (httpkit-fetch --ws) against python3-websockets:
# echo with permessage-deflate negotiated, a server ping answered with its
# payload (the server waits for the pong and reports), the server's close
# code reported, and a refused handshake.
source "$(dirname "$0")/peer_lib.sh"
$PY -c 'import websockets' 2>/dev/null || { log "missing python3-websockets"; exit 2; }

cd "$WORK"
# Both servers bind port 0 and say which port they got.
$PY "$REPO_ROOT/tests/client/ws_echo_server.py" "$WORK/ws.port" "$WORK/ws.log" 2>"$WORK/ws.err" &
ECHO_PID=$!
PIDS+=("$ECHO_PID")
# A plain HTTP server that refuses upgrades.
$PY -u -m http.server 0 --bind 127.0.0.1 --directory "$WORK" >"$WORK/http.out" 2>/dev/null &
PIDS+=($!)

# The port a server wrote to `file` once it listened, found by `sed -n` expression.
port_from() {
  local file=$1 expression=$2 port i
  for i in $(seq 1 200); do
    port=$(sed -n "$expression" "$file" 2>/dev/null)
    if [ -n "$port" ]; then echo "$port"; return 0; fi
    sleep 0.05
  done
  log "no port in $file after 10 s"
  return 1
}
not() { ! "$@"; }

W=$(port_from "$WORK/ws.port" 's/^\([0-9][0-9]*\)$/\1/p')
N=$(port_from "$WORK/http.out" 's/.* port \([0-9][0-9]*\) .*/\1/p')

# One session: sends the lines, reads `expect` echoed lines (each within
# 20 s), then closes stdin so the client closes, and collects the rest of
# its output and its exit status. `expect` "-": stdin stays open until the
# client ends by itself (the server closes). Sets OUT, RC, ERR.
session() {
  local expect=$1 line i to from pid
  shift
  rm -f "$WORK/in" "$WORK/out"
  mkfifo "$WORK/in" "$WORK/out"
  set +e
  timeout 20 "$FETCH" --ws "ws://127.0.0.1:$W/" <"$WORK/in" >"$WORK/out" 2>"$WORK/stderr" &
  pid=$!
  exec {to}>"$WORK/in" {from}<"$WORK/out"
  printf '%s\n' "$@" >&"$to"
  OUT=""
  if [ "$expect" != - ]; then
    for ((i = 0; i < expect; i++)); do
      IFS= read -r -t 20 line <&"$from" || break
      OUT+="${OUT:+$'\n'}$line"
    done
    exec {to}>&-
  fi
  while IFS= read -r -t 20 line <&"$from"; do OUT+="${OUT:+$'\n'}$line"; done
  [ "$expect" != - ] || exec {to}>&-
  exec {from}<&-
  wait "$pid"
  RC=$?
  set -e
  ERR=$(cat "$WORK/stderr")
}

session 2 hello "second message"
check_eq "echo" "$(printf 'hello\nsecond message')" "$OUT"
check_eq "clean close: exit" 0 "$RC"
check "permessage-deflate was negotiated" grep -q "OPEN extensions=permessage-deflate" ws.log
BIG=$(head -c 300000 /dev/zero | tr '\0' 'q')
session 1 "$BIG"
check_eq "a 300 kB message (compressed both ways)" 300000 "$(printf '%s' "$OUT" | wc -c)"
session 2 ping-me after
check_eq "server ping answered, session goes on" "$(printf 'ping-me\nafter')" "$OUT"
check_eq "ping session: clean close: exit" 0 "$RC"
check "the server got a pong with its ping's payload" grep -qx "PONG ok" ws.log
check "the server reported no pong failure" not grep "PONG FAIL" ws.log
session - close-me
check_eq "server close: exit" 56 "$RC"
check "server close code and reason reported" grep -q "websocket closed: 4000 asked to" <<<"$ERR"
set +e
OUT=$(echo x | timeout 20 "$FETCH" --ws "ws://127.0.0.1:$N/" 2>"$WORK/stderr"); RC=$?
set -e
ERR=$(cat "$WORK/stderr")
check_eq "refused handshake: exit" 8 "$RC"
check "refused handshake: reason" grep -q "protocol: WebSocket handshake refused by 127.0.0.1:$N: HTTP status" <<<"$ERR"

# The echo server exits 1 if any of its checks failed (and said why on stderr).
kill -TERM "$ECHO_PID"
for i in $(seq 1 200); do kill -0 "$ECHO_PID" 2>/dev/null || break; sleep 0.05; done
set +e
wait "$ECHO_PID"
ECHO_RC=$?
set -e
check_eq "echo server: every check passed (exit status)" 0 "$ECHO_RC"
if [ -s ws.err ]; then log "echo server stderr: $(cat ws.err)"; fi
finish
