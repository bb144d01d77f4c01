#!/usr/bin/env bash
# The client (through httpkit-fetch) against nginx from Debian: static
# files, a 100 MB body streamed in bounded memory, chunked and gzip
# responses, every redirect, keep-alive reuse proven from nginx's log,
# Connection: close, each timeout against slow locations, HTTPS with
# certificates made here (good, wrong host, untrusted CA, insecure, SNI,
# client certificate), nginx as a forward proxy, and CONNECT tunnels through
# a small test proxy (with and without proxy credentials).
source "$(dirname "$0")/peer_lib.sh"
for tool in nginx openssl sha256sum; do
  command -v "$tool" >/dev/null || { log "missing $tool"; exit 2; }
done

H=$(pick_port); S=$(pick_port); P=$(pick_port); C=$(pick_port); C2=$(pick_port); Q=$(pick_port)
DEAD=$(pick_port)
cd "$WORK"
mkdir -p www logs
printf 'small file\n' > www/small.txt
for i in 1 2 3; do printf 'keep %s\n' "$i" > "www/k$i.txt"; done
seq 1 20000 > www/text.txt
head -c 100M /dev/urandom > www/big.bin
printf 'moved here\n' > www/target.txt

# Certificates: a CA, a server certificate for good.test (SNI), a default
# one for IP 127.0.0.1, a client certificate, and a CA nobody trusts.
ec() { echo -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes; }
openssl req -x509 $(ec) -keyout ca.key -out ca.pem -days 2 -subj "/CN=httpkit test CA" 2>/dev/null
openssl req -x509 $(ec) -keyout other.key -out other-ca.pem -days 2 -subj "/CN=untrusted CA" 2>/dev/null
issue() {  # name subject-alt-names
  openssl req $(ec) -keyout "$1.key" -out "$1.csr" -subj "/CN=$1" 2>/dev/null
  printf 'subjectAltName=%s\n' "$2" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$1.pem" -days 2 \
    -extfile "$1.ext" 2>/dev/null
}
issue good "DNS:good.test"
issue default "DNS:default.test,IP:127.0.0.1"
issue client "DNS:client.test"

