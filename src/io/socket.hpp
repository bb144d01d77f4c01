// Small wrappers over the BSD socket calls the loops need.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace httpkit::io {

// A listening TCP socket, non-blocking, with SO_REUSEADDR and (optionally)
// SO_REUSEPORT so that every loop of every process can own one.
// Throws std::system_error on failure.
int listen_tcp(const std::string& host, uint16_t port, bool reuse_port, int backlog = 65535);

// A bound, not listening socket that holds a port for later SO_REUSEPORT
// listeners (it never receives connections). Throws on failure.
int reserve_port(const std::string& host, uint16_t port);

uint16_t local_port_of(int fd);

void set_nodelay(int fd);

// The process's descriptor limit (RLIMIT_NOFILE, soft).
std::size_t descriptor_limit();

}  // namespace httpkit::io
