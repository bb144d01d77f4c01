# The one way the benchmarks and the peer tests start nginx (Debian's):
# sourced, not run. Everything nginx writes (pid, logs, temp files) stays in
# a directory of the caller's, and only the PID started here is stopped.
#
#   nginx_bench_conf DIR PORT WORKERS BODY_FILE [LISTEN_OPTIONS] [SERVER_LINES]
#       writes DIR/nginx.conf: 127.0.0.1:PORT answers every request with 200,
#       text/plain, BODY_FILE's bytes (no " $ \ or newline in them), keep-alive
#       without a request limit, no access log. SERVER_LINES go into the
#       server block as they are (e.g. HTTPS: LISTEN_OPTIONS "ssl ..." and
#       nginx_tls_lines CERT KEY).
#   nginx_tls_lines CERT KEY
#       the server-block lines of the TLS benchmarks: the certificate and key,
#       TLS 1.2 and 1.3 (nginx 1.22's default leaves 1.3 out), tickets on.
#   nginx_tls_speed_lines CERT KEY
#       the same, and httpkit's TLS 1.3 suites in httpkit's order with the
#       server's choice, for the speed comparisons: without them nginx
#       follows the client's order and runs AES-256-GCM where httpkit runs
#       AES-128-GCM, a different cipher and hash for the two servers.
#   nginx_main_conf DIR WORKERS / nginx_temp_paths DIR
#       the main-context lines (workers, pid, error log, events) and the
#       http-context temp paths, for a test that writes its own config.
#   nginx_start DIR PORT...   starts nginx on DIR/nginx.conf in the foreground
#       of a background job, sets NGINX_PID, waits until every PORT accepts
#       (bounded); on failure prints the error log and returns 1.
#   nginx_stop                SIGTERM to NGINX_PID, a bounded wait, SIGKILL.
#   nginx_exec DIR            execs nginx (for a caller that manages the PID,
#       e.g. bench/memory.sh: bash -c 'source nginx.sh; nginx_exec "$1"').
#
# Ports: nginx cannot listen on port 0 and say which port it got, so callers
# pick one with low_free_port (scripts/lib/ports.sh, sourced here), below the
# kernel's ephemeral range.

source "$(dirname "${BASH_SOURCE[0]}")/ports.sh"
NGINX_PID=""

nginx_main_conf() {
  local dir=$1 workers=$2
  cat <<EOF
worker_processes $workers;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 19000; }
EOF
}

nginx_temp_paths() {
  local dir=$1
  cat <<EOF
  client_body_temp_path $dir/tmp/body; proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi; uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
EOF
}

nginx_bench_conf() {
  local dir=$1 port=$2 workers=$3 body_file=$4 listen_options=${5:-backlog=4096} server_lines=${6:-}
  mkdir -p "$dir"
  {
    nginx_main_conf "$dir" "$workers"
    echo "http {"
    echo "  access_log off;"
    echo "  keepalive_requests 1000000000;"
    echo "  keepalive_timeout 75s;"
    nginx_temp_paths "$dir"
    echo "  server {"
    echo "    listen 127.0.0.1:$port $listen_options;"
    echo "    default_type text/plain;"
    [ -z "$server_lines" ] || echo "    $server_lines"
    echo "    location / { return 200 \"$(cat "$body_file")\"; }"
    echo "  }"
    echo "}"
  } >"$dir/nginx.conf"
}

nginx_tls_lines() {
  echo "ssl_certificate $1; ssl_certificate_key $2; ssl_protocols TLSv1.2 TLSv1.3;"
}

nginx_tls_speed_lines() {
  local suites=TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256
  echo "$(nginx_tls_lines "$1" "$2") ssl_conf_command Ciphersuites $suites;" \
    "ssl_prefer_server_ciphers on;"
}

# Workers run as the invoking user: they need no access to anything else.
nginx_exec() {
  local dir=$1
  mkdir -p "$dir/tmp"
  exec nginx -p "$dir" -c "$dir/nginx.conf" -g "daemon off; master_process on; user $(id -un);"
}

nginx_start() {
  local dir=$1 port i up
  shift
  (nginx_exec "$dir") >>"$dir/stdout.log" 2>&1 &
  NGINX_PID=$!
  for i in $(seq 1 100); do
    kill -0 "$NGINX_PID" 2>/dev/null || break
    up=1
    for port in "$@"; do
      (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { up=0; break; }
    done
    ((up)) && return 0
    sleep 0.1
  done
  echo "nginx did not start (ports $*); its output:" >&2
  cat "$dir/stdout.log" "$dir/error.log" >&2 2>/dev/null || true
  nginx_stop
  return 1
}

nginx_stop() {
  local pid=$NGINX_PID i
  NGINX_PID=""
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
