#!/usr/bin/env bash
# wrk against httpkit-server: plain keep-alive load, then pipelined load
# (16 requests per write) - no socket errors, only 2xx, requests > 0.
source "$(dirname "$0")/lib.sh"

start_server --threads 2
BASE="http://127.0.0.1:$SERVER_PORT"

# A pipelining script: one write carries 16 GETs with different lengths, so a
# server answering out of order or merging responses breaks wrk's parser.
cat >"$PEER_TMP/pipeline.lua" <<'LUA'
init = function(args)
  local r = {}
  for i = 1, 16 do
    r[i] = wrk.format("GET", "/?length=" .. (i * 64))
  end
  req = table.concat(r)
end
request = function()
  return req
end
LUA

# run_wrk DESCRIPTION WRK-ARGS...: run wrk and check its report.
run_wrk() {
  local what=$1; shift
  local out requests
  log "running: wrk $*"
  out=$(timeout 60 wrk "$@" 2>&1) || { log "$out"; check "$what: wrk exited 0" false; return; }
  requests=$(grep -E '[0-9]+ requests in' <<<"$out" | awk '{print $1}' || true)
  check "$what: requests > 0 (${requests:-none})" test "${requests:-0}" -gt 0
  check "$what: no socket errors" \
    test -z "$(grep -E 'Socket errors' <<<"$out")"
  check "$what: no non-2xx/3xx responses" \
    test -z "$(grep -E 'Non-2xx or 3xx responses' <<<"$out")"
  grep -E 'Socket errors|Non-2xx' <<<"$out" | sed 's/^/     /' || true
  log "     $(grep -E '^Requests/sec' <<<"$out")"
}

run_wrk "plain -t2 -c50 -d3s" -t2 -c50 -d3s "$BASE/"
run_wrk "pipelined x16 -t2 -c50 -d3s" -t2 -c50 -d3s -s "$PEER_TMP/pipeline.lua" "$BASE/"

check "server still alive" server_alive
finish wrk_test
