// Executors for the sinks a spec declares, for hosts and `landfall run`.
#pragma once

#include <memory>

#include "absl/status/status.h"
#include "landfall/export.h"
#include "landfall/pipeline.h"
#include "landfall/runner.h"

namespace landfall {

// Adds to options->executor_by_sink an executor for every declared sink of
// `pipeline` that runs SQL, that some derived table names, and that
// executor_by_sink does not already bind
// (a host's own executor for a sink name wins): a PostgreSQL executor
// (NewPostgresExecutor with PostgresSinkOptions) for postgres sinks.
// BigQuery sinks are left unbound: no executor for them ships yet. An error
// adds nothing.
LANDFALL_EXPORT absl::Status AddSinkExecutors(const Pipeline& pipeline,
                                              RunnerOptions* options);

}  // namespace landfall
