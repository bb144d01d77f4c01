#!/usr/bin/env bash
# Fuzzes the TLS 1.3 record layer (fuzz/tls_record_fuzz.cpp: records,
# alerts, KeyUpdate and NewSessionTicket split at any point, with seal()
# calls in between) for SECONDS (default 60); non-zero on a crash. Options
# as for scripts/fuzz.sh (e.g. --grow).
#
#   scripts/fuzz_tls.sh [--grow] [SECONDS]
exec "$(dirname "$0")/fuzz.sh" --target tls_record "$@"
