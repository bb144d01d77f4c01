// Responses onto the stream: the head into the loop's output buffer, small
// bodies behind it, large ones in the same gathered write, files by
// send_file; what the socket refuses waits in the connection's
// PendingOutput under the write deadline.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <optional>

#include "server/http_stream.hpp"
#include "server/loop_server.hpp"

namespace httpkit::server {
namespace {

// Bodies above this go out with a gathered write instead of being copied
// behind the head.
constexpr std::size_t kCopyBodyLimit = 32 * 1024;

}  // namespace

void LoopServer::write_response(ServerConnection& c, const ResponseContext& ctx,
                                const Response& response) {
  if (auto* channel = std::get_if<ChannelBody>(&response.body)) {
    if (channel->websocket) {
      start_websocket(c, ctx, *channel);
    } else if (response.output_filters.empty()) {
      start_channel(c, ctx, *channel);
    } else {
      start_stream(c, ctx, response);  // the filters need a stream's state
    }
    return;
  }
  if (std::holds_alternative<StreamBody>(response.body)) {
    start_stream(c, ctx, response);
    return;
  }
  if (auto* receive = std::get_if<ReceiveBody>(&response.body)) {
    start_body_stream(c, ctx, *receive);  // request_body_stream.cpp
    return;
  }
  std::string_view memory_body;
  if (auto* s = std::get_if<std::string>(&response.body)) memory_body = *s;
  if (auto* v = std::get_if<std::string_view>(&response.body)) memory_body = *v;
  std::shared_ptr<const OpenFile> file;
  std::size_t file_offset = 0, file_size = 0;
  if (auto* f = std::get_if<FileBody>(&response.body)) {
    // An open file is shared, not dup'ed: sendfile and pread take their
    // offset from the connection, never from the descriptor.
    file = f->file;
    if (!file) {
      const int fd = open(f->path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd >= 0) file = std::make_shared<const OpenFile>(fd);
    }
    // An open file handed over with its range (serve_files, which checked
    // it) is not asked again; otherwise the file says how long it is.
    std::optional<uint64_t> size;
    if (f->file && f->length) {
      size = f->offset + *f->length;
    } else if (struct stat st{}; file && fstat(file->fd(), &st) == 0 && S_ISREG(st.st_mode)) {
      size = uint64_t(st.st_size);
    }
    if (!size) {
      write_response(c, ctx, Response::not_found());
      return;
    }
    file_offset = std::size_t(std::min(f->offset, *size));
    file_size = std::size_t(std::min(f->length.value_or(*size), *size - file_offset));
  }

  const bool no_body = response.status < 200 || response.status == 204 || response.status == 304;
  http::ResponseHead head;
  head.status = response.status;
  head.version_minor = ctx.version_minor;
  head.keep_alive = ctx.keep_alive && !http::asks_to_close(response.headers);
  head.date = date_.now();
  head.server = options_.server_header;
  head.headers = response.headers;
  head.framing = no_body ? http::BodyFraming::none : http::BodyFraming::content_length;
  head.content_length = file ? file_size : memory_body.size();
  // A handler that answers HEAD itself may say how long the GET would be.
  if (ctx.head_method && !no_body) {
    if (auto length = declared_length(response.headers)) head.content_length = *length;
  }
  http::append_response_head(out_, head);
  if (!head.keep_alive) c.close_after_write = true;

  const bool send_body = !no_body && !ctx.head_method;
  if (file) {
    if (send_body && file_size) send_file(c, std::move(file), off_t(file_offset), file_size);
    return;
  }
  if (!send_body || memory_body.empty()) return;
  if (memory_body.size() <= kCopyBodyLimit) {
    out_.append(memory_body);
  } else {
    write_with_body(c, memory_body);
  }
}

// Writes out_ to the socket; what it does not take waits in c.output.
void LoopServer::flush(ServerConnection& c) {
  if (out_.empty()) return;
  if (c.output) {  // behind bytes already waiting: keep the order
    c.output->bytes.append(out_);
    out_.clear();
    return;
  }
  write_with_body(c, {});
}

// Sends out_ followed by `body` in one gathered write.
void LoopServer::write_with_body(ServerConnection& c, std::string_view body) {
  const std::size_t total = out_.size() + body.size();
  const io::IoResult r = stream(c).send(out_, body);
  if (r.status == io::IoStatus::failed || r.status == io::IoStatus::closed) {
    out_.clear();
    close_connection(c);
    return;
  }
  const std::size_t sent = r.bytes;
  if (sent < total) {
    auto pending = std::make_unique<PendingOutput>();
    if (sent < out_.size()) {
      pending->bytes.assign(out_, sent);
      pending->bytes.append(body);
    } else {
      pending->bytes.assign(body.substr(sent - out_.size()));
    }
    c.output = std::move(pending);
    arm(c, options_.write_timeout);
  }
  out_.clear();
}

void LoopServer::send_file(ServerConnection& c, std::shared_ptr<const OpenFile> file, off_t offset,
                           std::size_t length) {
  flush(c);
  if (c.closed()) return;
  if (!c.output) c.output = std::make_unique<PendingOutput>();
  c.output->file = std::move(file);
  c.output->file_offset = offset;
  c.output->file_remaining = length;
  continue_output(c);  // what the socket does not take now waits for kWritable
}

// Pushes c.output to the stream. True when all of it is gone (c.output is
// freed); false when the socket is full again or the connection closed.
bool LoopServer::continue_output(ServerConnection& c) {
  PendingOutput& out = *c.output;
  io::Stream s = stream(c);
  io::IoResult r;
  while (out.offset < out.bytes.size()) {
    r = s.send(std::string_view(out.bytes).substr(out.offset));
    if (!r.done()) break;
    out.offset += r.bytes;
  }
  while (r.done() && out.file_remaining) {
    r = s.send_file(out.file->fd(), out.file_offset, out.file_remaining);
    if (r.done()) out.file_remaining -= r.bytes;
  }
  if (r.status == io::IoStatus::again) {
    arm(c, options_.write_timeout);
    return false;
  }
  if (!r.done()) {  // failed, or the file shrank under us: the framing is broken
    close_connection(c);
    return false;
  }
  c.output.reset();
  return true;
}

}  // namespace httpkit::server
