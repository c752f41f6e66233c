// Journal entries collected during one operation, in messages kept between
// operations: refilling a message reuses its strings' memory.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

#include "absl/types/span.h"
#include "landfall/records.pb.h"

namespace landfall::internal {

class JournalBuffer {
 public:
  // A cleared entry at the end.
  JournalEntry* Add() {
    if (size_ == entries_.size()) entries_.emplace_back();
    JournalEntry* entry = &entries_[size_++];
    entry->Clear();
    return entry;
  }
  size_t size() const { return size_; }
  absl::Span<const JournalEntry> entries(size_t from = 0) const {
    return absl::MakeConstSpan(entries_).subspan(from, size_ - from);
  }
  void Clear() { size_ = 0; }
  // Clears, and gives back the memory of the messages past both `kept` and
  // the number this operation used: what an earlier, larger operation or
  // catch-up left behind. Operations of one size (an events file's batches)
  // reuse their messages rather than build them anew each time.
  void ClearKeeping(size_t kept) {
    const size_t keep = std::max(kept, size_);
    size_ = 0;
    if (entries_.size() > keep) {
      entries_.resize(keep);
      entries_.shrink_to_fit();
    }
  }
  // How many messages it holds for reuse.
  size_t held() const { return entries_.size(); }

 private:
  std::vector<JournalEntry> entries_;
  size_t size_ = 0;
};

}  // namespace landfall::internal
