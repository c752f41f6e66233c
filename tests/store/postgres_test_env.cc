#include "tests/store/postgres_test_env.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <random>

#include "absl/strings/str_cat.h"

namespace landfall::testing {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

// Runs `sql`; its first value through `value` when not null.
std::string Run(const std::string& sql, std::string* value) {
  PGconn* conn = PQconnectdb(TestPostgres().c_str());
  std::string error;
  if (PQstatus(conn) != CONNECTION_OK) {
    error = PQerrorMessage(conn);
  } else {
    PQclear(PQexec(conn, "SET client_min_messages = warning"));
    PGresult* r = PQexec(conn, sql.c_str());
    const ExecStatusType s = PQresultStatus(r);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
      error = PQresultErrorMessage(r);
    } else if (value != nullptr && PQntuples(r) > 0) {
      *value = PQgetvalue(r, 0, 0);
    }
    PQclear(r);
  }
  PQfinish(conn);
  return error;
}

}  // namespace

std::string TestPostgres() { return Env("LANDFALL_TEST_POSTGRES"); }
std::string TestPostgresCtl() { return Env("LANDFALL_TEST_POSTGRES_CTL"); }
bool InCi() { return Env("CI") == "true"; }

std::string NewTestSchema() {
  static std::atomic<int> counter{0};
  static const uint32_t salt = std::random_device()();
  return absl::StrCat("test_", getpid(), "_", salt % 100000, "_", ++counter);
}

std::string DropTestSchema(const std::string& schema) {
  return Run(absl::StrCat("DROP SCHEMA IF EXISTS \"", schema, "\" CASCADE"),
             nullptr);
}

std::string ExecOnTestServer(const std::string& sql) {
  return Run(sql, nullptr);
}

std::string QueryTestServer(const std::string& sql) {
  std::string value;
  const std::string error = Run(sql, &value);
  return error.empty() ? value : absl::StrCat("error: ", error);
}

}  // namespace landfall::testing
