#include "lib/store/postgres_schema.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "lib/core/entry.h"

namespace landfall::internal {
namespace {

// schema_info.application of a landfall store.
constexpr char kApplication[] = "landfall";

// Version 1. Table and partition names are bytea, not text: landfall keeps
// them byte for byte, UTF-8 or not (text refuses invalid UTF-8 and NUL).
// Snapshots are stored uncompressed (STORAGE EXTERNAL): compressing a large
// one on every write costs more than the disk it saves.
constexpr char kCreateV1[] = R"sql(
CREATE TABLE $s.schema_info (
  application text NOT NULL,
  schema_version integer NOT NULL
);
INSERT INTO $s.schema_info VALUES ('landfall', 1);
CREATE TABLE $s.meta (
  key text PRIMARY KEY,
  value bytea NOT NULL
);
CREATE TABLE $s.history (
  seq bigint PRIMARY KEY,
  at_ns bigint NOT NULL,
  kind text NOT NULL,
  table_name bytea NOT NULL,
  partition_key bytea NOT NULL,
  body bytea NOT NULL
);
CREATE TABLE $s.snapshots (
  seq bigint PRIMARY KEY,
  body bytea NOT NULL
);
ALTER TABLE $s.snapshots ALTER COLUMN body SET STORAGE EXTERNAL;
)sql";

std::string WithSchema(const char* sql, const std::string& schema) {
  return absl::StrReplaceAll(sql, {{"$s", QuoteIdentifier(schema)}});
}

}  // namespace

std::string SchemaVersionQuery(const std::string& schema) {
  return absl::StrCat("SELECT schema_version, application FROM ",
                      QuoteIdentifier(schema), ".schema_info");
}

absl::Status CheckSchemaVersion(const PgConnection& conn,
                                const std::string& version) {
  int v = 0;
  if (!absl::SimpleAtoi(version, &v)) {
    return absl::DataLossError(absl::StrCat(
        conn.label(), ": unreadable schema version \"", version, "\""));
  }
  if (v > kPostgresSchemaVersion) {
    return internal::MarkedNewer(absl::FailedPreconditionError(
        absl::StrCat(conn.label(), ": migrated to schema version ", v,
                     " by a newer landfall (this one reads up to ",
                     kPostgresSchemaVersion, "): use the newer library")));
  }
  return absl::OkStatus();
}

absl::Status MigratePostgresSchema(PgConnection& conn,
                                   const std::string& schema,
                                   SchemaChange change) {
  const std::string literal = QuoteLiteral(schema);
  absl::StatusOr<PgResult> found = conn.Exec(
      absl::StrCat(
          "SELECT (SELECT count(*) FROM pg_namespace WHERE nspname = ", literal,
          "), (SELECT count(*) FROM pg_tables WHERE schemaname = ", literal,
          "), (SELECT count(*) FROM pg_tables WHERE ", "schemaname = ", literal,
          " AND tablename = 'schema_info')"),
      "read the schema");
  if (!found.ok()) return found.status();
  const bool exists = std::string(found->bytes(0, 0)) != "0";
  const bool has_tables = std::string(found->bytes(0, 1)) != "0";
  const bool has_info = std::string(found->bytes(0, 2)) != "0";
  if (!has_info) {
    if (has_tables) {
      return absl::FailedPreconditionError(
          absl::StrCat(conn.label(), ": schema \"", schema,
                       "\" holds tables, but is not a landfall store"));
    }
    if (change != SchemaChange::kCreateOrMigrate) {
      return absl::NotFoundError(absl::StrCat(
          conn.label(), ": no landfall store in schema \"", schema, "\""));
    }
    if (!exists) {
      absl::Status s =
          conn.Exec(absl::StrCat("CREATE SCHEMA ", QuoteIdentifier(schema)),
                    "create the schema")
              .status();
      if (!s.ok()) return s;
    }
    return conn.Exec(WithSchema(kCreateV1, schema), "create the store's tables")
        .status();
  }
  absl::StatusOr<PgResult> info =
      conn.Exec(SchemaVersionQuery(schema), "read the schema version");
  if (!info.ok()) return info.status();
  if (info->rows() != 1 || info->bytes(0, 1) != kApplication) {
    return absl::FailedPreconditionError(absl::StrCat(
        conn.label(), ": schema \"", schema, "\" is not a landfall store"));
  }
  // Migrations from older versions go here, one step each, when there are
  // some (none with SchemaChange::kNone): version 1 is the first.
  return CheckSchemaVersion(conn, std::string(info->bytes(0, 0)));
}

}  // namespace landfall::internal
