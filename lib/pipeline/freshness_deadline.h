// Parsing of a freshness deadline ("06:00 Asia/Tokyo").
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "landfall/pipeline.h"

namespace landfall::internal {

// Parses "HH:MM ZONE" or "HH:MM" into a deadline with `days`; the zone is
// loaded from the system tz database (absl::LoadTimeZone). "HH:MM" takes
// `default_zone`, the pipeline's time_zone ("" or "UTC": UTC). The error
// message says what was wrong with `text` but not where; callers add the
// location.
absl::StatusOr<FreshnessDeadline> ParseFreshnessDeadline(
    absl::string_view text, int days, const std::string& default_zone = "");

}  // namespace landfall::internal
