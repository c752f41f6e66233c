// The entries a core holds for ReadHistory: none (a store holds them), all
// of them, or with a capacity the newest ones in a ring.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "lib/core/entry.h"

namespace landfall::internal {

class HeldHistory {
 public:
  // `hold`: whether entries are held at all; `capacity` 0 holds every one.
  HeldHistory(bool hold, size_t capacity) : hold_(hold), capacity_(capacity) {}

  // Holds `entry`, the newest: its seq follows the one added before (or
  // the one StartAfter names).
  void Add(Entry&& entry) {
    if (!hold_) return;
    if (capacity_ == 0 || entries_.size() < capacity_) {
      entries_.push_back(std::move(entry));
      return;
    }
    // Over the oldest entry, at (seq - start_) % capacity: a running index
    // spares a division per entry.
    entries_[next_] = std::move(entry);
    if (++next_ == capacity_) next_ = 0;
  }

  // The oldest seq held when the newest is `last_seq`; past `last_seq`
  // when none is.
  int64_t OldestHeld(int64_t last_seq) const {
    if (!hold_) return last_seq + 1;
    if (capacity_ == 0) return start_;
    return std::max(start_, last_seq - static_cast<int64_t>(capacity_) + 1);
  }

  // The entry of `seq` when the newest is `last_seq`, or null when it is
  // not held.
  const Entry* Find(int64_t seq, int64_t last_seq) const {
    if (seq < OldestHeld(last_seq) || seq > last_seq) return nullptr;
    if (capacity_ == 0) return &entries_[seq - start_];
    return &entries_[(seq - start_) % capacity_];
  }

  // The entries before `seq` were applied elsewhere (a restored
  // snapshot's): the first one added is the one after it.
  // REQUIRES: none added yet.
  void StartAfter(int64_t seq) { start_ = seq + 1; }

 private:
  const bool hold_;
  const size_t capacity_;
  std::vector<Entry> entries_;
  size_t next_ = 0;    // Where a full ring writes the next entry.
  int64_t start_ = 1;  // The seq of entries_[0].
};

}  // namespace landfall::internal
