#include "app/file_lookup.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <system_error>

#include "http/text.hpp"

namespace httpkit::app {
namespace {

std::atomic<bool> g_no_openat2{false};

int open_beneath(int root, const std::string& relative) {
  if (!g_no_openat2.load(std::memory_order_relaxed)) {
    open_how how{};
    how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    const long fd = syscall(SYS_openat2, root, relative.c_str(), &how, sizeof how);
    if (fd >= 0 || errno != ENOSYS) return int(fd);
    g_no_openat2.store(true, std::memory_order_relaxed);
  }
  // No openat2: walk the components, refusing every symlink.
  int dir = fcntl(root, F_DUPFD_CLOEXEC, 0);
  std::string_view rest = relative;
  while (dir >= 0) {
    const std::size_t slash = rest.find('/');
    const std::string name(rest.substr(0, slash));
    const bool last = slash == std::string_view::npos;
    const int next = openat(
        dir, name.c_str(),
        O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | (last ? 0 : O_DIRECTORY));
    close(dir);
    if (last || next < 0) return next;
    dir = next;
    rest.remove_prefix(slash + 1);
  }
  return -1;
}

}  // namespace

FileRoot::FileRoot(const std::string& path)
    : fd_(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "static root " + path);
}

FileRoot::~FileRoot() {
  ::close(fd_);
}

bool FileRoot::stat(const std::string& relative, struct stat& st) const {
  return ::fstatat(fd_, relative.empty() ? "." : relative.c_str(), &st, 0) == 0;
}

namespace {

bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_size == b.st_size &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec &&
         a.st_ctim.tv_sec == b.st_ctim.tv_sec && a.st_ctim.tv_nsec == b.st_ctim.tv_nsec &&
         a.st_mode == b.st_mode;
}

// The whole file from its descriptor, or null if it changed size meanwhile.
std::shared_ptr<const std::string> read_whole(int fd, std::size_t size) {
  auto bytes = std::make_shared<std::string>(size, '\0');
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = pread(fd, bytes->data() + done, size - done, off_t(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return nullptr;
    done += std::size_t(n);
  }
  return bytes;
}

}  // namespace

std::optional<FoundFiles::Entry> FoundFiles::find(const std::string& relative,
                                                  const struct stat& now) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(relative);
  if (it == entries_.end() || !same_file(it->second.st, now)) return std::nullopt;
  return it->second;
}

void FoundFiles::add(const std::string& relative, Entry entry) {
  // A file written in the last second may be written again within the
  // file system's timestamp granularity, unnoticed by the stat comparison
  // ("racy git"): remember only files older than that.
  timespec now{};
  clock_gettime(CLOCK_REALTIME_COARSE, &now);
  if (now.tv_sec - entry.st.st_mtim.tv_sec < 2) return;
  const std::size_t size = std::size_t(entry.st.st_size);
  if (size <= kMaxFileBytes) entry.bytes = read_whole(entry.file->fd(), size);
  const std::size_t cost = entry.bytes ? entry.bytes->size() : 0;
  std::lock_guard lock(mutex_);
  if (auto it = entries_.find(relative); it != entries_.end()) {
    bytes_ -= it->second.bytes ? it->second.bytes->size() : 0;
    entries_.erase(it);
  }
  if (entries_.size() >= kMaxEntries || bytes_ + cost > kMaxTotalBytes) {
    entries_.clear();
    bytes_ = 0;
  }
  bytes_ += cost;
  entries_.emplace(relative, std::move(entry));
}

int FileRoot::open(std::string_view relative) const {
  if (relative.empty()) return fcntl(fd_, F_DUPFD_CLOEXEC, 0);
  return open_beneath(fd_, std::string(relative));
}

std::optional<std::string> safe_relative_path(std::string_view path, bool decode,
                                              bool allow_dotfiles, bool& trailing_slash) {
  trailing_slash = !path.empty() && path.back() == '/';
  std::string out;
  char segment[1024];
  while (!path.empty()) {
    const std::size_t slash = path.find('/');
    const std::string_view raw = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
    if (raw.empty()) continue;
    if (raw.size() > sizeof segment) return std::nullopt;  // no file name is this long
    const std::string_view name =
        decode ? std::string_view(segment, http::text::percent_decode(raw, segment, false)) : raw;
    if (name == "." || name == ".." || (!allow_dotfiles && name.front() == '.') ||
        name.find_first_of(std::string_view("/\\\0", 3)) != std::string_view::npos)
      return std::nullopt;
    if (!out.empty()) out += '/';
    out += name;
  }
  return out;
}

}  // namespace httpkit::app
