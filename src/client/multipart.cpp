#include "client/multipart.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

namespace httpkit::client {
namespace {

// Quoted names in Content-Disposition: '"', CR and LF percent-encoded, as
// the HTML standard's multipart encoder does.
std::string quote_safe(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"') {
      out += "%22";
    } else if (c == '\r') {
      out += "%0D";
    } else if (c == '\n') {
      out += "%0A";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string base_name(const std::string& path) {
  std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::optional<std::string> read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot read multipart file '" + path + "': " + std::strerror(errno);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return "cannot read multipart file '" + path + "'";
  out = std::move(buffer).str();
  return std::nullopt;
}

}  // namespace

std::string random_boundary() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kChars[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string b = "httpkit-";
  for (int i = 0; i < 24; ++i)
    b.push_back(kChars[rng() % 36]);
  return b;
}

std::optional<std::string> encode_multipart(const std::vector<MultipartPart>& parts,
                                            const std::string& boundary, std::string& out) {
  for (const MultipartPart& part : parts) {
    std::string file_bytes;
    const bool is_file = !part.file.empty();
    if (is_file) {
      if (auto error = read_file(part.file, file_bytes)) return error;
    }
    std::string filename = part.filename.empty() && is_file ? base_name(part.file) : part.filename;
    std::string type = part.content_type;
    if (type.empty()) {
      type =
          is_file || !filename.empty() ? "application/octet-stream" : "text/plain; charset=utf-8";
    }
    if (type.find_first_of("\r\n") != std::string::npos)
      return "multipart content type contains CR or LF";
    out += "--" + boundary + "\r\n";
    out += "Content-Disposition: form-data; name=\"" + quote_safe(part.name) + "\"";
    if (!filename.empty()) out += "; filename=\"" + quote_safe(filename) + "\"";
    out += "\r\nContent-Type: " + type + "\r\n\r\n";
    out += is_file ? file_bytes : part.content;
    out += "\r\n";
  }
  out += "--" + boundary + "--\r\n";
  return std::nullopt;
}

}  // namespace httpkit::client
