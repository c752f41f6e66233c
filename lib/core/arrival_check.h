// The checks an arrival passes before a scheduler records it. They depend on
// the pipeline alone, not on what was ingested before: a whole file of
// arrivals is checked without building any scheduler state.
#pragma once

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "landfall/pipeline.h"
#include "landfall/records.pb.h"

namespace landfall::internal {

// The arrival's table, or InvalidArgument naming what is wrong with it: as
// Scheduler::Ingest refuses it, and in a batch of `count` (> 1) with its
// position ("arrival #N: ") first.
absl::StatusOr<TableId> CheckArrival(const Pipeline& pipeline,
                                     const Arrival& arrival, size_t index = 0,
                                     size_t count = 1);

// `unknown table "name"`, with the pipeline's closest table name if one is
// a plausible typo of it.
std::string UnknownTable(const Pipeline& pipeline, const std::string& name);

}  // namespace landfall::internal