cat > nginx.conf <<CONF
load_module /usr/lib/nginx/modules/ngx_http_echo_module.so;
$(nginx_main_conf "$WORK" 1)
http {
  access_log off;
$(nginx_temp_paths "$WORK")
  log_format conn '\$connection \$connection_requests "\$request" \$status';
  default_type text/plain;
  keepalive_requests 1000;
  server {
    listen 127.0.0.1:$H;
    access_log $WORK/logs/origin.log conn;
    root $WORK/www;
    location /gz/ { alias $WORK/www/; gzip on; gzip_types text/plain; gzip_min_length 0; }
    location = /chunked { echo "hello"; echo_flush; echo_sleep 0.1; echo "world"; }
    location = /echo { echo_read_request_body; echo "\$request_method \$request_body"; }
    location = /r301 { return 301 /echo; }
    location = /r302 { return 302 /echo; }
    location = /r303 { return 303 /echo; }
    location = /r307 { return 307 /echo; }
    location = /r308 { return 308 /echo; }
    location = /absolute { return 302 http://127.0.0.1:$H/target.txt; }
    location = /loop { return 302 /loop; }
    location = /close { keepalive_timeout 0; alias $WORK/www/small.txt; }
    location = /slow-head { echo_sleep 3; echo "late"; }
    location = /slow-body { echo "start"; echo_flush; echo_sleep 3; echo "end"; }
    location = /drip {
      echo a; echo_flush; echo_sleep 0.4; echo b; echo_flush; echo_sleep 0.4;
      echo c; echo_flush; echo_sleep 0.4; echo d; echo_flush; echo_sleep 0.4;
      echo e; echo_flush; echo_sleep 0.4; echo f;
    }
  }
  server {
    listen 127.0.0.1:$S ssl default_server;
    server_name default.test;
    ssl_certificate $WORK/default.pem;
    ssl_certificate_key $WORK/default.key;
    root $WORK/www;
  }
  server {
    listen 127.0.0.1:$S ssl;
    server_name good.test;
    ssl_certificate $WORK/good.pem;
    ssl_certificate_key $WORK/good.key;
    ssl_client_certificate $WORK/ca.pem;
    ssl_verify_client optional;
    root $WORK/www;
    location = /sni { return 200 "sni good.test\n"; }
    location = /mtls {
      if (\$ssl_client_verify != SUCCESS) { return 403 "no client certificate\n"; }
      return 200 "hello \$ssl_client_s_dn\n";
    }
  }
  server {
    listen 127.0.0.1:$P;
    access_log $WORK/logs/proxy.log conn;
    location / { proxy_pass http://\$http_host\$request_uri; }
  }
}
CONF
nginx_start "$WORK" "$H" "$S" "$P" || exit 1
PIDS+=("$NGINX_PID")
$PY "$REPO_ROOT/tests/client/proxy.py" "$C" "$WORK/logs/connect.log" &
PIDS+=($!)
$PY "$REPO_ROOT/tests/client/proxy.py" "$C2" "$WORK/logs/connect2.log" --auth user:secret &
PIDS+=($!)
$PY "$REPO_ROOT/tests/client/silent_listener.py" "$Q" &
PIDS+=($!)
for port in $C $C2; do wait_port "$port"; done
sleep 0.3  # the silent listener cannot be probed: a connect to it hangs
O=http://127.0.0.1:$H

log "# static, chunked, gzip"
run_fetch "$O/small.txt"
check_eq "static file" "small file" "$OUT"
run_fetch -i "$O/chunked"
check "chunked response from nginx" grep -qi "^Transfer-Encoding: chunked" <<<"$OUT"
check "chunked body decoded" grep -qz "hello.world" <<<"$OUT"
run_fetch -i "$O/gz/text.txt"
check "gzip response from nginx" grep -qi "^Content-Encoding: gzip" <<<"$OUT"
run_fetch -o "$WORK/text.out" "$O/gz/text.txt"
check "gzip body decoded" cmp -s "$WORK/text.out" www/text.txt
run_fetch --raw -H "Accept-Encoding: gzip" -o "$WORK/text.raw" "$O/gz/text.txt"
check_eq "--raw keeps the gzip bytes" "1f8b" "$(head -c 2 "$WORK/text.raw" | od -An -tx1 | tr -d ' \n')"

log "# 100 MB streamed"
read -r BIG_RC BIG_RSS < <($PY - "$FETCH" -o "$WORK/big.out" "$O/big.bin" <<'PYEOF'
import resource, subprocess, sys
rc = subprocess.call(sys.argv[1:])
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PYEOF
)
check_eq "100 MB download exit status" 0 "$BIG_RC"
check_eq "100 MB body intact" "$(sha256sum < www/big.bin)" "$(sha256sum < "$WORK/big.out")"
check "100 MB streamed in bounded memory (max RSS ${BIG_RSS} KiB < 32 MiB)" test "$BIG_RSS" -lt 32768
rm -f "$WORK/big.out"

log "# redirects"
for code in 301 302 303; do
  run_fetch -L -d x=1 "$O/r$code"
  check_eq "$code turns POST into GET" "GET " "$OUT"
done
for code in 307 308; do
  run_fetch -L -d x=1 "$O/r$code"
  check_eq "$code keeps POST and its body" "POST x=1" "$OUT"
done
run_fetch -L "$O/absolute"
check_eq "absolute Location" "moved here" "$OUT"
run_fetch -i "$O/r302"
check "without -L the 302 is the answer" grep -q "^HTTP/1.1 302" <<<"$OUT"
run_fetch -L --max-redirs 3 "$O/loop"
check_eq "redirect loop exit status" 47 "$RC"
check "redirect loop reason" grep -q "too many redirects: more than 3 redirects" <<<"$ERR"

log "# keep-alive reuse, proven from nginx's log"
: > logs/origin.log.mark
run_fetch "$O/k1.txt" "$O/k2.txt" "$O/k3.txt"
check_eq "three bodies" "$(printf 'keep 1\nkeep 2\nkeep 3')" "$OUT"
sleep 0.2
K=$(grep '"GET /k[123].txt' logs/origin.log | tail -3)
check_eq "one connection for three requests" 1 "$(awk '{print $1}' <<<"$K" | sort -u | wc -l)"
check_eq "its request counter went 1 2 3" "1 2 3" "$(awk '{print $2}' <<<"$K" | paste -sd' ')"
run_fetch "$O/close" "$O/k1.txt"
sleep 0.2
CL=$(grep -E '"GET /(close|k1.txt)' logs/origin.log | tail -2)
check_eq "Connection: close forces a new connection" 2 "$(awk '{print $1}' <<<"$CL" | sort -u | wc -l)"

log "# timeouts and refusals"
run_fetch --idle-timeout 1 "$O/slow-head"
check_eq "idle timeout before the head: exit" 28 "$RC"
check "idle timeout names itself" grep -q "timeout (idle): .*waiting for the response head" <<<"$ERR"
run_fetch --idle-timeout 1 "$O/slow-body"
check_eq "idle timeout inside the body: exit" 28 "$RC"
check "idle timeout inside the body: reason" grep -q "waiting for the response body" <<<"$ERR"
run_fetch --idle-timeout 2 --max-time 1 "$O/drip"
check_eq "total timeout on a dripping body: exit" 28 "$RC"
check "total timeout names itself" grep -q "timeout (total)" <<<"$ERR"
run_fetch --connect-timeout 0.5 "http://127.0.0.1:$Q/"
check_eq "connect timeout: exit" 28 "$RC"
check "connect timeout names itself" grep -q "timeout (connect): .*in TCP connect" <<<"$ERR"
run_fetch "http://127.0.0.1:$DEAD/"
check_eq "refused: exit" 7 "$RC"
check "refused: reason" grep -q "connect: cannot connect to 127.0.0.1:$DEAD: Connection refused" <<<"$ERR"
run_fetch "http://no-such-host.invalid/"
check_eq "unknown host: exit" 6 "$RC"

log "# https"
GOOD="--resolve good.test:$S:127.0.0.1"
run_fetch --cacert ca.pem $GOOD -w "https://good.test:$S/small.txt"
check_eq "good certificate" "small file" "$OUT"
check "TLS time reported" grep -Eq "tls: 0\.0*[1-9]" <<<"$ERR"
run_fetch --cacert ca.pem $GOOD "https://good.test:$S/sni"
check_eq "SNI chose the good.test server" "sni good.test" "$OUT"
run_fetch --cacert ca.pem "https://127.0.0.1:$S/small.txt"
check_eq "IP address checked against the IP SAN" "small file" "$OUT"
run_fetch --cacert ca.pem --resolve wrong.test:$S:127.0.0.1 "https://wrong.test:$S/small.txt"
check_eq "wrong host name: exit" 35 "$RC"
check "wrong host name: reason" grep -q "tls: .*hostname mismatch" <<<"$ERR"
run_fetch --cacert other-ca.pem $GOOD "https://good.test:$S/small.txt"
check_eq "untrusted CA: exit" 35 "$RC"
check "untrusted CA: reason" grep -q "certificate verify failed: unable to get local issuer certificate" <<<"$ERR"
run_fetch $GOOD "https://good.test:$S/small.txt"
check_eq "system store does not know the test CA" 35 "$RC"
run_fetch -k --resolve wrong.test:$S:127.0.0.1 "https://wrong.test:$S/small.txt"
check_eq "insecure accepts anything" "small file" "$OUT"
run_fetch --cacert ca.pem $GOOD "https://good.test:$S/mtls"
check_eq "no client certificate" "no client certificate" "$OUT"
run_fetch --cacert ca.pem $GOOD --cert client.pem --key client.key "https://good.test:$S/mtls"
check_eq "client certificate presented" "hello CN=client" "$OUT"
run_fetch --cacert ca.pem $GOOD --cert /nonexistent.pem "https://good.test:$S/mtls"
check "unreadable client certificate is a TLS error" test "$RC" = 35

log "# proxies"
run_fetch -x "127.0.0.1:$P" "$O/small.txt"
check_eq "through nginx as a forward proxy" "small file" "$OUT"
sleep 0.2
check "the proxy got the absolute form" grep -q "\"GET http://127.0.0.1:$H/small.txt HTTP/1.1\" 200" logs/proxy.log
run_fetch -x "127.0.0.1:$C" --cacert ca.pem "https://good.test:$S/sni" "https://good.test:$S/small.txt"
check_eq "https through a CONNECT tunnel" "$(printf 'sni good.test\nsmall file')" "$OUT"
check_eq "one tunnel for two requests" 1 "$(grep -c "TUNNEL good.test:$S" logs/connect.log)"
run_fetch -x "127.0.0.1:$C2" --cacert ca.pem "https://good.test:$S/small.txt"
check_eq "proxy wants credentials: exit" 5 "$RC"
check "proxy refusal names the status" grep -q "proxy: the proxy refused CONNECT good.test:$S: 407" <<<"$ERR"
run_fetch -x "user:secret@127.0.0.1:$C2" --cacert ca.pem "https://good.test:$S/small.txt"
check_eq "CONNECT with proxy credentials" "small file" "$OUT"
run_fetch -x "127.0.0.1:$C" --cacert ca.pem "https://good.test:$DEAD/"
check_eq "tunnel to a dead port: exit" 5 "$RC"

finish
