// Executors for the sinks a spec declares, for hosts and `landfall run`.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "landfall/export.h"
#include "landfall/pipeline.h"
#include "landfall/runner.h"

namespace landfall {

// Adds to options->executor_by_sink an executor for every declared sink of
// `pipeline` that runs SQL, that some derived table names, and that
// executor_by_sink does not already bind
// (a host's own executor for a sink name wins): a PostgreSQL executor
// (NewPostgresExecutor with PostgresSinkOptions) for postgres sinks, a
// BigQuery executor (NewBigQueryExecutor with BigQuerySinkOptions) for
// bigquery sinks. Nothing is contacted before the first attempt.
// `conninfo_by_sink` replaces the spec's conninfo of the sinks it names (a
// host's own, which may hold a password); a name that is not a postgres
// sink of the spec is InvalidArgument. An error adds nothing.
LANDFALL_EXPORT absl::Status AddSinkExecutors(
    const Pipeline& pipeline, RunnerOptions* options,
    const std::map<std::string, std::string>& conninfo_by_sink = {});

}  // namespace landfall
