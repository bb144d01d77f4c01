// httpkit-server: the server of http-kit's 600k-connection benchmark.
//
// GET /?length=L answers text/plain with the first max(1, min(10240, L))
// bytes of http-kit's constant text (common/benchmark_text.hpp; 1024 when
// L is absent).
//
// HTTPS: --tls-cert/--tls-key make --port speak TLS, or, with --tls-port,
// add a TLS port next to the plain one. SIGHUP reloads the certificates.
//
// The application layer, each off unless asked for (/ and /ws stay as
// they are): --static DIR serves DIR under /files/ (a Router mount),
// --compress compresses every response, --access-log FILE writes the
// combined log (SIGUSR1 reopens it), --cors ORIGIN (repeatable) answers
// preflights and allows those origins, --decode-requests decodes request
// bodies sent with a Content-Encoding (413 past 8 MiB decoded).
#include <signal.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/benchmark_text.hpp"
#include "httpkit/access_log.hpp"
#include "httpkit/channel.hpp"
#include "httpkit/compression.hpp"
#include "httpkit/middleware.hpp"
#include "httpkit/router.hpp"
#include "httpkit/server.hpp"
#include "httpkit/static_files.hpp"

namespace {

// /ws: a WebSocket echo (text stays text, binary stays binary).
const std::shared_ptr<const httpkit::ChannelHandlers>& echo_handlers() {
  static const auto handlers = [] {
    auto h = std::make_shared<httpkit::ChannelHandlers>();
    h->on_receive = [](const httpkit::ChannelPtr& ch, std::string_view message, bool binary) {
      if (binary) {
        ch->send_binary(std::string(message));
      } else {
        ch->send(std::string(message));
      }
    };
    return std::shared_ptr<const httpkit::ChannelHandlers>(std::move(h));
  }();
  return handlers;
}

httpkit::Response answer(const httpkit::Request& request) {
  if (request.path() == "/ws") {
    // as_channel would hold a plain HTTP request open as a channel that the
    // echo never answers.
    if (!request.header("upgrade"))
      return httpkit::Response::text("/ws is a WebSocket endpoint\n", 400);
    return httpkit::as_channel(request, echo_handlers());
  }
  long length = httpkit::benchmark::kDefaultLength;
  const httpkit::Params params = request.query_params();  // get() returns views into it
  if (auto value = params.get("length")) {
    auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), length);
    if (ec != std::errc() || end != value->data() + value->size() || value->empty())
      return httpkit::Response::text("length must be an integer\n", 400);
  }
  httpkit::Response response;
  response.body = httpkit::benchmark::kText.substr(0, httpkit::benchmark::body_length(length));
  response.header("Content-Type", "text/plain");
  return response;
}

// "HOST=CERT,KEY" of --tls-sni.
std::optional<httpkit::SniCertificate> parse_sni(const std::string& spec) {
  const std::size_t eq = spec.find('=');
  const std::size_t comma = spec.find(',', eq == std::string::npos ? 0 : eq);
  if (eq == std::string::npos || eq == 0 || comma == std::string::npos || comma == eq + 1 ||
      comma + 1 == spec.size())
    return std::nullopt;
  return httpkit::SniCertificate{spec.substr(0, eq), spec.substr(eq + 1, comma - eq - 1),
                                 spec.substr(comma + 1)};
}

// The flags of the application layer.
struct AppFlags {
  std::string static_dir;
  bool compress = false;
  std::string access_log;
  std::vector<std::string> cors_origins;
  bool decode_requests = false;
};

