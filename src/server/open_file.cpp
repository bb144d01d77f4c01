#include <unistd.h>

#include "httpkit/response.hpp"

namespace httpkit {

OpenFile::~OpenFile() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace httpkit
