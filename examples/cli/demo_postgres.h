// `landfall demo --postgres URI`: the demo's warehouse loads run their `sql`
// on a PostgreSQL server, in one schema of their own.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "landfall/pipeline.h"
#include "landfall/runner.h"

namespace landfall::cli {

// The schema `landfall demo --postgres` works in by default.
inline constexpr char kDemoSchema[] = "landfall_demo";

struct DemoWarehouse {
  // The URI as key=value pairs, its search_path set to `schema`.
  std::string conninfo;
  // The server for messages: the conninfo without options.
  std::string label;
  std::string schema;
};

// The warehouse of `uri` (a libpq URI or key=value conninfo) and `schema`.
// InvalidArgument when `uri` cannot be parsed or holds a password (it comes
// from PGPASSWORD or a password file instead), or when `schema` is not a
// lower-case SQL name; the messages never quote the URI.
absl::StatusOr<DemoWarehouse> NewDemoWarehouse(const std::string& uri,
                                               const std::string& schema);

// Creates `warehouse.schema` when missing and replaces in it the lake tables
// (the source tables of `pipeline`, with rows for `days`) and the tables its
// `sql` loads (empty), all in one transaction. Unavailable when the server
// cannot be reached, FailedPrecondition when it refuses a statement.
absl::Status CreateDemoTables(const DemoWarehouse& warehouse,
                              const Pipeline& pipeline,
                              const std::vector<std::string>& days);

// Binds to every postgres sink of `pipeline` a PostgreSQL executor on
// `warehouse` holding at most four connections.
absl::Status AddDemoWarehouseExecutors(const DemoWarehouse& warehouse,
                                       const Pipeline& pipeline,
                                       RunnerOptions* options);

// The row count of each table `pipeline` loads with `sql`, as a table on
// stdout.
absl::Status PrintRowCounts(const DemoWarehouse& warehouse,
                            const Pipeline& pipeline);

// The name a table of `pipeline` has in the warehouse: its name with "_"
// for "." (dwh.jalan_users is dwh_jalan_users).
std::string WarehouseTableName(const std::string& table);

}  // namespace landfall::cli
