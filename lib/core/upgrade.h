// Moving a scheduler's state onto a changed pipeline (Scheduler::
// UpdatePipeline, and opening a store with a new spec).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "landfall/pipeline.h"
#include "lib/core/snapshot.pb.h"

namespace landfall::internal {

// How `to` differs from `from`, in one line for the history: the tables
// added, removed and changed, and whether classes, pools or defaults changed.
std::string DescribeChange(const Pipeline& from, const Pipeline& to);

// `snapshot`, taken on `from`, carried over to `to`. Removed tables' states
// are dropped. A table's class and a pool's size follow `to` where `to`
// changes them, and stay as operators set them otherwise. FailedPrecondition
// naming every incompatibility: a removed table with a running attempt, or a
// table with task states whose upstreams, trigger, partitioning or
// source-ness change (its states were derived from the old ones).
absl::StatusOr<Snapshot> UpgradeSnapshot(const Snapshot& snapshot,
                                         const Pipeline& from,
                                         const Pipeline& to);

}  // namespace landfall::internal
