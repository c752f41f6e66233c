// The records of the timed slots (RunRecord): one array, its free records
// reused, and given back whole once no slot holds one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "lib/core/task_state.h"

namespace landfall::internal {

class RunRecords {
 public:
  RunRecord& operator[](int32_t i) { return runs_[i]; }
  const RunRecord& operator[](int32_t i) const { return runs_[i]; }

  // A fresh record, at index `*index`.
  RunRecord& Take(int32_t* index) {
    ++live_;
    if (free_ < 0) {
      *index = static_cast<int32_t>(runs_.size());
      return runs_.emplace_back();
    }
    *index = free_;
    RunRecord& run = runs_[free_];
    free_ = run.worker;
    run = RunRecord{};
    return run;
  }
  // Record `index` is no longer in use.
  void GiveBack(int32_t index) {
    runs_[index].worker = free_;
    free_ = index;
    // The last record of a burst gives back what the burst took (a batch
    // of arrivals can make 100,000s of tasks ready at once).
    if (--live_ == 0 && runs_.capacity() > kKept) {
      runs_ = std::vector<RunRecord>();
      free_ = -1;
    }
  }

 private:
  // Records kept for reuse once none is in use.
  static constexpr size_t kKept = 4096;
  std::vector<RunRecord> runs_;
  // The records not in use, linked through RunRecord::worker, and how many
  // are in use.
  int32_t free_ = -1;
  size_t live_ = 0;
};

}  // namespace landfall::internal
