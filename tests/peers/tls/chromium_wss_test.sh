#!/usr/bin/env bash
# Headless Chromium over https and wss:// against httpkit-server: starts the
# server with the test certificate, then runs chromium_wss_test.js (node's
# test runner, playwright-core from the repo's node_modules) with the leaf's
# SPKI hash, which that Chromium profile trusts.
source "$(dirname "$0")/tls_lib.sh"
NODE=${HTTPKIT_NODE:-node}
command -v "$NODE" >/dev/null || { log "FAIL - node not found"; exit 2; }
[ -d "$PEER_REPO_ROOT/node_modules/playwright-core" ] ||
  { log "FAIL - playwright-core missing: run scripts/setup.sh (npm install)"; exit 2; }

start_tls_server --threads 2
rc=0
HTTPKIT_TLS_PORT=$TLS_PORT \
HTTPKIT_SPKI=$(cert_spki_sha256_base64 "$CERTS/localhost-ec.pem") \
HTTPKIT_EXPECTED_BODY=$(expected_body "") \
  timeout $((100 * SCALE)) "$NODE" --test "$(dirname "$0")/chromium_wss_test.js" || rc=$?
check_eq "chromium_wss_test.js passed (node --test exit status)" 0 "$rc"
check "server alive after Chromium" tls_alive
stop_server
check_eq "SIGTERM: exit 0" 0 "$SERVER_EXIT"
finish chromium_wss_test
