#include "examples/cli/demo_postgres.h"

#include <libpq-fe.h>

#include <cstring>
#include <iostream>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "landfall/postgres_executor.h"

namespace landfall::cli {
namespace {

// A value for a key=value conninfo: quoted, with ' and \ escaped.
std::string ConninfoValue(const std::string& value) {
  return absl::StrCat(
      "'", absl::StrReplaceAll(value, {{"\\", "\\\\"}, {"'", "\\'"}}), "'");
}

bool IsLowerCaseName(const std::string& name) {
  if (name.empty() || name.size() > 63 || absl::ascii_isdigit(name[0])) {
    return false;
  }
  for (char c : name) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '_') {
      return false;
    }
  }
  return true;
}

struct ConnDeleter {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
using Conn = std::unique_ptr<PGconn, ConnDeleter>;

absl::StatusOr<Conn> Connect(const DemoWarehouse& warehouse) {
  Conn conn(PQconnectdb(warehouse.conninfo.c_str()));
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return absl::UnavailableError(absl::StrCat("cannot connect to ",
                                               warehouse.label, ": ",
                                               PQerrorMessage(conn.get())));
  }
  PQsetNoticeProcessor(
      conn.get(), [](void*, const char*) {}, nullptr);
  return conn;
}

// Runs `sql`; its first value through `value` when not null. A failed
// statement is FailedPrecondition (the server refused it: a permission, a
// name), Unavailable when the connection went away.
absl::Status Exec(PGconn* conn, const DemoWarehouse& warehouse,
                  const std::string& sql, std::string* value = nullptr) {
  PGresult* r = PQexec(conn, sql.c_str());
  const ExecStatusType s = PQresultStatus(r);
  absl::Status status;
  if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
    status = absl::Status(
        PQstatus(conn) == CONNECTION_OK ? absl::StatusCode::kFailedPrecondition
                                        : absl::StatusCode::kUnavailable,
        absl::StrCat(warehouse.label, ": ", PQresultErrorMessage(r)));
  } else if (value != nullptr && PQntuples(r) > 0) {
    *value = PQgetvalue(r, 0, 0);
  }
  PQclear(r);
  return status;
}

}  // namespace

std::string WarehouseTableName(const std::string& table) {
  return absl::StrReplaceAll(table, {{".", "_"}});
}

absl::StatusOr<DemoWarehouse> NewDemoWarehouse(const std::string& uri,
                                               const std::string& schema) {
  if (!IsLowerCaseName(schema)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--postgres-schema: expected a lower-case SQL name (a-z, 0-9, _), "
        "got \"",
        schema, "\""));
  }
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(uri.c_str(), &error);
  if (options == nullptr) {
    PQfreemem(error);  // It may quote the URI, password and all.
    return absl::InvalidArgumentError(
        "--postgres: not a libpq connection URI or conninfo");
  }
  DemoWarehouse warehouse;
  warehouse.schema = schema;
  std::string session_options;
  std::vector<std::string> shown;
  bool password = false, timeout = false;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || o->val[0] == '\0') continue;
    const std::string keyword = o->keyword;
    // libpq marks its secrets (password, sslpassword) with dispchar "*".
    if (o->dispchar != nullptr && std::strchr(o->dispchar, '*') != nullptr) {
      password = true;
      continue;
    }
    if (keyword == "options") {
      session_options = absl::StrCat(o->val, " ");
      continue;
    }
    timeout |= keyword == "connect_timeout";
    absl::StrAppend(&warehouse.conninfo, keyword, "=", ConninfoValue(o->val),
                    " ");
    shown.push_back(absl::StrCat(keyword, "=", o->val));
  }
  PQconninfoFree(options);
  if (password) {
    return absl::InvalidArgumentError(
        "--postgres: the URI holds a password; give it through PGPASSWORD "
        "or a password file (PGPASSFILE) instead, so that it appears "
        "nowhere");
  }
  if (!timeout) warehouse.conninfo += "connect_timeout=10 ";
  absl::StrAppend(
      &warehouse.conninfo, "options=",
      ConninfoValue(absl::StrCat(session_options, "-c search_path=", schema)));
  warehouse.label =
      shown.empty()
          ? "PostgreSQL"
          : absl::StrCat("PostgreSQL (", absl::StrJoin(shown, " "), ")");
  return warehouse;
}

