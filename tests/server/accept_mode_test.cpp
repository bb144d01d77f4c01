// ServerOptions::accept: one listening socket shared by every loop of the
// process (EPOLLEXCLUSIVE) against one SO_REUSEPORT socket per loop.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "handler_gate.hpp"
#include "raw_client.hpp"
#include "test_server.hpp"

namespace httpkit::test {
namespace {

constexpr std::string_view kGet = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";
constexpr std::string_view kHold = "GET /hold HTTP/1.1\r\nHost: t\r\n\r\n";

std::string this_thread_name() {
  char name[16] = {};
  pthread_getname_np(pthread_self(), name, sizeof name);
  return name;
}

ServerOptions two_loops(ServerOptions::Accept accept) {
  ServerOptions o = test_options();
  o.threads = 2;
  o.accept = accept;
  return o;
}

bool accepts_connections(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

// With a shared socket, a loop held inside a handler is not woken for new
// connections: every one of them goes to the loop that waits. (With one
// socket per loop, the kernel's hash would send about half of them to the
// held loop, where they would wait for the handler.)
TEST(AcceptMode, ASharedSocketHandsNewConnectionsToTheLoopThatWaits) {
  HandlerGate gate;
  TestServer server(
      [&](const Request& req) {
        if (req.path() == "/hold") gate.pass();
        return Response::text(this_thread_name());
      },
      two_loops(ServerOptions::Accept::shared));
  auto opener = gate.open_on_exit();

  RawClient held(server.port());
  held.send(kHold);
  ASSERT_TRUE(gate.wait_entered(1));

  std::string free_loop;
  for (int i = 0; i < 16; ++i) {
    RawClient c(server.port(), 2000);
    c.send(kGet);
    const RawResponse r = c.read_response();
    ASSERT_EQ(r.status, 200) << "connection " << i << " waited behind the held loop";
    if (free_loop.empty()) free_loop = r.body;
    EXPECT_EQ(r.body, free_loop);
  }
  gate.open();
  const RawResponse r = held.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body, free_loop);  // the held request ran on the other loop
}

TEST(AcceptMode, BothModesServeOnEveryLoopAndStopClosingTheirSockets) {
  for (auto mode : {ServerOptions::Accept::per_loop, ServerOptions::Accept::shared}) {
    uint16_t port = 0;
    {
      TestServer server([](const Request&) { return Response::text(this_thread_name()); },
                        two_loops(mode));
      port = server.port();
      for (int i = 0; i < 8; ++i) {
        RawClient c(port);
        c.send(kGet);
        EXPECT_EQ(c.read_response().status, 200);
      }
    }
    // The last loop to stop let the shared socket go.
    EXPECT_FALSE(accepts_connections(port)) << "mode " << int(mode);
  }
}

// A burst that arrives at once on a shared socket, more connections than
// one wake-up reports, is served to the last connection.
TEST(AcceptMode, ASharedSocketServesABurstLeftInTheBacklog) {
  TestServer server([](const Request&) { return Response::text("x"); },
                    two_loops(ServerOptions::Accept::shared));
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 64; ++i)
    clients.push_back(std::make_unique<RawClient>(server.port(), 3000));
  for (auto& c : clients)
    c->send(kGet);
  for (std::size_t i = 0; i < clients.size(); ++i)
    ASSERT_EQ(clients[i]->read_response().status, 200) << "connection " << i;
}

double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// At the connection limit the loops leave the shared socket's backlog alone
// without spinning on it, and take the connection that waited once another
// closes.
TEST(AcceptMode, ASharedSocketAtTheLimitNeitherSpinsNorForgetsTheBacklog) {
  ServerOptions o = two_loops(ServerOptions::Accept::shared);
  o.max_connections = 1;
  TestServer server([](const Request&) { return Response::text("x"); }, o);
  auto first = std::make_unique<RawClient>(server.port());
  first->send(kGet);
  ASSERT_EQ(first->read_response().status, 200);
  RawClient waiting(server.port(), 5000);  // in the backlog, behind the limit
  waiting.send(kGet);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const double before = process_cpu_seconds();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  // A loop spinning on the listener would burn about the whole 0.5 s.
  EXPECT_LT(process_cpu_seconds() - before, 0.2);
  first.reset();  // a connection closes: the waiting one is taken
  EXPECT_EQ(waiting.read_response().status, 200);
}

}  // namespace
}  // namespace httpkit::test
