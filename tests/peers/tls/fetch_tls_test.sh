#!/usr/bin/env bash
# httpkit's client (httpkit-fetch) against httpkit-server over TLS: the
# test CA verified by name and by IP, SNI choosing the certificate, failures
# (no CA, wrong name, expired certificate), --insecure, pooled keep-alive
# requests, an upload, 413 over TLS, and a wss:// session on /ws.
# (The client against nginx over TLS is tests/client/nginx_test.sh.)
source "$(dirname "$0")/tls_lib.sh"
FETCH="$PEER_BIN_DIR/httpkit-fetch"
[ -x "$FETCH" ] || { log "FAIL - $FETCH not found"; exit 2; }

# run_fetch ARGS...: sets RC, OUT (stdout), ERR (stderr); bounded.
run_fetch() {
  set +e
  OUT=$(timeout $((30 * SCALE)) "$FETCH" "$@" 2>"$PEER_TMP/fetch.err")
  RC=$?
  set -e
  ERR=$(cat "$PEER_TMP/fetch.err")
}

start_tls_server --threads 2 --tls-sni "sni.test=$CERTS/sni.pem,$CERTS/sni.key"
CA=(--cacert "$CERTS/ca.pem")
U="https://localhost:$TLS_PORT"

run_fetch "${CA[@]}" "$U/?length=100"
check_eq "GET over https: exit 0" 0 "$RC"
check_eq "GET over https: exact body" "$(expected_body 100)" "$OUT"
run_fetch "${CA[@]}" "https://127.0.0.1:$TLS_PORT/?length=10"
check_eq "by IP address (IP SAN)" "$(expected_body 10)" "$OUT"
run_fetch "${CA[@]}" -i "$U/?length=5"
check "-i: HTTP/1.1 200 over TLS" grep -q '^HTTP/1.1 200' <<<"$OUT"
run_fetch "${CA[@]}" -w "$U/?length=5"
check "-w: a TLS handshake time is reported" grep -Eq 'tls: 0\.0*[1-9]' <<<"$ERR"

run_fetch "${CA[@]}" -o "$PEER_TMP/four" "$U/?length=1" "$U/?length=2" "$U/?length=3" "$U/?length=10240"
check_eq "four URLs over pooled connections: exit 0" 0 "$RC"
check "four URLs over pooled connections: the bodies one after another, exact" \
  cmp -s "$PEER_TMP/four" <(expected_body 1; expected_body 2; expected_body 3; expected_body 10240)

run_fetch "${CA[@]}" --resolve "sni.test:$TLS_PORT:127.0.0.1" "https://sni.test:$TLS_PORT/?length=20"
check_eq "SNI sni.test: verified against sni.test's certificate" "$(expected_body 20)" "$OUT"
run_fetch "${CA[@]}" --resolve "wrong.test:$TLS_PORT:127.0.0.1" "https://wrong.test:$TLS_PORT/"
check_eq "a name no certificate has: exit 35" 35 "$RC"
check "  reason: hostname mismatch" grep -q "hostname mismatch" <<<"$ERR"
run_fetch "$U/"
check_eq "without the test CA: exit 35" 35 "$RC"
check "  reason: certificate verify failed" grep -q "certificate verify failed" <<<"$ERR"
run_fetch -k --resolve "wrong.test:$TLS_PORT:127.0.0.1" "https://wrong.test:$TLS_PORT/?length=4"
check_eq "--insecure accepts the wrong name" "$(expected_body 4)" "$OUT"

head -c $((3 * 1024 * 1024)) /dev/urandom >"$PEER_TMP/up"
run_fetch "${CA[@]}" -i --data-binary @"$PEER_TMP/up" "$U/?length=6"
check "POST 3 MiB over TLS: 200" grep -q '^HTTP/1.1 200' <<<"$OUT"
# Over max_body: httpkit-fetch sends no Expect: 100-continue and reads no
# early answer, so (as over plain HTTP) it sees the close while still
# sending; curl_tls_test sees the 413 itself.
head -c $((9 * 1024 * 1024)) /dev/zero >"$PEER_TMP/up"
run_fetch "${CA[@]}" -i --data-binary @"$PEER_TMP/up" "$U/"
check "POST 9 MiB over TLS: 413, or the connection closed while sending (exit $RC)" \
  bash -c '[[ "$1" == "HTTP/1.1 413"* ]] || grep -q "sending the request to localhost:.* failed" <<<"$2"' _ "$OUT" "$ERR"
check "  and the server goes on" tls_alive

# wss:// on /ws: two lines out, the echo of each back.
set +e
OUT=$({ printf 'hello over wss\nsecond ✓\n'; sleep $((2 * SCALE)); } |
      timeout $((20 * SCALE)) "$FETCH" "${CA[@]}" --ws "wss://localhost:$TLS_PORT/ws" 2>"$PEER_TMP/fetch.err")
RC=$?
set -e
check_eq "wss:// echo through httpkit-fetch --ws" "$(printf 'hello over wss\nsecond ✓')" "$OUT"
check_eq "wss:// session ends with exit 0" 0 "$RC"
[ "$RC" = 0 ] || log "     stderr: $(cat "$PEER_TMP/fetch.err")"

# An expired certificate is refused by the client.
stop_server
check_eq "SIGTERM: exit 0" 0 "$SERVER_EXIT"
start_tls_server --threads 1 --tls-cert "$CERTS/expired.pem" --tls-key "$CERTS/expired.key"
U="https://localhost:$TLS_PORT"
run_fetch "${CA[@]}" "$U/"
check_eq "an expired server certificate: exit 35" 35 "$RC"
check "  reason: certificate has expired" grep -q "certificate has expired" <<<"$ERR"
stop_server
finish fetch_tls_test