absl::Status CreateDemoTables(const DemoWarehouse& warehouse,
                              const Pipeline& pipeline,
                              const std::vector<std::string>& days) {
  absl::StatusOr<Conn> conn = Connect(warehouse);
  if (!conn.ok()) return conn.status();
  std::string sql = absl::StrCat("BEGIN; CREATE SCHEMA IF NOT EXISTS ",
                                 warehouse.schema, ";\n");
  std::vector<std::string> quoted_days;
  for (const std::string& day : days) {
    quoted_days.push_back(absl::StrCat("'", day, "'"));
  }
  int index = 0;
  for (const Table& t : pipeline.tables()) {
    if (!t.source && t.sql.empty()) continue;
    const std::string name = WarehouseTableName(t.name);
    absl::StrAppend(&sql, "DROP TABLE IF EXISTS ", name, ";\nCREATE TABLE ",
                    name, " (", t.partitioned ? "dt date NOT NULL, " : "",
                    "id bigint NOT NULL, payload text NOT NULL);\n");
    if (!t.source) continue;
    // A few rows per day, more for some tables than others.
    const int rows = 10 * (1 + index++ % 5);
    if (t.partitioned) {
      absl::StrAppend(&sql, "INSERT INTO ", name, " SELECT d::date, g, '",
                      t.name, " row ' || g FROM unnest(ARRAY[",
                      absl::StrJoin(quoted_days, ", "),
                      "]) AS d, generate_series(1, ", rows, ") AS g;\n");
    } else {
      absl::StrAppend(&sql, "INSERT INTO ", name, " SELECT g, '", t.name,
                      " row ' || g FROM generate_series(1, ", rows,
                      ") AS g;\n");
    }
  }
  sql += "COMMIT;";
  return Exec(conn->get(), warehouse, sql);
}

absl::Status AddDemoWarehouseExecutors(const DemoWarehouse& warehouse,
                                       const Pipeline& pipeline,
                                       RunnerOptions* options) {
  for (const Sink& sink : pipeline.sinks()) {
    if (sink.kind != Sink::Kind::kPostgres) continue;
    absl::StatusOr<PostgresExecutorOptions> pg =
        PostgresSinkOptions(pipeline, sink.name);
    if (!pg.ok()) return pg.status();
    pg->conninfo = warehouse.conninfo;
    pg->application_name = "landfall-demo";
    pg->max_connections = 4;  // A local server, shared with its other users.
    absl::StatusOr<std::unique_ptr<Executor>> executor =
        NewPostgresExecutor(pipeline, *std::move(pg));
    if (!executor.ok()) return executor.status();
    options->executor_by_sink[sink.name] = *std::move(executor);
  }
  return absl::OkStatus();
}

absl::Status PrintRowCounts(const DemoWarehouse& warehouse,
                            const Pipeline& pipeline) {
  absl::StatusOr<Conn> conn = Connect(warehouse);
  if (!conn.ok()) return conn.status();
  std::cout << "\nIn schema " << warehouse.schema << ":\n"
            << absl::StrFormat("%-38s %s\n", "WAREHOUSE TABLE", "ROWS");
  for (const Table& t : pipeline.tables()) {
    if (t.sql.empty()) continue;
    const std::string name = WarehouseTableName(t.name);
    std::string rows;
    if (absl::Status s =
            Exec(conn->get(), warehouse,
                 absl::StrCat("SELECT count(*) FROM ", name), &rows);
        !s.ok()) {
      return s;
    }
    std::cout << absl::StrFormat("%-38s %s\n", name, rows);
  }
  return absl::OkStatus();
}

}  // namespace landfall::cli
