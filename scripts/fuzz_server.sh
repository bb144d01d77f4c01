#!/usr/bin/env bash
# Fuzzes the server's connection code through a live in-process server
# (fuzz/server_connection_fuzz.cpp) for SECONDS (default 60); non-zero on a
# crash. Options as for scripts/fuzz.sh (e.g. --grow).
#
#   scripts/fuzz_server.sh [--grow] [SECONDS]
exec "$(dirname "$0")/fuzz.sh" --target server_connection "$@"
