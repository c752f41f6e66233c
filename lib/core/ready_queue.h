// ReadyQueue: the ready tasks of one (pool, priority class) in claim order.
// Core's timers (lease ends, retry times) are kept in one too.
//
// Deletion is lazy: when a task stops being ready here (it is claimed,
// paused, blocked or moves class) its entry stays until it surfaces, and
// the caller's `live` predicate tells it is stale. The entries are compacted
// when stale ones outnumber live ones, so memory stays bounded.
//
// The entries are in three parts. Those pushed since the last look wait in
// `pending_`, in no order. A look (Top, Front, PopEntry) settles them: when
// nothing else is held, as when a batch of tasks becomes ready and is then
// claimed, they are sorted once into `run_`, which gives them up from its
// back in claim order; otherwise each goes into `heap_`, a binary heap. The
// first entry is the earlier of the run's back and the heap's top, and once
// the run drains, the heap is sorted into the next run. Sorting a batch once
// costs less than pushing each entry through a heap and popping it: 3,799
// against 4,018 instructions a task in EndToEndBatched/10000.
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
    return pending_.size() + run_.size() + heap_.size();
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
    if (heap_.empty()) return run_.empty() ? nullptr : &run_.back();
    if (run_.empty() || later_(run_.back(), heap_.front())) {
      return &heap_.front();
    }
    return &run_.back();
  }
  // Removes the first entry and puts it back: for skipping a task for now.
  // Neither changes which tasks are ready. REQUIRES: an entry is held.
  Key PopEntry() {
    const Key* first = Front();
    if (!run_.empty() && first == &run_.back()) {
      Key key = run_.back();
      run_.pop_back();
      if (run_.empty()) DropRun();
      return key;
    }
    std::pop_heap(heap_.begin(), heap_.end(), later_);
    Key key = heap_.back();
    heap_.pop_back();
    return key;
  }
  void PushEntry(const Key& key) { pending_.push_back(key); }
  // Drops the stale entries, and the second entry of a task pushed twice.
  // Out of line: rare, and inlined it would slow every Push.
  template <typename Live>
  ABSL_ATTRIBUTE_NOINLINE void Compact(Live live) {
    std::vector<Key> kept;
    for (const std::vector<Key>* part : {&pending_, &run_, &heap_}) {
      for (const Key& key : *part) {
        if (live(key)) kept.push_back(key);
      }
    }
    // A task paused and resumed was pushed twice: keep one entry.
    std::sort(kept.begin(), kept.end(), later_);
    kept.erase(std::unique(kept.begin(), kept.end()), kept.end());
    Clear();
    run_ = std::move(kept);
  }

 private:
  // "Later" orders the run (its back comes first) and the heap
  // (std::*_heap keep the greatest element first; "greatest" here is the
  // entry that comes first in claim order).
  struct Later {
    Before before;
    bool operator()(const Key& a, const Key& b) const { return before(b, a); }
  };

  void Clear() {
    pending_.clear();
    run_.clear();
    heap_.clear();
  }
  // A drained run's buffer serves the next batch while nothing else is held,
  // and is freed otherwise: kept beside the heap, it would double what a
  // queue holds after its largest batch. What the heap holds then becomes
  // the run, sorted at once: popped entry by entry, a heap of many costs
  // cache misses at each of its levels (the tasks made ready while a large
  // batch drains, as when a day's sources all land before a claim).
  void DropRun() {
    if (!heap_.empty()) {
      std::sort(heap_.begin(), heap_.end(), later_);
      run_.swap(heap_);
      std::vector<Key>().swap(heap_);
    } else if (pending_.empty()) {
      run_.swap(pending_);
    } else {
      std::vector<Key>().swap(run_);
    }
  }
  // Moves the pending entries into the run or the heap.
  void Settle() {
    if (!pending_.empty()) SettlePending();
  }
  // Out of line: once a batch, and inlined it would slow every look.
  ABSL_ATTRIBUTE_NOINLINE void SettlePending() {
    if (run_.empty() && heap_.empty()) {
      std::sort(pending_.begin(), pending_.end(), later_);
      run_.swap(pending_);
      return;
    }
    for (const Key& key : pending_) {
      heap_.push_back(key);
      std::push_heap(heap_.begin(), heap_.end(), later_);
    }
    pending_.clear();
  }

  Later later_;
  std::vector<Key> pending_;
  std::vector<Key> run_;  // Sorted: its back comes first.
  std::vector<Key> heap_;
  size_t live_ = 0;
};

}  // namespace landfall::internal
