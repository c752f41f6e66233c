#include "lib/core/upgrade.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/message_differencer.h"
#include "landfall/partition_window.h"
#include "lib/core/core.h"
#include "lib/core/plural.h"

namespace landfall::internal {
namespace {

using google::protobuf::util::MessageDifferencer;

// "2 tables added (a, b)", naming at most a few.
std::string CountedNames(const std::vector<std::string>& names,
                         const char* what) {
  constexpr size_t kNamed = 5;
  std::vector<std::string> shown(
      names.begin(), names.begin() + std::min(names.size(), kNamed));
  if (names.size() > kNamed) shown.push_back("...");
  return absl::StrCat(Counted(names.size(), "table"), " ", what, " (",
                      absl::StrJoin(shown, ", "), ")");
}

const TableSpec* FindTableSpec(const PipelineSpec& spec,
                               const std::string& name) {
  for (const TableSpec& table : spec.table()) {
    if (table.name() == name) return &table;
  }
  return nullptr;
}

// The upstreams by name, each marked when unpartitioned or read through a
// window: that decides the kind of edge, and so what the table's states
// counted.
std::vector<std::string> UpstreamNames(const Pipeline& pipeline, TableId id) {
  std::vector<std::string> names;
  for (const Input& input : pipeline.Inputs(id)) {
    const Table& table = pipeline.table(input.table);
    std::string name =
        table.partitioned ? table.name : table.name + " (unpartitioned)";
    if (input.mapping != PartitionMapping::kIdentity) {
      absl::StrAppend(&name, " (", PartitionMappingName(input.mapping), ")");
    }
    names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  return names;
}

// How the derivation of `name`'s states changes: what a deploy can adopt or
// rebuild (upstreams, trigger), what it never can (partitioning,
// source-ness), and a new partition_format, which it takes over when the
// table's partitions all match it. All empty when nothing changes.
struct ShapeChange {
  std::vector<std::string> adoptable;
  std::vector<std::string> fixed;
  std::string format;
  bool empty() const {
    return adoptable.empty() && fixed.empty() && format.empty();
  }
  std::string ToString() const {
    std::vector<std::string> all = fixed;
    if (!format.empty()) all.push_back(format);
    all.insert(all.end(), adoptable.begin(), adoptable.end());
    return absl::StrJoin(all, ", ");
  }
};

// Whether table `id` reads a window whose hours depend on the time zone.
bool ReadsLocalHours(const Pipeline& pipeline, TableId id) {
  for (const Input& input : pipeline.Inputs(id)) {
    if (input.mapping == PartitionMapping::kHourlyToDaily ||
        (input.mapping == PartitionMapping::kPrevious &&
         pipeline.table(id).partition_format == PartitionFormat::kHourly)) {
      return true;
    }
  }
  return false;
}

ShapeChange ShapeChangeOf(const Pipeline& from, const Pipeline& to,
                          const std::string& name) {
  const TableId f = *from.FindTable(name);
  const TableId t = *to.FindTable(name);
  const Table& a = from.table(f);
  const Table& b = to.table(t);
  ShapeChange change;
  if (a.source != b.source) {
    change.fixed.push_back(b.source ? "it becomes a source"
                                    : "it stops being a source");
  }
  if (a.partitioned != b.partitioned) {
    change.fixed.push_back(b.partitioned ? "it becomes partitioned"
                                         : "it stops being partitioned");
  }
  if (a.partition_format != b.partition_format) {
    change.format =
        absl::StrCat("its partition_format changes from \"",
                     PartitionFormatText(a.partition_format), "\" to \"",
                     PartitionFormatText(b.partition_format), "\"");
  }
  if (from.time_zone() != to.time_zone() && ReadsLocalHours(from, f) &&
      ReadsLocalHours(to, t)) {
    change.adoptable.push_back(
        absl::StrCat("its windows of local hours move from time_zone ",
                     from.time_zone().name(), " to ", to.time_zone().name()));
  }
  if (a.trigger != b.trigger) change.adoptable.push_back("its trigger changes");
  const std::vector<std::string> before = UpstreamNames(from, f);
  const std::vector<std::string> after = UpstreamNames(to, t);
  if (before != after) {
    change.adoptable.push_back(
        absl::StrCat("its upstreams change from [", absl::StrJoin(before, ", "),
                     "] to [", absl::StrJoin(after, ", "), "]"));
  }
  return change;
}

bool Names(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// The lines of DescribeChange and DescribeChanges about classes, pools,
// defaults and the gate.
std::vector<std::string> SettingsChanges(const PipelineSpec& a,
                                         const PipelineSpec& b) {
  auto same = [](const auto& x, const auto& y) {
    if (x.size() != y.size()) return false;
    for (int i = 0; i < x.size(); ++i) {
      if (!MessageDifferencer::Equals(x[i], y[i])) return false;
    }
    return true;
  };
  std::vector<std::string> parts;
  if (!same(a.priority_class(), b.priority_class())) {
    parts.push_back("priority classes changed");
  }
  if (!same(a.pool(), b.pool())) parts.push_back("pools changed");
  if (!MessageDifferencer::Equals(a.defaults(), b.defaults())) {
    parts.push_back("table defaults changed");
  }
  if (a.priority_gate() != b.priority_gate()) {
    parts.push_back("priority gate changed");
  }
  if (a.time_zone() != b.time_zone()) parts.push_back("time_zone changed");
  return parts;
}

// Per table of snapshot `in` whose partition_format `to` changes: a
// partition of its slots that the new format does not match, if any (null
// for the other tables). One pass over the slots.
std::vector<const std::string*> PartitionsNotMatching(const Snapshot& in,
                                                      const Pipeline& from,
                                                      const Pipeline& to) {
  const int table_count = in.tables_size();
  std::vector<std::optional<PartitionFormat>> changed(table_count);
  for (int i = 0; i < table_count; ++i) {
    auto f = from.FindTable(in.tables(i));
    auto t = to.FindTable(in.tables(i));
    if (f && t &&
        from.table(*f).partition_format != to.table(*t).partition_format) {
      changed[i] = to.table(*t).partition_format;
    }
  }
  std::vector<const std::string*> unmatched(table_count, nullptr);
  for (const SlotState& slot : in.slots()) {
    const int t = slot.table();
    if (t < 0 || t >= table_count || !changed[t] || unmatched[t] != nullptr ||
        slot.partition() >= static_cast<uint32_t>(in.partitions_size())) {
      continue;
    }
    const std::string& partition = in.partitions(slot.partition());
    if (!MatchesPartitionFormat(*changed[t], partition)) {
      unmatched[t] = &partition;
    }
  }
  return unmatched;
}

std::optional<int> PoolSlots(const Pipeline& pipeline,
                             const std::string& name) {
  auto id = pipeline.FindPool(name);
  if (!id) return std::nullopt;
  return pipeline.pools()[*id].slots;
}

}  // namespace

namespace {

// How each table fares from `from` to `to`: `to`'s tables in spec order,
// then those removed. The one definition DescribeChange and DescribeChanges
// share.
enum class TableFate { kAdded, kChanged, kSame, kRemoved };
std::vector<std::pair<std::string, TableFate>> TableFates(const Pipeline& from,
                                                          const Pipeline& to) {
  std::vector<std::pair<std::string, TableFate>> fates;
  for (const TableSpec& table : to.spec().table()) {
    const TableSpec* before = FindTableSpec(from.spec(), table.name());
    fates.emplace_back(table.name(),
                       before == nullptr ? TableFate::kAdded
                       : MessageDifferencer::Equals(*before, table)
                           ? TableFate::kSame
                           : TableFate::kChanged);
  }
  for (const TableSpec& table : from.spec().table()) {
    if (!to.FindTable(table.name())) {
      fates.emplace_back(table.name(), TableFate::kRemoved);
    }
  }
  return fates;
}

}  // namespace

std::string DescribeChange(const Pipeline& from, const Pipeline& to) {
  std::vector<std::string> added, removed, changed;
  for (const auto& [name, fate] : TableFates(from, to)) {
    if (fate == TableFate::kAdded) added.push_back(name);
    if (fate == TableFate::kRemoved) removed.push_back(name);
    if (fate == TableFate::kChanged) changed.push_back(name);
  }
  std::vector<std::string> parts;
  if (!added.empty()) parts.push_back(CountedNames(added, "added"));
  if (!removed.empty()) parts.push_back(CountedNames(removed, "removed"));
  if (!changed.empty()) parts.push_back(CountedNames(changed, "changed"));
  for (std::string& part : SettingsChanges(from.spec(), to.spec())) {
    parts.push_back(std::move(part));
  }
  if (parts.empty()) return "no change to the tables, classes or pools";
  return absl::StrJoin(parts, "; ");
}

std::vector<std::string> DescribeChanges(const Pipeline& from,
                                         const Pipeline& to,
                                         const DeployOptions& options) {
  std::vector<std::string> lines;
  for (const auto& [name, fate] : TableFates(from, to)) {
    const bool rebuilt = Names(options.rebuild, name);
    if (fate == TableFate::kAdded || fate == TableFate::kRemoved) {
      lines.push_back(absl::StrCat(
          "table ", name, fate == TableFate::kAdded ? " added" : " removed"));
      continue;
    }
    if (fate == TableFate::kSame && !rebuilt) continue;
    std::string line = absl::StrCat("table ", name, " changed");
    const ShapeChange shape = ShapeChangeOf(from, to, name);
    if (!shape.empty()) absl::StrAppend(&line, ": ", shape.ToString());
    if (rebuilt) {
      absl::StrAppend(&line, " (rebuilt: every partition is due)");
    } else if (Names(options.adopt, name)) {
      absl::StrAppend(&line,
                      " (adopted: what was built is kept, current inputs "
                      "count as consumed)");
    }
    lines.push_back(std::move(line));
  }
  for (std::string& part : SettingsChanges(from.spec(), to.spec())) {
    lines.push_back(std::move(part));
  }
  return lines;
}

absl::Status CheckDeployOptions(const Pipeline& to,
                                const DeployOptions& options) {
  std::vector<std::string> problems;
  auto check = [&](const std::vector<std::string>& names, const char* what) {
    for (const std::string& name : names) {
      auto table = to.FindTable(name);
      if (!table) {
        problems.push_back(absl::StrCat("cannot ", what, " table \"", name,
                                        "\": the pipeline has no such table"));
      } else if (to.table(*table).source) {
        problems.push_back(
            absl::StrCat("cannot ", what, " table \"", name,
                         "\": it is a source, built by no task"));
      }
    }
  };
  check(options.adopt, "adopt");
  check(options.rebuild, "rebuild");
  for (const std::string& name : options.adopt) {
    if (Names(options.rebuild, name)) {
      problems.push_back(absl::StrCat(
          "table \"", name, "\" is both adopted and rebuilt: choose one"));
    }
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrJoin(problems, "; "));
}

absl::Status CheckRelated(const Pipeline& from, const Pipeline& to,
                          const DeployOptions& options) {
  if (options.force || from.name() == to.name()) return absl::OkStatus();
  for (const Table& t : to.tables()) {
    if (from.FindTable(t.name)) return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "pipeline \"", to.name(), "\" is not a change of the running pipeline \"",
      from.name(),
      "\": another name and no table in common; force the deploy to replace "
      "it, dropping its tasks"));
}

absl::StatusOr<Snapshot> UpgradeSnapshot(const Snapshot& in,
                                         const Pipeline& from,
                                         const Pipeline& to,
                                         const DeployOptions& options) {
  const int table_count = in.tables_size();
  std::vector<bool> has_states(table_count, false);
  for (const SlotState& slot : in.slots()) {
    if (slot.table() >= 0 && slot.table() < table_count) {
      has_states[slot.table()] = true;
    }
  }
  const std::vector<const std::string*> unmatched =
      PartitionsNotMatching(in, from, to);
  std::vector<std::string> problems;
  std::vector<int> new_table(table_count, -1);
  Snapshot out = in;
  out.clear_tables();
  for (int i = 0; i < table_count; ++i) {
    const std::string& name = in.tables(i);
    if (!from.FindTable(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("snapshot names table \"", name,
                       "\", which its pipeline does not have"));
    }
    if (!to.FindTable(name)) continue;
    if (has_states[i]) {
      ShapeChange change = ShapeChangeOf(from, to, name);
      if (!change.format.empty()) {
        // Taken over as it is, unless a partition does not match it.
        if (unmatched[i] != nullptr) {
          change.fixed.push_back(
              absl::StrCat(change.format, ", which partition \"", *unmatched[i],
                           "\" does not match"));
        }
        change.format.clear();
      }
      const bool chosen =
          Names(options.adopt, name) || Names(options.rebuild, name);
      if (!change.fixed.empty() || (!change.adoptable.empty() && !chosen)) {
        problems.push_back(absl::StrCat(
            "table \"", name, "\" has task states, and ", change.ToString(),
            change.fixed.empty()
                ? ": adopt it (keep what was built) or rebuild it"
                : ": remove it first, then add it back"));
      }
    }
    new_table[i] = out.tables_size();
    out.add_tables(name);
  }
  out.clear_slots();
  std::vector<int64_t> new_slot(in.slots_size(), -1);
  std::vector<bool> removed_with_states(table_count, false);
  for (int s = 0; s < in.slots_size(); ++s) {
    const SlotState& slot = in.slots(s);
    if (slot.table() < 0 || slot.table() >= table_count) {
      return absl::InvalidArgumentError(
          absl::StrCat("snapshot slot ", s, " is out of range"));
    }
    if (new_table[slot.table()] < 0) {
      if (!options.force && !removed_with_states[slot.table()]) {
        removed_with_states[slot.table()] = true;
        problems.push_back(absl::StrCat(
            "table \"", in.tables(slot.table()),
            "\" is removed and has task states: force the removal to drop "
            "them"));
      }
      if (slot.phase() == static_cast<int32_t>(Phase::kRunning)) {
        const std::string& partition =
            slot.partition() < static_cast<uint32_t>(in.partitions_size())
                ? in.partitions(slot.partition())
                : std::string();
        problems.push_back(absl::StrCat(
            "table \"", in.tables(slot.table()), "\" is removed while attempt ",
            slot.attempt(), " of partition \"", partition,
            "\" runs; let it finish first"));
      }
      continue;
    }
    new_slot[s] = out.slots_size();
    SlotState* kept = out.add_slots();
    *kept = slot;
    kept->set_table(new_table[slot.table()]);
  }
  if (!problems.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "pipeline \"", to.name(),
        "\" cannot take over the state: ", absl::StrJoin(problems, "; ")));
  }