// `answer` alone, or wrapped as the flags ask: the access log outermost
// (it logs what goes out, preflight answers included), CORS in front of
// the rest, compression next to the handlers.
httpkit::Handler build_handler(const AppFlags& flags) {
  httpkit::Handler app = answer;
  if (!flags.static_dir.empty()) {
    httpkit::Router router;
    router.get("/files/*path", httpkit::serve_files(flags.static_dir));
    // Every other path is answered as without --static, but under
    // /files/ what the route refuses (an escaped '/' or NUL) is a 404.
    router.not_found([](const httpkit::Request& request) {
      if (request.path().starts_with("/files/")) return httpkit::Response::text("Not Found\n", 404);
      return answer(request);
    });
    app = router;
  }
  if (flags.compress) app = httpkit::wrap_compression(std::move(app));
  if (flags.decode_requests) app = httpkit::wrap_decode_request(std::move(app));
  if (!flags.cors_origins.empty()) {
    httpkit::CorsOptions cors;
    cors.allowed_origins = flags.cors_origins;
    app = httpkit::wrap_cors(std::move(app), std::move(cors));
  }
  if (!flags.access_log.empty()) {
    auto log = std::make_shared<httpkit::AccessLog>(flags.access_log);
    httpkit::AccessLog::reopen_on_signal(SIGUSR1);  // before the server's threads
    app = httpkit::wrap_access_log(std::move(app), std::move(log));
  }
  return app;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"httpkit-server: the http-kit 600k benchmark server"};
  httpkit::ServerOptions options;
  options.port = 8000;
  std::string processes = "1";
  app.add_option("--port", options.port, "TCP port")->capture_default_str();
  app.add_option("--bind", options.host, "address to listen on")->capture_default_str();
  app.add_option("--threads", options.threads, "event loops per process (0: one per core)")
      ->capture_default_str();
  app.add_option("--processes", processes, "worker processes: a number, or auto")
      ->capture_default_str();
  app.add_option("--accept", options.accept,
                 "per-loop: a SO_REUSEPORT socket per loop; shared: one socket all loops watch")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, httpkit::ServerOptions::Accept>{
              {"per-loop", httpkit::ServerOptions::Accept::per_loop},
              {"shared", httpkit::ServerOptions::Accept::shared}},
          CLI::ignore_case));
  app.add_option("--max-connections", options.max_connections,
                 "connections the server holds at most (0: no limit but descriptors)")
      ->capture_default_str();
  app.add_option("--worker-threads", options.worker_threads,
                 "run the handler on this many threads (0: inline on the loops)")
      ->capture_default_str();
  // Deadlines a peer controls, in milliseconds (tests shorten them).
  const auto deadline = [&](const char* name, std::chrono::milliseconds& value, const char* what) {
    app.add_option_function<long>(
           name, [&value](long ms) { value = std::chrono::milliseconds(ms); }, what)
        ->check(CLI::PositiveNumber)
        ->default_str(std::to_string(value.count()));
  };
  deadline("--header-timeout", options.header_timeout,
           "ms from a request's first byte to its head's end");
  deadline("--body-timeout", options.body_timeout, "ms a request body may stall");
  deadline("--idle-timeout", options.idle_timeout, "ms a keep-alive connection may idle");
  deadline("--write-timeout", options.write_timeout, "ms a response may wait for a reader");
  httpkit::ServerTlsOptions tls;
  uint16_t tls_port = 0;
  std::vector<std::string> sni;
  std::string client_verify = "required";
  app.add_option("--tls-cert", tls.cert_file, "PEM certificate chain: serve HTTPS");
  app.add_option("--tls-key", tls.key_file, "PEM private key of --tls-cert");
  auto* tls_port_option =
      app.add_option("--tls-port", tls_port, "HTTPS on this port, plain HTTP stays on --port");
  app.add_option("--tls-sni", sni, "HOST=CERT,KEY: a certificate for an SNI name (repeatable)");
  app.add_option("--tls-client-ca", tls.client_ca_file, "verify client certificates against it");
  app.add_option("--tls-client-verify", client_verify, "with --tls-client-ca: required|optional")
      ->check(CLI::IsMember({"required", "optional"}))
      ->capture_default_str();
  deadline("--tls-handshake-timeout", tls.handshake_timeout, "ms a TLS handshake may take");
  bool openssl_records = false;
  app.add_flag("--tls-openssl-records", openssl_records,
               "TLS 1.3 connections keep OpenSSL's record layer (~14 KB idle each)");
  AppFlags flags;
  app.add_option("--static", flags.static_dir, "serve the files under DIR at /files/")
      ->check(CLI::ExistingDirectory);
  app.add_flag("--decode-requests", flags.decode_requests,
               "decode request bodies sent gzip, deflate, br or zstd (413 past 8 MiB decoded)");
  app.add_flag("--compress", flags.compress,
               "compress responses (zstd, br, gzip, deflate by Accept-Encoding)");
  app.add_option("--access-log", flags.access_log,
                 "append the combined access log to FILE; SIGUSR1 reopens it (rotation)");
  app.add_option("--cors", flags.cors_origins,
                 "allow this origin (repeatable; * for any), answering preflights");
  CLI11_PARSE(app, argc, argv);

  if (tls.cert_file.empty() != tls.key_file.empty()) {
    std::fprintf(stderr, "--tls-cert and --tls-key go together\n");
    return 2;
  }
  if (!tls.cert_file.empty()) {
    for (const std::string& spec : sni) {
      auto entry = parse_sni(spec);
      if (!entry) {
        std::fprintf(stderr, "--tls-sni: HOST=CERT,KEY, not %s\n", spec.c_str());
        return 2;
      }
      tls.sni.push_back(std::move(*entry));
    }
    if (!tls.client_ca_file.empty())
      tls.client_verify = client_verify == "optional"
                              ? httpkit::ServerTlsOptions::ClientVerify::optional
                              : httpkit::ServerTlsOptions::ClientVerify::required;
    tls.own_record_layer = !openssl_records;
    options.tls = tls;
    if (tls_port_option->count()) options.tls_port = tls_port;
  } else if (tls_port_option->count() || !sni.empty() || !tls.client_ca_file.empty()) {
    std::fprintf(stderr, "--tls-port, --tls-sni and --tls-client-ca need --tls-cert\n");
    return 2;
  }

  if (processes == "auto") {
    options.processes = 0;
  } else {
    auto [end, ec] =
        std::from_chars(processes.data(), processes.data() + processes.size(), options.processes);
    if (ec != std::errc() || end != processes.data() + processes.size() || options.processes < 1) {
      std::fprintf(stderr, "--processes: a positive number or auto\n");
      return 2;
    }
  }

  if (!flags.access_log.empty() && options.processes != 1) {
    // The log's writer thread would not survive the fork into workers.
    std::fprintf(stderr, "--access-log needs --processes 1\n");
    return 2;
  }

  try {
    httpkit::Server server(build_handler(flags), options);
    server.start();
    std::printf("Server started. listen at %s:%u\n", options.host.c_str(), unsigned(server.port()));
    if (options.tls)
      std::printf("TLS listen at %s:%u\n", options.host.c_str(), unsigned(server.tls_port()));
    std::fflush(stdout);
    server.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "httpkit-server: %s\n", e.what());
    return 1;
  }
  return 0;
}
