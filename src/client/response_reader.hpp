// Reads one HTTP/1.1 response from the bytes of a connection: head (after
// any 1xx), then the body unframed (Content-Length, chunked, or until the
// close) and decoded (gzip/deflate), handed to a sink in pieces.
//
// Pure: no sockets. The connection feeds whatever it read; the reader says
// how many bytes belonged to this response and whether it is done, wants
// more, was paused by the sink, or failed (and how).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/chunked_decoder.hpp"
#include "http/content_decoder.hpp"
#include "http/response_parser.hpp"
#include "httpkit/client.hpp"

namespace httpkit::client {

// What the reader reports to (the request waiting for the response).
class ResponseSink {
 public:
  enum class HeadAction : uint8_t { keep, discard, stop };
  enum class Verdict : uint8_t { go, pause, stop };

  // The final head (1xx are skipped). Views die when this returns. `stop`
  // means the sink failed the request itself.
  virtual HeadAction on_head(const http::ResponseHeadView& head) = 0;
  // A piece of the decoded body; `pause` stops delivery until resume().
  virtual Verdict on_body(std::string_view piece) = 0;

 protected:
  ~ResponseSink() = default;
};

class ResponseReader {
 public:
  struct Config {
    http::ResponseLimits limits;
    // Scratch for the head's fields, used only inside feed(): one array per
    // loop serves every reader on it.
    http::HeaderField* fields = nullptr;
    std::size_t max_headers = 0;
    bool decompress = true;
  };

  enum class Status : uint8_t {
    more,     // everything fed was used; the response goes on
    done,     // the response ended at `consumed`
    paused,   // the sink paused; resume() later
    stopped,  // the sink stopped (its own error)
    error,    // malformed or cut short: kind and message say how
  };

  struct Result {
    Status status = Status::more;
    std::size_t consumed = 0;
    ErrorKind kind = ErrorKind::none;
    std::string message;
  };

  void start(http::SentRequest sent, const Config& config);

  // `data` is decoded in place (chunked framing is squeezed out).
  Result feed(char* data, std::size_t size, ResponseSink& sink);
  // Goes on after a pause with what the decoder held back.
  Result resume(ResponseSink& sink);
  // The peer closed the connection.
  Result on_eof(ResponseSink& sink);

  bool any_bytes() const { return bytes_seen_ > 0; }
  bool head_done() const { return head_done_; }
  bool finished() const { return finished_; }
  // The connection may carry another request after this response.
  bool keep_alive() const { return keep_alive_; }
  bool upgraded() const { return upgraded_; }
  bool tunnel() const { return tunnel_; }
  int status() const { return status_; }

 private:
  Result parse_head(char* data, std::size_t size, ResponseSink& sink);
  Result body(char* data, std::size_t size, std::size_t offset, ResponseSink& sink);
  // Hands one unframed piece on (through the content decoder, if any).
  ResponseSink::Verdict deliver(std::string_view piece, ResponseSink& sink, Result& failure);
  Result finish_body(std::size_t consumed);
  static Result fail(ErrorKind kind, std::string message, std::size_t consumed = 0);
  static Result step(Status status, std::size_t consumed);

  Config config_;
  http::SentRequest sent_;
  std::string head_buf_;  // a head that spans reads
  std::size_t scan_from_ = 0;
  uint64_t bytes_seen_ = 0;
  bool head_done_ = false;
  bool finished_ = false;
  bool discard_ = false;
  bool keep_alive_ = false;
  bool upgraded_ = false;
  bool tunnel_ = false;
  bool framing_done_ = false;  // the transfer framing ended; the decoder may still hold bytes
  int status_ = 0;
  http::BodyFraming framing_ = http::BodyFraming::none;
  uint64_t remaining_ = 0;
  http::ChunkedDecoder chunked_;
  std::unique_ptr<http::ContentDecoder> inflater_;
};

}  // namespace httpkit::client
