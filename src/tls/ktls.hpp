// The kernel's TLS (kTLS) for the sending direction of a TLS 1.3
// connection: once the kernel holds the write key and sequence, plaintext
// written to the socket, and sendfile, go out as records.
//
// UNTESTED HERE: this machine's kernel offers no `tls` ULP, so
// ktls_available() is false and every connection seals in user space (the
// fallback reads a file into a buffer and seals it). The code follows
// Documentation/networking/tls.rst.
#pragma once

#include "tls/record_protection.hpp"

namespace httpkit::tls {

// Whether the kernel offers the `tls` ULP (read once from
// /proc/sys/net/ipv4/tcp_available_ulp).
bool ktls_available();

// Hands the write direction of `fd` to the kernel: AES-GCM suites only.
// False (and the socket unchanged, or the connection unusable if the
// second step failed: the caller then closes it) when it cannot.
bool enable_ktls_tx(int fd, const TrafficKeys& write);

}  // namespace httpkit::tls
