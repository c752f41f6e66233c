#include "lib/core/replay_check.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "landfall/history.h"

namespace landfall::internal {
namespace {

// Whether entries of `kind` are about one task (or, for arrivals, one
// partition of a table).
bool NamesTask(EntryKind kind) {
  switch (kind) {
    case EntryKind::kDuplicate:
    case EntryKind::kPaused:
    case EntryKind::kResumed:
    case EntryKind::kClassChanged:
    case EntryKind::kPoolResized:
    case EntryKind::kPipelineUpdated:
      return false;
    default:
      return true;
  }
}

}  // namespace

absl::Status CheckReplayedEntry(const JournalEntry& j,
                                const Pipeline& pipeline) {
  const auto kind = static_cast<EntryKind>(j.kind());
  auto refuse = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "history entry ", j.seq(), " (", EntryKindName(kind), "): ", why));
  };
  if (NamesTask(kind) && j.table().empty()) return refuse("it names no table");
  if (kind == EntryKind::kClassChanged &&
      (j.table().empty() || j.priority_class().empty())) {
    return refuse("it needs a table and a priority class");
  }
  if ((kind == EntryKind::kPaused || kind == EntryKind::kResumed) &&
      j.table().empty() && j.priority_class().empty()) {
    return refuse("it names neither a table nor a priority class");
  }
  if (!NamesTask(kind)) return absl::OkStatus();
  const std::optional<TableId> id = pipeline.FindTable(j.table());
  if (!id) return absl::OkStatus();
  const Table& table = pipeline.table(*id);
  if (table.source && kind != EntryKind::kArrival) {
    return refuse(
        absl::StrCat("table \"", table.name, "\" is a source: it has no task"));
  }
  if (table.partitioned && j.partition().empty()) {
    return refuse(
        absl::StrCat("table \"", table.name,
                     "\" is partitioned: the entry needs a partition"));
  }
  if (!table.partitioned && !j.partition().empty()) {
    return refuse(
        absl::StrCat("table \"", table.name,
                     "\" is unpartitioned: the entry has partition \"",
                     j.partition(), "\""));
  }
  if (!MatchesPartitionFormat(table.partition_format, j.partition())) {
    return refuse(
        absl::StrCat("partition \"", j.partition(), "\" of table \"",
                     table.name, "\" does not match its partition_format \"",
                     PartitionFormatText(table.partition_format), "\""));
  }
  return absl::OkStatus();
}

}  // namespace landfall::internal
