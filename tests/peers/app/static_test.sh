#!/usr/bin/env bash
# httpkit-server --static DIR --compress --access-log FILE --cors ORIGIN
# against curl and raw sockets: byte ranges (one, several as
# multipart/byteranges, unsatisfiable, If-Range), conditional requests,
# every content-coding decoded and compared byte for byte, traversal
# attempts of every shape, the combined access log and its reopening on
# SIGUSR1, and CORS preflights.
source "$(dirname "$0")/../lib.sh"

PY=/usr/bin/python3
ROOT="$PEER_TMP/www"
LOG="$PEER_TMP/access.log"
ALLOWED=https://allowed.example
mkdir -p "$ROOT/sub"
# Outside the root: what every traversal attempt is after.
echo "SECRET-OUTSIDE-THE-ROOT" >"$PEER_TMP/secret.txt"
ln -s ../secret.txt "$ROOT/escape.txt"
ln -s "$PEER_TMP" "$ROOT/escdir"
$PY - "$ROOT" <<'PY'
import os, random, sys
root = sys.argv[1]
rnd = random.Random(12)
open(os.path.join(root, "data.bin"), "wb").write(bytes(rnd.getrandbits(8) for _ in range(100000)))
words = ["alpha", "beta", "gamma", "delta", "static", "files", "range", "etag"]
lines = [" ".join(rnd.choice(words) for _ in range(12)) + f" {i}" for i in range(3000)]
open(os.path.join(root, "page.html"), "w").write("<html><body><pre>\n" + "\n".join(lines) + "\n</pre></body></html>\n")
open(os.path.join(root, "sub", "small.txt"), "w").write("in a subdirectory\n")
PY

start_server --static "$ROOT" --compress --access-log "$LOG" --cors "$ALLOWED"
U="http://127.0.0.1:$SERVER_PORT/files"

# header FILE NAME: the value of a response header (the last one named so).
header() { tr -d '\r' <"$1" | sed -n "s/^$2: //Ip" | tail -1; }
status_of() { tr -d '\r' <"$1" | head -1 | cut -d' ' -f2; }
slice() { tail -c +$(($2 + 1)) "$1" | head -c "$3"; }

# ------------------------------------------------------------ whole files
curl -s -D "$PEER_TMP/h" -o "$PEER_TMP/out" "$U/data.bin"
check_eq "GET a file" 200 "$(status_of "$PEER_TMP/h")"
check "its bytes are the file's" cmp -s "$PEER_TMP/out" "$ROOT/data.bin"
ETAG=$(header "$PEER_TMP/h" ETag)
LASTMOD=$(header "$PEER_TMP/h" Last-Modified)
check "it has a strong ETag" test -n "$ETAG" -a "${ETAG:0:2}" != "W/"
check "it has Last-Modified" test -n "$LASTMOD"
check_eq "it advertises ranges" bytes "$(header "$PEER_TMP/h" Accept-Ranges)"
check_eq "a subdirectory's file" "in a subdirectory" "$(curl -s "$U/sub/small.txt")"
check_eq "/ is still the benchmark answer" "$(expected_body 16)" \
  "$(curl -s "http://127.0.0.1:$SERVER_PORT/?length=16")"

# ----------------------------------------------------------------- ranges
curl -s -D "$PEER_TMP/h" -o "$PEER_TMP/out" -r 100-199 "$U/data.bin"
check_eq "one range: 206" 206 "$(status_of "$PEER_TMP/h")"
check_eq "one range: Content-Range" "bytes 100-199/100000" "$(header "$PEER_TMP/h" Content-Range)"
check "one range: its bytes" cmp -s "$PEER_TMP/out" <(slice "$ROOT/data.bin" 100 100)

curl -s -D "$PEER_TMP/h" -o "$PEER_TMP/out" -r 0-9,500-599,99990- "$U/data.bin"
check_eq "several ranges: 206" 206 "$(status_of "$PEER_TMP/h")"
CTYPE=$(header "$PEER_TMP/h" Content-Type)
check "several ranges: multipart/byteranges" test "${CTYPE%%;*}" = multipart/byteranges
check "several ranges: each part's range and bytes" $PY - "$PEER_TMP/out" "$CTYPE" "$ROOT/data.bin" <<'PY'
import re, sys
body = open(sys.argv[1], "rb").read()
boundary = re.search(r'boundary="?([^";]+)"?', sys.argv[2]).group(1).encode()
data = open(sys.argv[3], "rb").read()
# RFC 9110 14.6 / RFC 2046: parts between "--boundary" lines, "--boundary--" last.
sections = body.split(b"--" + boundary)
assert sections[-1].strip() in (b"--", b"--\r\n".strip()), sections[-1][:20]
parts = []
for sec in sections[1:-1]:
    assert sec.startswith(b"\r\n"), sec[:10]
    head, _, payload = sec[2:].partition(b"\r\n\r\n")
    assert payload.endswith(b"\r\n")
    payload = payload[:-2]
    fields = dict(l.split(b": ", 1) for l in head.split(b"\r\n"))
    m = re.fullmatch(rb"bytes (\d+)-(\d+)/100000", fields[b"Content-Range"])
    first, last = int(m.group(1)), int(m.group(2))
    assert payload == data[first:last + 1], (first, last)
    parts.append((first, last))
