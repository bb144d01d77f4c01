// "It allocates nothing for a request that arrives whole in one read":
// counts heap allocations made on the loop thread between two requests.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <vector>

#include "raw_client.hpp"
#include "test_server.hpp"

namespace {
thread_local std::size_t allocations_on_this_thread = 0;
}

// The replacement pairs malloc with free on purpose; GCC cannot see that.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(std::size_t size) {
  ++allocations_on_this_thread;
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace httpkit::test {
namespace {

TEST(Allocation, AWholeRequestCostsTheLoopNoAllocation) {
  static const std::string kBody(1024, 'x');
  std::vector<std::size_t> seen;  // the loop thread's count at each request
  seen.reserve(1000);
  TestServer server([&](const Request& r) {
    seen.push_back(allocations_on_this_thread);
    Response response;
    response.body = std::string_view(kBody);  // borrowed: the handler allocates nothing
    (void)r.header("host");
    (void)r.path();
    return response;
  });
  RawClient c(server.port());
  for (int i = 0; i < 200; ++i) {
    c.send("GET /?length=1024 HTTP/1.1\r\nHost: t\r\nUser-Agent: test\r\nAccept: */*\r\n\r\n");
    ASSERT_EQ(c.read_response().body.size(), 1024u);
  }
  // Skip the first requests (buffers warm up), then: not one allocation on
  // the loop thread from one request to the next.
  ASSERT_EQ(seen.size(), 200u);
  EXPECT_EQ(seen.back() - seen[10], 0u);
}

}  // namespace
}  // namespace httpkit::test