  out.clear_table_states();
  for (const TableState& state : in.table_states()) {
    auto t = to.FindTable(state.name());
    if (!t) continue;
    TableState* kept = out.add_table_states();
    *kept = state;
    if (state.latest_slot() >= 0 && state.latest_slot() < in.slots_size()) {
      kept->set_latest_slot(new_slot[state.latest_slot()]);
    }
    // The spec's class where the spec changes it (or drops the one set).
    const std::string& spec_class =
        to.priority_classes()[to.table(*t).priority_class].name;
    auto f = from.FindTable(state.name());
    const bool spec_changed =
        f && from.priority_classes()[from.table(*f).priority_class].name !=
                 spec_class;
    if (spec_changed || !to.FindPriorityClass(state.priority_class())) {
      kept->set_priority_class(spec_class);
    }
  }
  out.clear_pools();
  for (const PoolState& pool : in.pools()) {
    std::optional<int> after = PoolSlots(to, pool.name());
    if (!after) continue;
    PoolState* kept = out.add_pools();
    *kept = pool;
    if (PoolSlots(from, pool.name()) != after) kept->set_slots(*after);
  }
  out.clear_paused_classes();
  for (const std::string& name : in.paused_classes()) {
    if (to.FindPriorityClass(name)) out.add_paused_classes(name);
  }
  return out;
}

}  // namespace landfall::internal
