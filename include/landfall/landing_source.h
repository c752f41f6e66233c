// A Source of arrivals from files landing in a directory tree, as object
// stores and loaders deliver them: a file put in place under
// ROOT/<table>/<partition>/... (ROOT/<table>/... for an unpartitioned
// table) is an arrival of that table's partition.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "landfall/export.h"
#include "landfall/pipeline.h"
#include "landfall/runner.h"

namespace landfall {

struct LandingSourceOptions {
  // The directory watched. Required; must exist.
  std::string root;
  // Told of files that name no table of the pipeline or sit at the wrong
  // depth, and of watch errors (from the source's thread). Default: none.
  std::function<void(const absl::Status&)> on_error;
  // Asked which of the files a scan finds in place were ingested already
  // (one flag per arrival): those are skipped, and nothing is delivered
  // for them. Set it to the scheduler's Ingested, so that a restart, however
  // long after, neither ingests an unchanged file again nor records it as a
  // duplicate, while a changed one is a new arrival. Called from Start and
  // from the source's thread. Default: none (every file found is delivered).
  std::function<std::vector<bool>(absl::Span<const Arrival>)> ingested;
};

// Scans ROOT on Start (what landed while nothing ran is not missed), then
// watches it with inotify: a file counts once it is closed after writing or
// renamed into place. When the watch loses events it scans ROOT again. A
// scan delivers the files in place that `ingested` does not say were
// ingested; a file seen landing is always delivered (the same file landing
// again is a duplicate). Names starting with "." or ending in ".tmp" are
// skipped, so a writer can write a temporary file and rename it. The event
// id is the file's path under ROOT with its size and a hash of its first and
// last 64 KiB, so that the same file delivered again is a duplicate; the
// origin is its file:// URL and the arrival time its modification time.
// InvalidArgument for an empty root.
LANDFALL_EXPORT absl::StatusOr<std::unique_ptr<Source>> NewLandingSource(
    std::shared_ptr<const Pipeline> pipeline, LandingSourceOptions options);

}  // namespace landfall
