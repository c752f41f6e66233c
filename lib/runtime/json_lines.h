// Reading protobuf messages from JSON-lines files, and writing JSON strings.
#pragma once

#include <cstdint>
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
// The lines of `text`: split at '\n', a final newline ending the last line.
std::vector<std::string> SplitLines(absl::string_view text);
absl::Status ParseJsonLine(const std::string& path, int line_number,
                           const std::string& line,
                           google::protobuf::Message* message);

// `text` as a quoted JSON string; bytes that are not UTF-8 become U+FFFD.
std::string JsonString(absl::string_view text);

}  // namespace landfall::internal
