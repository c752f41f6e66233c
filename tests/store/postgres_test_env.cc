#include "tests/store/postgres_test_env.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
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

}  // namespace

std::string ExecOn(const std::string& conninfo, const std::string& sql,
                   std::string* value) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  std::string error;
  if (PQstatus(conn) != CONNECTION_OK) {
    error = PQerrorMessage(conn);
  } else {
    PQsetNoticeProcessor(
        conn, [](void*, const char*) {}, nullptr);
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

namespace {

// Runs `sql` on the test server; its first value through `value`.
std::string Run(const std::string& sql, std::string* value) {
  return ExecOn(TestPostgres(), sql, value);
}

}  // namespace

std::string TestPostgres() { return Env("LANDFALL_TEST_POSTGRES"); }
std::string TestPostgresCtl() { return Env("LANDFALL_TEST_POSTGRES_CTL"); }

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

PrivatePostgres::PrivatePostgres() {
  char dir[] = "/tmp/landfall-pg-test.XXXXXX";
  if (mkdtemp(dir) != nullptr) dir_ = dir;
}

PrivatePostgres::~PrivatePostgres() {
  if (!dir_.empty()) Control("stop");
}

std::string PrivatePostgres::Control(const std::string& command,
                                     std::string* output) {
  if (dir_.empty()) return "no temporary directory";
  const std::string line =
      absl::StrCat("LANDFALL_PG_DIR='", dir_, "' ", TestPostgresCtl(), " ",
                   command, " 2>&1");
  FILE* out = popen(line.c_str(), "r");
  if (out == nullptr) return "popen failed";
  std::string text;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof(buffer), out)) {
    text.append(buffer, n);
  }
  const int status = pclose(out);
  if (status != 0) return absl::StrCat(line, ": status ", status, ": ", text);
  if (output != nullptr) *output = std::move(text);
  return "";
}

std::string PrivatePostgres::EnvValue(const std::string& name) {
  std::string env;
  if (!Control("env", &env).empty()) return "";
  // The line export NAME='...'.
  const std::string key = absl::StrCat(name, "='");
  const size_t at = env.find(key);
  if (at == std::string::npos) return "";
  const size_t from = at + key.size();
  return env.substr(from, env.find('\'', from) - from);
}

std::string PrivatePostgres::Start() {
  if (std::string error = Control("start"); !error.empty()) return error;
  uri_ = EnvValue("LANDFALL_TEST_POSTGRES");
  return uri_.empty() ? "no LANDFALL_TEST_POSTGRES in its env" : "";
}

}  // namespace landfall::testing
