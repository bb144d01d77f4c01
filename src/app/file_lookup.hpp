// Finding a request's file beneath a root, refusing every way out: the
// path is checked segment by segment (no "..", ".", NUL, backslash, or
// escaped separator; no dotfiles unless allowed), then opened with
// openat2(RESOLVE_BENEATH), so that no symlink, however placed, resolves
// outside the root. Kernels without openat2 (before 5.6) get O_NOFOLLOW on
// every component instead: symlinks are then refused altogether.
#pragma once

#include <sys/stat.h>

#include <optional>
#include <string>
#include <string_view>

namespace httpkit::app {

// The root directory, held open.
class FileRoot {
 public:
  // Throws std::system_error.
  explicit FileRoot(const std::string& path);
  ~FileRoot();
  FileRoot(const FileRoot&) = delete;
  FileRoot& operator=(const FileRoot&) = delete;

  // Opens `relative` ("a/b.txt", already percent-decoded, no leading '/')
  // read-only beneath the root. -1 if it is refused or does not exist.
  int open(std::string_view relative) const;

 private:
  int fd_;
};

// The relative path a request names: `path` percent-decoded segment by
// segment ('/'-separated, empty segments dropped); nullopt when a segment
// is ".", "..", holds NUL, '\\' or an escaped '/', or is a dotfile and
// those are not served. `trailing_slash` says the path ended in '/'.
std::optional<std::string> safe_relative_path(std::string_view path, bool decode,
                                              bool allow_dotfiles, bool& trailing_slash);

}  // namespace httpkit::app
