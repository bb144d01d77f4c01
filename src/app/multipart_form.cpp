// receive_multipart: the streaming multipart parser (src/http) fed from
// receive_body, with the parts spooled to temporary files. The spool owns
// every file it made and removes them when it goes, so whichever way the
// request ends (answered, refused, aborted, the server stopping) the
// files go with the body's handlers.
#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <exception>
#include <optional>

#include "http/multipart_parser.hpp"
#include "http/text.hpp"
#include "httpkit/multipart_form.hpp"
#include "httpkit/request_body.hpp"

namespace httpkit {
namespace {

// Params has no setter: the fields are given to its parser form-encoded.
void append_encoded(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if (std::isalnum(u) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
}

std::string default_spool_dir() {
  const char* tmp = std::getenv("TMPDIR");
  return tmp && *tmp ? tmp : "/tmp";
}

class Spool final : public http::MultipartSink {
 public:
  explicit Spool(const MultipartOptions& options) : options_(options) {
    if (options_.spool_dir.empty()) options_.spool_dir = default_spool_dir();
  }
  ~Spool() override { remove_all(); }
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  bool on_part_begin(const http::MultipartPartHead& head) override {
    in_file_ = head.has_filename;
    if (!in_file_) {
      field_name_ = head.name;
      field_value_.clear();
      return true;
    }
    UploadedFile file{head.name, head.filename, head.content_type, {}, 0};
    if (!options_.on_file) {
      std::string path = options_.spool_dir + "/httpkit-upload-XXXXXX";
      fd_ = ::mkostemp(path.data(), O_CLOEXEC);  // O_EXCL, mode 0600
      if (fd_ < 0) return refuse(500, "cannot create a file in the spool directory");
      file.path = std::move(path);
    }
    form_.files.push_back(std::move(file));
    return true;
  }

  bool on_part_data(std::string_view bytes) override {
    if (!in_file_) {
      if (field_value_.size() + bytes.size() > options_.max_field_size)
        return refuse(413, "form field too large");
      field_value_.append(bytes);
      return true;
    }
    UploadedFile& file = form_.files.back();
    if (bytes.size() > options_.max_file_size - file.size)
      return refuse(413, "uploaded file too large");
    file.size += bytes.size();
    if (options_.on_file)
      return options_.on_file(file, bytes, false) || refuse(400, "file refused");
    while (!bytes.empty()) {
      const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return refuse(500, "cannot write to the spool directory");
      bytes.remove_prefix(std::size_t(n));
    }
    return true;
  }

  bool on_part_end() override {
    if (!in_file_) {
      if (!encoded_fields_.empty()) encoded_fields_.push_back('&');
      append_encoded(encoded_fields_, field_name_);
      encoded_fields_.push_back('=');
      append_encoded(encoded_fields_, field_value_);
      field_value_.clear();
      return true;
    }
    close_file();
    if (options_.on_file)
      return options_.on_file(form_.files.back(), {}, true) || refuse(400, "file refused");
    return true;
  }

  const MultipartForm& form() {
    form_.fields = Params::parse(encoded_fields_);
    return form_;
  }

  void remove_all() {
    close_file();
    for (UploadedFile& f : form_.files) {
      if (!f.path.empty()) ::unlink(f.path.c_str());  // a file the handler moved is gone already
      f.path.clear();
    }
  }

  // What a refusal (MultipartError::refused) answers.
  int status = 400;
  std::string reason;

 private:
  bool refuse(int code, std::string why) {
    status = code;
    reason = std::move(why);
    return false;
  }
  void close_file() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  MultipartOptions options_;
  MultipartForm form_;
  std::string encoded_fields_;
  std::string field_name_, field_value_;
  bool in_file_ = false;
  int fd_ = -1;
};

struct Upload {
  Upload(const Request& req, MultipartOptions options, MultipartHandler h,
         std::string_view boundary)
      : handler(std::move(h)),
        parser(boundary, {.max_part_head = options.max_part_head, .max_parts = options.max_parts}),
        spool(options) {
    // A streamed request's views die with the head's read: keep a copy.
    // A buffered one is answered before receive_body returns.
    if (req.body_pending()) {
      owned = req.detached();
      request = &*owned;
    } else {
      request = &req;
    }
  }

  void refuse(const RequestBodyPtr& body) {
    failed = true;
    spool.remove_all();
    const bool sink = parser.error() == http::MultipartError::refused;
    body->respond(Response::text(
        std::string(sink ? std::string_view(spool.reason) : http::to_string(parser.error())) + "\n",
        sink ? spool.status : 400));
  }

  void finish(const RequestBodyPtr& body) {
    if (failed) return;
    if (!parser.finish()) return refuse(body);
    std::optional<Response> answer;
    try {
      answer = handler(*request, spool.form());
    } catch (const std::exception&) {
      answer = Response::text("Internal Server Error\n", 500);
    }
    body->respond(std::move(*answer));
    spool.remove_all();
  }

  std::optional<Request> owned;
  const Request* request;
  MultipartHandler handler;
  http::MultipartParser parser;
  Spool spool;
  bool failed = false;
};

bool is_form_data(std::string_view content_type) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t'))
    media.remove_suffix(1);
  return iequals(media, "multipart/form-data");
}

}  // namespace

Response receive_multipart(const Request& request, MultipartOptions options,
                           MultipartHandler handler) {
  const auto type = request.content_type();
  if (!type || !is_form_data(*type)) return Response::text("multipart/form-data expected\n", 415);
  const auto boundary = http::multipart_boundary(*type);
  if (!boundary) return Response::text("multipart/form-data without a valid boundary\n", 400);
  auto upload =
      std::make_shared<Upload>(request, std::move(options), std::move(handler), *boundary);
  return receive_body(
      request,
      {.on_data =
           [upload](const RequestBodyPtr& body, std::string_view bytes) {
             if (!upload->failed && !upload->parser.feed(bytes, upload->spool))
               upload->refuse(body);
           },
       .on_end = [upload](const RequestBodyPtr& body) { upload->finish(body); },
       .on_abort = [upload](const RequestBodyPtr&, BodyAbort) { upload->spool.remove_all(); }});
}

}  // namespace httpkit
