// Reading a whole input file (a spec, events, a script) with every failure
// reported: a directory or a device is not read as if it were empty or
// endless.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace landfall::internal {

// The whole of `path`, which must be a regular file of at most `max_bytes`.
// Errors name the `kind` of file ("spec file") and the path: NotFound,
// PermissionDenied or Unavailable with the system's reason when it cannot
// be read, FailedPrecondition when it is not a regular file, and
// ResourceExhausted when it is larger than `max_bytes`.
absl::StatusOr<std::string> ReadRegularFile(const std::string& path,
                                            int64_t max_bytes,
                                            absl::string_view kind);

// As ReadRegularFile, passing the contents to `f` piece by piece as they
// are read instead of holding them; stops at the first error `f` returns,
// returning it.
absl::Status ReadRegularFileChunks(
    const std::string& path, int64_t max_bytes, absl::string_view kind,
    const std::function<absl::Status(absl::string_view chunk)>& f);

}  // namespace landfall::internal
