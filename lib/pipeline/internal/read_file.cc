#include "lib/pipeline/internal/read_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>

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

absl::Status ReadRegularFileChunks(
    const std::string& path, int64_t max_bytes, absl::string_view kind,
    const std::function<absl::Status(absl::string_view chunk)>& f) {
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
  int64_t total = 0;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      return FileError(kind, path, errno);
    }
    // The file may grow while it is read.
    total += n;
    if (total > max_bytes) return TooLarge(kind, path, max_bytes);
    absl::Status status = f(absl::string_view(buffer, static_cast<size_t>(n)));
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadRegularFile(const std::string& path,
                                            int64_t max_bytes,
                                            absl::string_view kind) {
  std::string contents;
  absl::Status status = ReadRegularFileChunks(
      path, max_bytes, kind, [&](absl::string_view chunk) {
        contents.append(chunk.data(), chunk.size());
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  return contents;
}

}  // namespace landfall::internal
