// What the status page and its JSON show, read from a scheduler: pools,
// classes, tasks by state, the dead letter, and per table its latest
// partition, freshness and last arrival. Each call reads the scheduler's
// state as of now (a read-only one catches up on its store first).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "examples/cli/serve/state_graph.h"
#include "landfall/scheduler.h"

namespace landfall::cli {

struct PoolRow {
  std::string name;
  int slots = 0;       // kUnlimitedSlots for none.
  int slots_used = 0;  // By running attempts (a table may take several).
  int running = 0;
  int queued = 0;  // READY tasks waiting for the pool.
  // How long the oldest READY task of the pool has waited; zero for none.
  absl::Duration longest_wait;
};

struct ClassRow {
  std::string name;
  std::map<std::string, int> by_state;  // State name to count.
};

struct DeadRow {
  TaskStatus status;
  std::vector<std::string> reasons;  // Scheduler::Explain's.
};

struct StatusSummary {
  std::string pipeline;
  int64_t last_seq = 0;
  absl::Time now;
  int tables = 0;
  int tasks = 0;
  // Every state with its count, zeros included, in TaskState order.
  std::vector<std::pair<std::string, int>> by_state;
  std::vector<PoolRow> pools;
  std::vector<ClassRow> classes;
  int dead_total = 0;
  std::vector<DeadRow> dead;  // The first kMaxDeadShown.
};

inline constexpr int kMaxDeadShown = 100;

StatusSummary Summarize(Scheduler& scheduler, absl::Time now);

struct TableRow {
  const Table* table = nullptr;
  GraphState state = GraphState::kNotBuilt;
  // The greatest partition key that has a task (a derived table with
  // tasks), else that has a version.
  std::string latest_partition;
  // That partition's task, for a derived table that has one.
  bool has_task = false;
  TaskStatus latest;
  Freshness freshness;
  absl::Time last_arrival = absl::InfinitePast();  // Of any partition.
};

struct TableRows {
  std::vector<TableRow> rows;  // In spec order, at most `max`.
  int matched = 0;             // Tables whose name holds the filter.
};

// The tables whose name contains `filter` (every table when empty), the
// first `max` of them in spec order.
TableRows ListTables(Scheduler& scheduler, absl::string_view filter, int max);

struct TableDetail {
  TableRow row;
  std::vector<TaskStatus> tasks;  // Its partitions' tasks, latest first.
  // The latest arrival among the last kArrivalLookback history entries.
  bool arrival_found = false;
  HistoryEntry last_arrival;
  std::vector<std::string> reasons;  // Explain of the latest task.
};

inline constexpr int kArrivalLookback = 5000;
inline constexpr int kMaxPartitionsShown = 50;

// NotFound (with a suggestion) for an unknown table.
absl::StatusOr<TableDetail> DescribeTable(Scheduler& scheduler,
                                          const std::string& name);

}  // namespace landfall::cli
