#!/usr/bin/env bash
# openssl s_client against httpkit-server's HTTPS port: ALPN (http/1.1,
# h2 alone, both), TLS 1.3 with each of its suites and TLS 1.2, verification,
# the refusal of TLS 1.0 and 1.1 (the client allowed to offer them with
# @SECLEVEL=0, so the refusal seen is the server's), CBC and CCM refused, no
# compression, a TLS 1.2 renegotiation attempt refused without disturbing
# others, and KeyUpdate (s_client's k and K commands) followed by a request.
source "$(dirname "$0")/tls_lib.sh"

start_tls_server --threads 2
OUT="$PEER_TMP/out"
SC=(-servername localhost -CAfile "$CERTS/ca.pem" -verify_hostname localhost)

# ok_handshake FILE: s_client finished a handshake with a verified certificate.
ok_handshake() { grep -q '^ *Verify return code: 0 (ok)' "$1" && ! grep -q 'Cipher is (NONE)' "$1"; }
# protocol_of FILE: "TLSv1.3" etc. from "New, TLSv1.3, Cipher is ...".
protocol_of() { sed -nE 's/^New, (TLSv1\.[0-3]|\(NONE\)), Cipher is (.*)$/\1/p' "$1" | head -1; }
not() { ! "$@"; }
refused_handshake() { ! ok_handshake "$1" && grep -q 'alert handshake failure' "$1"; }
cipher_of() { sed -nE 's/^New, [^,]*, Cipher is (.*)$/\1/p' "$1" | head -1; }

test_alpn() {
  s_client_run "$OUT" "${SC[@]}" -alpn http/1.1
  check "ALPN http/1.1: handshake verified" ok_handshake "$OUT"
  check "ALPN http/1.1: 'ALPN protocol: http/1.1'" grep -q '^ALPN protocol: http/1.1$' "$OUT"
  s_client_run "$OUT" "${SC[@]}" -alpn h2,http/1.1
  check "ALPN h2,http/1.1: the server picks http/1.1 (it has no h2)" grep -q '^ALPN protocol: http/1.1$' "$OUT"
  s_client_run "$OUT" "${SC[@]}" -alpn h2
  check "ALPN h2 alone: h2 is never selected" not grep -q '^ALPN protocol: h2' "$OUT"
  if grep -q 'alert no application protocol' "$OUT"; then
    log "     ALPN h2 alone: refused with no_application_protocol (alert 120), as nginx 1.22 does"
    check "ALPN h2 alone: refused by alert 120" grep -q 'SSL alert number 120' "$OUT"
  else
    check "ALPN h2 alone: served without ALPN ('No ALPN negotiated')" \
      bash -c "grep -q '^No ALPN negotiated' '$OUT' && grep -q '^ *Verify return code: 0 (ok)' '$OUT'"
  fi
  s_client_run "$OUT" "${SC[@]}"
  check "no ALPN offered: 'No ALPN negotiated', handshake verified" \
    bash -c "grep -q '^No ALPN negotiated' '$OUT' && grep -q '^ *Verify return code: 0 (ok)' '$OUT'"
  s_client_run "$OUT" "${SC[@]}" -tls1_2 -alpn http/1.1
  check "TLS 1.2 with ALPN http/1.1" grep -q '^ALPN protocol: http/1.1$' "$OUT"
  check "server alive after the ALPN cases" tls_alive
}

