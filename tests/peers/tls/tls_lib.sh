# Shared helpers for the TLS peer tests in shell (sourced, not executed):
# tests/peers/lib.sh (checks, PEER_TMP, the EXIT trap that stops the server),
# the test certificates of scripts/lib/certs.sh in $CERTS, and
#
#   start_tls_server [server args...]
#       httpkit-server on --port 0 with the ECDSA localhost certificate
#       (unless the args give --tls-cert). Sets SERVER_PID, TLS_PORT (the
#       HTTPS port) and SERVER_PORT (the plain port with --tls-port, else
#       the HTTPS port too). Waits (bounded) until it answers over TLS.
#   tls_alive: the server runs and answers GET / over https with 200.
#   served_cert_fingerprint PORT SERVERNAME: SHA-256 fingerprint of the
#       certificate a new connection with that SNI is served.

source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
source "$PEER_REPO_ROOT/scripts/lib/certs.sh"

CERTS="$PEER_TMP/certs"
make_test_certs "$CERTS" || { log "FAIL - could not make the test certificates"; exit 2; }
TLS_PORT=""
SCALE=${HTTPKIT_TIMEOUT_SCALE:-1}
SCALE=${SCALE%%.*}

tls_answers() {  # tls_answers PORT: any HTTP answer over TLS (certificate not checked)
  curl -sk -o /dev/null --max-time 1 "https://127.0.0.1:$1/" 2>/dev/null
}

# The HTTPS port from the server's output: a line naming TLS or HTTPS with
# an ADDR:PORT in it ("TLS listen at 127.0.0.1:PORT", ...).
tls_port_from_log() {
  grep -iE 'tls|https' "$1" | grep -oE '[0-9.]+:[0-9]+' | head -1 | sed 's/.*://'
}

start_tls_server() {
  if [ ! -x "$SERVER_BIN" ]; then
    log "FAIL - server binary not found: $SERVER_BIN (set HTTPKIT_BIN_DIR)"
    exit 2
  fi
  local args=("$@") separate=0 a
  for a in "${args[@]}"; do [ "$a" = --tls-port ] && separate=1; done
  case " ${args[*]} " in
    *" --tls-cert "*) ;;
    *) args=(--tls-cert "$CERTS/localhost-ec.pem" --tls-key "$CERTS/localhost-ec.key" "${args[@]}") ;;
  esac
  "$SERVER_BIN" --port 0 --bind 127.0.0.1 "${args[@]}" >"$PEER_TMP/server.log" 2>&1 &
  SERVER_PID=$!
  local port="" tls="" i
  for i in $(seq 1 $((100 * SCALE))); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    [ -n "$port" ] || port=$(sed -nE 's#^Server started\.[^:]*:([0-9]+).*#\1#p' "$PEER_TMP/server.log" | head -1)
    if ((separate)); then
      [ -n "$tls" ] || tls=$(tls_port_from_log "$PEER_TMP/server.log")
    else
      tls=$port
    fi
    if [ -n "$port" ] && [ -n "$tls" ] && tls_answers "$tls"; then
      SERVER_PORT=$port
      TLS_PORT=$tls
      log "started httpkit-server pid $SERVER_PID: https on 127.0.0.1:$TLS_PORT, port $SERVER_PORT (${args[*]})"
      return 0
    fi
    sleep 0.1
  done
  log "FAIL - could not start $SERVER_BIN with TLS (${args[*]}); its output:"
  cat "$PEER_TMP/server.log" || true
  stop_pid "$SERVER_PID"
  SERVER_PID=""
  exit 2
}

tls_alive() {
  kill -0 "$SERVER_PID" 2>/dev/null &&
    [ "$(curl -s --cacert "$CERTS/ca.pem" -o /dev/null -w '%{http_code}' --max-time 5 \
         "https://localhost:$TLS_PORT/")" = 200 ]
}

served_cert_fingerprint() {
  local port=$1 name=$2
  timeout 10 openssl s_client -connect "127.0.0.1:$port" -servername "$name" </dev/null 2>/dev/null |
    openssl x509 -noout -fingerprint -sha256 2>/dev/null | sed 's/^.*=//'
}

# s_client_run OUTFILE [s_client args...]: openssl s_client to the TLS port
# with stdin closed, bounded; its stdout and stderr into OUTFILE.
s_client_run() {
  local out=$1
  shift
  timeout $((10 * SCALE)) openssl s_client -connect "127.0.0.1:$TLS_PORT" "$@" </dev/null >"$out" 2>&1 || true
}
