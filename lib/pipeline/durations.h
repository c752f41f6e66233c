// Parsing of the duration strings a spec holds ("30s", "15m", "26h").
#pragma once

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace landfall::internal {

// Parses a duration in absl syntax from 1ms to 87600h (ten years). The error
// message says what was wrong with `text` but not where; callers add the
// location.
absl::StatusOr<absl::Duration> ParseSpecDuration(absl::string_view text);

}  // namespace landfall::internal
