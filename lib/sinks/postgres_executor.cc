#include "landfall/postgres_executor.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "lib/sinks/postgres_pool.h"
#include "lib/sinks/sql_attempt.h"

namespace landfall {
namespace {

// The text each parameter of `statement` is bound to for `task`.
std::vector<std::string> BindValues(const SqlStatement& statement,
                                    const ClaimedTask& task) {
  std::vector<std::string> values;
  values.reserve(statement.parameters.size());
  for (const SqlParameter& p : statement.parameters) {
    values.push_back(internal::ParameterValue(p, task));
  }
  return values;
}

// What an attempt of one table runs.
struct TablePlan {
  std::vector<SqlStatement> sql;
  absl::Duration statement_timeout;
};

class PostgresExecutor : public Executor {
 public:
  PostgresExecutor(const Pipeline& pipeline,
                   const PostgresExecutorOptions& options)
      : pool_(options.conninfo,
              {{"connect_timeout",
                absl::StrCat(std::max<int64_t>(
                    1, absl::ToInt64Seconds(options.connect_timeout)))},
               {"application_name", options.application_name}},
              options.max_connections) {
    for (const Table& table : pipeline.tables()) {
      if (table.sql.empty()) continue;
      plans_.emplace(table.name, TablePlan{table.sql, table.statement_timeout});
    }
  }

  AttemptResult Run(const ClaimedTask& task,
                    const std::atomic<bool>& cancelled) override {
    auto plan = plans_.find(task.task.table);
    if (plan == plans_.end()) {
      return AttemptResult{
          Outcome::FATAL,
          absl::StrCat("table \"", task.task.table, "\" has no sql to run")};
    }
    const TablePlan& table = plan->second;
    absl::StatusOr<std::unique_ptr<internal::PgConnection>> connection =
        pool_.Acquire(cancelled);
    if (!connection.ok()) return internal::FailedAttempt(connection.status());
    absl::Status done = RunTransaction(**connection, table, task, cancelled);
    if (!done.ok() && OwnTransaction(table) && !(*connection)->broken()) {
      // Leaves the session idle for the next attempt; a failure marks it
      // broken, and the pool then drops it.
      (void)(*connection)->Exec("ROLLBACK", "roll back");
    }
    pool_.Release(*std::move(connection));
    if (!done.ok()) return internal::FailedAttempt(done);
    return AttemptResult{
        Outcome::SUCCEEDED,
        absl::StrCat(table.sql.size(), " statement",
                     table.sql.size() == 1 ? "" : "s", " committed")};
  }

 private:
  // One statement without a timeout is a transaction by itself (the
  // server's implicit one): one round trip instead of three.
  static bool OwnTransaction(const TablePlan& table) {
    return table.sql.size() > 1 ||
           table.statement_timeout != absl::InfiniteDuration();
  }

  absl::Status RunTransaction(internal::PgConnection& connection,
                              const TablePlan& table, const ClaimedTask& task,
                              const std::atomic<bool>& cancelled) {
    const std::vector<const char*> none;
    absl::StatusOr<internal::PgResult> r = internal::PgResult();
    if (OwnTransaction(table)) {
      r = connection.RunText("BEGIN", none, cancelled, "begin");
    }
    if (r.ok() && table.statement_timeout != absl::InfiniteDuration()) {
      // SET LOCAL lasts until the transaction ends.
      r = connection.RunText(
          absl::StrCat("SET LOCAL statement_timeout = ",
                       absl::ToInt64Milliseconds(table.statement_timeout)),
          none, cancelled, "set statement_timeout");
    }
    if (!r.ok()) return r.status();
    const size_t n = table.sql.size();
    for (size_t i = 0; i < n; ++i) {
      const SqlStatement& statement = table.sql[i];
      const std::vector<std::string> values = BindValues(statement, task);
      std::vector<const char*> pointers;
      pointers.reserve(values.size());
      for (const std::string& v : values) pointers.push_back(v.c_str());
      r = connection.RunText(
          statement.text, pointers, cancelled,
          n == 1 ? std::string("run the statement")
                 : absl::StrCat("run statement ", i + 1, " of ", n));
      if (!r.ok()) return r.status();
      if (cancelled.load(std::memory_order_relaxed)) {
        return absl::CancelledError("cancelled");
      }
    }
    if (!OwnTransaction(table)) return absl::OkStatus();
    r = connection.RunText("COMMIT", none, cancelled, "commit");
    return r.status();
  }

  internal::PgPool pool_;
  absl::flat_hash_map<std::string, TablePlan> plans_;
};

}  // namespace

absl::StatusOr<PostgresExecutorOptions> PostgresSinkOptions(
    const Pipeline& pipeline, const std::string& name) {
  absl::StatusOr<const Sink*> found =
      internal::DeclaredSink(pipeline, name, Sink::Kind::kPostgres, "postgres");
  if (!found.ok()) return found.status();
  const Sink* sink = *found;
  PostgresExecutorOptions options;
  options.conninfo = sink->spec.postgres().conninfo();
  options.connect_timeout = sink->connect_timeout;
  if (!sink->spec.postgres().application_name().empty()) {
    options.application_name = sink->spec.postgres().application_name();
  }
  std::vector<PoolId> pools;
  for (const Table& table : pipeline.tables()) {
    if (table.sink == name && table.pool >= 0 &&
        std::find(pools.begin(), pools.end(), table.pool) == pools.end()) {
      pools.push_back(table.pool);
    }
  }
  int64_t slots = 0;
  for (PoolId pool : pools) slots += pipeline.pools()[pool].slots;
  options.max_connections = static_cast<int>(
      std::clamp<int64_t>(slots, 1, RunnerOptions::kMaxWorkers));
  return options;
}

absl::StatusOr<std::unique_ptr<Executor>> NewPostgresExecutor(
    const Pipeline& pipeline, PostgresExecutorOptions options) {
  if (options.max_connections < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_connections must be at least 1 (got ",
                     options.max_connections, ")"));
  }
  return std::make_unique<PostgresExecutor>(pipeline, options);
}

}  // namespace landfall
