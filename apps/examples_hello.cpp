// The README's example, compiled so that it stays true.
#include <httpkit/server.hpp>

int main() {
  httpkit::Server server(
      [](const httpkit::Request& req) {
        auto name = req.query_params().get("name").value_or("world");
        return httpkit::Response::text("hello " + std::string(name) + "\n");
      },
      {.port = 8090});
  server.run();  // until Ctrl-C, then drains gracefully
}
