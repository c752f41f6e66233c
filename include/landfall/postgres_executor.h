// An Executor that builds tables in a PostgreSQL or Redshift warehouse over
// libpq: each attempt runs its table's `sql` (Table::sql) in one transaction
// on a pooled connection, its placeholders bound as text parameters.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "landfall/export.h"
#include "landfall/pipeline.h"
#include "landfall/runner.h"

namespace landfall {

struct PostgresExecutorOptions {
  // libpq conninfo (key=value pairs or a postgresql:// URI); empty: libpq's
  // environment. Never appears in messages with its password. Default "".
  std::string conninfo;
  // Longest wait for a new connection. Default 30 seconds.
  absl::Duration connect_timeout = absl::Seconds(30);
  // The sessions' application_name (pg_stat_activity). Default "landfall".
  std::string application_name = "landfall";
  // Most connections open at once, >= 1; an attempt waits for one to be
  // free. Default 1.
  int max_connections = 1;
};

// The options a declared postgres sink gives: its conninfo, timeouts and
// application_name, and max_connections the sum of the slots of the pools
// of the tables that name it (at most RunnerOptions::kMaxWorkers when one
// of them is unlimited), since an attempt holds a pool slot while it holds a
// connection. InvalidArgument when `sink` is not a declared postgres sink.
LANDFALL_EXPORT absl::StatusOr<PostgresExecutorOptions> PostgresSinkOptions(
    const Pipeline& pipeline, const std::string& sink);

// An executor for the tables of `pipeline` that have `sql` (it copies their
// statements and timeouts: `pipeline` need not outlive it). Per attempt:
// BEGIN, SET LOCAL statement_timeout when the table has one
// (Table::statement_timeout), each statement through PQexecParams-style
// calls with its parameters bound as text, COMMIT; on any error ROLLBACK.
// Connections are kept for later attempts and opened again when broken; no
// connection is opened before the first attempt.
//
// Outcomes: SUCCEEDED after COMMIT. RETRYABLE when a connection cannot be
// had (refused, server starting or shutting down, too many connections),
// is lost, or a statement fails with a SQLSTATE worth retrying (class 08,
// 57P01-57P03, 53300, 40001, 40P01, 55P03, 57014 statement timeout).
// FATAL for any other SQLSTATE (syntax, missing relation, permission, data
// errors) and for a table without sql. The message holds the SQLSTATE and
// the server's message, and the conninfo only without its password.
// A cancelled attempt sends PQcancel to its running statement and returns
// RETRYABLE. Thread-safe. InvalidArgument for max_connections < 1.
LANDFALL_EXPORT absl::StatusOr<std::unique_ptr<Executor>> NewPostgresExecutor(
    const Pipeline& pipeline, PostgresExecutorOptions options);

}  // namespace landfall
