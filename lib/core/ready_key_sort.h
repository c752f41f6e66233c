// Sorting a batch of ready keys into claim order: by radix rather than by
// comparisons once a batch is large.
//
// Comparing keys costs a branch that the processor cannot predict, about
// half the time, at each of some log2(n) comparisons a key. A radix sort
// reads each key a few times with no such branch: one pass a byte that
// differs between the keys of the batch, which are few (a batch's tasks
// share a ready time and their path lengths differ little).
#pragma once

#include <cstdint>
#include <vector>

#include "lib/core/task_state.h"

namespace landfall::internal {

// Whether `a` is claimed before `b`: the longest path first, then the
// earliest ready time, then the table, then the partition by its name's
// rank (PartitionNames::ranks), so that no string is read.
inline bool ReadyBefore(const ReadyKey& a, const ReadyKey& b,
                        const std::vector<uint64_t>& partition_ranks) {
  if (a.hi != b.hi) return a.hi < b.hi;
  if (a.lo != b.lo) return a.lo < b.lo;
  return partition_ranks[a.partition] < partition_ranks[b.partition];
}

// Sorts `keys` so that the first in claim order (ReadyBefore) is at the back,
// as ReadyQueue holds a run. Batches below kRadixSortMinimum keys are sorted
// by comparisons: a radix pass costs a fixed 256 counters.
inline constexpr size_t kRadixSortMinimum = 256;
void SortReadyKeysLastFirst(std::vector<ReadyKey>& keys,
                            const std::vector<uint64_t>& partition_ranks);

}  // namespace landfall::internal
