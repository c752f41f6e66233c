// GateWait: the ready tasks of one (pool, priority class) whose class has a
// max_gate_wait, split by whether that wait has run out.
//
// A task waits in `pending` (earliest ready time first) until its wait runs
// out, then moves to `overdue` (claim order), from where the gate lets it be
// claimed. Deletion is lazy, as in ReadyQueue: the caller's `live` predicate
// tells a stale entry (the task was claimed, paused or made ready again).
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "lib/core/ready_queue.h"
#include "lib/core/saturating.h"

namespace landfall::internal {

template <typename Key, typename Before, typename Sort = SortByComparison>
class GateWait {
 public:
  GateWait(Before before, int64_t wait_ns)
      : overdue_(before), wait_ns_(wait_ns) {}

  // A task became ready here. `live_tasks` is how many are ready here: the
  // stale entries are dropped when they outnumber them.
  template <typename Live>
  void Push(const Key& key, size_t live_tasks, Live live) {
    if (pending_.size() + overdue_.EntryCount() > 2 * live_tasks + 1024) {
      Compact(live);
    }
    pending_.push_back(key);
    std::push_heap(pending_.begin(), pending_.end(), Later{});
  }

  // Moves the tasks whose wait has run out by `now` to the overdue queue,
  // and returns it.
  template <typename Live>
  ReadyQueue<Key, Before, Sort>& Overdue(int64_t now, Live live) {
    while (!pending_.empty()) {
      const Key& top = pending_.front();
      const bool keep = live(top);
      if (keep && AddNanos(top.ready_ns(), wait_ns_) > now) break;
      if (keep) overdue_.PushEntry(top);
      std::pop_heap(pending_.begin(), pending_.end(), Later{});
      pending_.pop_back();
    }
    return overdue_;
  }

  // When the next pending task's wait runs out, after `now`.
  template <typename Live>
  std::optional<int64_t> NextExpiry(int64_t now, Live live) {
    Overdue(now, live);
    if (pending_.empty()) return std::nullopt;
    return AddNanos(pending_.front().ready_ns(), wait_ns_);
  }

 private:
  // The earliest ready time first (std::*_heap keep the greatest first).
  struct Later {
    bool operator()(const Key& a, const Key& b) const {
      return a.ready_ns() > b.ready_ns();
    }
  };

  template <typename Live>
  void Compact(Live live) {
    pending_.erase(std::remove_if(pending_.begin(), pending_.end(),
                                  [&](const Key& key) { return !live(key); }),
                   pending_.end());
    std::make_heap(pending_.begin(), pending_.end(), Later{});
    overdue_.Compact(live);
  }

  std::vector<Key> pending_;
  ReadyQueue<Key, Before, Sort> overdue_;
  int64_t wait_ns_;
};

}  // namespace landfall::internal
