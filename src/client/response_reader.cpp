#include "client/response_reader.hpp"

#include <algorithm>

namespace httpkit::client {
namespace {

// Chunk framing limits. The body size itself is the sink's business (it
// counts decoded bytes, after decompression).
constexpr http::ChunkedLimits kChunkedLimits{UINT64_MAX, 4096, 65536};

// The one coding a response asks us to decode; every Content-Encoding
// line counts (a stack, or a coding we do not know, passes through
// undecoded for the caller to see).
http::ContentEncoding content_encoding(const http::ResponseHeadView& head) {
  http::ContentEncoding coding;
  for (std::size_t i = 0; i < head.num_headers; ++i)
    if (iequals(head.headers[i].name, "content-encoding"))
      coding = http::parse_content_encoding(head.headers[i].value, coding);
  return coding;
}

}  // namespace

void ResponseReader::start(http::SentRequest sent, const Config& config) {
  *this = ResponseReader{};
  config_ = config;
  sent_ = sent;
}

ResponseReader::Result ResponseReader::step(Status status, std::size_t consumed) {
  Result r;
  r.status = status;
  r.consumed = consumed;
  return r;
}

ResponseReader::Result ResponseReader::fail(ErrorKind kind, std::string message,
                                            std::size_t consumed) {
  Result r;
  r.status = Status::error;
  r.kind = kind;
  r.message = std::move(message);
  r.consumed = consumed;
  return r;
}

ResponseReader::Result ResponseReader::feed(char* data, std::size_t size, ResponseSink& sink) {
  bytes_seen_ += size;
  if (finished_) return step(Status::done, 0);
  std::size_t offset = 0;
  while (!head_done_) {
    const std::size_t old_len = head_buf_.size();
    std::string_view bytes;
    if (old_len) {
      head_buf_.append(data + offset, size - offset);
      bytes = head_buf_;
    } else {
      bytes = {data + offset, size - offset};
    }
    const std::size_t end = http::find_head_end(bytes, scan_from_);
    http::ResponseHeadView head;
    auto parsed =
        http::parse_response_head(end ? bytes.substr(0, end) : bytes, sent_, config_.limits,
                                  config_.fields, config_.max_headers, head);
    if (parsed.status == http::ParseStatus::error) {
      return fail(ErrorKind::protocol,
                  "malformed response: " + std::string(to_string(parsed.error)) + " (" +
                      std::string(parsed.detail) + ")");
    }
    if (!end || parsed.status == http::ParseStatus::incomplete) {
      if (!old_len) head_buf_.assign(bytes);
      scan_from_ = head_buf_.size() > 3 ? head_buf_.size() - 3 : 0;
      return step(Status::more, size);
    }
    const std::size_t used = head.head_length - old_len;
    if (head.interim) {
      head_buf_.clear();
      scan_from_ = 0;
      offset += used;
      if (offset == size) return step(Status::more, size);
      continue;
    }

    head_done_ = true;
    status_ = head.status;
    keep_alive_ = head.keep_alive;
    upgraded_ = head.upgraded;
    tunnel_ = head.tunnel;
    framing_ = head.framing;
    remaining_ = head.content_length;
    if (config_.decompress && framing_ != http::BodyFraming::none) {
      const http::ContentEncoding coding = content_encoding(head);
      if (coding.kind == http::ContentEncoding::Kind::one)
        inflater_ = std::make_unique<http::ContentDecoder>(coding.coding);
    }
    ResponseSink::HeadAction action = sink.on_head(head);
    head_buf_.clear();
    head_buf_.shrink_to_fit();
    offset += used;
    if (action == ResponseSink::HeadAction::stop) return step(Status::stopped, offset);
    discard_ = action == ResponseSink::HeadAction::discard;
    if (upgraded_ || tunnel_) {
      finished_ = true;
      return step(Status::done, offset);
    }
    if (framing_ == http::BodyFraming::none ||
        (framing_ == http::BodyFraming::content_length && remaining_ == 0)) {
      framing_done_ = true;
      return finish_body(offset);
    }
  }
  return body(data + offset, size - offset, offset, sink);
}

ResponseReader::Result ResponseReader::body(char* data, std::size_t size, std::size_t offset,
                                            ResponseSink& sink) {
  Result failure;
  ResponseSink::Verdict verdict = ResponseSink::Verdict::go;
  std::size_t consumed = offset;
  switch (framing_) {
    case http::BodyFraming::content_length: {
      const std::size_t take = std::size_t(std::min<uint64_t>(size, remaining_));
      if (take) verdict = deliver({data, take}, sink, failure);
      remaining_ -= take;
      consumed += take;
      framing_done_ = remaining_ == 0;
      break;
    }
    case http::BodyFraming::chunked: {
      auto step = chunked_.decode(data, size, kChunkedLimits);
      if (step.status == http::ChunkedStatus::bad || step.status == http::ChunkedStatus::too_large)
        return fail(ErrorKind::protocol, "malformed response: invalid chunked body");
      if (step.decoded) verdict = deliver({data, step.decoded}, sink, failure);
      consumed += step.consumed;
      framing_done_ = step.status == http::ChunkedStatus::done;
      break;
    }
    case http::BodyFraming::until_close:
      if (size) verdict = deliver({data, size}, sink, failure);
      consumed += size;
      break;
    case http::BodyFraming::none:
      framing_done_ = true;
      break;
  }
  if (failure.status == Status::error) {
    failure.consumed = consumed;
    return failure;
  }
  if (verdict == ResponseSink::Verdict::stop) return step(Status::stopped, consumed);
  if (verdict == ResponseSink::Verdict::pause) return step(Status::paused, consumed);
  if (framing_done_) return finish_body(consumed);
  return step(Status::more, consumed);
}

ResponseSink::Verdict ResponseReader::deliver(std::string_view piece, ResponseSink& sink,
                                              Result& failure) {
  if (discard_) return ResponseSink::Verdict::go;
  if (!inflater_) return sink.on_body(piece);
  ResponseSink::Verdict verdict = ResponseSink::Verdict::go;
  auto status = inflater_->feed(piece, [&](std::string_view out) {
    verdict = sink.on_body(out);
    return verdict == ResponseSink::Verdict::go;
  });
  if (status == http::ContentDecoder::Status::error) {
    failure = fail(ErrorKind::protocol, "malformed response body: " + inflater_->error());
    return ResponseSink::Verdict::stop;
  }
  return verdict;
}

ResponseReader::Result ResponseReader::resume(ResponseSink& sink) {
  if (finished_) return step(Status::done, 0);
  if (inflater_ && !discard_) {
    Result failure;
    ResponseSink::Verdict verdict = deliver({}, sink, failure);
    if (failure.status == Status::error) return failure;
    if (verdict == ResponseSink::Verdict::stop) return step(Status::stopped, 0);
    if (verdict == ResponseSink::Verdict::pause) return step(Status::paused, 0);
  }
  if (framing_done_) return finish_body(0);
  return step(Status::more, 0);
}

ResponseReader::Result ResponseReader::finish_body(std::size_t consumed) {
  if (inflater_ && !discard_ && !inflater_->finished() && bytes_seen_ > 0 &&
      inflater_->consumed_any())
    return fail(ErrorKind::protocol, "malformed response body: compressed data ended early",
                consumed);
  finished_ = true;
  return step(Status::done, consumed);
}

ResponseReader::Result ResponseReader::on_eof(ResponseSink& sink) {
  if (finished_) return step(Status::done, 0);
  if (!head_done_) {
    return fail(ErrorKind::reset, bytes_seen_ == 0 ? "connection closed before the response began"
                                                   : "connection closed inside the response head");
  }
  keep_alive_ = false;
  switch (framing_) {
    case http::BodyFraming::until_close: {
      framing_done_ = true;
      return resume(sink);
    }
    case http::BodyFraming::content_length:
      return fail(ErrorKind::reset, "connection closed with " + std::to_string(remaining_) +
                                        " body bytes still to come");
    case http::BodyFraming::chunked:
      return fail(ErrorKind::reset, "connection closed inside the chunked body");
    case http::BodyFraming::none:
      break;
  }
  return finish_body(0);
}

}  // namespace httpkit::client
