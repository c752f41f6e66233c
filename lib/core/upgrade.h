// Moving a scheduler's state onto a changed pipeline (Scheduler::
// UpdatePipeline, and opening a store with a new spec).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "landfall/pipeline.h"
#include "landfall/scheduler.h"
#include "lib/core/snapshot.pb.h"

namespace landfall::internal {

// How `to` differs from `from`, in one line for the history: the tables
// added, removed and changed, and whether classes, pools or defaults changed.
std::string DescribeChange(const Pipeline& from, const Pipeline& to);

// The same change a line per table added, removed or changed (saying how,
// and what `options` does with it), then a line per change of classes,
// pools, defaults or the gate.
std::vector<std::string> DescribeChanges(const Pipeline& from,
                                         const Pipeline& to,
                                         const DeployOptions& options);

// InvalidArgument naming each table of options.adopt or options.rebuild
// that `to` has not, that is a source, or that both name.
absl::Status CheckDeployOptions(const Pipeline& to,
                                const DeployOptions& options);

// FailedPrecondition, unless options.force, when `to` has another name than
// `from` and no table in common with it: not a change of the pipeline but
// another one, which would drop all of its tasks.
absl::Status CheckRelated(const Pipeline& from, const Pipeline& to,
                          const DeployOptions& options);

// `snapshot`, taken on `from`, carried over to `to`. Removed tables' states
// are dropped. A table's class and a pool's size follow `to` where `to`
// changes them, and stay as operators set them otherwise. FailedPrecondition
// naming every incompatibility: a removed table with a running attempt, a
// removed table with task states unless options.force, a table with task
// states whose upstreams, their mappings or its trigger change (or the
// time_zone, for a table reading windows of local hours) unless options
// adopt or rebuild it, or whose partitioning, partition_format or
// source-ness changes (its states were derived from the old ones). The adopted
// and rebuilt tables' states are then settled by the core as it applies the
// update (Core::SetDeployPlan).
absl::StatusOr<Snapshot> UpgradeSnapshot(const Snapshot& snapshot,
                                         const Pipeline& from,
                                         const Pipeline& to,
                                         const DeployOptions& options);

}  // namespace landfall::internal
