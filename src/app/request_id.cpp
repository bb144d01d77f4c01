#include <openssl/rand.h>

#include <cstring>

#include "httpkit/middleware.hpp"

namespace httpkit {
namespace {

// The id of the request on this thread's stack of wrap_request_id calls.
thread_local std::string_view current_id;

bool sane_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return false;
  }
  return true;
}

void random_id(char out[32]) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) std::memset(bytes, 0, sizeof bytes);
  static const char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) {
    out[2 * i] = kHex[bytes[i] >> 4];
    out[2 * i + 1] = kHex[bytes[i] & 15];
  }
}

}  // namespace

std::string_view current_request_id() {
  return current_id;
}

Handler wrap_request_id(Handler next, std::string header_name) {
  return [next = std::move(next), header_name](const Request& req) {
    char generated[32];
    std::string_view id;
    if (auto sent = req.header(header_name); sent && sane_id(*sent)) {
      id = *sent;
    } else {
      random_id(generated);
      id = {generated, sizeof generated};
    }
    const std::string_view outer = current_id;
    current_id = id;
    struct Restore {
      std::string_view saved;
      ~Restore() { current_id = saved; }
    } restore{outer};
    Response r = next(req);
    r.header(header_name, std::string(id));
    return r;
  };
}

}  // namespace httpkit
