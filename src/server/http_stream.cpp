// Streamed HTTP output: the head of a channel's or stream's response (with
// the output filters' set-ups), each body piece through the filters and
// the framing, and StreamBody's generator pulled as the socket drains.
#include "server/http_stream.hpp"

#include <cstdio>
#include <exception>
#include <istream>

#include "http/text.hpp"
#include "server/loop_server.hpp"

namespace httpkit {

StreamBody stream_body(std::unique_ptr<std::istream> in, std::optional<uint64_t> length,
                       std::size_t piece_size) {
  // std::function needs a copyable callable: the stream is shared.
  std::shared_ptr<std::istream> stream(std::move(in));
  piece_size = std::max<std::size_t>(piece_size, 1);
  StreamBody body;
  body.length = length;
  body.next = [stream, piece_size]() -> std::optional<std::string> {
    if (stream->eof()) return std::nullopt;
    std::string piece(piece_size, '\0');
    stream->read(piece.data(), std::streamsize(piece.size()));
    if (stream->bad() || (stream->fail() && !stream->eof()))
      throw std::runtime_error("stream_body: the stream failed to read");
    piece.resize(std::size_t(stream->gcount()));
    if (piece.empty() && stream->eof()) return std::nullopt;
    return piece;
  };
  return body;
}

namespace server {
namespace {

constexpr std::string_view kLastChunk = "0\r\n\r\n";

// One pull of a StreamBody asks for pieces until this much went out, or the
// socket refused bytes, then yields the loop to other connections.
constexpr std::size_t kPullBudget = 256 * 1024;
constexpr int kPullCalls = 64;
// Within a pull, output is handed to the socket at this size, so that a
// refusal stops the pull with at most this much (and one piece) waiting.
constexpr std::size_t kPullFlushAt = 64 * 1024;

void append_chunk(std::string& out, std::string_view data) {
  if (data.empty()) return;  // an empty chunk would end the body
  char size[20];
  int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  out.append(size, std::size_t(n));
  out.append(data);
  out.append("\r\n");
}

}  // namespace

std::optional<uint64_t> declared_length(std::span<const Header> headers) {
  std::optional<uint64_t> found;
  for (const Header& h : headers) {
    if (!iequals(h.name, "content-length")) continue;
    uint64_t v = 0;
    if (http::text::parse_decimal(http::text::trim_ows(h.value), v) != http::text::Decimal::ok)
      return std::nullopt;
    if (found && *found != v) return std::nullopt;
    found = v;
  }
  return found;
}

bool HttpStream::filter(std::string_view in, bool flush, bool last, std::string& out,
                        std::string& error) {
  try {
    std::string_view piece = in;
    std::string staged;
    for (std::size_t i = 0; i < filters.size(); ++i) {
      std::string& into = i + 1 == filters.size() ? out : scratch;
      const std::size_t at = into.size();
      if (!filters[i]->process(piece, flush, last, into)) {
        error = "an output filter failed";
        return false;
      }
      if (&into == &scratch) {
        staged.assign(scratch, at);
        scratch.clear();
        piece = staged;
      }
    }
  } catch (const std::exception& e) {
    error = std::string("an output filter threw: ") + e.what();
    return false;
  }
  if (last) filters.clear();  // their state (a compressor's window) is not needed any more
  return true;
}

ServerChannel::~ServerChannel() {
  if (!websocket_) delete http_;
}

void LoopServer::start_stream(ServerConnection& c, const ResponseContext& ctx,
                              const Response& response) {
  static const auto kNoHandlers = std::make_shared<const ChannelHandlers>();
  const auto* channel_body = std::get_if<ChannelBody>(&response.body);
  const auto* stream = std::get_if<StreamBody>(&response.body);
  auto channel = std::make_shared<ServerChannel>(
      *this, c, channel_body ? channel_body->handlers : kNoHandlers, ctx, false);
  auto state = std::make_unique<HttpStream>();
  state->setups = response.output_filters;
  if (stream) {
    state->generator = true;
    state->next = stream->next;
    state->length = stream->length;
    state->status = response.status;
    state->headers = response.headers;
  }
  channel->http_ = state.release();
  channel->self_ = channel;
  c.channel = channel.get();
  c.phase = Phase::busy;  // requests behind this one wait for the stream's end
  loop_.timers().cancel(c.timer);
  if (stream) {
    post_pull(*channel);  // the head and first pieces once the caller's output is out
  } else if (channel->handlers().on_open) {
    channel->handlers().on_open(channel);
  }
}

void LoopServer::post_pull(ServerChannel& ch) {
  if (ch.http_->pull_posted) return;
  ch.http_->pull_posted = true;
  loop_.post([this, self = ch.shared_from_this()] {
    channel_apply(*self, {ServerChannel::Op::pull, false, 1000, {}, {}});
  });
}

bool LoopServer::write_stream_head(ServerConnection& c, ServerChannel& ch, int status,
                                   std::span<const Header> headers, const std::string_view* whole) {
  HttpStream* s = ch.http_;
  std::vector<Header> edited;
  if (s && !s->setups.empty()) {
    edited.assign(headers.begin(), headers.end());
    OutputHead head{status, edited, ch.ctx_.head_method};
    for (const OutputFilter& setup : s->setups) {
      try {
        if (auto filter = setup(head)) s->filters.push_back(std::move(filter));
      } catch (const std::exception& e) {
        fail_stream(c, std::string("an output filter's set-up threw: ") + e.what());
        return false;
      }
    }
    s->setups.clear();
    status = head.status;
    headers = edited;
  }
  const bool no_body = status < 200 || status == 204 || status == 304;
  http::ResponseHead head;
  head.status = status;
  head.version_minor = ch.ctx_.version_minor;
  head.keep_alive = ch.ctx_.keep_alive && !draining_ && !http::asks_to_close(headers);
  head.date = date_.now();
  head.server = options_.server_header;
  head.headers = headers;
  std::string filtered;
  std::string_view body = whole ? *whole : std::string_view{};
  if (whole && !no_body && s && s->filtering()) {
    // The whole body is here: filtered at once, it still gets a length.
    std::string error;
    if (!s->filter(body, true, true, filtered, error)) {
      fail_stream(c, error);
      return false;
    }
    body = filtered;
  }
  if (no_body) {
    head.framing = http::BodyFraming::none;
  } else if (whole) {
    head.framing = http::BodyFraming::content_length;
    head.content_length = body.size();
  } else if (s && s->generator && s->length && !s->filtering()) {
    head.framing = http::BodyFraming::content_length;
    head.content_length = *s->length;
  } else if (ch.ctx_.version_minor >= 1) {
    head.framing = http::BodyFraming::chunked;
  } else {
    head.framing = http::BodyFraming::until_close;  // HTTP/1.0 has no chunks
    head.keep_alive = false;
  }
  if (ch.ctx_.head_method && !no_body) {
    if (auto length = declared_length(headers)) {
      head.framing = http::BodyFraming::content_length;
      head.content_length = *length;
    }
  }
  ch.framing_ = head.framing;
  ch.head_sent_ = true;
  if (!head.keep_alive) c.close_after_write = true;
  http::append_response_head(out_, head);
  if (whole && !no_body && !ch.ctx_.head_method) out_.append(body);
  return true;
}

bool LoopServer::write_stream_piece(ServerConnection& c, ServerChannel& ch, std::string_view data,
                                    bool flush, bool last) {
  if (ch.ctx_.head_method || ch.framing_ == http::BodyFraming::none) return true;
  std::string filtered;
  if (HttpStream* s = ch.http_; s && s->filtering()) {
    std::string error;
    if (!s->filter(data, flush, last, filtered, error)) {
      fail_stream(c, error);
      return false;
    }
    data = filtered;
  }
  if (ch.framing_ == http::BodyFraming::chunked) {
    append_chunk(out_, data);
    if (last) out_.append(kLastChunk);
  } else {
    out_.append(data);
  }
  return true;
}

void LoopServer::pull_stream(ServerConnection& c, ServerChannel& ch) {
  HttpStream& s = *ch.http_;
  s.pull_posted = false;
  if (!ch.head_sent_) {
    const std::vector<Header> headers = std::move(s.headers);
    if (!write_stream_head(c, ch, s.status, headers, nullptr)) return;
    if (ch.ctx_.head_method || ch.framing_ == http::BodyFraming::none) {
      finish_http_channel(c);  // HEAD: the generator is never called
      return;
    }
  }
  const bool counted = ch.framing_ == http::BodyFraming::content_length;
  std::size_t budget = kPullBudget;
  for (int calls = 0; calls < kPullCalls && budget; ++calls) {
    std::optional<std::string> piece;
    try {
      if (s.next) piece = s.next();
    } catch (const std::exception& e) {
      fail_stream(c, std::string("a stream body's generator threw: ") + e.what());
      return;
    } catch (...) {
      fail_stream(c, "a stream body's generator threw something not a std::exception");
      return;
    }
    if (!piece) {
      if (counted && s.produced != *s.length) {
        fail_stream(c, "a stream body ended short of its Content-Length");
        return;
      }
      if (!write_stream_piece(c, ch, {}, true, true)) return;
      if (ch.framing_ == http::BodyFraming::until_close) c.close_after_write = true;
      finish_http_channel(c);
      return;
    }
    s.produced += piece->size();
    if (counted && s.produced > *s.length) {
      fail_stream(c, "a stream body yielded more than its Content-Length");
      return;
    }
    if (!write_stream_piece(c, ch, *piece, false, false)) return;
    budget -= std::min(budget, piece->size());
    if (out_.size() >= kPullFlushAt) {
      flush(c);
      if (c.closed() || c.output) break;  // the socket is full: on_writable pulls again
    }
  }
  // What the filters hold goes out with this batch, not after the next one.
  write_stream_piece(c, ch, {}, true, false);
}

// The response cannot go on and its framing is in doubt: the peer must
// see the connection close rather than a body that looks whole. What was
// produced before goes out first (as much as the socket takes now), so
// the peer sees a cut response rather than none.
void LoopServer::fail_stream(ServerConnection& c, std::string_view why) {
  log_error(options_, why, nullptr);
  flush(c);
  if (!c.closed()) close_connection(c, CloseStatus::server_close);
}

}  // namespace server
}  // namespace httpkit
