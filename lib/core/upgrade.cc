#include "lib/core/upgrade.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/message_differencer.h"
#include "lib/core/core.h"

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
  return absl::StrCat(names.size(), names.size() == 1 ? " table " : " tables ",
                      what, " (", absl::StrJoin(shown, ", "), ")");
}

const TableSpec* FindTableSpec(const PipelineSpec& spec,
                               const std::string& name) {
  for (const TableSpec& table : spec.table()) {
    if (table.name() == name) return &table;
  }
  return nullptr;
}

// The upstreams by name, each marked when unpartitioned: that decides the
// kind of edge, and so what the table's states counted.
std::vector<std::string> UpstreamNames(const Pipeline& pipeline, TableId id) {
  std::vector<std::string> names;
  for (TableId up : pipeline.Upstreams(id)) {
    const Table& table = pipeline.table(up);
    names.push_back(table.partitioned ? table.name
                                      : table.name + " (unpartitioned)");
  }
  std::sort(names.begin(), names.end());
  return names;
}

// How the derivation of `name`'s states changes, or "" when it does not.
std::string ShapeChange(const Pipeline& from, const Pipeline& to,
                        const std::string& name) {
  const TableId f = *from.FindTable(name);
  const TableId t = *to.FindTable(name);
  const Table& a = from.table(f);
  const Table& b = to.table(t);
  std::vector<std::string> changes;
  if (a.source != b.source) {
    changes.push_back(b.source ? "it becomes a source"
                               : "it stops being a source");
  }
  if (a.partitioned != b.partitioned) {
    changes.push_back(b.partitioned ? "it becomes partitioned"
                                    : "it stops being partitioned");
  }
  if (a.trigger != b.trigger) changes.push_back("its trigger changes");
  const std::vector<std::string> before = UpstreamNames(from, f);
  const std::vector<std::string> after = UpstreamNames(to, t);
  if (before != after) {
    changes.push_back(absl::StrCat("its upstreams change from [",
                                   absl::StrJoin(before, ", "), "] to [",
                                   absl::StrJoin(after, ", "), "]"));
  }
  return absl::StrJoin(changes, ", ");
}

std::optional<int> PoolSlots(const Pipeline& pipeline,
                             const std::string& name) {
  auto id = pipeline.FindPool(name);
  if (!id) return std::nullopt;
  return pipeline.pools()[*id].slots;
}

}  // namespace

std::string DescribeChange(const Pipeline& from, const Pipeline& to) {
  std::vector<std::string> added, removed, changed;
  for (const TableSpec& table : to.spec().table()) {
    const TableSpec* before = FindTableSpec(from.spec(), table.name());
    if (before == nullptr) {
      added.push_back(table.name());
    } else if (!MessageDifferencer::Equals(*before, table)) {
      changed.push_back(table.name());
    }
  }
  for (const TableSpec& table : from.spec().table()) {
    if (!to.FindTable(table.name())) removed.push_back(table.name());
  }
  std::vector<std::string> parts;
  if (!added.empty()) parts.push_back(CountedNames(added, "added"));
  if (!removed.empty()) parts.push_back(CountedNames(removed, "removed"));
  if (!changed.empty()) parts.push_back(CountedNames(changed, "changed"));
  const PipelineSpec& a = from.spec();
  const PipelineSpec& b = to.spec();
  auto same = [](const auto& x, const auto& y) {
    if (x.size() != y.size()) return false;
    for (int i = 0; i < x.size(); ++i) {
      if (!MessageDifferencer::Equals(x[i], y[i])) return false;
    }
    return true;
  };
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
  if (parts.empty()) return "no change to the tables, classes or pools";
  return absl::StrJoin(parts, "; ");
}

absl::StatusOr<Snapshot> UpgradeSnapshot(const Snapshot& in,
                                         const Pipeline& from,
                                         const Pipeline& to) {
  const int table_count = in.tables_size();
  std::vector<bool> has_states(table_count, false);
  for (const SlotState& slot : in.slots()) {
    if (slot.table() >= 0 && slot.table() < table_count) {
      has_states[slot.table()] = true;
    }
  }
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
      if (std::string change = ShapeChange(from, to, name); !change.empty()) {
        problems.push_back(
            absl::StrCat("table \"", name, "\" has task states, and ", change));
      }
    }
    new_table[i] = out.tables_size();
    out.add_tables(name);
  }
  out.clear_slots();
  std::vector<int64_t> new_slot(in.slots_size(), -1);
  for (int s = 0; s < in.slots_size(); ++s) {
    const SlotState& slot = in.slots(s);
    if (slot.table() < 0 || slot.table() >= table_count) {
      return absl::InvalidArgumentError(
          absl::StrCat("snapshot slot ", s, " is out of range"));
    }
    if (new_table[slot.table()] < 0) {
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
