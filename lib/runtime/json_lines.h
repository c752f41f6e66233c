// Reading protobuf messages from JSON-lines files, and writing JSON strings.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace landfall::internal {

// Parses each non-blank line of `path` into a copy of `prototype`.
absl::StatusOr<std::vector<std::string>> ReadLines(const std::string& path);
absl::Status ParseJsonLine(const std::string& path, int line_number,
                           const std::string& line,
                           google::protobuf::Message* message);

// `text` as a quoted JSON string; bytes that are not UTF-8 become U+FFFD.
std::string JsonString(absl::string_view text);

}  // namespace landfall::internal
