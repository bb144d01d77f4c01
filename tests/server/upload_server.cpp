// A server for the upload peer test and bench/upload.sh: streamed bodies
// and multipart forms, answered with what arrived (sizes and SHA-256).
//
//   upload_server SPOOL_DIR   prints "port N" once listening (port 0)
//
//   POST /count   the body streamed: "<bytes> <sha256>"
//   POST /form    multipart spooled to SPOOL_DIR: one line per field
//                 ("field NAME VALUE") and file ("file NAME FILENAME SIZE SHA256")
#include <openssl/evp.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "httpkit/multipart_form.hpp"
#include "httpkit/request_body.hpp"
#include "httpkit/router.hpp"
#include "httpkit/server.hpp"

namespace {

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
    EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr);
  }
  void update(std::string_view bytes) { EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size()); }
  std::string hex() {
    unsigned char digest[32];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_.get(), digest, &n);
    std::string out;
    char byte[3];
    for (unsigned i = 0; i < n; ++i) {
      std::snprintf(byte, sizeof byte, "%02x", digest[i]);
      out += byte;
    }
    return out;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx_;
};

std::string file_sha256(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  Sha256 sha;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount())
    sha.update({buf, std::size_t(in.gcount())});
  return sha.hex();
}

httpkit::Response count(const httpkit::Request& req) {
  struct State {
    uint64_t bytes = 0;
    Sha256 sha;
  };
  auto state = std::make_shared<State>();
  return httpkit::receive_body(
      req, {.on_data =
                [state](const httpkit::RequestBodyPtr&, std::string_view bytes) {
                  state->bytes += bytes.size();
                  state->sha.update(bytes);
                },
            .on_end =
                [state](const httpkit::RequestBodyPtr& body) {
                  body->respond(httpkit::Response::text(std::to_string(state->bytes) + " " +
                                                        state->sha.hex() + "\n"));
                }});
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: upload_server SPOOL_DIR\n");
    return 2;
  }
  const std::string spool = argv[1];
  httpkit::Router app;
  app.post("/count", count, {.max_body = 1ull << 40, .stream_body = true});
  app.post("/form",
           [spool](const httpkit::Request& req) {
             return httpkit::receive_multipart(
                 req, {.spool_dir = spool},
                 [](const httpkit::Request&, const httpkit::MultipartForm& form) {
                   std::string out;
                   for (const httpkit::Param& p : form.fields)
                     out += "field " + p.name + " " + p.value + "\n";
                   for (const httpkit::UploadedFile& f : form.files)
                     out += "file " + f.name + " " + f.filename + " " + std::to_string(f.size) +
                            " " + file_sha256(f.path) + "\n";
                   return httpkit::Response::text(out);
                 });
           },
           {.max_body = 1ull << 40, .stream_body = true});
  httpkit::ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.threads = 1;
  options.body_plan = app.body_plan();
  httpkit::Server server(app, options);
  server.start();
  std::printf("port %u\n", unsigned(server.port()));
  std::fflush(stdout);
  server.wait();
}
