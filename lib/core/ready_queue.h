// ReadyQueue: the ready tasks of one (pool, priority class) in claim order.
// Core's timers (lease ends, retry times) are kept in one too.
//
// Deletion is lazy: when a task stops being ready here (it is claimed,
// paused, blocked or moves class) its entry stays until it surfaces, and
// the caller's `live` predicate tells it is stale. The entries are compacted
// when stale ones outnumber live ones, so memory stays bounded.
//
// The entries pushed since the last look wait in `pending_`, in no order. A
// look (Top, Front, PopEntry) sorts them once into a run (by `Sort`: the
// scheduler's ready keys by radix, ready_key_sort.h), which gives them up
// from its back in claim order; the first entry is the earliest of the runs'
// backs. A new run merges with the one before while that one is at most
// twice its size, so that the runs' sizes halve at least from one to the
// next: a look reads a few backs, and an entry is merged a few times. As
// when a batch of tasks becomes ready and is then claimed, most looks find
// one run. Sorting a batch once costs less than pushing each entry through a
// binary heap and popping it (3,799 against 4,018 instructions a task in
// EndToEndBatched/10000), and a heap of many tasks, as while a day's sources
// all landed drain, costs cache misses at each of its levels where merged
// runs are read in order (EndToEndDailyPartitions: 1,111 against 1,243 ns a
// task).
#pragma once

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <utility>
#include <vector>

#include "absl/base/attributes.h"

namespace landfall::internal {

// How a ReadyQueue sorts a batch so that its first key in `before` order is
// at the back: by comparisons, unless a queue's keys have a cheaper way.
struct SortByComparison {
  template <typename Key, typename Before>
  void operator()(std::vector<Key>& keys, const Before& before) const {
    std::sort(keys.begin(), keys.end(),
              [&](const Key& a, const Key& b) { return before(b, a); });
  }
};

template <typename Key, typename Before, typename Sort = SortByComparison>
class ReadyQueue {
 public:
  explicit ReadyQueue(Before before) : later_{before} {}

  // A task became ready here.
  template <typename Live>
  void Push(const Key& key, Live live) {
    // With no task here, every entry is stale: dropped without a look.
    if (live_ == 0) Clear();
    ++live_;
    if (EntryCount() > 2 * live_ + 1024) Compact(live);
    PushEntry(key);
  }
  // A task pushed here is no longer ready here; its entry is now stale.
  void Forget() { --live_; }
  // True when no task is ready here.
  bool Empty() const { return live_ == 0; }
  // How many tasks are ready here (pushed and not forgotten).
  size_t LiveCount() const { return live_; }
  // How many entries are held, stale ones included.
  size_t EntryCount() const {
    size_t count = pending_.size();
    for (const std::vector<Key>& run : runs_) count += run.size();
    return count;
  }

  // The first live entry in claim order, or nullptr; drops stale ones.
  // Valid until the next call that changes the queue.
  template <typename Live>
  const Key* Top(Live live) {
    const Key* first;
    while ((first = Front()) != nullptr && !live(*first)) PopEntry();
    return first;
  }
  // The first entry, stale or not, or nullptr: dropping a stale one costs
  // a pop, which a caller that stops at a later key can leave to Compact.
  const Key* Front() {
    Settle();
    return runs_.empty() ? nullptr : &runs_[first_].back();
  }
  // Removes the first entry and puts it back: for skipping a task for now.
  // Neither changes which tasks are ready. REQUIRES: an entry is held.
  Key PopEntry() {
    Settle();
    std::vector<Key>& run = runs_[first_];
    Key key = run.back();
    run.pop_back();
    if (run.empty()) DropRun(first_);
    FindFirstRun();
    return key;
  }
  void PushEntry(const Key& key) { pending_.push_back(key); }
  // Drops the stale entries, and the second entry of a task pushed twice.
  // Out of line: rare, and inlined it would slow every Push.
  template <typename Live>
  ABSL_ATTRIBUTE_NOINLINE void Compact(Live live) {
    std::vector<Key> kept;
    for (const Key& key : pending_) {
      if (live(key)) kept.push_back(key);
    }
    for (const std::vector<Key>& run : runs_) {
      for (const Key& key : run) {
        if (live(key)) kept.push_back(key);
      }
    }
    // A task paused and resumed was pushed twice: keep one entry.
    std::sort(kept.begin(), kept.end(), later_);
    kept.erase(std::unique(kept.begin(), kept.end()), kept.end());
    Clear();
    if (!kept.empty()) runs_.push_back(std::move(kept));
    FindFirstRun();
  }

 private:
  // "Later" orders each run: its back comes first.
  struct Later {
    Before before;
    bool operator()(const Key& a, const Key& b) const { return before(b, a); }
  };

  void Clear() {
    pending_.clear();
    runs_.clear();
  }
  // Finds the run whose back comes first, first_, after the runs or their
  // backs changed.
  void FindFirstRun() {
    first_ = 0;
    for (size_t i = 1; i < runs_.size(); ++i) {
      if (later_(runs_[first_].back(), runs_[i].back())) first_ = i;
    }
  }
  // A drained run's buffer serves the next batch while nothing else is held,
  // and is freed otherwise: kept beside other runs, it would double what a
  // queue holds after its largest batch.
  void DropRun(size_t i) {
    if (runs_.size() == 1 && pending_.empty()) pending_.swap(runs_[0]);
    runs_.erase(runs_.begin() + static_cast<std::ptrdiff_t>(i));
  }
  // Sorts the pending entries into a run.
  void Settle() {
    if (!pending_.empty()) SettlePending();
  }
  // Out of line: once a batch, and inlined it would slow every look.
  ABSL_ATTRIBUTE_NOINLINE void SettlePending() {
    Sort()(pending_, later_.before);
    runs_.emplace_back().swap(pending_);
    while (runs_.size() >= 2 &&
           runs_[runs_.size() - 2].size() <= 2 * runs_.back().size()) {
      const std::vector<Key>& older = runs_[runs_.size() - 2];
      const std::vector<Key>& newer = runs_.back();
      std::vector<Key> merged;
      merged.reserve(older.size() + newer.size());
      std::merge(older.begin(), older.end(), newer.begin(), newer.end(),
                 std::back_inserter(merged), later_);
      runs_.pop_back();
      runs_.back().swap(merged);
    }
    FindFirstRun();
  }

  Later later_;
  std::vector<Key> pending_;
  // Sorted runs, the newest last (SettlePending merges a new one into the
  // one before while that one is at most twice its size).
  std::vector<std::vector<Key>> runs_;
  size_t first_ = 0;  // The run whose back comes first, while runs are held.
  size_t live_ = 0;
};

}  // namespace landfall::internal