assert parts == [(0, 9), (500, 599), (99990, 99999)], parts
PY

curl -s -D "$PEER_TMP/h" -o "$PEER_TMP/out" -r 200000-300000 "$U/data.bin"
check_eq "unsatisfiable range: 416" 416 "$(status_of "$PEER_TMP/h")"
check_eq "416 says the length" "bytes */100000" "$(header "$PEER_TMP/h" Content-Range)"

curl -s -D "$PEER_TMP/h" -o "$PEER_TMP/out" -r 0-9 -H "If-Range: $ETAG" "$U/data.bin"
check_eq "If-Range with the current ETag: 206" 206 "$(status_of "$PEER_TMP/h")"
curl -s -D "$PEER_TMP/h" -o "$PEER_TMP/out" -r 0-9 -H "If-Range: $LASTMOD" "$U/data.bin"
check_eq "If-Range with the current date: 206" 206 "$(status_of "$PEER_TMP/h")"
curl -s -D "$PEER_TMP/h" -o "$PEER_TMP/out" -r 0-9 -H 'If-Range: "an-older-version"' "$U/data.bin"
check_eq "If-Range with another ETag: 200" 200 "$(status_of "$PEER_TMP/h")"
check "... and the whole file" cmp -s "$PEER_TMP/out" "$ROOT/data.bin"

# ------------------------------------------------------------ conditional
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
check_eq "If-None-Match with the ETag: 304" 304 "$(code -H "If-None-Match: $ETAG" "$U/data.bin")"
check_eq "If-None-Match with another: 200" 200 "$(code -H 'If-None-Match: "x"' "$U/data.bin")"
check_eq "If-Modified-Since the file's date: 304" 304 \
  "$(code -H "If-Modified-Since: $LASTMOD" "$U/data.bin")"
check_eq "If-Modified-Since long before: 200" 200 \
  "$(code -H "If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT" "$U/data.bin")"
check_eq "If-None-Match wins over If-Modified-Since" 200 \
  "$(code -H 'If-None-Match: "x"' -H "If-Modified-Since: $LASTMOD" "$U/data.bin")"

# ------------------------------------------------------------ compression
for coding in gzip deflate br zstd; do
  curl -s -D "$PEER_TMP/h" -o "$PEER_TMP/raw" -H "Accept-Encoding: $coding" "$U/page.html"
  check_eq "$coding: Content-Encoding" "$coding" "$(header "$PEER_TMP/h" Content-Encoding)"
  check "$coding: Vary names Accept-Encoding" grep -qi '^vary:.*accept-encoding' "$PEER_TMP/h"
  check "$coding: smaller than the file" test "$(stat -c %s "$PEER_TMP/raw")" -lt \
    "$(stat -c %s "$ROOT/page.html")"
  curl -s --compressed -H "Accept-Encoding: $coding" -o "$PEER_TMP/dec" "$U/page.html"
  check "$coding: curl --compressed decodes the file's bytes" cmp -s "$PEER_TMP/dec" "$ROOT/page.html"
  # And a decoder that is not curl's, where Debian has one.
  case $coding in
    gzip) gzip -dc <"$PEER_TMP/raw" >"$PEER_TMP/dec2" ;;
    deflate) $PY -c 'import sys, zlib; sys.stdout.buffer.write(zlib.decompress(sys.stdin.buffer.read()))' \
      <"$PEER_TMP/raw" >"$PEER_TMP/dec2" ;;
    zstd) zstd -dcq <"$PEER_TMP/raw" >"$PEER_TMP/dec2" ;;
    br) cp "$PEER_TMP/dec" "$PEER_TMP/dec2" ;;  # no other br decoder in Debian's python3
  esac
  check "$coding: decoded again, the same bytes" cmp -s "$PEER_TMP/dec2" "$ROOT/page.html"
done
curl -s -D "$PEER_TMP/h" -o "$PEER_TMP/raw" -H "Accept-Encoding: gzip" -r 0-99 "$U/page.html"
check_eq "a range is not compressed" "206 " \
  "$(status_of "$PEER_TMP/h") $(header "$PEER_TMP/h" Content-Encoding)"

