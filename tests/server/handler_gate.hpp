// Holds handlers inside their call until the test opens the gate, and tells
// the test when they got there: tests order events by signals, not sleeps.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace httpkit::test {

class HandlerGate {
 public:
  // In the handler: counts itself in, then waits until open(). The wait
  // is bounded so that a test that failed before opening cannot hang the
  // server's shutdown.
  void pass() {
    std::unique_lock lock(mutex_);
    ++entered_;
    changed_.notify_all();
    changed_.wait_for(lock, std::chrono::seconds(10), [this] { return open_; });
  }

  // In the test: true once `n` handlers are inside (or have been).
  bool wait_entered(int n, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return entered_ >= n; });
  }

  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }

  // Opens the gate when it goes out of scope: declared after the server,
  // it lets held handlers go before the server waits for them.
  struct Opener {
    HandlerGate& gate;
    ~Opener() { gate.open(); }
  };
  [[nodiscard]] Opener open_on_exit() { return Opener{*this}; }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int entered_ = 0;
  bool open_ = false;
};

}  // namespace httpkit::test
