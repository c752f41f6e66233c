// Partitions, slots and how they are found: interning, creating a task's
// slot and counting its inputs, and looking up tables and tasks by name.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "lib/core/arrival_check.h"
#include "lib/core/core.h"

namespace landfall::internal {

// ---------------------------------------------------------------------------
// Lookup

int32_t Core::InternWorker(const std::string& worker) {
  // A host claims for the same worker again and again: no hashing then.
  if (last_worker_ >= 0 && workers_[last_worker_] == worker) {
    return last_worker_;
  }
  auto [it, added] =
      worker_ids_.emplace(worker, static_cast<int32_t>(workers_.size()));
  if (added) workers_.push_back(worker);
  last_worker_ = it->second;
  return it->second;
}

SlotIndex Core::SlotOf(const Entry& e) {
  return e.slot != kNoSlot ? e.slot : GetOrCreateSlot(e.table, e.partition);
}

SlotIndex Core::GetOrCreateSlot(TableId table, PartitionId p, bool* created) {
  const std::optional<SlotIndex> found = FindSlot(table, p);
  if (created != nullptr) *created = !found;
  if (found) return *found;
  Slot slot;
  slot.table = table;
  slot.partition = p;
  CountInputs(slot);
  const SlotIndex s = AddSlot(slot);
  AddOriginReader(slots_[s]);
  CountRecorded(slots_[s], 1);
  return s;
}

SlotIndex Core::AddSlot(const Slot& slot) {
  const SlotIndex s = static_cast<SlotIndex>(slots_.size());
  slots_.push_back(slot);
  slot_directory_.Add(tables_[slot.table], s, slot.partition);
  return s;
}

void Core::CountInputs(Slot& slot) const {
  const TableRuntime& table = tables_[slot.table];
  slot.missing_inputs = 0;
  slot.newest_input_seq = 0;
  if (table.windowed) {
    CountWindowInputs(slot);
    return;
  }
  for (TableId up : pipeline_->Upstreams(slot.table)) {
    // An unpartitioned upstream of a partitioned table is a requirement
    // only: it must have arrived, but its new versions make nothing due.
    const TableRuntime& upstream = tables_[up];
    const bool requirement = !upstream.partitioned && table.partitioned;
    // A table without a version has none for this task either: a new task's
    // upstreams mostly have none yet, and need no lookup.
    const std::optional<SlotIndex> input =
        upstream.versioned ? InputSlot(up, slot) : std::nullopt;
    const int64_t seq =
        input && slots_[*input].version > 0 ? slots_[*input].version_seq : 0;
    if (seq == 0 && (requirement || !table.trigger_any)) {
      ++slot.missing_inputs;
    }
    if (!requirement) {
      slot.newest_input_seq = std::max(slot.newest_input_seq, seq);
    }
  }
}

void Core::Propagate(SlotIndex s, bool first_version,
                     bool first_table_version) {
  touched_.clear();
  const TableId up = slots_[s].table;
  const PartitionId p = slots_[s].partition;
  const int64_t seq = slots_[s].version_seq;
  const bool up_partitioned = tables_[up].partitioned;
  for (TableId down : pipeline_->Downstreams(up)) {
    const TableRuntime& table = tables_[down];
    if (table.windowed) {
      PropagateToWindows(s, down, first_version);
      continue;
    }
    if (!up_partitioned && table.partitioned) {
      PropagateRequirement(down, first_version);
      continue;
    }
    const bool any_partition = up_partitioned && !table.partitioned;
    bool created;
    const SlotIndex d =
        GetOrCreateSlot(down, table.partitioned ? p : 0, &created);
    if (!created) {  // A new slot counted this version already.
      Slot& slot = slots_[d];
      const bool arrived = any_partition ? first_table_version : first_version;
      if (arrived && !table.trigger_any) --slot.missing_inputs;
      slot.newest_input_seq = std::max(slot.newest_input_seq, seq);
    }
    touched_.push_back(d);
  }
}

void Core::PropagateRequirement(TableId down, bool first_version) {
  if (first_version) {
    // A requirement arrived for the first time: every partition waiting
    // for it has one input fewer to wait for.
    for (SlotIndex d : SlotsOf(down)) {
      --slots_[d].missing_inputs;
      touched_.push_back(d);
    }
  } else if (counts_.HasForced(down)) {
    // Not a trigger, but reruns asked for wait for this rebuild.
    for (SlotIndex d : SlotsOf(down)) {
      if (slots_[d].forced) touched_.push_back(d);
    }
  }
}

void Core::AddTasksOnLandedData() {
  touched_.clear();
  for (TableId d = 0; d < pipeline_->table_count(); ++d) {
    const TableRuntime& table = tables_[d];
    // A derived table with tasks got them from upstream versions already,
    // unless a deploy changed its upstreams.
    if (table.source || (table.has_slots() && !InDeployPlan(d))) continue;
    // The partitions its partitioned upstreams have versions of (identity
    // mapping), or "" for an unpartitioned table with any upstream version.
    std::vector<PartitionId> partitions;
    if (table.windowed) partitions = WindowPartitionsOnLandedData(d);
    for (TableId up : pipeline_->Upstreams(d)) {
      const bool requirement = !tables_[up].partitioned && table.partitioned;
      if (requirement || table.windowed) continue;
      for (SlotIndex s : SlotsOf(up)) {
        if (slots_[s].version > 0) partitions.push_back(slots_[s].partition);
      }
    }
    if (!table.partitioned && !partitions.empty()) partitions = {0};
    std::sort(partitions.begin(), partitions.end(),
              [&](PartitionId a, PartitionId b) {
                return partitions_.Name(a) < partitions_.Name(b);
              });
    partitions.erase(std::unique(partitions.begin(), partitions.end()),
                     partitions.end());
    for (PartitionId p : partitions) {
      touched_.push_back(GetOrCreateSlot(d, p));
    }
  }
}

absl::StatusOr<TableId> Core::LookupTable(const std::string& name) const {
  auto table = pipeline_->FindTable(name);
  if (!table) return absl::NotFoundError(UnknownTable(*pipeline_, name));
  return *table;
}

absl::StatusOr<TableId> Core::LookupDerivedTable(
    const std::string& name) const {
  absl::StatusOr<TableId> table = LookupTable(name);
  if (table.ok() && info_[*table].source) {
    return absl::InvalidArgumentError(
        absl::StrCat("table \"", name, "\" is a source table: it has no task"));
  }
  return table;
}

absl::StatusOr<SlotIndex> Core::FindTask(const TaskKey& key) const {
  absl::StatusOr<TableId> table = LookupDerivedTable(key.table);
  if (!table.ok()) return table.status();
  std::optional<SlotIndex> slot;
  if (IsRecentPartition(*table, key.partition)) {
    slot = tables_[*table].recent_slot;
  } else if (auto p = partitions_.Find(key.partition)) {
    slot = FindSlot(*table, *p);
  }
  if (!slot) {
    return absl::NotFoundError(
        absl::StrCat("no task ", key.table, "/", key.partition, " yet"));
  }
  return *slot;
}

absl::StatusOr<SlotIndex> Core::FindTask(const TaskKey& key,
                                         uint64_t id) const {
  if (id != 0 && id <= slots_.size()) {
    const SlotIndex s = static_cast<SlotIndex>(id - 1);
    const Slot& slot = slots_[s];
    if (!info_[slot.table].source && info_[slot.table].name == key.table &&
        partitions_.View(slot.partition) == key.partition) {
      return s;
    }
  }
  return FindTask(key);
}

void Core::SetLastArrival(SlotIndex s, int64_t ns) {
  if (info_[slots_[s].table].source) {
    slots_[s].stamp_ns = ns;
  } else {
    other_stamps_[s] = ns;
  }
}

void Core::SetLastSuccess(SlotIndex s, int64_t ns) {
  if (info_[slots_[s].table].source) {
    other_stamps_[s] = ns;
  } else {
    slots_[s].stamp_ns = ns;
  }
}

TaskKey Core::KeyOf(SlotIndex s) const {
  return TaskKey{info_[slots_[s].table].name,
                 partitions_.Name(slots_[s].partition)};
}

}  // namespace landfall::internal
