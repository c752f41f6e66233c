// Fuzzes partition keys under each partition_format and the windows of each
// mapping (landfall/partition_window.h). Input: a format byte, a time zone
// byte, then the key. Checked for every key that matches its format:
//   - a window's keys match the upstream's format, are in strictly
//     increasing order, and number at most 24 (hours of a day), 28 to 31
//     (days of a month) or 1 (the step before);
//   - each key of P's window has P as its one reader, and P is in the
//     window of each of its own readers (the two functions are inverses);
//   - IDENTITY maps a key to itself.
// Any other bytes only must not crash.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "landfall/partition_window.h"

namespace {

using landfall::PartitionFormat;
using landfall::PartitionMapping;

void Check(bool ok) {
  if (!ok) std::abort();
}

const absl::TimeZone& ZoneFor(uint8_t byte) {
  // Zones with skipped and repeated hours, half-hour changes, a skipped day.
  static const auto* zones = [] {
    auto* z = new std::vector<absl::TimeZone>();
    for (const char* name :
         {"UTC", "America/New_York", "Asia/Tokyo", "Australia/Lord_Howe",
          "Pacific/Apia", "Europe/London", "America/Sao_Paulo"}) {
      absl::TimeZone zone;
      if (absl::LoadTimeZone(name, &zone)) z->push_back(zone);
    }
    return z;
  }();
  return (*zones)[byte % zones->size()];
}

// The format a mapping reads from the upstream, for a downstream of
// `format`; kOpaque when the mapping does not apply to that downstream.
PartitionFormat UpstreamFormat(PartitionMapping mapping,
                               PartitionFormat format) {
  switch (mapping) {
    case PartitionMapping::kHourlyToDaily:
      return format == PartitionFormat::kDaily ? PartitionFormat::kHourly
                                               : PartitionFormat::kOpaque;
    case PartitionMapping::kDailyToMonthly:
      return format == PartitionFormat::kMonthly ? PartitionFormat::kDaily
                                                 : PartitionFormat::kOpaque;
    default:
      return format;
  }
}

size_t MaxWindow(PartitionMapping mapping) {
  switch (mapping) {
    case PartitionMapping::kHourlyToDaily:
      return 24;
    case PartitionMapping::kDailyToMonthly:
      return 31;
    default:
      return 1;
  }
}

void CheckAsDownstream(PartitionMapping mapping, PartitionFormat format,
                       const std::string& key, const absl::TimeZone& zone) {
  const PartitionFormat up = UpstreamFormat(mapping, format);
  const std::vector<std::string> window =
      landfall::PartitionWindow(mapping, format, key, zone);
  if (up == PartitionFormat::kOpaque) {
    Check(window.empty() || mapping == PartitionMapping::kIdentity);
    return;
  }
  Check(window.size() <= MaxWindow(mapping));
  if (mapping == PartitionMapping::kDailyToMonthly) {
    Check(window.size() >= 28);
  }
  if (mapping == PartitionMapping::kIdentity) {
    Check(window.size() == 1 && window[0] == key);
  }
  for (size_t i = 0; i < window.size(); ++i) {
    Check(landfall::MatchesPartitionFormat(up, window[i]));
    if (i > 0) Check(window[i - 1] < window[i]);
    Check(landfall::PartitionReaders(mapping, up, window[i], zone) ==
          std::vector<std::string>{key});
  }
}

void CheckAsUpstream(PartitionMapping mapping, PartitionFormat format,
                     const std::string& key, const absl::TimeZone& zone) {
  const std::vector<std::string> readers =
      landfall::PartitionReaders(mapping, format, key, zone);
  Check(readers.size() <= 1);
  for (const std::string& reader : readers) {
    PartitionFormat down = format;
    if (mapping == PartitionMapping::kHourlyToDaily) {
      down = PartitionFormat::kDaily;
    }
    if (mapping == PartitionMapping::kDailyToMonthly) {
      down = PartitionFormat::kMonthly;
    }
    Check(landfall::MatchesPartitionFormat(down, reader));
    const std::vector<std::string> window =
        landfall::PartitionWindow(mapping, down, reader, zone);
    Check(std::find(window.begin(), window.end(), key) != window.end());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  constexpr PartitionFormat kFormats[] = {
      PartitionFormat::kOpaque, PartitionFormat::kHourly,
      PartitionFormat::kDaily, PartitionFormat::kMonthly};
  const PartitionFormat format = kFormats[data[0] % 4];
  const absl::TimeZone& zone = ZoneFor(data[1]);
  const std::string key(reinterpret_cast<const char*>(data + 2), size - 2);
  const bool matches = landfall::MatchesPartitionFormat(format, key);
  for (PartitionMapping mapping :
       {PartitionMapping::kIdentity, PartitionMapping::kHourlyToDaily,
        PartitionMapping::kDailyToMonthly, PartitionMapping::kPrevious}) {
    if (!matches || format == PartitionFormat::kOpaque) {
      // Any bytes: no crash, and nothing read as a key of `format`.
      (void)landfall::PartitionWindow(mapping, format, key, zone);
      (void)landfall::PartitionReaders(mapping, format, key, zone);
      continue;
    }
    CheckAsDownstream(mapping, format, key, zone);
    CheckAsUpstream(mapping, format, key, zone);
  }
  return 0;
}
