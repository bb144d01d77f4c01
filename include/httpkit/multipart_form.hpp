// multipart/form-data uploads (RFC 7578), parsed as the body streams in:
// text fields become params, file parts go to temporary files (or to a
// callback), and the handler runs once the whole form is in.
//
//   app.post("/upload", [](const httpkit::Request& req) {
//     return httpkit::receive_multipart(req, {.max_file_size = 1ull << 30},
//         [](const httpkit::Request&, const httpkit::MultipartForm& form) {
//           // form.fields.get("title"); form.files[0].path, .size ...
//           return httpkit::Response::text("ok\n");
//         });
//   }, {.max_body = 2ull << 30, .stream_body = true});
//   options.body_plan = app.body_plan();
//
// Without a streaming body plan it works too, over the body the server
// already read (up to max_body).
//
// Temporary files are made with mkstemp (O_EXCL, mode 0600) in spool_dir
// and removed when the request ends: after the handler returned, and on
// every failure (a malformed form, a limit, the client leaving, a
// timeout). A handler that wants to keep a file renames it (same file
// system) before it returns.
//
// Answers the server gives without calling the handler: 400 for a missing
// boundary parameter or a malformed form (an endless part head, a boundary
// never closed, a part without a name, too many parts), 413 for a field or
// file over its limit (the body plan's max_body bounds the whole), 500
// when the spool directory cannot be written. Nothing is left on disk.
//
// The file writes are blocking writes on the event loop, one read's worth
// (at most 64 KiB) at a time: put spool_dir on a local disk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "httpkit/params.hpp"
#include "httpkit/request.hpp"
#include "httpkit/response.hpp"

namespace httpkit {

struct UploadedFile {
  std::string name;          // the form field's name
  std::string filename;      // as the client sent it: never use it as a path
  std::string content_type;  // "text/plain" when the part had none
  std::string path;          // the temporary file (empty with on_file)
  uint64_t size = 0;
};

struct MultipartForm {
  Params fields;  // text parts (those without a filename), in order
  std::vector<UploadedFile> files;
};

struct MultipartOptions {
  std::string spool_dir = {};  // empty: $TMPDIR, else /tmp
  std::size_t max_field_size = 64 * 1024;
  uint64_t max_file_size = UINT64_MAX;
  std::size_t max_parts = 1000;
  std::size_t max_part_head = 16 * 1024;
  // When set, file parts come here instead of going to disk: each piece,
  // then once with `end` true and no bytes. `file.size` counts the bytes
  // so far. Returning false refuses the form (400). On the loop thread.
  std::function<bool(const UploadedFile& file, std::string_view bytes, bool end)> on_file = {};
};

using MultipartHandler = std::function<Response(const Request&, const MultipartForm&)>;

// The handler's answer that takes a multipart/form-data body (see above).
// `handler` runs on the event loop thread, with a request that owns its
// bytes; it must not block for long.
Response receive_multipart(const Request& request, MultipartOptions options,
                           MultipartHandler handler);

}  // namespace httpkit
