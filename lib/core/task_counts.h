// The counts a core keeps as its tasks change state, so that claims, the
// priority gate, readiness and Scheduler::Gauges read them without a scan.
// Core's Detach takes a task out of them and Attach puts it back in (or a
// fast path does both at once); a replay and a restore rebuild them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "landfall/pipeline.h"
#include "landfall/scheduler.h"

namespace landfall::internal {

class TaskCounts {
 public:
  TaskCounts(size_t pools, size_t classes)
      : classes_(classes),
        active_(pools * classes, 0),
        active_by_class_(classes, 0),
        recorded_(pools * classes * kTaskStateCount, 0) {}

  // The tasks that hold lower classes back (Core::Counts), in queue
  // (pool, cls), and in class `cls` over all pools.
  int& Active(PoolId pool, ClassId cls) {
    return active_[pool * classes_ + cls];
  }
  int& ActiveInClass(ClassId cls) { return active_by_class_[cls]; }
  int ActiveInClass(ClassId cls) const { return active_by_class_[cls]; }
  // Queues are numbered pool * classes + class.
  size_t queue_count() const { return active_.size(); }
  int ActiveInQueue(size_t queue) const { return active_[queue]; }

  // The tasks of queue (pool, cls) whose entries recorded `state`
  // (Core::RecordedState), and all kTaskStateCount counts of queue `queue`.
  int64_t& Recorded(PoolId pool, ClassId cls, TaskState state) {
    return recorded_[(pool * classes_ + cls) * kTaskStateCount +
                     static_cast<size_t>(state)];
  }
  const int64_t* RecordedInQueue(size_t queue) const {
    return &recorded_[queue * kTaskStateCount];
  }

  // Dead or blocked tasks: how many over all tables, and of `table`.
  void AddUnhealthy(TableId table, int32_t delta) {
    Add(unhealthy_tables_, table, delta);
    unhealthy_ += delta;
  }
  int unhealthy() const { return unhealthy_; }
  bool HasUnhealthy(TableId table) const {
    return unhealthy_tables_.contains(table);
  }
  int32_t UnhealthyOf(TableId table) const {
    auto it = unhealthy_tables_.find(table);
    return it == unhealthy_tables_.end() ? 0 : it->second;
  }

  // Tasks with a rerun requested, by table.
  void AddForced(TableId table, int32_t delta) {
    Add(forced_tables_, table, delta);
  }
  bool HasForced(TableId table) const {
    return !forced_tables_.empty() && forced_tables_.contains(table);
  }

 private:
  // Adds `delta` to counts[table], dropping counts that reach 0: only the
  // few tables with any are kept.
  static void Add(absl::flat_hash_map<TableId, int32_t>& counts, TableId table,
                  int32_t delta) {
    auto [it, added] = counts.try_emplace(table, 0);
    if ((it->second += delta) == 0) counts.erase(it);
  }

  const size_t classes_;
  std::vector<int> active_;  // [pool * classes + class]
  std::vector<int> active_by_class_;
  // [(pool * classes + class) * kTaskStateCount + state]
  std::vector<int64_t> recorded_;
  int unhealthy_ = 0;
  absl::flat_hash_map<TableId, int32_t> unhealthy_tables_;
  absl::flat_hash_map<TableId, int32_t> forced_tables_;
};

}  // namespace landfall::internal
