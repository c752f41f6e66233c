// Times as people and JSON read them: RFC 3339 in UTC.
#pragma once

#include <string>

#include "absl/time/time.h"

namespace landfall::internal {

// "2018-11-04T01:00:00Z", with fractional seconds only when there are some.
inline std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*SZ", t, absl::UTCTimeZone());
}

}  // namespace landfall::internal
