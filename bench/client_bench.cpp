// httpkit-client-bench: load from the httpkit client on one loop thread.
//
//   httpkit-client-bench --url http://127.0.0.1:8080/ -c 100 -d 10
//       keeps 100 requests in flight (100 pooled keep-alive connections),
//       each answered request immediately followed by the next; prints req/s.
//   httpkit-client-bench --url http://127.0.0.1:8080/ --idle 10000
//       opens 10000 pooled connections, lets them idle and prints the
//       process's RSS growth per idle pooled connection.
#include <malloc.h>
#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include "httpkit/client.hpp"

namespace {

using namespace httpkit;
using Clock = std::chrono::steady_clock;

// Heap bytes in use: what the client itself keeps per connection, without
// the allocator's free lists that RSS also counts.
long heap_bytes() {
  return long(mallinfo2().uordblks);
}

long rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

struct Load {
  Client* client = nullptr;
  RequestOptions opts;
  std::atomic<uint64_t> done{0}, errors{0};
  std::atomic<bool> stop{false};
  std::string first_error;

  void fire() {
    client->request(opts, [this](ClientResponse r) {
      if (r.error || r.status != 200) {
        if (errors.fetch_add(1) == 0)
          first_error = r.error ? r.error.message : std::to_string(r.status);
      }
      done.fetch_add(1, std::memory_order_relaxed);
      if (!stop.load(std::memory_order_relaxed)) fire();  // on the loop thread: no hop
    });
  }
};

int throughput(const std::string& url, int concurrency, double seconds, double warmup) {
  ClientConfig config;
  config.max_connections = std::size_t(concurrency);
  Client client(config);
  Load load;
  load.client = &client;
  load.opts.url = url;
  load.opts.auto_decompress = false;
  load.opts.user_agent = "";
  for (int i = 0; i < concurrency; ++i)
    load.fire();
  std::this_thread::sleep_for(std::chrono::duration<double>(warmup));
  uint64_t start_count = load.done.load();
  auto start = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  uint64_t end_count = load.done.load();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  load.stop = true;
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  double rps = double(end_count - start_count) / elapsed;
  std::printf("requests/sec: %.0f\nconnections: %llu\nerrors: %llu\n", rps,
              (unsigned long long)client.stats().connections_opened,
              (unsigned long long)load.errors.load());
  if (load.errors) std::fprintf(stderr, "first error: %s\n", load.first_error.c_str());
  return load.errors ? 1 : 0;
}

int idle_memory(const std::string& url, int connections) {
  ClientConfig config;
  config.max_connections = std::size_t(connections);
  Client client(config);
  RequestOptions o;
  o.url = url;
  // One request first: loop, resolver, read buffer and allocator are warm.
  if (client.fetch(o).error) return 1;
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  long before = rss_bytes();
  long heap_before = heap_bytes();
  std::vector<std::future<ClientResponse>> pending;
  // Many at once so each needs a connection of its own.
  for (int i = 0; i < connections; ++i)
    pending.push_back(client.request(o));
  int errors = 0;
  for (auto& f : pending)
    errors += f.get().error ? 1 : 0;
  pending.clear();
  pending.shrink_to_fit();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  long after = rss_bytes();
  long heap_after = heap_bytes();
  ClientStats s = client.stats();
  const double n = s.idle_connections ? double(s.idle_connections) : 1.0;
  std::printf(
      "idle pooled connections: %zu\n"
      "heap in use per idle connection: %.0f bytes\n"
      "rss growth per idle connection: %.0f bytes (includes freed request memory the "
      "allocator keeps)\nerrors: %d\n",
      s.idle_connections, double(heap_after - heap_before) / n, double(after - before) / n, errors);
  return errors ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string url;
  int concurrency = 100, idle = 0;
  double seconds = 10, warmup = 1;
  CLI::App app{"httpkit-client-bench: keep-alive load from the httpkit client on one loop thread"};
  app.add_option("--url", url, "URL to GET")->required();
  app.add_option("-c,--concurrency", concurrency, "requests in flight (and connections)");
  app.add_option("-d,--duration", seconds, "seconds to measure");
  app.add_option("--warmup", warmup, "seconds before measuring");
  app.add_option("--idle", idle, "measure memory per idle pooled connection with N connections");
  CLI11_PARSE(app, argc, argv);
  return idle > 0 ? idle_memory(url, idle) : throughput(url, concurrency, seconds, warmup);
}
