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
  // A lease or backoff of nanoseconds would have a worker heartbeat, or a
  // retry wake, without end; "0.5ns" would even be zero once truncated.
  if (d < absl::Milliseconds(1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("duration \"", text, "\" is shorter than 1ms"));
  }
  // Deadlines are int64 nanoseconds; ten years keeps `now + d` far from
  // overflow and is beyond any lease, backoff or lag anyone means.
  if (d > absl::Hours(87600)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "duration \"", text, "\" is longer than 87600h (ten years)"));
  }
  return d;
}

}  // namespace landfall::internal
