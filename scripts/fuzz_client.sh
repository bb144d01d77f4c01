#!/usr/bin/env bash
# Fuzzes the client's response parser, reader and decompressor
# (fuzz/client_response_fuzz.cpp) for SECONDS (default 60); non-zero on a
# crash. Options as for scripts/fuzz.sh (e.g. --grow).
#
#   scripts/fuzz_client.sh [--grow] [SECONDS]
exec "$(dirname "$0")/fuzz.sh" --target client_response "$@"
