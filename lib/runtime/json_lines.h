// Reading protobuf messages from JSON-lines files, and writing JSON strings.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace landfall::internal {

// A JSON-lines file (events, a script) larger than this is refused.
inline constexpr int64_t kMaxJsonLinesBytes = int64_t{4} << 30;

// The lines of `path`, read as ReadRegularFile reads it.
absl::StatusOr<std::vector<std::string>> ReadLines(const std::string& path);
// Calls f(line number from 1, the line's offset in the file, the line) for
// each line of `path`, split as ReadLines splits them, without holding the
// file; stops at the first error of reading or of `f`, returning it.
absl::Status ForEachLine(
    const std::string& path,
    const std::function<absl::Status(int line_number, int64_t offset,
                                     absl::string_view line)>& f);
// The lines of `text`: split at '\n', a final newline ending the last line.
std::vector<std::string> SplitLines(absl::string_view text);
absl::Status ParseJsonLine(const std::string& path, int line_number,
                           const std::string& line,
                           google::protobuf::Message* message);

// `text` as a quoted JSON string; bytes that are not UTF-8 become U+FFFD.
std::string JsonString(absl::string_view text);

}  // namespace landfall::internal