test_versions() {
  local suite
  s_client_run "$OUT" "${SC[@]}" -tls1_3
  check_eq "-tls1_3: TLSv1.3 negotiated" TLSv1.3 "$(protocol_of "$OUT")"
  check "-tls1_3: verified" ok_handshake "$OUT"
  check "-tls1_3: key exchange X25519 (the first of X25519:P-256:P-384)" grep -q '^Server Temp Key: X25519' "$OUT"
  check "-tls1_3: ECDSA signature by the P-256 leaf" grep -q '^Peer signature type: ECDSA' "$OUT"
  for suite in TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256; do
    s_client_run "$OUT" "${SC[@]}" -tls1_3 -ciphersuites "$suite"
    check_eq "-tls1_3 -ciphersuites $suite" "$suite" "$(cipher_of "$OUT")"
  done
  s_client_run "$OUT" "${SC[@]}" -tls1_3 -ciphersuites TLS_AES_128_CCM_SHA256
  check "-tls1_3 with only TLS_AES_128_CCM_SHA256 (not in the profile): refused" \
    not ok_handshake "$OUT"
  s_client_run "$OUT" "${SC[@]}" -tls1_3 -groups P-256
  check "-tls1_3 -groups P-256: served (P-256 key exchange)" grep -q '^Server Temp Key: ECDH, prime256v1' "$OUT"

  s_client_run "$OUT" "${SC[@]}" -tls1_2
  check_eq "-tls1_2: TLSv1.2 negotiated" TLSv1.2 "$(protocol_of "$OUT")"
  check "-tls1_2: verified" ok_handshake "$OUT"
  check "-tls1_2: an ECDHE-ECDSA AEAD cipher ($(cipher_of "$OUT"))" \
    grep -Eq '^New, TLSv1.2, Cipher is ECDHE-ECDSA-(AES128-GCM-SHA256|AES256-GCM-SHA384|CHACHA20-POLY1305)$' "$OUT"
  check "-tls1_2: no compression" grep -q '^Compression: NONE' "$OUT"
  check "-tls1_2: secure renegotiation indication (RFC 5746)" grep -q '^Secure Renegotiation IS supported' "$OUT"
  check "-tls1_2: extended master secret (RFC 7627)" grep -q 'Extended master secret: yes' "$OUT"
  local cbc
  for cbc in ECDHE-ECDSA-AES128-SHA ECDHE-ECDSA-AES256-SHA384 AES128-GCM-SHA256 AES128-SHA; do
    s_client_run "$OUT" "${SC[@]}" -tls1_2 -cipher "$cbc:@SECLEVEL=0"
    check "-tls1_2 -cipher $cbc (CBC or no forward secrecy): refused by the server" \
      refused_handshake "$OUT"
  done

  local v
  for v in tls1 tls1_1; do
    s_client_run "$OUT" "${SC[@]}" -"$v" -cipher 'DEFAULT:@SECLEVEL=0' -msg
    check "-$v: the client offered it (a ClientHello went out)" grep -q '>>> .*ClientHello' "$OUT"
    check "-$v: refused by the server: alert protocol version (70)" \
      grep -q 'alert protocol version' "$OUT"
    check_eq "-$v: no handshake (New, (NONE), Cipher is (NONE))" "(NONE)" "$(protocol_of "$OUT")"
  done
  # A TLS 1.3-capable client whose list also holds 1.0 still gets 1.3.
  s_client_run "$OUT" "${SC[@]}" -cipher 'DEFAULT:@SECLEVEL=0' -min_protocol TLSv1
  check_eq "a client offering TLS 1.0 to 1.3 gets TLSv1.3" TLSv1.3 "$(protocol_of "$OUT")"
  check "server alive after the version cases" tls_alive
}

# feed SECONDS-BEFORE LINES...: prints each line after a pause (s_client reads
# a command letter only at the start of one read).
feed() {
  local line
  for line in "$@"; do sleep 0.7; printf '%b' "$line"; done
  sleep $((2 * SCALE))
}

test_renegotiation() {
  feed 'R\n' 'GET /?length=7 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' |
    timeout $((20 * SCALE)) openssl s_client -connect "127.0.0.1:$TLS_PORT" "${SC[@]}" -tls1_2 -msg \
    >"$OUT" 2>&1 || true
  check "TLS 1.2 renegotiation: the client tried (RENEGOTIATING)" grep -q '^RENEGOTIATING' "$OUT"
  check_eq "TLS 1.2 renegotiation: refused (one ServerHello only)" 1 "$(grep -c '<<< .*ServerHello$' "$OUT")"
  if grep -q 'no renegotiation' "$OUT"; then
    log "     the server answered no_renegotiation (alert 100)"
  fi
  local hits
  hits=$(grep -c '^HTTP/1.1 200' "$OUT" || true)
  log "     after the refused renegotiation, the request on that connection got $hits answer(s)"
  check "server alive and serving others after the renegotiation attempt" tls_alive

  # Several at once while a keep-alive client goes on.
  local i pids=()
  for i in 1 2 3 4 5; do
    feed 'R\n' | timeout $((20 * SCALE)) openssl s_client -connect "127.0.0.1:$TLS_PORT" "${SC[@]}" -tls1_2 \
      >"$PEER_TMP/r$i" 2>&1 &
    pids+=($!)
  done
  local out
  out=$(timeout 20 curl -sS --max-time 15 --cacert "$CERTS/ca.pem" -o /dev/null -o /dev/null -o /dev/null -w '%{http_code} ' \
        "https://localhost:$TLS_PORT/?length=1" "https://localhost:$TLS_PORT/?length=2" \
        "https://localhost:$TLS_PORT/?length=3" || true)
  for i in "${pids[@]}"; do wait "$i" 2>/dev/null || true; done
  check_eq "a keep-alive client is served while five renegotiate" "200 200 200 " "$out"
}

test_key_update() {
  feed 'k\n' 'K\n' 'k\n' 'GET /?length=9 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' |
    timeout $((20 * SCALE)) openssl s_client -connect "127.0.0.1:$TLS_PORT" "${SC[@]}" -tls1_3 -msg \
    >"$OUT" 2>&1 || true
  check_eq "TLS 1.3: s_client sent three KeyUpdates" 3 "$(grep -c '^KEYUPDATE' "$OUT")"
  check "TLS 1.3: the server answered the requested KeyUpdate with its own" \
    grep -q '<<< TLS 1.3, Handshake \[length 0005\], KeyUpdate' "$OUT"
  check "TLS 1.3: a request after KeyUpdates is answered 200" grep -q '^HTTP/1.1 200' "$OUT"
  check "  with the exact body" grep -q "^$(expected_body 9)" "$OUT"
  check "server alive after KeyUpdates" tls_alive
}

for t in test_alpn test_versions test_renegotiation test_key_update; do
  log "# $t"
  "$t"
  require_server
done
stop_server
check_eq "SIGTERM: exit 0" 0 "$SERVER_EXIT"
finish s_client_test
