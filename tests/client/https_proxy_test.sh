#!/usr/bin/env bash
# The client through an https:// proxy (proxy.py --tls: TLS to the proxy,
# then CONNECT inside it for an https origin, or the absolute-form request
# for an http one), with httpkit-fetch: bodies both ways, the proxy's log
# proving which path was taken, and the proxy's certificate checked like
# an origin's (untrusted: TLS error; -k: accepted). Plus file uploads
# (--data-file, -T from stdin) and --trace-redirects over the same paths.
source "$(dirname "$0")/peer_lib.sh"
source "$REPO_ROOT/scripts/lib/certs.sh"
command -v openssl >/dev/null || { log "missing openssl"; exit 2; }

H=$(pick_port); S=$(pick_port); X=$(pick_port); U=$(pick_port); C=$(pick_port)
cd "$WORK"
mkdir -p certs logs
make_test_certs "$WORK/certs" || exit 2
head -c 3000000 /dev/urandom > upload.bin

# The origins: "<scheme> <method> <path> <body length> <body sha256>";
# /go redirects to /there.
cat > origin.py <<'PYEOF'
import hashlib, http.server, ssl, sys
port, scheme = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))
    def answer(self):
        data = self.body()
        if self.path == "/go":
            self.send_response(302)
            self.send_header("Location", "/there")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        out = f"{scheme} {self.command} {self.path} {len(data)} {hashlib.sha256(data).hexdigest()}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
    do_GET = do_POST = do_PUT = do_PROPFIND = answer
srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
if scheme == "https":
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[3], sys.argv[4])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
PYEOF
$PY origin.py "$H" http &
PIDS+=($!)
$PY origin.py "$S" https certs/localhost-ec.pem certs/localhost-ec.key &
PIDS+=($!)
$PY "$REPO_ROOT/tests/client/proxy.py" "$X" logs/proxy.log --forward \
  --tls certs/localhost-rsa.pem certs/localhost-rsa.key &
PIDS+=($!)
$PY "$REPO_ROOT/tests/client/proxy.py" "$U" logs/untrusted.log --forward \
  --tls certs/untrusted.pem certs/untrusted.key &
PIDS+=($!)
$PY "$REPO_ROOT/tests/client/proxy.py" "$C" logs/plain.log &
PIDS+=($!)
for port in $H $S $X $U $C; do wait_port "$port"; done

CA=(--cacert certs/ca.pem)
PROXY=(-x "https://localhost:$X")
SUM=$(sha256sum upload.bin | cut -d' ' -f1)
EMPTY=$(printf '' | sha256sum | cut -d' ' -f1)

log "# https origin through the https proxy: CONNECT inside TLS, TLS inside that"
run_fetch "${CA[@]}" "${PROXY[@]}" "https://localhost:$S/a?b=1"
check_eq "body through TLS in TLS" "https GET /a?b=1 0 $EMPTY" "$OUT"
check "the proxy saw TLS" grep -q "^TLS TLSv1" logs/proxy.log
check "the proxy tunnelled" grep -q "^TUNNEL localhost:$S$" logs/proxy.log
run_fetch "${CA[@]}" "${PROXY[@]}" --data-file upload.bin "https://localhost:$S/up"
check_eq "3 MB file POSTed through TLS in TLS" "https POST /up 3000000 $SUM" "$OUT"

log "# http origin through the https proxy: absolute form inside TLS"
run_fetch "${CA[@]}" "${PROXY[@]}" "http://127.0.0.1:$H/plain"
check_eq "body through the proxy's TLS" "http GET /plain 0 $EMPTY" "$OUT"
check "the proxy got the absolute form" grep -q "^FORWARD GET http://127.0.0.1:$H/plain$" logs/proxy.log
run_fetch "${CA[@]}" "${PROXY[@]}" -T - "http://127.0.0.1:$H/put" < upload.bin
check_eq "stdin PUT chunked through the proxy" "http PUT /put 3000000 $SUM" "$OUT"
run_fetch "${CA[@]}" "${PROXY[@]}" -X PROPFIND "http://127.0.0.1:$H/dav"
check_eq "a WebDAV method through the proxy" "http PROPFIND /dav 0 $EMPTY" "$OUT"

log "# redirects: followed and traced"
run_fetch "${CA[@]}" "${PROXY[@]}" -L --trace-redirects "https://localhost:$S/go"
check_eq "redirect followed through the proxy" "https GET /there 0 $EMPTY" "$OUT"
check_eq "the trace names the redirecting URL" "redirect: https://localhost:$S/go" "$ERR"

log "# the proxy's certificate is checked"
run_fetch "${CA[@]}" -x "https://localhost:$U" "https://localhost:$S/a"
check_eq "untrusted proxy certificate: exit" 35 "$RC"
check "the error names the proxy" grep -q "TLS handshake with the https proxy localhost failed: certificate verify failed" <<<"$ERR"
run_fetch -k -x "https://localhost:$U" "https://localhost:$S/k"
check_eq "-k accepts both certificates" "https GET /k 0 $EMPTY" "$OUT"
run_fetch "${CA[@]}" -x "https://localhost:$C" "https://localhost:$S/a"
check_eq "a plain proxy named https://: TLS error" 35 "$RC"

finish
