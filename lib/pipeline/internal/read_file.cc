#include "lib/pipeline/internal/read_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace landfall::internal {
namespace {

absl::Status FileError(absl::string_view kind, const std::string& path,
                       int error) {
  const std::string message =
      absl::StrCat("cannot read ", kind, " ", path, ": ", std::strerror(error));
  switch (error) {
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(message);
    default:
      return absl::UnavailableError(message);
  }
}

absl::Status TooLarge(absl::string_view kind, const std::string& path,
                      int64_t max_bytes) {
  return absl::ResourceExhaustedError(
      absl::StrCat("cannot read ", kind, " ", path, ": larger than ",
                   max_bytes >> 20, " MiB, the most it may hold"));
}

}  // namespace

absl::StatusOr<std::string> ReadRegularFile(const std::string& path,
                                            int64_t max_bytes,
                                            absl::string_view kind) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return FileError(kind, path, errno);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  // fstat on the open file, so that what is checked is what is read.
  struct stat st;
  if (::fstat(fd, &st) != 0) return FileError(kind, path, errno);
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read ", kind, " ", path, ": ",
                     S_ISDIR(st.st_mode) ? "it is a directory"
                                         : "it is not a regular file"));
  }
  if (st.st_size > max_bytes) return TooLarge(kind, path, max_bytes);
  std::string contents;
  contents.reserve(static_cast<size_t>(st.st_size));
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      return FileError(kind, path, errno);
    }
    // The file may grow while it is read.
    if (static_cast<int64_t>(contents.size()) + n > max_bytes) {
      return TooLarge(kind, path, max_bytes);
    }
    contents.append(buffer, static_cast<size_t>(n));
  }
  return contents;
}

}  // namespace landfall::internal
