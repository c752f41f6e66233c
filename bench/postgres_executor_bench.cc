// The PostgreSQL executor's cost per attempt beside a bare libpq loop doing
// the same work on the same server in the same run.
//
//   eval "$(bash .ci/postgres start && bash .ci/postgres env)"
//   build/release/bench/postgres_executor_bench
//
// The server is LANDFALL_TEST_POSTGRES's (a conninfo).
//
// BM_BareStatement: PQexecParams("SELECT $1::text") with one text
// parameter, in a loop on one connection.
// BM_ExecutorStatement: Executor::Run of a table whose sql is
// "SELECT {partition}::text" (one connection in its pool).
// BM_BareTransaction: BEGIN, two statements with a text parameter each
// (an INSERT and a DELETE of the same row in a bench table), COMMIT, each
// through PQexecParams. BM_ExecutorTransaction: Executor::Run of a table whose
// sql holds the same two statements (the executor wraps them in BEGIN/COMMIT).
// Times are real time per attempt (the work waits on the server).
#include <libpq-fe.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "landfall/pipeline.h"
#include "landfall/postgres_executor.h"

namespace landfall {
namespace {

std::string Server() {
  const char* v = std::getenv("LANDFALL_TEST_POSTGRES");
  return v != nullptr ? v : "";
}

constexpr char kTable[] = "landfall_bench_executor";

bool Check(PGresult* r, benchmark::State& state) {
  const ExecStatusType s = PQresultStatus(r);
  const bool ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
  if (!ok) state.SkipWithError(PQresultErrorMessage(r));
  PQclear(r);
  return ok;
}

PGconn* Connect(benchmark::State& state) {
  if (Server().empty()) {
    state.SkipWithError("no LANDFALL_TEST_POSTGRES");
    return nullptr;
  }
  PGconn* conn = PQconnectdb(Server().c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    state.SkipWithError(PQerrorMessage(conn));
    PQfinish(conn);
    return nullptr;
  }
  Check(PQexec(conn,
               absl::StrCat("CREATE TABLE IF NOT EXISTS ", kTable, " (x text)")
                   .c_str()),
        state);
  return conn;
}

void BM_BareStatement(benchmark::State& state) {
  PGconn* conn = Connect(state);
  if (conn == nullptr) return;
  const char* values[] = {"2018-11-03"};
  for (auto _ : state) {
    if (!Check(PQexecParams(conn, "SELECT $1::text", 1, nullptr, values,
                            nullptr, nullptr, 0),
               state)) {
      break;
    }
  }
  PQfinish(conn);
}

void BM_BareTransaction(benchmark::State& state) {
  PGconn* conn = Connect(state);
  if (conn == nullptr) return;
  const char* values[] = {"2018-11-03"};
  const std::string insert =
      absl::StrCat("INSERT INTO ", kTable, " VALUES ($1)");
  const std::string remove =
      absl::StrCat("DELETE FROM ", kTable, " WHERE x = $1");
  for (auto _ : state) {
    if (!Check(PQexecParams(conn, "BEGIN", 0, nullptr, nullptr, nullptr,
                            nullptr, 0),
               state) ||
        !Check(PQexecParams(conn, insert.c_str(), 1, nullptr, values, nullptr,
                            nullptr, 0),
               state) ||
        !Check(PQexecParams(conn, remove.c_str(), 1, nullptr, values, nullptr,
                            nullptr, 0),
               state) ||
        !Check(PQexecParams(conn, "COMMIT", 0, nullptr, nullptr, nullptr,
                            nullptr, 0),
               state)) {
      break;
    }
  }
  PQfinish(conn);
}

void RunExecutor(benchmark::State& state, const std::string& sql) {
  PGconn* conn = Connect(state);  // Creates the bench table.
  if (conn == nullptr) return;
  PQfinish(conn);
  auto pipeline = Pipeline::FromText(
      absl::StrCat("sink { name: \"pg\" postgres { } }\n"
                   "table { name: \"lake\" source: true }\n"
                   "table { name: \"t\" upstream: \"lake\" sink: \"pg\" "
                   "sql: \"",
                   sql, "\" }\n"),
      SpecFormat::kTextProto, "bench");
  if (!pipeline.ok()) {
    state.SkipWithError(std::string(pipeline.status().message()).c_str());
    return;
  }
  PostgresExecutorOptions options;
  options.conninfo = Server();
  auto executor = NewPostgresExecutor(**pipeline, options);
  if (!executor.ok()) {
    state.SkipWithError(std::string(executor.status().message()).c_str());
    return;
  }
  ClaimedTask task;
  task.task = TaskKey{"t", "2018-11-03"};
  task.attempt = 1;
  std::atomic<bool> cancelled{false};
  for (auto _ : state) {
    const AttemptResult r = (*executor)->Run(task, cancelled);
    if (r.outcome != Outcome::SUCCEEDED) {
      state.SkipWithError(r.message.c_str());
      break;
    }
  }
}

void BM_ExecutorStatement(benchmark::State& state) {
  RunExecutor(state, "SELECT {partition}::text");
}

void BM_ExecutorTransaction(benchmark::State& state) {
  RunExecutor(state, absl::StrCat("INSERT INTO ", kTable,
                                  " VALUES ({partition}); DELETE FROM ", kTable,
                                  " WHERE x = {partition}"));
}

BENCHMARK(BM_BareStatement)->MinTime(2.0)->UseRealTime();
BENCHMARK(BM_ExecutorStatement)->MinTime(2.0)->UseRealTime();
BENCHMARK(BM_BareTransaction)->MinTime(2.0)->UseRealTime();
BENCHMARK(BM_ExecutorTransaction)->MinTime(2.0)->UseRealTime();

}  // namespace
}  // namespace landfall

BENCHMARK_MAIN();
