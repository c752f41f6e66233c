#include "lib/pipeline/durations.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace landfall::internal {

absl::StatusOr<absl::Duration> ParseSpecDuration(absl::string_view text) {
  absl::Duration d;
  if (!absl::ParseDuration(std::string(text), &d) ||
      d == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid duration \"", text, "\" (expected e.g. \"90s\", \"15m\", ",
        "\"26h\", \"1h30m\")"));
  }
  if (d <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("duration \"", text, "\" must be positive"));
  }
  return d;
}

}  // namespace landfall::internal
