// httpkit-load: the concurrency client of http-kit's 600k benchmark, on
// httpkit's own event loop and response parser.
//
//   httpkit-load --connections 600000 --port 8000 --duration 300
#include "options.hpp"
#include "supervisor.hpp"

int main(int argc, char** argv) {
  int exit_code = 0;
  auto options = httpkit::load::parse_options(argc, argv, exit_code);
  if (!options) return exit_code;
  return httpkit::load::run_load(*options);
}
