#include "examples/cli/serve/status_view.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "examples/cli/state_file.h"

namespace landfall::cli {
namespace {

TableRow RowOf(Scheduler& scheduler, const Table& t, GraphState state,
               const std::vector<const TaskStatus*>& tasks) {
  TableRow row;
  row.table = &t;
  row.state = state;
  if (absl::StatusOr<Freshness> f = scheduler.GetFreshness(t.name); f.ok()) {
    row.freshness = *std::move(f);
  }
  // The newest partition: of a task (tasks sort by partition), else of
  // an arrival.
  row.latest_partition = row.freshness.latest_partition;
  if (!tasks.empty()) {
    row.has_task = true;
    row.latest = *tasks.back();
    row.latest_partition = row.latest.task.partition;
  }
  for (const PartitionFreshness& p : row.freshness.partitions) {
    row.last_arrival = std::max(row.last_arrival, p.last_arrival);
  }
  return row;
}

// The tasks of `list` by table id.
std::vector<std::vector<const TaskStatus*>> ByTable(const Pipeline& pipeline,
                                                    const TaskList& list) {
  std::vector<std::vector<const TaskStatus*>> out(pipeline.table_count());
  for (const TaskStatus& t : list.tasks) {
    if (std::optional<TableId> id = pipeline.FindTable(t.task.table)) {
      out[*id].push_back(&t);
    }
  }
  return out;
}

}  // namespace

StatusSummary Summarize(Scheduler& scheduler, absl::Time now) {
  const Pipeline& pipeline = scheduler.pipeline();
  StatusSummary s;
  s.pipeline = pipeline.name();
  s.last_seq = scheduler.LastSequence();
  s.now = now;
  s.tables = pipeline.table_count();
  const TaskList list = scheduler.List();
  s.tasks = static_cast<int>(list.tasks.size());
  for (TaskState state : AllTaskStates()) {
    auto n = list.by_state.find(TaskStateName(state));
    s.by_state.emplace_back(TaskStateName(state),
                            n == list.by_state.end() ? 0 : n->second);
  }
  for (const Pool& p : pipeline.pools()) {
    PoolRow row;
    row.name = p.name;
    row.slots = p.slots;
    s.pools.push_back(row);
  }
  for (const PriorityClass& c : pipeline.priority_classes()) {
    s.classes.push_back(ClassRow{c.name, {}});
    if (auto it = list.by_class.find(c.name); it != list.by_class.end()) {
      s.classes.back().by_state = it->second;
    }
  }
  for (const TaskStatus& t : list.tasks) {
    std::optional<TableId> id = pipeline.FindTable(t.task.table);
    if (!id) continue;
    const Table& table = pipeline.table(*id);
    if (table.pool < 0 || table.pool >= static_cast<int>(s.pools.size())) {
      continue;
    }
    PoolRow& pool = s.pools[table.pool];
    if (t.state == TaskState::kRunning || t.state == TaskState::kExpired) {
      ++pool.running;
      pool.slots_used += table.pool_slots;
    } else if (t.state == TaskState::kReady) {
      ++pool.queued;
      pool.longest_wait = std::max(pool.longest_wait, now - t.ready_since);
    }
  }
  for (const TaskStatus& t : list.tasks) {
    if (t.state != TaskState::kDead) continue;
    if (++s.dead_total > kMaxDeadShown) continue;
    DeadRow row{t, {}};
    if (absl::StatusOr<Explanation> e = scheduler.Explain(t.task); e.ok()) {
      row.reasons = e->reasons;
    }
    s.dead.push_back(std::move(row));
  }
  return s;
}

TableRows ListTables(Scheduler& scheduler, absl::string_view filter, int max) {
  const Pipeline& pipeline = scheduler.pipeline();
  TableRows out;
  std::vector<bool> shown(pipeline.table_count(), false);
  for (const Table& t : pipeline.tables()) {
    if (absl::StrContains(t.name, filter) && out.matched++ < max) {
      shown[t.id] = true;
    }
  }
  // Only the sources shown are asked whether anything landed.
  const std::vector<GraphState> states =
      TableGraphStates(scheduler, [&shown](TableId id) { return shown[id]; });
  const TaskList list = scheduler.List();
  const auto tasks = ByTable(pipeline, list);
  for (const Table& t : pipeline.tables()) {
    if (shown[t.id]) {
      out.rows.push_back(RowOf(scheduler, t, states[t.id], tasks[t.id]));
    }
  }
  return out;
}

absl::StatusOr<TableDetail> DescribeTable(Scheduler& scheduler,
                                          const std::string& name) {
  const Pipeline& pipeline = scheduler.pipeline();
  if (absl::Status s = CheckTableFilter(pipeline, name); !s.ok()) return s;
  const Table& table = pipeline.table(*pipeline.FindTable(name));
  ListFilter filter;
  filter.table = name;
  const TaskList list = scheduler.List(filter);
  std::vector<const TaskStatus*> tasks;
  for (const TaskStatus& t : list.tasks) tasks.push_back(&t);
  TableDetail d;
  d.row = RowOf(scheduler, table, TableGraphStates(scheduler)[table.id], tasks);
  for (auto it = list.tasks.rbegin();
       it != list.tasks.rend() &&
       d.tasks.size() < static_cast<size_t>(kMaxPartitionsShown);
       ++it) {
    d.tasks.push_back(*it);
  }
  const int64_t last = scheduler.LastSequence();
  absl::StatusOr<std::vector<HistoryEntry>> recent =
      scheduler.ReadHistory(last - kArrivalLookback + 1, kArrivalLookback);
  if (recent.ok()) {
    for (auto it = recent->rbegin(); it != recent->rend(); ++it) {
      if (it->kind == EntryKind::kArrival && it->table == name) {
        d.arrival_found = true;
        d.last_arrival = *it;
        break;
      }
    }
  }
  if (d.row.has_task) {
    if (absl::StatusOr<Explanation> e = scheduler.Explain(d.row.latest.task);
        e.ok()) {
      d.reasons = e->reasons;
    }
  }
  return d;
}

}  // namespace landfall::cli
