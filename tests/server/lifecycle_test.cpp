// Server::stop(timeout) and wait_for(), the error/warn/event loggers, a
// custom executor and the names of the server's threads.
#include <gtest/gtest.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "handler_gate.hpp"
#include "raw_client.hpp"
#include "test_server.hpp"

namespace httpkit::test {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kGet = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";

milliseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
}

std::string this_thread_name() {
  char name[16] = {};
  pthread_getname_np(pthread_self(), name, sizeof name);
  return name;
}

// Events and messages as the loggers saw them, from any thread.
struct Recorder {
  std::mutex mutex;
  std::vector<std::string> events;
  std::vector<std::string> errors;  // message + ": " + what() of the exception
  std::vector<std::string> warnings;

  void install(ServerOptions& o) {
    o.event_logger = [this](std::string_view e) {
      std::lock_guard lock(mutex);
      events.emplace_back(e);
    };
    o.error_logger = [this](std::string_view message, std::exception_ptr error) {
      std::string what = "(none)";
      try {
        if (error) std::rethrow_exception(error);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
        what = "(not std::exception)";
      }
      std::lock_guard lock(mutex);
      errors.push_back(std::string(message) + ": " + what);
    };
    o.warn_logger = [this](std::string_view m) {
      std::lock_guard lock(mutex);
      warnings.emplace_back(m);
    };
  }
  int count(std::string_view event) {
    std::lock_guard lock(mutex);
    return int(std::count(events.begin(), events.end(), event));
  }
  // Events are logged on the loop thread, maybe just after the client saw
  // the effect: poll briefly.
  bool saw(std::string_view event, milliseconds timeout = milliseconds(2000)) {
    const auto start = Clock::now();
    while (since(start) < timeout) {
      if (count(event) > 0) return true;
      std::this_thread::sleep_for(milliseconds(5));
    }
    return false;
  }
};

ServerOptions pooled() {
  ServerOptions o = test_options();
  o.worker_threads = 1;
  return o;
}

TEST(Lifecycle, StopWithATimeoutLetsTheResponseInFlightFinish) {
  HandlerGate gate;
  Server server(
      [&](const Request&) {
        gate.pass();
        return Response::text("finished");
      },
      pooled());
  server.start();
  auto release = gate.open_on_exit();
  RawClient busy(server.port());
  busy.send(kGet);
  ASSERT_TRUE(gate.wait_entered(1));
  server.stop(milliseconds(5000));
  EXPECT_EQ(server.status(), ServerStatus::stopping);
  std::thread opener([&] {
    std::this_thread::sleep_for(milliseconds(100));
    gate.open();
  });
  EXPECT_EQ(busy.read_response().body, "finished");
  EXPECT_TRUE(server.wait_for(milliseconds(3000)));
  EXPECT_EQ(server.status(), ServerStatus::stopped);
  opener.join();
}

