// ReadyQueue: the ready tasks of one (pool, priority class) in claim order.
// Core's timers (lease ends, retry times) are kept in one too.
//
// A binary heap with lazy deletion: when a task stops being ready here (it
// is claimed, paused, blocked or moves class) its entry stays until it
// surfaces, and the caller's `live` predicate tells it is stale. The heap is
// rebuilt when stale entries outnumber live ones, so memory stays bounded.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

#include "absl/base/attributes.h"

namespace landfall::internal {

template <typename Key, typename Before>
class ReadyQueue {
 public:
  explicit ReadyQueue(Before before) : later_{before} {}

  // A task became ready here.
  template <typename Live>
  void Push(const Key& key, Live live) {
    // With no task here, every entry is stale: dropped without a look.
    if (live_ == 0) heap_.clear();
    ++live_;
    if (heap_.size() > 2 * live_ + 1024) Compact(live);
    PushEntry(key);
  }
  // A task pushed here is no longer ready here; its entry is now stale.
  void Forget() { --live_; }
  // True when no task is ready here.
  bool Empty() const { return live_ == 0; }
  // How many tasks are ready here (pushed and not forgotten).
  size_t LiveCount() const { return live_; }
  // How many entries the heap holds, stale ones included.
  size_t EntryCount() const { return heap_.size(); }

  // The first live entry in claim order, or nullptr; drops stale ones.
  template <typename Live>
  const Key* Top(Live live) {
    while (!heap_.empty() && !live(heap_.front())) PopEntry();
    return heap_.empty() ? nullptr : &heap_.front();
  }
  // The first entry, stale or not, or nullptr: dropping a stale one costs
  // a pop, which a caller that stops at a later key can leave to Compact.
  const Key* Front() const { return heap_.empty() ? nullptr : &heap_.front(); }
  // Removes the top entry and puts it back: for skipping a task for now.
  // Neither changes which tasks are ready.
  Key PopEntry() {
    std::pop_heap(heap_.begin(), heap_.end(), later_);
    Key key = heap_.back();
    heap_.pop_back();
    return key;
  }
  void PushEntry(const Key& key) {
    heap_.push_back(key);
    std::push_heap(heap_.begin(), heap_.end(), later_);
  }
  // Drops the stale entries, and the second entry of a task pushed twice.
  // Out of line: rare, and inlined it would slow every Push.
  template <typename Live>
  ABSL_ATTRIBUTE_NOINLINE void Compact(Live live) {
    std::vector<Key> kept;
    for (const Key& key : heap_) {
      if (live(key)) kept.push_back(key);
    }
    // A task paused and resumed was pushed twice: keep one entry.
    std::sort(kept.begin(), kept.end(), later_);
    kept.erase(std::unique(kept.begin(), kept.end()), kept.end());
    heap_ = std::move(kept);
    std::make_heap(heap_.begin(), heap_.end(), later_);
  }

 private:
  // std::*_heap keep the greatest element first; "greatest" here is the
  // entry that comes first in claim order.
  struct Later {
    Before before;
    bool operator()(const Key& a, const Key& b) const { return before(b, a); }
  };

  Later later_;
  std::vector<Key> heap_;
  size_t live_ = 0;
};

}  // namespace landfall::internal
