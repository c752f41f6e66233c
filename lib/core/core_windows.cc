// Partition windows: the readiness of tasks of a table that reads an input
// through a mapping other than IDENTITY (TableRuntime::windowed). Such a
// table's inputs are counted partition by partition of every window, so
// that the O(1) counters of core.cc (missing_inputs, newest_input_seq) mean
// for it what DESIGN.md's windows ask: "every partition of every mapped
// set" has arrived, and "some partition of a mapped set is newer".
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "landfall/partition_window.h"
#include "lib/core/core.h"

namespace landfall::internal {

template <typename F>
void Core::ForEachWindowInput(TableId table, const std::string& partition,
                              F f) const {
  const Table& reader = info_[table];
  for (const Input& input : pipeline_->Inputs(table)) {
    if (!tables_[input.table].partitioned) {  // A requirement.
      f(input, /*requirement=*/true, FindSlot(input.table, 0), partition);
      continue;
    }
    for (const std::string& key :
         PartitionWindow(input.mapping, reader.partition_format, partition,
                         pipeline_->time_zone())) {
      std::optional<SlotIndex> slot;
      if (auto id = partitions_.Find(key)) slot = FindSlot(input.table, *id);
      f(input, /*requirement=*/false, slot, key);
    }
  }
}

void Core::CountWindowInputs(Slot& slot) const {
  const bool any = tables_[slot.table].trigger_any;
  ForEachWindowInput(slot.table, partitions_.Name(slot.partition),
                     [&](const Input&, bool requirement,
                         std::optional<SlotIndex> input, const std::string&) {
                       const int64_t seq = input && slots_[*input].version > 0
                                               ? slots_[*input].version_seq
                                               : 0;
                       if (seq == 0 && (requirement || !any))
                         ++slot.missing_inputs;
                       if (!requirement) {
                         slot.newest_input_seq =
                             std::max(slot.newest_input_seq, seq);
                       }
                     });
}

void Core::PropagateToWindows(SlotIndex s, TableId down, bool first_version) {
  const TableId up = slots_[s].table;
  const TableRuntime& table = tables_[down];
  const int64_t seq = slots_[s].version_seq;
  // Slots made here counted this version as they were made.
  absl::InlinedVector<SlotIndex, 2> made;
  for (const Input& input : pipeline_->Inputs(down)) {
    if (input.table != up) continue;
    if (!tables_[up].partitioned) {
      PropagateRequirement(down, first_version);
      continue;
    }
    for (const std::string& key : PartitionReaders(
             input.mapping, info_[up].partition_format,
             partitions_.Name(slots_[s].partition), pipeline_->time_zone())) {
      bool created;
      const SlotIndex d =
          GetOrCreateSlot(down, partitions_.Intern(key), &created);
      if (created) {
        made.push_back(d);
      } else if (std::find(made.begin(), made.end(), d) == made.end()) {
        Slot& slot = slots_[d];
        if (first_version && !table.trigger_any) --slot.missing_inputs;
        slot.newest_input_seq = std::max(slot.newest_input_seq, seq);
      }
      touched_.push_back(d);
    }
  }
}

void Core::ForEachWindowReader(
    SlotIndex s, TableId down,
    absl::FunctionRef<void(TableId, PartitionId)> f) {
  const TableId up = slots_[s].table;
  for (const Input& input : pipeline_->Inputs(down)) {
    if (input.table != up) continue;
    if (!tables_[up].partitioned) {
      // A copy: `f` may add slots to the table.
      const absl::Span<const SlotIndex> of = SlotsOf(down);
      const absl::InlinedVector<SlotIndex, 1> slots(of.begin(), of.end());
      for (SlotIndex d : slots) f(down, slots_[d].partition);
      continue;
    }
    for (const std::string& key : PartitionReaders(
             input.mapping, info_[up].partition_format,
             partitions_.Name(slots_[s].partition), pipeline_->time_zone())) {
      f(down, partitions_.Intern(key));
    }
  }
}

std::vector<PartitionId> Core::WindowPartitionsOnLandedData(TableId d) {
  std::vector<PartitionId> partitions;
  for (const Input& input : pipeline_->Inputs(d)) {
    if (!tables_[input.table].partitioned) continue;  // A requirement.
    for (SlotIndex s : SlotsOf(input.table)) {
      if (slots_[s].version == 0) continue;
      for (const std::string& key : PartitionReaders(
               input.mapping, info_[input.table].partition_format,
               partitions_.Name(slots_[s].partition), pipeline_->time_zone())) {
        partitions.push_back(partitions_.Intern(key));
      }
    }
  }
  return partitions;
}

bool Core::WindowInputUnhealthy(TableId up, TableId table,
                                PartitionId p) const {
  bool unhealthy = false;
  ForEachWindowInput(table, partitions_.Name(p),
                     [&](const Input& input, bool,
                         std::optional<SlotIndex> slot, const std::string&) {
                       if (input.table == up && slot && Unhealthy(*slot)) {
                         unhealthy = true;
                       }
                     });
  return unhealthy;
}

std::optional<SlotIndex> Core::UnhealthyWindowInput(const Slot& slot) const {
  std::optional<SlotIndex> found;
  ForEachWindowInput(
      slot.table, partitions_.Name(slot.partition),
      [&](const Input& input, bool, std::optional<SlotIndex> s,
          const std::string&) {
        if (!found && !info_[input.table].source && s && Unhealthy(*s)) {
          found = s;
        }
      });
  return found;
}

SlotIndex Core::NewestWindowInput(const Slot& slot) const {
  SlotIndex newest = kNoSlot;
  ForEachWindowInput(
      slot.table, partitions_.Name(slot.partition),
      [&](const Input&, bool, std::optional<SlotIndex> input,
          const std::string&) {
        if (!input || slots_[*input].version == 0) return;
        if (newest == kNoSlot ||
            slots_[*input].version_seq > slots_[newest].version_seq) {
          newest = *input;
        }
      });
  return newest;
}

void Core::WindowInputsOf(const Slot& slot,
                          absl::InlinedVector<InputVersion, 4>* inputs) const {
  ForEachWindowInput(slot.table, partitions_.Name(slot.partition),
                     [&](const Input& input, bool, std::optional<SlotIndex> s,
                         const std::string&) {
                       if (!s) return;
                       InputVersion& in = inputs->emplace_back();
                       in.table = info_[input.table].name;
                       in.partition = partitions_.Name(slots_[*s].partition);
                       in.version = slots_[*s].version;
                       if (input.mapping == PartitionMapping::kIdentity) {
                         OriginsOf(slot, input.table, *s, &in);
                       } else {
                         in.origins_complete =
                             false;  // Not read partition by partition.
                       }
                     });
}

std::vector<std::string> Core::MissingWindowInputs(
    TableId table, const std::string& partition) const {
  std::vector<std::string> missing;
  const Input* edge = nullptr;  // The edge `missing.back()` describes.
  std::vector<std::string> keys;
  size_t window = 0;
  auto flush = [&] {
    if (edge == nullptr || keys.empty()) return;
    const Table& up = info_[edge->table];
    if (!up.partitioned) {
      missing.push_back(up.name);
    } else if (edge->mapping == PartitionMapping::kIdentity ||
               edge->mapping == PartitionMapping::kPrevious) {
      missing.push_back(absl::StrCat(up.name, "/", keys[0]));
    } else {
      missing.push_back(absl::StrCat(
          up.name, " (", PartitionMappingName(edge->mapping), ": ", keys.size(),
          " of ", window, " partitions missing: ", absl::StrJoin(keys, ", "),
          ")"));
    }
  };
  ForEachWindowInput(table, partition,
                     [&](const Input& input, bool, std::optional<SlotIndex> s,
                         const std::string& key) {
                       if (edge != &input) {
                         flush();
                         edge = &input;
                         keys.clear();
                         window = 0;
                       }
                       ++window;
                       if (!s || slots_[*s].version == 0) keys.push_back(key);
                     });
  flush();
  return missing;
}

bool Core::ReadsByIdentity(TableId up, TableId down) const {
  if (!tables_[down].windowed) return true;
  const absl::Span<const Input> inputs = pipeline_->Inputs(down);
  return std::any_of(inputs.begin(), inputs.end(), [&](const Input& input) {
    return input.table == up && input.mapping == PartitionMapping::kIdentity;
  });
}

}  // namespace landfall::internal
