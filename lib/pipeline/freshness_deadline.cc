#include "lib/pipeline/freshness_deadline.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace landfall::internal {
namespace {

// Two decimal digits in [0, max].
bool ParseTwoDigits(absl::string_view text, int max, int* out) {
  if (text.size() != 2 || !absl::ascii_isdigit(text[0]) ||
      !absl::ascii_isdigit(text[1])) {
    return false;
  }
  *out = (text[0] - '0') * 10 + (text[1] - '0');
  return *out <= max;
}

}  // namespace

absl::StatusOr<FreshnessDeadline> ParseFreshnessDeadline(
    absl::string_view text, int days, const std::string& default_zone) {
  const std::vector<absl::string_view> parts =
      absl::StrSplit(text, ' ', absl::SkipEmpty());
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", text, "\" is not a deadline: ", why,
        " (expected \"HH:MM ZONE\" such as \"06:00 Asia/Tokyo\", or \"HH:MM\" "
        "for the pipeline's time_zone)"));
  };
  if (parts.empty() || parts.size() > 2) return bad("wrong number of words");
  FreshnessDeadline d;
  const std::vector<absl::string_view> hm = absl::StrSplit(parts[0], ':');
  if (hm.size() != 2 || !ParseTwoDigits(hm[0], 23, &d.hour) ||
      !ParseTwoDigits(hm[1], 59, &d.minute)) {
    return bad("the time is not HH:MM from 00:00 to 23:59");
  }
  if (days < 0 || days > 366) {
    return absl::InvalidArgumentError(
        absl::StrCat("deadline_days must be 0 to 366 (got ", days, ")"));
  }
  d.days = days;
  // Without a zone: the pipeline's (whose own validation reports a bad one).
  if (parts.size() == 1 && !default_zone.empty() &&
      absl::LoadTimeZone(default_zone, &d.zone)) {
    d.zone_name = default_zone;
  }
  if (parts.size() == 2) {
    d.zone_name = std::string(parts[1]);
    if (!absl::LoadTimeZone(d.zone_name, &d.zone)) {
      return bad(absl::StrCat("unknown time zone \"", d.zone_name,
                              "\" (not in the system tz database)"));
    }
  }
  return d;
}

}  // namespace landfall::internal
