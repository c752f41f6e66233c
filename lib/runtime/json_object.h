// One JSON object built field by field: the JSON forms of records that the
// C API returns and `landfall ... --json` prints.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "lib/core/rfc3339.h"
#include "lib/runtime/json_lines.h"

namespace landfall::internal {

class JsonObject {
 public:
  JsonObject& Str(std::string_view key, std::string_view value) {
    return Raw(key, JsonString(absl::string_view(value.data(), value.size())));
  }
  JsonObject& Int(std::string_view key, int64_t value) {
    return Raw(key, absl::StrCat(value));
  }
  JsonObject& Bool(std::string_view key, bool value) {
    return Raw(key, value ? "true" : "false");
  }
  // RFC 3339 in UTC; null for a time that never was.
  JsonObject& Time(std::string_view key, absl::Time value) {
    return Raw(key, value == absl::InfinitePast() ? std::string("null")
                                                  : JsonString(Rfc3339(value)));
  }
  // `json` is already JSON (an object, an array).
  JsonObject& Raw(std::string_view key, std::string_view json) {
    fields_.push_back(
        absl::StrCat(JsonString(absl::string_view(key.data(), key.size())), ":",
                     absl::string_view(json.data(), json.size())));
    return *this;
  }
  std::string str() const {
    return absl::StrCat("{", absl::StrJoin(fields_, ","), "}");
  }

 private:
  std::vector<std::string> fields_;
};

// `items`, each already JSON, as an array.
inline std::string JsonArray(const std::vector<std::string>& items) {
  return absl::StrCat("[", absl::StrJoin(items, ","), "]");
}

}  // namespace landfall::internal