# -------------------------------------------------------------- traversal
# Every shape must be refused (404 or 403) and never carry the secret.
refused() {  # refused WHAT STATUS BODY-FILE
  case $2 in 403 | 404) ;; *) log "     $1 answered $2"; return 1 ;; esac
  ! grep -q SECRET "$3"
}
for path in "../secret.txt" "sub/../../secret.txt" "%2e%2e/secret.txt" "%2E%2E/secret.txt" \
  "..%2fsecret.txt" "sub%2f..%2f..%2fsecret.txt" "%2e%2e%2fsecret.txt" \
  "data.bin%00.txt" "..%00/secret.txt" "..%5csecret.txt" "sub%5c..%5c..%5csecret.txt" \
  "escape.txt" "escdir/secret.txt" "escdir/www/data.bin" "%2fetc%2fpasswd" "/etc/passwd"; do
  s=$(curl -s --path-as-is -o "$PEER_TMP/body" -w '%{http_code}' "$U/$path")
  check "curl --path-as-is /files/$path is refused" refused "$path" "$s" "$PEER_TMP/body"
done
# Raw bytes, exactly as written (curl would not send a bare backslash or NUL).
for target in '/files/../secret.txt' '/files/..\secret.txt' '/files/sub\..\..\secret.txt' \
  '/files/%2e%2e/secret.txt' '/files/..%2Fsecret.txt' '/files/../../../../etc/passwd' \
  '/files/escape.txt'; do
  s=$($PY - "$SERVER_PORT" "$target" "$PEER_TMP/body" <<'PY'
import socket, sys
port, target, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(b"GET " + target.encode() + b" HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
open(out, "wb").write(data)
print(data.split(b" ", 2)[1].decode() if data else "none")
PY
)
  check "raw GET $target is refused" refused "$target" "$s" "$PEER_TMP/body"
done
require_server

# ------------------------------------------------------------- access log
# wait_for_log FILE PATTERN: the writer flushes within a second.
wait_for_log() {
  local i
  for i in $(seq 1 50); do
    grep -qE "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
curl -s -o /dev/null -A "peer-agent/1.0" -e "http://ref.example/" "http://127.0.0.1:$SERVER_PORT/?length=16"
curl -s -o /dev/null -A "peer-agent/1.0" -e "http://ref.example/" -r 100-199 "$U/data.bin?line=1"
DATE='\[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}\]'
check "the access log has the combined-format line" wait_for_log "$LOG" \
  "^127\.0\.0\.1 - - $DATE \"GET /\?length=16 HTTP/1\.1\" 200 16 \"http://ref\.example/\" \"peer-agent/1\.0\"\$"
# The bytes of a range of a file that serve_files handed over open.
check "... and one for the range of a file" wait_for_log "$LOG" \
  "^127\.0\.0\.1 - - $DATE \"GET /files/data\.bin\?line=1 HTTP/1\.1\" 206 100 \"http://ref\.example/\" \"peer-agent/1\.0\"\$"
mv "$LOG" "$LOG.1"
kill -USR1 "$SERVER_PID"
for i in $(seq 1 50); do [ -e "$LOG" ] && break; sleep 0.1; done
curl -s -o /dev/null "$U/sub/small.txt?after=rotation"
check "after SIGUSR1 the log is written to the new file" wait_for_log "$LOG" 'after=rotation'
check "... and not to the renamed one" bash -c "! grep -q after=rotation '$LOG.1'"

# ------------------------------------------------------------------- CORS
preflight() {
  curl -s -D "$PEER_TMP/h" -o /dev/null -X OPTIONS -H "Origin: $1" \
    -H "Access-Control-Request-Method: GET" "$U/page.html"
}
preflight "$ALLOWED"
check "preflight from the allowed origin: 2xx" grep -qE '^HTTP/1.1 20[04]' "$PEER_TMP/h"
check_eq "... allows that origin" "$ALLOWED" "$(header "$PEER_TMP/h" Access-Control-Allow-Origin)"
check "... and GET" grep -qi '^access-control-allow-methods:.*GET' "$PEER_TMP/h"
preflight "https://evil.example"
check_eq "preflight from another origin: 403" 403 "$(status_of "$PEER_TMP/h")"
check_eq "... without Access-Control-Allow-Origin" "" \
  "$(header "$PEER_TMP/h" Access-Control-Allow-Origin)"
curl -s -D "$PEER_TMP/h" -o /dev/null -H "Origin: $ALLOWED" "$U/sub/small.txt"
check_eq "a GET from the allowed origin gets Access-Control-Allow-Origin" "$ALLOWED" \
  "$(header "$PEER_TMP/h" Access-Control-Allow-Origin)"

require_server
stop_server
check_eq "SIGTERM: a clean exit" 0 "$SERVER_EXIT"
finish static
