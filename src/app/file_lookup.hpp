// Finding a request's file beneath a root, refusing every way out: the
// path is checked segment by segment (no "..", ".", NUL, backslash, or
// escaped separator; no dotfiles unless allowed), then opened with
// openat2(RESOLVE_BENEATH), so that no symlink, however placed, resolves
// outside the root. Kernels without openat2 (before 5.6) get O_NOFOLLOW on
// every component instead: symlinks are then refused altogether.
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "httpkit/response.hpp"

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
  // stat(2) of `relative` beneath the root, following symlinks, without
  // the checks of open(): only for comparing with a file open() found.
  bool stat(const std::string& relative, struct stat& st) const;

 private:
  int fd_;
};

// Files open() found, kept open, and the bytes of the small ones, so that
// a request for a file that has not changed costs one stat instead of an
// open, a stat and a close (and the small ones go out with their head in
// one write). An entry is used only while the path still stats to the
// same inode, size, mtime and ctime: a replaced or rewritten file is
// opened again, so nothing stale is served, and a symlink turned to point
// elsewhere stats to another inode; a file modified in the last second or
// two is not remembered, as a rewrite within the file system's timestamp
// granularity would look the same. Thread-safe; bounded in entries and
// bytes (when full it starts over).
class FoundFiles {
 public:
  struct Entry {
    std::shared_ptr<const OpenFile> file;
    struct stat st {};
    std::shared_ptr<const std::string> bytes;  // whole content; null when large
  };

  // The entry for `relative` if `now` (its stat, just taken) matches it.
  std::optional<Entry> find(const std::string& relative, const struct stat& now) const;
  // Remembers a regular file just opened and fstat'ed; reads it when small.
  void add(const std::string& relative, Entry entry);

  static constexpr std::size_t kMaxEntries = 1024;
  static constexpr std::size_t kMaxFileBytes = 32u << 10;
  static constexpr std::size_t kMaxTotalBytes = 8u << 20;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  std::size_t bytes_ = 0;
};

// The relative path a request names: `path` percent-decoded segment by
// segment ('/'-separated, empty segments dropped); nullopt when a segment
// is ".", "..", holds NUL, '\\' or an escaped '/', or is a dotfile and
// those are not served. `trailing_slash` says the path ended in '/'.
std::optional<std::string> safe_relative_path(std::string_view path, bool decode,
                                              bool allow_dotfiles, bool& trailing_slash);

}  // namespace httpkit::app
