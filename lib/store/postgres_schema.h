// The tables of the PostgreSQL store in one schema, and their migrations.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "lib/store/postgres_connection.h"

namespace landfall::internal {

// The schema this library writes (schema_info.schema_version). Opening
// migrates an older schema step by step and refuses a newer one.
//   1: schema_info, meta, history, snapshots.
inline constexpr int kPostgresSchemaVersion = 1;

// How MigratePostgresSchema treats a schema that is missing or older.
enum class SchemaChange {
  kCreateOrMigrate,  // Creates a missing one, migrates an older one.
  kMigrate,          // NotFound for a missing one; migrates an older one.
  kNone,             // NotFound for a missing one; reads an older one as is.
};

// Inside a transaction, holding the store's write lock unless `change` is
// kNone (then it writes nothing): creates the schema and its tables when
// missing, migrates an older one, as `change` allows. FailedPrecondition for
// a schema of another application or a newer landfall.
absl::Status MigratePostgresSchema(PgConnection& conn,
                                   const std::string& schema,
                                   SchemaChange change);

// The query that reads the schema version (its first column, as text).
std::string SchemaVersionQuery(const std::string& schema);

// FailedPrecondition when `version` (as read by SchemaVersionQuery) is newer
// than this library reads.
absl::Status CheckSchemaVersion(const PgConnection& conn,
                                const std::string& version);

}  // namespace landfall::internal
