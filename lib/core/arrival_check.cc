#include "lib/core/arrival_check.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "landfall/partition_window.h"
#include "lib/core/utf8.h"
#include "lib/pipeline/internal/suggest.h"

namespace landfall::internal {

absl::StatusOr<TableId> CheckArrival(const Pipeline& pipeline, const Arrival& a,
                                     size_t index, size_t count) {
  auto where = [&] {
    return count > 1 ? absl::StrCat("arrival #", index + 1, ": ")
                     : std::string();
  };
  if (a.event_id().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        where(), "arrival for table \"", a.table(), "\" has no event_id"));
  }
  auto table = pipeline.FindTable(a.table());
  if (!table) {
    return absl::InvalidArgumentError(
        absl::StrCat(where(), "event ", a.event_id(), ": ",
                     UnknownTable(pipeline, a.table())));
  }
  // Times are kept as int64 nanoseconds: refuse what they cannot hold.
  constexpr int64_t kEarliest = -2208988800;  // 1900-01-01T00:00:00Z
  constexpr int64_t kLatest = 7258118400;     // 2200-01-01T00:00:00Z
  if (a.has_at() &&
      (a.at().seconds() < kEarliest || a.at().seconds() >= kLatest ||
       a.at().nanos() < 0 || a.at().nanos() > 999999999)) {
    return absl::InvalidArgumentError(absl::StrCat(
        where(), "event ", a.event_id(), ": at (", a.at().seconds(),
        "s since 1970) is outside 1900 to 2200"));
  }
  const Table& info = pipeline.table(*table);
  if (info.partitioned && a.partition().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where(), "event ", a.event_id(), ": table \"", a.table(),
                     "\" is partitioned: the arrival needs a partition"));
  }
  if (!info.partitioned && !a.partition().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where(), "event ", a.event_id(), ": table \"", a.table(),
                     "\" is unpartitioned: partition \"", a.partition(),
                     "\" is not allowed"));
  }
  if (!MatchesPartitionFormat(info.partition_format, a.partition())) {
    return absl::InvalidArgumentError(
        absl::StrCat(where(), "event ", a.event_id(), ": partition \"",
                     a.partition(), "\" of table \"", a.table(),
                     "\" does not match its partition_format \"",
                     PartitionFormatText(info.partition_format), "\""));
  }
  for (const auto& [name, value] : a.attributes()) {
    if (!IsValidUtf8(name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          where(), "event ", a.event_id(),
          ": an attribute name is not UTF-8 (attribute values may be any "
          "bytes)"));
    }
  }
  return *table;
}

std::string UnknownTable(const Pipeline& pipeline, const std::string& name) {
  std::vector<std::string> names;
  names.reserve(pipeline.table_count());
  for (const Table& t : pipeline.tables()) names.push_back(t.name);
  return absl::StrCat("unknown table \"", name, "\"", DidYouMean(name, names));
}

}  // namespace landfall::internal
