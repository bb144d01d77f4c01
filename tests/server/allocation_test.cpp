// "It allocates nothing for a request that arrives whole in one read", and
// exactly what each slower path a real connection takes costs: the heap
// allocations the loop thread makes from one request to the next, after
// warm-up, counted on every route to the heap.
#include <gtest/gtest.h>
#include <malloc.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "allocation_counter.hpp"
#include "raw_client.hpp"
#include "test_server.hpp"

namespace httpkit::test {
namespace {

// Keeps the compiler from eliding an allocation the test makes on purpose.
void escape(const void* p) {
  asm volatile("" : : "g"(p) : "memory");
}

template <class Allocate>
std::size_t allocations_in(Allocate allocate) {
  const std::size_t before = allocations_on_this_thread();
  allocate();
  return allocations_on_this_thread() - before;
}

struct alignas(64) Wide {
  char bytes[64];
};

TEST(AllocationCounter, SeesEveryRouteToTheHeap) {
  auto one = [](auto allocate) { EXPECT_EQ(allocations_in(allocate), 1u); };
  one([] {
    int* p = new int;
    escape(p);
    delete p;
  });
  one([] {
    int* p = new int[4];
    escape(p);
    delete[] p;
  });
  one([] {
    int* p = new (std::nothrow) int;
    escape(p);
    delete p;
  });
  one([] {
    int* p = new (std::nothrow) int[4];
    escape(p);
    delete[] p;
  });
  one([] {
    Wide* p = new Wide;  // operator new(size_t, align_val_t)
    escape(p);
    delete p;
  });
  one([] {
    Wide* p = new Wide[2];
    escape(p);
    delete[] p;
  });
  one([] {
    Wide* p = new (std::nothrow) Wide;
    escape(p);
    delete p;
  });
  one([] {
    void* p = std::malloc(10);
    escape(p);
    std::free(p);
  });
  one([] {
    void* p = std::calloc(3, 10);
    escape(p);
    std::free(p);
  });
  one([] {
    void* p = std::realloc(nullptr, 10);
    escape(p);
    std::free(p);
  });
  one([] {
    void* p = std::aligned_alloc(64, 128);
    escape(p);
    std::free(p);
  });
  one([] {
    void* p = nullptr;
    EXPECT_EQ(posix_memalign(&p, 64, 128), 0);
    escape(p);
    std::free(p);
  });
  one([] {
    void* p = memalign(64, 128);
    escape(p);
    std::free(p);
  });
  one([] {
    char* p = strdup("copied");
    escape(p);
    std::free(p);
  });
  EXPECT_EQ(allocations_in([] {
              void* p = std::malloc(16);
              escape(p);
              p = std::realloc(p, 1 << 20);  // grows: a second call into the heap
              escape(p);
              std::free(p);
            }),
            2u);
}

// A server whose handler allocates nothing (its body is borrowed) and notes
// the loop thread's allocation count at every request.
class CountingServer {
 public:
  explicit CountingServer(std::string_view body) : body_(body) {}
  uint16_t port() const { return server_.port(); }
  std::size_t requests() const { return requests_.load(std::memory_order_acquire); }

  // Every request after `warm_up` cost the loop exactly `each` allocations:
  // from one handler call to the next, which covers writing one response
  // and reading and parsing the next request.
  void expect_each_costs(std::size_t each, std::size_t warm_up) const {
    const std::size_t n = requests();
    ASSERT_LE(n, seen_.size());
    ASSERT_GT(n, warm_up + 1);
    for (std::size_t i = warm_up; i + 1 < n; ++i)
      EXPECT_EQ(seen_[i + 1].load() - seen_[i].load(), each) << "request " << i + 1;
  }

