#!/usr/bin/env bash
# curl against httpkit-server: bodies, HEAD, 400 on a bad length, keep-alive
# reuse, HTTP/1.0, Expect: 100-continue uploads, chunked uploads, 413, and a
# clean exit 0 on SIGTERM.
source "$(dirname "$0")/lib.sh"

# curl, bounded; a failing transfer must not abort the script (set -e): its
# -w output (e.g. 000) is what the checks look at.
curlx() { timeout 20 curl -sS --max-time 15 "$@" || true; }

start_server --threads 2
BASE="http://127.0.0.1:$SERVER_PORT"

# header_value FILE NAME -> value of the first header NAME (case-insensitive), CR stripped.
header_value() {
  awk -v n="$(echo "$2" | tr 'A-Z' 'a-z')" -F': *' \
    'tolower($1) == n { sub(/\r$/, ""); sub(/^[^:]*: */, ""); print; exit }' "$1"
}

# check_get QUERY LENGTH-ARG: GET /QUERY must return exactly the expected body.
check_get() {
  local query=$1 arg=$2
  local want="$PEER_TMP/want" got="$PEER_TMP/got" hdr="$PEER_TMP/hdr"
  expected_body "$arg" >"$want"
  rm -f "$got" "$hdr"
  local code
  code=$(curlx -D "$hdr" -o "$got" -w '%{http_code}' "$BASE/$query")
  check_eq "GET /$query status" 200 "$code"
  check_eq "GET /$query body length" "$(stat -c %s "$want")" "$(stat -c %s "$got")"
  check "GET /$query body bytes match the handler's text" cmp -s "$want" "$got"
  check_eq "GET /$query Content-Length" "$(stat -c %s "$want")" "$(header_value "$hdr" Content-Length)"
}

test_plain_gets() {
  check_get "" ""
  check_get "?length=1" 1
  check_get "?length=100" 100
  check_get "?length=5000" 5000
  check_get "?length=10240" 10240
  check_get "?length=10241" 10241   # clamped to 10240
  check_get "?length=99999" 99999   # clamped to 10240
  check_get "?length=0" 0           # clamped to 1
  check_get "?length=-5" -5         # clamped to 1
  check_get "any/other/path?length=5" 5

  local hdr="$PEER_TMP/hdr"
  curlx -D "$hdr" -o /dev/null "$BASE/"
  check_eq "Content-Type" "text/plain" "$(header_value "$hdr" Content-Type | cut -d';' -f1)"
  check_eq "Server header" "httpkit" "$(header_value "$hdr" Server)"
  check "Date header present" test -n "$(header_value "$hdr" Date)"
}

test_head() {
  local hdr="$PEER_TMP/hdr" got="$PEER_TMP/got" out
  out=$(curlx -I -D "$hdr" -o "$got" -w '%{http_code} %{size_download}' "$BASE/?length=100")
  check_eq "HEAD status and downloaded body size" "200 0" "$out"
  check_eq "HEAD Content-Length (length of the GET body)" 100 "$(header_value "$hdr" Content-Length)"
  # A HEAD followed by a GET on the same connection: a server that wrongly
  # sent a body after HEAD would corrupt the second response.
  out=$(curlx -o "$got" -w '%{http_code} %{size_download} %{num_connects} ' \
        -I "$BASE/?length=100" --next -o "$got" -w '%{http_code} %{size_download} %{num_connects}' "$BASE/?length=7")
  check_eq "HEAD then GET on one connection" "200 0 1 200 7 0" "$out"
}

test_bad_length() {
  local hdr="$PEER_TMP/hdr" got="$PEER_TMP/got" code
  code=$(curlx -D "$hdr" -o "$got" -w '%{http_code}' "$BASE/?length=abc")
  check_eq "length=abc status" 400 "$code"
  check "length=abc body is one non-empty line of text" \
    test "$(wc -l <"$got" | tr -d ' ')" -le 1 -a -s "$got"
  log "     reason given: $(head -c 200 "$got")"
}

