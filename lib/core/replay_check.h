// What a history entry must name for its kind before a core applies it: a
// store's history can be corrupt, and a host's replayed history wrong.
#pragma once

#include "absl/status/status.h"
#include "landfall/pipeline.h"
#include "landfall/records.pb.h"

namespace landfall::internal {

// InvalidArgument, naming the entry, when `j` (of a known kind) lacks what
// its kind needs or names a task `pipeline` cannot have: a task entry
// without a table, a task of a source table (arrivals aside), a partition
// on an unpartitioned table or none on a partitioned one, a class change
// without its class, a pause naming neither a table nor a class. A table
// the pipeline lacks is left to the caller, which names it.
absl::Status CheckReplayedEntry(const JournalEntry& j,
                                const Pipeline& pipeline);

}  // namespace landfall::internal