TEST(Lifecycle, AStuckResponseIsCutAtTheTimeoutAndWaitForSaysWhen) {
  HandlerGate gate;
  ServerOptions o = pooled();
  o.stop_timeout = milliseconds(60'000);  // the per-call timeout wins
  Recorder recorder;
  recorder.install(o);
  Server server(
      [&](const Request&) {
        gate.pass();
        return Response::text("late");
      },
      o);
  server.start();
  auto release = gate.open_on_exit();
  RawClient busy(server.port(), 10'000);
  busy.send(kGet);
  ASSERT_TRUE(gate.wait_entered(1));
  const auto start = Clock::now();
  server.stop(milliseconds(400));
  EXPECT_FALSE(server.wait_for(milliseconds(100)));
  EXPECT_EQ(server.status(), ServerStatus::stopping);
  EXPECT_TRUE(server.wait_for(milliseconds(5000)));
  const milliseconds took = since(start);
  EXPECT_GE(took.count(), 350);
  EXPECT_LT(took.count(), 3000);
  EXPECT_EQ(server.status(), ServerStatus::stopped);
  EXPECT_TRUE(busy.closed_by_peer(1000));  // cut, without an answer
  EXPECT_EQ(recorder.count(server_events::stop_timeout), 1);
}

TEST(Lifecycle, ASecondStopWithAShorterTimeoutBringsTheCutForward) {
  HandlerGate gate;
  Server server(
      [&](const Request&) {
        gate.pass();
        return Response::text("late");
      },
      pooled());
  server.start();
  auto release = gate.open_on_exit();
  RawClient busy(server.port(), 10'000);
  busy.send(kGet);
  ASSERT_TRUE(gate.wait_entered(1));
  const auto start = Clock::now();
  server.stop(milliseconds(30'000));
  EXPECT_FALSE(server.wait_for(milliseconds(200)));
  // From another thread, as a signal watcher or an admin endpoint would.
  std::thread([&] { server.stop(milliseconds(100)); }).join();
  EXPECT_TRUE(server.wait_for(milliseconds(5000)));
  EXPECT_LT(since(start).count(), 3000);
  // A longer timeout later, and more stops, change nothing.
  server.stop(milliseconds(60'000));
  server.stop();
  EXPECT_EQ(server.status(), ServerStatus::stopped);
  EXPECT_TRUE(server.wait_for(milliseconds(0)));
}

TEST(Lifecycle, StatusBecomesStoppedWithoutAWait) {
  Server server([](const Request&) { return Response::text("x"); }, test_options());
  EXPECT_EQ(server.status(), ServerStatus::stopped);
  EXPECT_TRUE(server.wait_for(milliseconds(0)));  // never started
  server.start();
  EXPECT_EQ(server.status(), ServerStatus::running);
  EXPECT_FALSE(server.wait_for(milliseconds(50)));
  server.stop(milliseconds(1000));
  const auto start = Clock::now();
  while (server.status() != ServerStatus::stopped && since(start).count() < 3000)
    std::this_thread::sleep_for(milliseconds(5));
  EXPECT_EQ(server.status(), ServerStatus::stopped);
  // And it starts again.
  server.start();
  EXPECT_EQ(server.status(), ServerStatus::running);
  RawClient c(server.port());
  c.send(kGet);
  EXPECT_EQ(c.read_response().body, "x");
}

TEST(Lifecycle, StopFromManyThreadsAtOnce) {
  Server server([](const Request&) { return Response::text("x"); }, test_options());
  server.start();
  std::vector<std::thread> stoppers;
  for (int i = 0; i < 4; ++i)
    stoppers.emplace_back([&server, i] {
      server.stop(milliseconds(100 * i));
      EXPECT_TRUE(server.wait_for(milliseconds(5000)));
    });
  for (auto& t : stoppers)
    t.join();
  EXPECT_EQ(server.status(), ServerStatus::stopped);
}

TEST(Loggers, AThrowingHandlerReachesTheErrorLoggerWithItsException) {
  ServerOptions o = test_options();
  Recorder recorder;
  recorder.install(o);
  TestServer server(
      [](const Request& r) -> Response {
        if (r.path() == "/int") throw 42;
        throw std::runtime_error("disk on fire");
      },
      o);
  RawClient c(server.port());
  c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\nGET /int HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(c.read_response().status, 500);
  EXPECT_EQ(c.read_response().status, 500);
  std::lock_guard lock(recorder.mutex);
  ASSERT_EQ(recorder.errors.size(), 2u);
  EXPECT_EQ(recorder.errors[0], "handler threw: disk on fire");
  EXPECT_EQ(recorder.errors[1], "handler threw: (not std::exception)");
  EXPECT_EQ(std::count(recorder.events.begin(), recorder.events.end(),
                       std::string(server_events::handler_threw)),
            2);
}

TEST(Loggers, WithoutTheFinerLoggersTheErrorGoesToLogger) {
  ServerOptions o = test_options();
  std::mutex mutex;
  std::vector<std::string> lines;
  o.logger = [&](LogLevel level, std::string_view m) {
    std::lock_guard lock(mutex);
    lines.push_back(std::string(to_string(level)) + " " + std::string(m));
  };
  TestServer server([](const Request&) -> Response { throw std::runtime_error("boom"); }, o);
  RawClient c(server.port());
  c.send(kGet);
  EXPECT_EQ(c.read_response().status, 500);
  std::lock_guard lock(mutex);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "error handler threw: boom");
}

TEST(Loggers, DeadlinesAreEventsByKind) {
  ServerOptions o = test_options();
  o.idle_timeout = milliseconds(100);
  o.header_timeout = milliseconds(100);
  Recorder recorder;
  recorder.install(o);
  TestServer server([](const Request&) { return Response::text("x"); }, o);
  RawClient idle(server.port());
  idle.send(kGet);
  EXPECT_EQ(idle.read_response().status, 200);
  RawClient slow(server.port());
  slow.send("GET / HTTP/1.1\r\n");  // a head that never ends: 408
  EXPECT_TRUE(recorder.saw(server_events::timeout_idle));
  EXPECT_TRUE(recorder.saw(server_events::timeout_head));
  EXPECT_EQ(recorder.count(server_events::timeout_body), 0);
}

TEST(Loggers, ReachingTheConnectionLimitIsAnEvent) {
  ServerOptions o = test_options();
  o.max_connections = 1;
  Recorder recorder;
  recorder.install(o);
  TestServer server([](const Request&) { return Response::text("x"); }, o);
  {
    RawClient a(server.port());
    a.send(kGet);
    EXPECT_EQ(a.read_response().status, 200);
    EXPECT_TRUE(recorder.saw(server_events::connection_limit));
    RawClient b(server.port());  // waits in the backlog
    b.send(kGet);
    std::this_thread::sleep_for(milliseconds(300));                 // a few accept retries
    EXPECT_EQ(recorder.count(server_events::connection_limit), 1);  // once, not per retry
  }
}

// A small executor of the test's own: one thread, a queue of `capacity`.
class TestExecutor {
 public:
  explicit TestExecutor(std::size_t capacity) : capacity_(capacity) {
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "test-executor");
      for (;;) {
        std::function<void()> task;
        {
          std::unique_lock lock(mutex_);
          ready_.wait(lock, [this] { return closing_ || !tasks_.empty(); });
          if (tasks_.empty()) return;
          task = std::move(tasks_.front());
          tasks_.pop_front();
        }
        task();
        ++ran_;
      }
    });
  }
  ~TestExecutor() {
    {
      std::lock_guard lock(mutex_);
      closing_ = true;
    }
    ready_.notify_all();
    thread_.join();
  }
  bool submit(std::function<void()> task) {
    {
      std::lock_guard lock(mutex_);
      if (tasks_.size() >= capacity_) return false;
      tasks_.push_back(std::move(task));
    }
    ready_.notify_one();
    return true;
  }
  int ran() const { return ran_; }

 private:
  std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_;
  bool closing_ = false;
  std::atomic<int> ran_{0};
  std::thread thread_;
};

TEST(Executor, HandlersRunOnTheUsersExecutor) {
  TestExecutor executor(16);
  ServerOptions o = test_options();
  o.executor = [&](std::function<void()> task) { return executor.submit(std::move(task)); };
  TestServer server([](const Request&) { return Response::text(this_thread_name()); }, o);
  RawClient c(server.port());
  c.send(std::string(kGet) + std::string(kGet));
  EXPECT_EQ(c.read_response().body, "test-executor");
  EXPECT_EQ(c.read_response().body, "test-executor");
  EXPECT_EQ(executor.ran(), 2);
}

TEST(Executor, ARefusingExecutorGives503AndAnEvent) {
  ServerOptions o = test_options();
  Recorder recorder;
  recorder.install(o);
  o.executor = [](std::function<void()>) { return false; };
  TestServer server([](const Request&) { return Response::text("never"); }, o);
  RawClient c(server.port());
  c.send(kGet);
  EXPECT_EQ(c.read_response().status, 503);
  EXPECT_TRUE(recorder.saw(server_events::queue_full));
}

TEST(Executor, TasksTheExecutorRunsAfterTheServerIsGoneDoNothing) {
  std::vector<std::function<void()>> held;
  std::mutex mutex;
  std::atomic<int> calls{0};
  {
    ServerOptions o = test_options();
    o.executor = [&](std::function<void()> task) {
      std::lock_guard lock(mutex);
      held.push_back(std::move(task));
      return true;
    };
    Server server(
        [&](const Request&) {
          ++calls;
          return Response::text("x");
        },
        o);
    server.start();
    RawClient c(server.port());
    c.send(kGet);
    const auto start = Clock::now();
    while (since(start).count() < 2000) {
      std::lock_guard lock(mutex);
      if (!held.empty()) break;
    }
    server.stop(milliseconds(50));
    EXPECT_TRUE(server.wait_for(milliseconds(3000)));
  }
  std::lock_guard lock(mutex);
  ASSERT_EQ(held.size(), 1u);
  held[0]();  // the server is gone: the handler is not called
  EXPECT_EQ(calls, 0);
}

TEST(ThreadNames, LoopsAndWorkersAreNamed) {
  TestServer inline_server([](const Request&) { return Response::text(this_thread_name()); });
  RawClient a(inline_server.port());
  a.send(kGet);
  EXPECT_EQ(a.read_response().body, "httpkit-loop-0");

  ServerOptions o = pooled();
  TestServer pooled_server([](const Request&) { return Response::text(this_thread_name()); }, o);
  RawClient b(pooled_server.port());
  b.send(kGet);
  EXPECT_EQ(b.read_response().body, "httpkit-work-0");
}

TEST(ThreadNames, APrefixIsCutToFit) {
  ServerOptions o = pooled();
  o.thread_name_prefix = "api";
  TestServer short_prefix([](const Request&) { return Response::text(this_thread_name()); }, o);
  RawClient a(short_prefix.port());
  a.send(kGet);
  EXPECT_EQ(a.read_response().body, "api-work-0");

  o.thread_name_prefix = "a-very-long-application-name";
  TestServer long_prefix([](const Request&) { return Response::text(this_thread_name()); }, o);
  RawClient b(long_prefix.port());
  b.send(kGet);
  const std::string name = b.read_response().body;
  EXPECT_EQ(name, "a-very-l-work-0");
  EXPECT_LE(name.size(), 15u);
}

}  // namespace
}  // namespace httpkit::test
