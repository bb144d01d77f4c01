#!/usr/bin/env bash
# Fuzzes the WebSocket frame decoder, message assembler and
# permessage-deflate (fuzz/ws_frame_fuzz.cpp) for SECONDS (default 60);
# non-zero on a crash. Options as for scripts/fuzz.sh (e.g. --grow).
#
#   scripts/fuzz_ws.sh [--grow] [SECONDS]
exec "$(dirname "$0")/fuzz.sh" --target ws_frame "$@"