  // Waits until the loop thread has allocated since its handler answered
  // request `i`: for a response the socket did not take whole, once it has
  // put the rest aside.
  bool wait_for_allocation_after(std::size_t i) const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (;;) {
      const auto* loop = loop_counter_.load(std::memory_order_acquire);
      if (requests() > i && loop && loop->load() > seen_[i].load()) return true;
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

 private:
  Response answer(const Request& r) {
    const std::size_t i = requests_.load(std::memory_order_relaxed);
    if (i < seen_.size()) seen_[i].store(allocations_on_this_thread(), std::memory_order_relaxed);
    loop_counter_.store(&allocation_counter(), std::memory_order_relaxed);
    requests_.store(i + 1, std::memory_order_release);
    (void)r.header("host");  // reading the request costs nothing either
    (void)r.path();
    Response response;
    response.body = body_;
    return response;
  }

  std::string_view body_;
  std::array<std::atomic<std::size_t>, 512> seen_{};
  std::atomic<std::size_t> requests_{0};
  std::atomic<const std::atomic<std::size_t>*> loop_counter_{nullptr};
  TestServer server_{[this](const Request& r) { return answer(r); }};  // last: calls answer()
};

const std::string kGet =
    "GET /?length=1024 HTTP/1.1\r\nHost: t\r\nUser-Agent: test\r\nAccept: */*\r\n\r\n";

TEST(Allocation, AWholeRequestCostsTheLoopNoAllocation) {
  const std::string body(1024, 'x');
  CountingServer server(body);
  RawClient c(server.port());
  for (int i = 0; i < 200; ++i) {
    c.send(kGet);
    ASSERT_EQ(c.read_response().body.size(), body.size());
  }
  server.expect_each_costs(0, 10);
}

TEST(Allocation, AHeadSplitAcrossReadsCostsItsPendingInput) {
  const std::string body(1024, 'x');
  CountingServer server(body);
  RawClient c(server.port());
  const std::vector<std::string_view> pieces = {std::string_view(kGet).substr(0, 20),
                                                std::string_view(kGet).substr(20, 25),
                                                std::string_view(kGet).substr(45)};
  for (int i = 0; i < 40; ++i) {
    for (std::size_t p = 0; p < pieces.size(); ++p) {
      c.send(pieces[p]);
      // Each piece its own read: the next is sent once the server has read this one.
      if (p + 1 < pieces.size()) {
        ASSERT_TRUE(c.wait_until_server_read());
      }
    }
    ASSERT_EQ(c.read_response().body.size(), body.size());
  }
  // An unfinished head is kept in a PendingInput (one allocation) whose
  // bytes grow as any std::string does when the pieces are appended (three
  // allocations with libstdc++, which doubles); both are freed once the
  // request is answered.
  const std::size_t bytes = allocations_in([&] {
    std::string kept;
    for (auto piece : pieces) {
      kept.append(piece);
      escape(kept.data());
    }
  });
  server.expect_each_costs(1 + bytes, 5);
}

TEST(Allocation, AChunkedBodyInOneReadCostsNothing) {
  const std::string body(1024, 'x');
  CountingServer server(body);
  RawClient c(server.port());
  for (int i = 0; i < 200; ++i) {
    c.send(
        "POST /up HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n");
    ASSERT_EQ(c.read_response().body.size(), body.size());
  }
  server.expect_each_costs(0, 10);
}

TEST(Allocation, PipelinedRequestsCostNothing) {
  const std::string body(1024, 'x');
  CountingServer server(body);
  RawClient c(server.port());
  std::string batch;
  for (int i = 0; i < 16; ++i)
    batch += kGet;
  for (int round = 0; round < 20; ++round) {
    c.send(batch);  // one read: well under a segment
    for (int i = 0; i < 16; ++i)
      ASSERT_EQ(c.read_response().body.size(), body.size());
  }
  server.expect_each_costs(0, 32);
}

TEST(Allocation, ALargeBodyWrittenWithWritevCostsNothing) {
  // Over the 32 KiB that are copied behind the head: sent with writev
  // straight from the handler's bytes, and small enough for the socket to
  // take whole.
  const std::string body(128 << 10, 'x');
  CountingServer server(body);
  RawClient c(server.port());
  for (int i = 0; i < 60; ++i) {
    c.send(kGet);
    ASSERT_EQ(c.read_response().body.size(), body.size());
  }
  server.expect_each_costs(0, 10);
}

TEST(Allocation, APartialWriteCostsItsPendingOutput) {
  // More than the server's send buffer and the client's receive buffer
  // together can hold: the socket refuses the rest (EAGAIN) and the loop
  // resumes on io::kWritable as the client reads in small pieces. The client
  // reads only once the loop has put the rest aside: a reader draining the
  // socket during the first write could let it take everything.
  const std::string body(max_send_buffer() + (2 << 20), 'x');
  CountingServer server(body);
  RawClient c(server.port(), 5000, 16 << 10);
  ASSERT_GT(max_send_buffer(), 0u);
  ASSERT_GT(body.size(), max_send_buffer() + c.receive_buffer());
  for (std::size_t i = 0; i < 12; ++i) {
    c.send(kGet);
    ASSERT_TRUE(server.wait_for_allocation_after(i)) << "the socket took the whole response";
    RawResponse head = c.read_head();
    ASSERT_EQ(head.get("content-length"), std::to_string(body.size()));
    std::size_t received = 0;
    while (received < body.size()) {
      std::string got = c.read_some(16 << 10);
      ASSERT_FALSE(got.empty()) << "connection ended after " << received << " bytes";
      received += got.size();
    }
    ASSERT_EQ(received, body.size());
  }
  // What the socket did not take waits in a PendingOutput (one allocation)
  // holding a copy of the unsent bytes (one more); both are freed once the
  // socket has taken the last byte.
  server.expect_each_costs(2, 3);
}

}  // namespace
}  // namespace httpkit::test
