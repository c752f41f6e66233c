// Parsing of a freshness deadline ("06:00 Asia/Tokyo").
#pragma once

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "landfall/pipeline.h"

namespace landfall::internal {

// Parses "HH:MM ZONE" or "HH:MM" (UTC) into a deadline with `days`; the zone
// is loaded from the system tz database (absl::LoadTimeZone). The error
// message says what was wrong with `text` but not where; callers add the
// location.
absl::StatusOr<FreshnessDeadline> ParseFreshnessDeadline(absl::string_view text,
                                                         int days);

}  // namespace landfall::internal
