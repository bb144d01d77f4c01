// The request-decoding peer test's server and encoder
// (tests/peers/decode/decode_test.sh):
//
//   decode_peer_tool serve MAX_DECODED   prints "port N", then serves:
//       every request goes through wrap_decode_request, and the handler
//       echoes the body it saw, with X-Seen-Content-Encoding and
//       X-Seen-Content-Length saying what its head said.
//   decode_peer_tool encode CODING       stdin coded (gzip, deflate, br,
//       zstd) to stdout, in a stream: a bomb never exists decoded.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "app/content_encoder.hpp"
#include "httpkit/middleware.hpp"
#include "httpkit/server.hpp"

namespace {

int serve(std::size_t max_decoded) {
  httpkit::ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.threads = 1;
  httpkit::Handler echo = [](const httpkit::Request& req) {
    httpkit::Response r = httpkit::Response::text(std::string(req.body()));
    r.header("X-Seen-Content-Encoding", std::string(req.header("content-encoding").value_or("-")));
    r.header("X-Seen-Content-Length", std::string(req.header("content-length").value_or("-")));
    return r;
  };
  httpkit::Server server(httpkit::wrap_decode_request(echo, {.max_decoded = max_decoded}), options);
  server.start();
  std::printf("port %u\n", unsigned(server.port()));
  std::fflush(stdout);
  server.run();  // until SIGTERM
  return 0;
}

int encode(std::string_view name) {
  const auto coding = httpkit::http::coding_named(name);
  if (!coding || *coding == httpkit::http::ContentCoding::identity) {
    std::fprintf(stderr, "unknown coding %.*s\n", int(name.size()), name.data());
    return 2;
  }
  auto encoder = httpkit::app::make_content_encoder(*coding);
  std::string in(1 << 16, '\0'), out;
  bool ok = true;
  for (std::size_t n; ok && (n = std::fread(in.data(), 1, in.size(), stdin)) > 0;) {
    ok = encoder->write({in.data(), n}, out);
    std::fwrite(out.data(), 1, out.size(), stdout);
    out.clear();
  }
  ok = ok && encoder->finish(out);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return ok && std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc == 3 ? argv[1] : "";
  if (mode == "serve") return serve(std::strtoull(argv[2], nullptr, 10));
  if (mode == "encode") return encode(argv[2]);
  std::fprintf(stderr, "usage: decode_peer_tool serve MAX_DECODED | encode CODING\n");
  return 2;
}
