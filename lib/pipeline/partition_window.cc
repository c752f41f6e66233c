#include "landfall/partition_window.h"

#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"

namespace landfall {
namespace {

// Every key is held as the hour it starts at.
using Hour = absl::CivilHour;

constexpr int kMaxYear = 9999;
// Hours looked at for the existing hour next to one: more than any zone
// has ever skipped at once (a day, in Pacific/Apia in 2011).
constexpr int kMaxSkippedHours = 48;

// The `n` decimal digits of `text` at `pos`, or -1.
int Digits(std::string_view text, size_t pos, size_t n) {
  int value = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

size_t KeyLength(PartitionFormat format) {
  switch (format) {
    case PartitionFormat::kHourly:
      return 13;
    case PartitionFormat::kDaily:
      return 10;
    case PartitionFormat::kMonthly:
      return 7;
    case PartitionFormat::kOpaque:
      break;
  }
  return 0;
}

// The hour `key` starts at, when it is exactly a key of `format`.
std::optional<Hour> Parse(PartitionFormat format, std::string_view key) {
  const size_t length = KeyLength(format);
  if (length == 0 || key.size() != length || key[4] != '-') return {};
  const int year = Digits(key, 0, 4);
  const int month = Digits(key, 5, 2);
  if (year < 0 || month < 1 || month > 12) return {};
  int day = 1;
  int hour = 0;
  if (format != PartitionFormat::kMonthly) {
    if (key[7] != '-') return {};
    day = Digits(key, 8, 2);
    // A day past the month's end would normalize into the next month.
    if (day < 1 || absl::CivilDay(year, month, day).day() != day) return {};
  }
  if (format == PartitionFormat::kHourly) {
    if (key[10] != 'T') return {};
    hour = Digits(key, 11, 2);
    if (hour < 0 || hour > 23) return {};
  }
  return Hour(year, month, day, hour);
}

std::string Format(PartitionFormat format, Hour h) {
  const int year = static_cast<int>(h.year());
  switch (format) {
    case PartitionFormat::kHourly:
      return absl::StrFormat("%04d-%02d-%02dT%02d", year, h.month(), h.day(),
                             h.hour());
    case PartitionFormat::kDaily:
      return absl::StrFormat("%04d-%02d-%02d", year, h.month(), h.day());
    case PartitionFormat::kMonthly:
      return absl::StrFormat("%04d-%02d", year, h.month());
    case PartitionFormat::kOpaque:
      break;
  }
  return "";
}

bool InRange(Hour h) { return h.year() >= 0 && h.year() <= kMaxYear; }

// Whether some instant has a local time within hour `h` in `zone`.
bool HourExists(Hour h, const absl::TimeZone& zone) {
  const absl::TimeZone::TimeInfo info = zone.At(absl::CivilSecond(h));
  if (info.kind != absl::TimeZone::TimeInfo::SKIPPED) return true;
  // Skipped at its start, it exists if the change lands within it.
  return zone.At(info.trans).cs < absl::CivilSecond(h + 1);
}

// The existing hour `direction` (+1 or -1) hours from `h` or further.
std::optional<Hour> NextExistingHour(Hour h, int direction,
                                     const absl::TimeZone& zone) {
  for (int i = 0; i < kMaxSkippedHours; ++i) {
    h += direction;
    if (!InRange(h)) return {};
    if (HourExists(h, zone)) return h;
  }
  return {};
}

// One step of `format` from `h`, in `direction`.
std::optional<Hour> Step(PartitionFormat format, Hour h, int direction,
                         const absl::TimeZone& zone) {
  Hour next = h;
  switch (format) {
    case PartitionFormat::kHourly:
      if (!HourExists(h, zone)) return {};
      return NextExistingHour(h, direction, zone);
    case PartitionFormat::kDaily:
      next = Hour(absl::CivilDay(h) + direction);
      break;
    case PartitionFormat::kMonthly:
      next = Hour(absl::CivilMonth(h) + direction);
      break;
    case PartitionFormat::kOpaque:
      return {};
  }
  if (!InRange(next)) return {};
  return next;
}

}  // namespace

const char* PartitionFormatText(PartitionFormat format) {
  switch (format) {
    case PartitionFormat::kHourly:
      return "%Y-%m-%dT%H";
    case PartitionFormat::kDaily:
      return "%Y-%m-%d";
    case PartitionFormat::kMonthly:
      return "%Y-%m";
    case PartitionFormat::kOpaque:
      break;
  }
  return "";
}

std::optional<PartitionFormat> ParsePartitionFormat(std::string_view text) {
  for (PartitionFormat format :
       {PartitionFormat::kHourly, PartitionFormat::kDaily,
        PartitionFormat::kMonthly}) {
    if (text == PartitionFormatText(format)) return format;
  }
  return std::nullopt;
}

const char* PartitionMappingName(PartitionMapping mapping) {
  switch (mapping) {
    case PartitionMapping::kIdentity:
      return "IDENTITY";
    case PartitionMapping::kHourlyToDaily:
      return "HOURLY_TO_DAILY";
    case PartitionMapping::kDailyToMonthly:
      return "DAILY_TO_MONTHLY";
    case PartitionMapping::kPrevious:
      return "PREVIOUS";
  }
  return "";
}

bool MatchesPartitionFormat(PartitionFormat format, std::string_view key) {
  return format == PartitionFormat::kOpaque || Parse(format, key).has_value();
}

std::vector<std::string> PartitionWindow(PartitionMapping mapping,
                                         PartitionFormat format,
                                         std::string_view partition,
                                         const absl::TimeZone& zone) {
  std::vector<std::string> window;
  switch (mapping) {
    case PartitionMapping::kIdentity:
      window.emplace_back(partition);
      break;
    case PartitionMapping::kHourlyToDaily:
      if (auto day = Parse(PartitionFormat::kDaily, partition)) {
        for (int i = 0; i < 24; ++i) {
          if (HourExists(*day + i, zone)) {
            window.push_back(Format(PartitionFormat::kHourly, *day + i));
          }
        }
      }
      break;
    case PartitionMapping::kDailyToMonthly:
      if (auto month = Parse(PartitionFormat::kMonthly, partition)) {
        const absl::CivilMonth m(*month);
        for (absl::CivilDay d(m); absl::CivilMonth(d) == m; ++d) {
          window.push_back(Format(PartitionFormat::kDaily, Hour(d)));
        }
      }
      break;
    case PartitionMapping::kPrevious:
      if (auto p = Parse(format, partition)) {
        if (auto before = Step(format, *p, -1, zone)) {
          window.push_back(Format(format, *before));
        }
      }
      break;
  }
  return window;
}

std::vector<std::string> PartitionReaders(PartitionMapping mapping,
                                          PartitionFormat format,
                                          std::string_view partition,
                                          const absl::TimeZone& zone) {
  std::vector<std::string> readers;
  switch (mapping) {
    case PartitionMapping::kIdentity:
      readers.emplace_back(partition);
      break;
    case PartitionMapping::kHourlyToDaily:
      if (auto hour = Parse(PartitionFormat::kHourly, partition);
          hour && HourExists(*hour, zone)) {
        readers.push_back(Format(PartitionFormat::kDaily, *hour));
      }
      break;
    case PartitionMapping::kDailyToMonthly:
      if (auto day = Parse(PartitionFormat::kDaily, partition)) {
        readers.push_back(Format(PartitionFormat::kMonthly, *day));
      }
      break;
    case PartitionMapping::kPrevious:
      if (auto q = Parse(format, partition)) {
        if (auto after = Step(format, *q, +1, zone)) {
          readers.push_back(Format(format, *after));
        }
      }
      break;
  }
  return readers;
}

}  // namespace landfall