test_keepalive_reuse() {
  local err="$PEER_TMP/err" out
  out=$(curlx -v -o /dev/null -o /dev/null -w '%{num_connects} ' \
        "$BASE/?length=10" "$BASE/other?length=20" 2>"$err")
  check_eq "two URLs, one curl: connects per transfer" "1 0 " "$out"
  check "curl -v reports 'Re-using existing connection'" grep -q 'Re-using existing connection' "$err"
  check "curl -v reports the connection 'left intact'" grep -q 'left intact' "$err"
}

test_http10() {
  local err="$PEER_TMP/err" got="$PEER_TMP/got" out
  out=$(curlx --http1.0 -v -o "$got" -w '%{http_code} %{size_download}' "$BASE/?length=33" 2>"$err")
  check_eq "HTTP/1.0 GET status and size" "200 33" "$out"
  # (curl closes a plain HTTP/1.0 connection itself; h11_test checks that the server closes.)
  check "HTTP/1.0 without keep-alive: response does not offer keep-alive" \
    bash -c "! grep -qi '< Connection: keep-alive' '$err'"
  out=$(curlx --http1.0 -H 'Connection: keep-alive' -v -o /dev/null -o /dev/null \
        -w '%{num_connects} ' "$BASE/?length=3" "$BASE/?length=4" 2>"$err")
  check_eq "HTTP/1.0 with Connection: keep-alive reuses the connection" "1 0 " "$out"
  check "HTTP/1.0 keep-alive response says Connection: keep-alive" grep -qi '< Connection: keep-alive' "$err"
}

test_uploads() {
  local big="$PEER_TMP/big" small="$PEER_TMP/small" err="$PEER_TMP/err" out
  head -c $((2 * 1024 * 1024)) /dev/urandom >"$big"
  head -c 1000 /dev/urandom >"$small"

  # curl adds Expect: 100-continue by itself for bodies > 1 MB; its 1 s
  # expect timeout would hide a server that never sends 100, so check for it.
  out=$(curlx -v -o /dev/null -w '%{http_code}' --data-binary @"$big" "$BASE/?length=5" 2>"$err")
  check_eq "POST 2 MiB (curl sends Expect: 100-continue)" 200 "$out"
  check "curl sent Expect: 100-continue" grep -qi '> Expect: 100-continue' "$err"
  check "server answered 100 Continue" grep -q '< HTTP/1.1 100 Continue' "$err"

  out=$(curlx -v -o /dev/null -w '%{http_code}' -H 'Expect: 100-continue' \
        --data-binary @"$small" "$BASE/" 2>"$err")
  check_eq "POST 1000 B with explicit Expect: 100-continue" 200 "$out"
  check "server answered 100 Continue (small body)" grep -q '< HTTP/1.1 100 Continue' "$err"

  out=$(curlx -v -o /dev/null -w '%{http_code}' -H 'Transfer-Encoding: chunked' \
        --data-binary @"$big" "$BASE/?length=9" 2>"$err")
  check_eq "chunked upload of 2 MiB" 200 "$out"
  check "curl really sent chunked" grep -qi '> Transfer-Encoding: chunked' "$err"

  out=$(curlx -o /dev/null -w '%{http_code}' -H 'Transfer-Encoding: chunked' \
        --data-binary @"$small" "$BASE/" --next -o /dev/null -w ' %{http_code} %{num_connects}' "$BASE/")
  check_eq "chunked upload then GET on the same connection" "200 200 0" "$out"

  # Over the 8 MiB body limit: 413 and the connection is closed.
  head -c $((9 * 1024 * 1024)) /dev/zero >"$big"
  out=$(curlx -v -o /dev/null -w '%{http_code}' --data-binary @"$big" "$BASE/" 2>"$err")
  check_eq "POST 9 MiB -> 413" 413 "$out"
  check "413 carries Connection: close" grep -qi '< Connection: close' "$err"
}

for t in test_plain_gets test_head test_bad_length test_keepalive_reuse test_http10 test_uploads; do
  log "# $t"
  "$t"
  require_server
done

check "server still alive after all of it" server_alive
stop_server
check_eq "SIGTERM: server drains and exits with status 0" 0 "$SERVER_EXIT"
finish curl_test
