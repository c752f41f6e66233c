// Partition keys with a format, and the windows of partitions that an edge
// maps a downstream partition to (DESIGN.md, Readiness, "Partition
// windows"). The scheduler uses these functions; hosts may use them to name
// the partitions a task reads. All functions are pure and thread-safe.
//
// Keys are civil (wall-clock) times in the pipeline's `time_zone`, with a
// four-digit year from 0000 to 9999:
//   kHourly  "%Y-%m-%dT%H"  2018-11-03T13 is the hour from 13:00 local time
//   kDaily   "%Y-%m-%d"     2018-11-03
//   kMonthly "%Y-%m"        2018-11
// A key matches its format only when it is exactly that text for a real
// date: "2018-02-29" and "2018-11-3" do not match "%Y-%m-%d".
//
// An hour key exists in a zone when some instant has a local time within
// that hour. A daylight-saving change forward skips an hour (in
// America/New_York, 2018-03-11T02 does not exist); a change back repeats
// one, and a key names the wall-clock hour, so the repeated hour is one key
// (2018-11-04T01 holds both of New York's 01:00 hours). Every day and
// month key exists.
//
// The windows, for downstream partition P and upstream partition Q:
//   kIdentity       P reads {P}.
//   kHourlyToDaily  day P reads every existing hour of P, in order (23 keys
//                   on a day that skips an hour, 24 on one that repeats
//                   one); hour Q is read by its day if Q exists, by none if
//                   not.
//   kDailyToMonthly month P reads every day of P (28 to 31 keys); day Q is
//                   read by its month.
//   kPrevious       P reads the partition one step before it in its own
//                   format: the day, month or existing hour before (the
//                   hour before 2018-03-11T03 in New York is
//                   2018-03-11T01); Q is read by the step after it. An hour
//                   that does not exist reads and is read by nothing, and
//                   so are the steps before 0000-01-01T00 and after
//                   9999-12-31T23.
// Q is in the window of P exactly when P is among the readers of Q.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "landfall/export.h"

namespace landfall {

// TableSpec.partition_format. kOpaque: no format, keys are any string.
enum class PartitionFormat { kOpaque, kHourly, kDaily, kMonthly };

// InputSpec.mapping: how an edge maps a partition of the downstream to
// partitions of the upstream.
enum class PartitionMapping {
  kIdentity,
  kHourlyToDaily,
  kDailyToMonthly,
  kPrevious
};

// "%Y-%m-%dT%H", "%Y-%m-%d", "%Y-%m"; "" for kOpaque.
LANDFALL_EXPORT const char* PartitionFormatText(PartitionFormat format);
// The format `text` names, exactly as PartitionFormatText writes it;
// nullopt for any other text ("" included).
LANDFALL_EXPORT std::optional<PartitionFormat> ParsePartitionFormat(
    std::string_view text);
// "IDENTITY", "HOURLY_TO_DAILY", "DAILY_TO_MONTHLY", "PREVIOUS".
LANDFALL_EXPORT const char* PartitionMappingName(PartitionMapping mapping);

// Whether `key` matches `format` (always, for kOpaque).
LANDFALL_EXPORT bool MatchesPartitionFormat(PartitionFormat format,
                                            std::string_view key);

// The window of downstream partition `partition` (of format `format`)
// through `mapping`: the upstream's keys it reads, in time order. Empty
// when `partition` does not match the format the mapping reads from the
// downstream (kDaily for kHourlyToDaily, kMonthly for kDailyToMonthly,
// `format` for kPrevious). kIdentity returns {partition}.
LANDFALL_EXPORT std::vector<std::string> PartitionWindow(
    PartitionMapping mapping, PartitionFormat format,
    std::string_view partition, const absl::TimeZone& zone);

// The inverse: the downstream partitions whose window holds upstream
// partition `partition` (of format `format`); at most one.
LANDFALL_EXPORT std::vector<std::string> PartitionReaders(
    PartitionMapping mapping, PartitionFormat format,
    std::string_view partition, const absl::TimeZone& zone);

}  // namespace landfall
