#!/usr/bin/env bash
# The WebSocket client (httpkit-fetch --ws) against python3-websockets:
# echo with permessage-deflate negotiated, a server ping answered, the
# server's close code reported, and a refused handshake.
source "$(dirname "$0")/peer_lib.sh"
$PY -c 'import websockets' 2>/dev/null || { log "missing python3-websockets"; exit 2; }

W=$(pick_port); N=$(pick_port)
cd "$WORK"
$PY "$REPO_ROOT/tests/client/ws_echo_server.py" "$W" "$WORK/ws.log" &
PIDS+=($!)
# A plain HTTP server that refuses upgrades.
$PY -m http.server "$N" --bind 127.0.0.1 --directory "$WORK" >/dev/null 2>&1 &
PIDS+=($!)
wait_port "$W"; wait_port "$N"

session() {  # stdin lines, then wait, then the rest
  set +e
  OUT=$( (printf '%s\n' "$@"; sleep 1) | timeout 20 "$FETCH" --ws "ws://127.0.0.1:$W/" 2>"$WORK/stderr")
  RC=$?
  set -e
  ERR=$(cat "$WORK/stderr")
}

session hello "second message"
check_eq "echo" "$(printf 'hello\nsecond message')" "$OUT"
check_eq "clean close: exit" 0 "$RC"
check "permessage-deflate was negotiated" grep -q "OPEN extensions=permessage-deflate" ws.log
BIG=$(head -c 300000 /dev/zero | tr '\0' 'q')
session "$BIG"
check_eq "a 300 kB message (compressed both ways)" 300000 "$(printf '%s' "$OUT" | wc -c)"
session ping-me after
check_eq "server ping answered, session goes on" "$(printf 'ping-me\nafter')" "$OUT"
session close-me
check_eq "server close: exit" 56 "$RC"
check "server close code and reason reported" grep -q "websocket closed: 4000 asked to" <<<"$ERR"
set +e
OUT=$(echo x | timeout 20 "$FETCH" --ws "ws://127.0.0.1:$N/" 2>"$WORK/stderr"); RC=$?
set -e
ERR=$(cat "$WORK/stderr")
check_eq "refused handshake: exit" 8 "$RC"
check "refused handshake: reason" grep -q "protocol: WebSocket handshake refused by 127.0.0.1:$N: HTTP status" <<<"$ERR"
finish
