#include "io/event_loop.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

namespace httpkit::io {
namespace {

TEST(EventLoop, PostedTasksRunOnTheLoopThreadFromManyThreads) {
  EventLoop loop;
  std::atomic<int> ran{0};
  std::thread::id loop_thread;
  std::atomic<bool> wrong_thread{false};
  std::thread runner([&] {
    loop_thread = std::this_thread::get_id();
    loop.run();
  });
  std::vector<std::thread> posters;
  for (int t = 0; t < 4; ++t)
    posters.emplace_back([&] {
      for (int i = 0; i < 1000; ++i)
        loop.post([&] {
          if (std::this_thread::get_id() != loop_thread) wrong_thread = true;
          ++ran;
        });
    });
  for (auto& p : posters) p.join();
  loop.post([&] { loop.stop(); });
  runner.join();
  EXPECT_EQ(ran.load(), 4000);
  EXPECT_FALSE(wrong_thread);
}

TEST(EventLoop, DispatchesEdgeTriggeredEventsByKind) {
  EventLoop loop;
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  struct Seen {
    int fd = -1;
    int count = 0;
  } seen;
  uint8_t kind = loop.register_kind(
      [](void* ctx, int fd, uint32_t events) {
        auto* s = static_cast<Seen*>(ctx);
        if (events & io::kReadable) {
          s->fd = fd;
          ++s->count;
          char buf[16];
          while (read(fd, buf, sizeof buf) > 0) {
          }
        }
      },
      &seen);
  ASSERT_TRUE(loop.add(sv[0], io::kReadable, kind));
  ASSERT_EQ(write(sv[1], "x", 1), 1);
  loop.run_once(1000);
  EXPECT_EQ(seen.fd, sv[0]);
  EXPECT_EQ(seen.count, 1);
  close(sv[0]);
  close(sv[1]);
}

TEST(EventLoop, TimersFireFromRun) {
  EventLoop loop;
  struct Stopper : TimerNode {
    EventLoop* loop;
  } t;
  t.loop = &loop;
  t.fire = [](TimerNode* n) { static_cast<Stopper*>(n)->loop->stop(); };
  uint64_t start = monotonic_ms();
  loop.timers().arm(t, loop.now_ms(), 50);
  loop.run();
  EXPECT_GE(monotonic_ms() - start, 40u);
}

}  // namespace
}  // namespace httpkit::io
