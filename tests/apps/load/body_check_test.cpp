// The worker checks each body against the server's text as reads deliver
// it, on a real loopback connection: a body wrong only in a later read is
// caught there and counted as a wrong body, in its own counter.
#include <gtest/gtest.h>

#include <string>

#include "common/benchmark_text.hpp"
#include "worker_probe.hpp"

namespace httpkit::load {
namespace {

using test::WorkerUnderTest;

constexpr uint32_t kLength = 5000;  // the sentence repeats: offsets matter

LoadOptions options() {
  LoadOptions o;
  o.length = {kLength, kLength};
  o.idle_ms = {60000, 60000};  // one exchange
  o.connect_timeout_ms = 60000;
  o.response_timeout_ms = 60000;
  return o;
}

// Sends the head and the first half of the body, and lets the worker read
// them; then the second half, in which `wrong_at` (if any) is altered.
void answer_in_two_reads(WorkerUnderTest& w, std::size_t wrong_at = std::string::npos) {
  ASSERT_TRUE(w.connect());
  ASSERT_TRUE(w.peer_receive_until([](std::string_view r) { return r.ends_with("\r\n\r\n"); }));
  std::string body(benchmark::kText.substr(0, kLength));
  if (wrong_at != std::string::npos) body[wrong_at] ^= 0x20;
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(kLength) +
                           "\r\nContent-Type: text/plain\r\n\r\n";
  ASSERT_TRUE(w.peer_send(head + body.substr(0, kLength / 2)));
  ASSERT_TRUE(w.delivered());
  ASSERT_TRUE(w.turn_until([&] { return test::unread(w.client_fd()) == 0; }));
  ASSERT_EQ(w.connection().state, LoadState::awaiting);
  ASSERT_TRUE(w.peer_send(body.substr(kLength / 2)));
  ASSERT_TRUE(w.turn_until([&] { return w.connection().state != LoadState::awaiting; }));
}

TEST(BodyCheck, TheServersTextInTwoReadsIsAResponse) {
  WorkerUnderTest w(options());
  answer_in_two_reads(w);
  EXPECT_EQ(w.slot().responses_ok.get(), 1u);
  EXPECT_EQ(w.connection().state, LoadState::idle);
}

TEST(BodyCheck, AWrongByteInTheSecondReadIsAWrongBody) {
  WorkerUnderTest w(options());
  answer_in_two_reads(w, kLength - 1);
  EXPECT_EQ(w.slot().responses_ok.get(), 0u);
  EXPECT_EQ(w.errors(LoadFailure::wrong_body), 1u);
  EXPECT_EQ(w.errors(LoadFailure::wrong_response), 0u);
  EXPECT_EQ(w.connection().state, LoadState::unused);
}

}  // namespace
}  // namespace httpkit::load
