// The PostgreSQL executor against a real server (.ci/postgres): values bound
// as data, a warehouse day through three levels, failure classes by
// SQLSTATE, statement_timeout and cancellation, one transaction per sql,
// the connection cap, and a maintenance window retried to success.
#include "landfall/postgres_executor.h"

#include <libpq-fe.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "landfall/runner.h"
#include "landfall/scheduler.h"
#include "landfall/sink_executors.h"
#include "tests/store/postgres_test_env.h"

namespace landfall::testing {
namespace {

using ::testing::HasSubstr;

std::string Query(const std::string& conninfo, const std::string& sql) {
  std::string value;
  const std::string error = ExecOn(conninfo, sql, &value);
  EXPECT_EQ(error, "") << sql;
  return value;
}

// A spec of one postgres sink "pg" (`sink_fields` inside its postgres
// message), a source "lake", and table `name` built by `sql` (`fields`
// besides).
std::string OneTableSpec(const std::string& name, const std::string& sql,
                         const std::string& fields = "",
                         const std::string& sink_fields = "") {
  return absl::StrCat(
      "sink { name: \"pg\" postgres { ", sink_fields,
      " } }\ntable { name: \"lake\" source: true }\n", "table { name: \"", name,
      "\" upstream: \"lake\" sink: \"pg\" ", fields, " sql: \"", sql, "\" }\n");
}

class PostgresExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LANDFALL_REQUIRE_POSTGRES();
    server_ = TestPostgres();
    ASSERT_EQ(ExecOn(server_, absl::StrCat("CREATE SCHEMA ", schema_)), "");
  }
  void TearDown() override {
    if (!server_.empty()) {
      EXPECT_EQ(DropTestSchema(schema_), "");
    }
  }

  // `spec` with @S@ replaced by the test's schema.
  std::shared_ptr<const Pipeline> Load(const std::string& spec) {
    auto pipeline =
        Pipeline::FromText(absl::StrReplaceAll(spec, {{"@S@", schema_}}),
                           SpecFormat::kTextProto, "warehouse.textproto");
    EXPECT_TRUE(pipeline.ok()) << pipeline.status();
    return pipeline.ok() ? *pipeline : nullptr;
  }

  std::string InSchema(const std::string& sql) {
    return absl::StrReplaceAll(sql, {{"@S@", schema_}});
  }

  PostgresExecutorOptions Options(int max_connections = 2) {
    PostgresExecutorOptions options;
    options.conninfo = server_;
    options.application_name = application_;
    options.max_connections = max_connections;
    return options;
  }

  std::unique_ptr<Executor> NewExecutor(const Pipeline& pipeline,
                                        PostgresExecutorOptions options) {
    auto executor = NewPostgresExecutor(pipeline, std::move(options));
    EXPECT_TRUE(executor.ok()) << executor.status();
    return executor.ok() ? *std::move(executor) : nullptr;
  }

  // One attempt of `table` on `partition`, run directly.
  static AttemptResult RunOnce(Executor& executor, const std::string& table,
                               const std::string& partition,
                               const std::atomic<bool>& cancelled) {
    ClaimedTask task;
    task.task = TaskKey{table, partition};
    task.attempt = 1;
    return executor.Run(task, cancelled);
  }

  // A runner on a scheduler in memory with `executor` for every table:
  // ingests a source arrival per partition and waits until idle.
  std::shared_ptr<Scheduler> RunDay(
      std::shared_ptr<const Pipeline> pipeline,
      std::shared_ptr<Executor> executor,
      const std::vector<std::string>& partitions,
      absl::Duration timeout = absl::Seconds(60)) {
    auto scheduler = Scheduler::Create(pipeline);
    EXPECT_TRUE(scheduler.ok()) << scheduler.status();
    if (!scheduler.ok()) return nullptr;
    std::shared_ptr<Scheduler> shared = *std::move(scheduler);
    RunnerOptions options;
    options.max_workers = 8;
    options.idle_poll = absl::Milliseconds(20);
    options.executor = std::move(executor);
    auto runner = Runner::Create(shared, std::move(options));
    EXPECT_TRUE(runner.ok()) << runner.status();
    if (!runner.ok()) return nullptr;
    EXPECT_TRUE((*runner)->Start().ok());
    int i = 0;
    for (const std::string& p : partitions) {
      Arrival a;
      a.set_event_id(absl::StrCat("e", ++i));
      a.set_table(pipeline->table(0).name);
      a.set_partition(p);
      EXPECT_TRUE(shared->Ingest(a).ok());
    }
    (*runner)->Notify();
    const RunSummary summary =
        (*runner)->WaitUntilIdle(absl::Milliseconds(200), timeout);
    EXPECT_TRUE(summary.idle);
    (*runner)->Stop(absl::Seconds(5));
    return shared;
  }

  std::string server_;
  std::string schema_ = NewTestSchema();
  std::string application_ = absl::StrCat("landfall-test-", schema_);
};

std::vector<std::string> HoursOfADay() {
  std::vector<std::string> hours;
  for (int h = 0; h < 24; ++h) {
    hours.push_back(absl::StrCat("2018-11-03T", h < 10 ? "0" : "", h));
  }
  return hours;
}

TEST_F(PostgresExecutorTest, AQuoteInAPartitionIsDataNotSql) {
  ASSERT_EQ(ExecOn(server_, InSchema("CREATE TABLE @S@.loads (dt text);"
                                     "CREATE TABLE @S@.victim (x int)")),
            "");
  auto pipeline = Load(
      OneTableSpec("dwh", "INSERT INTO @S@.loads (dt) VALUES ({partition})"));
  ASSERT_NE(pipeline, nullptr);
  auto executor = NewExecutor(*pipeline, Options());
  ASSERT_NE(executor, nullptr);
  const std::string evil = "2018-11-03'; DROP TABLE " + schema_ + ".victim; --";
  std::atomic<bool> cancelled{false};
  const AttemptResult result = RunOnce(*executor, "dwh", evil, cancelled);
  EXPECT_EQ(result.outcome, Outcome::SUCCEEDED) << result.message;
  EXPECT_EQ(Query(server_, InSchema("SELECT dt FROM @S@.loads")), evil);
  EXPECT_EQ(Query(server_, InSchema("SELECT count(*) FROM @S@.victim")), "0");
}

TEST_F(PostgresExecutorTest, AWarehouseDayGoesThroughThreeLevels) {
  ASSERT_EQ(ExecOn(server_, InSchema(R"sql(
CREATE TABLE @S@.raw (hr text, id int, amount int);
INSERT INTO @S@.raw SELECT to_char(timestamp '2018-11-03' + (i % 24) * interval '1 hour', 'YYYY-MM-DD"T"HH24'), i, i % 7 FROM generate_series(1, 240) i;
CREATE TABLE @S@.stg (hr text, id int, amount int);
CREATE TABLE @S@.fact (hr text, id int, amount int, attempt int);
CREATE TABLE @S@.mart (hr text, n bigint, total bigint))sql")),
            "");
  auto pipeline = Load(R"pb(
    sink {
      name: "redshift"
      postgres { statement_timeout: "30s" }
    }
    pool { name: "redshift" slots: 3 }
    defaults { sink: "redshift" pool: "redshift" }
    table { name: "lake.raw" source: true }
    table {
      name: "stg"
      upstream: "lake.raw"
      sql: "DELETE FROM @S@.stg WHERE hr = {partition}; INSERT INTO @S@.stg SELECT * FROM @S@.raw WHERE hr = {partition}"
    }
    table {
      name: "fact"
      upstream: "stg"
      sql: "DELETE FROM @S@.fact WHERE hr = {partition}; INSERT INTO @S@.fact SELECT hr, id, amount, {attempt}::int FROM @S@.stg WHERE hr = {partition}"
    }
    table {
      name: "mart"
      upstream: "fact"
      sql: "DELETE FROM @S@.mart WHERE hr = {partition}; INSERT INTO @S@.mart SELECT hr, count(*), sum(amount) FROM @S@.fact WHERE hr = {partition} GROUP BY hr"
    }
  )pb");
  ASSERT_NE(pipeline, nullptr);
  auto options = PostgresSinkOptions(*pipeline, "redshift");
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->max_connections, 3);
  options->conninfo = server_;
  std::shared_ptr<Scheduler> scheduler =
      RunDay(pipeline, NewExecutor(*pipeline, *options), HoursOfADay());
  ASSERT_NE(scheduler, nullptr);
  const TaskList tasks = scheduler->List();
  EXPECT_EQ(tasks.by_state.at("SUCCEEDED"), 72);
  EXPECT_EQ(Query(server_, InSchema("SELECT count(*) FROM @S@.stg")), "240");
  EXPECT_EQ(Query(server_, InSchema("SELECT count(*) FROM @S@.fact")), "240");
  EXPECT_EQ(Query(server_, InSchema("SELECT count(*) || '/' || sum(n) || '/' "
                                    "|| sum(total) FROM @S@.mart")),
            Query(server_, InSchema("SELECT '24/' || count(*) || '/' || "
                                    "sum(amount) FROM @S@.raw")));
}

TEST_F(PostgresExecutorTest, StatementsOfOneSqlCommitTogetherOrNotAtAll) {
  ASSERT_EQ(ExecOn(server_, InSchema("CREATE TABLE @S@.t (x int)")), "");
  auto pipeline = Load(OneTableSpec(
      "half", "INSERT INTO @S@.t VALUES (1); SELECT * FROM @S@.missing"));
  ASSERT_NE(pipeline, nullptr);
  auto executor = NewExecutor(*pipeline, Options(1));
  std::atomic<bool> cancelled{false};
  const AttemptResult result = RunOnce(*executor, "half", "p", cancelled);
  EXPECT_EQ(result.outcome, Outcome::FATAL);
  EXPECT_THAT(result.message, HasSubstr("statement 2 of 2"));
  EXPECT_EQ(Query(server_, InSchema("SELECT count(*) FROM @S@.t")), "0");
  // The connection went back clean: the next attempt on it works.
  ASSERT_EQ(ExecOn(server_, InSchema("CREATE TABLE @S@.missing (y int)")), "");
  EXPECT_EQ(RunOnce(*executor, "half", "p", cancelled).outcome,
            Outcome::SUCCEEDED);
  EXPECT_EQ(Query(server_, InSchema("SELECT count(*) FROM @S@.t")), "1");
}

// An error raised with each SQLSTATE, and the outcome it must give.
TEST_F(PostgresExecutorTest, SqlstatesSortIntoRetryableAndFatal) {
  struct Case {
    std::string sqlstate;
    Outcome outcome;
  };
  const std::vector<Case> cases = {
      {"40001", Outcome::RETRYABLE}, {"40P01", Outcome::RETRYABLE},
      {"53300", Outcome::RETRYABLE}, {"57P01", Outcome::RETRYABLE},
      {"57P03", Outcome::RETRYABLE}, {"42601", Outcome::FATAL},
      {"42P01", Outcome::FATAL},     {"42501", Outcome::FATAL},
      {"22012", Outcome::FATAL},     {"23505", Outcome::FATAL},
  };
  std::string spec =
      "sink { name: \"pg\" postgres { } }\n"
      "table { name: \"lake\" source: true }\n";
  for (const Case& c : cases) {
    absl::StrAppend(&spec, "table { name: \"t", c.sqlstate,
                    "\" upstream: \"lake\" sink: \"pg\" sql: \"DO $$ BEGIN "
                    "RAISE EXCEPTION 'raised %', ",
                    "'", c.sqlstate, "' USING ERRCODE = '", c.sqlstate,
                    "'; END $$\" }\n");
  }
  auto pipeline = Load(spec);
  ASSERT_NE(pipeline, nullptr);
  auto executor = NewExecutor(*pipeline, Options(1));
  std::atomic<bool> cancelled{false};
  for (const Case& c : cases) {
    const AttemptResult r =
        RunOnce(*executor, absl::StrCat("t", c.sqlstate), "p", cancelled);
    EXPECT_EQ(r.outcome, c.outcome) << c.sqlstate << ": " << r.message;
    EXPECT_THAT(r.message, HasSubstr(absl::StrCat("SQLSTATE ", c.sqlstate)));
    EXPECT_THAT(r.message, HasSubstr(absl::StrCat("raised ", c.sqlstate)));
    EXPECT_THAT(r.message, ::testing::Not(HasSubstr("landfall-test-secret")));
  }
}

TEST_F(PostgresExecutorTest, ASqlErrorGoesDeadWithItsSqlstateInTheHistory) {
  auto pipeline =
      Load(OneTableSpec("broken", "INSERT INTO @S@.nowhere SELECT {partition}",
                        "retry { max_attempts: 5 initial_backoff: \"10ms\" }"));
  ASSERT_NE(pipeline, nullptr);
  std::shared_ptr<Scheduler> scheduler =
      RunDay(pipeline, NewExecutor(*pipeline, Options()), {"2018-11-03"});
  ASSERT_NE(scheduler, nullptr);
  const TaskList tasks = scheduler->List();
  ASSERT_EQ(tasks.tasks.size(), 1u);
  const TaskStatus& dead = tasks.tasks[0];
  EXPECT_EQ(dead.state, TaskState::kDead);
  EXPECT_EQ(dead.run_attempts, 1);  // FATAL: not retried.
  EXPECT_THAT(dead.last_error, HasSubstr("SQLSTATE 42P01"));
  EXPECT_THAT(dead.last_error, HasSubstr("does not exist"));
  EXPECT_THAT(dead.last_error,
              ::testing::Not(HasSubstr("landfall-test-secret")));
}

TEST_F(PostgresExecutorTest, StatementTimeoutEndsALongStatementRetryable) {
  auto pipeline = Load(OneTableSpec("slow", "SELECT pg_sleep(30)",
                                    "statement_timeout: \"200ms\"",
                                    "statement_timeout: \"1h\""));
  ASSERT_NE(pipeline, nullptr);
  auto executor = NewExecutor(*pipeline, Options(1));
  std::atomic<bool> cancelled{false};
  const absl::Time start = absl::Now();
  const AttemptResult r = RunOnce(*executor, "slow", "p", cancelled);
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_EQ(r.outcome, Outcome::RETRYABLE);
  EXPECT_THAT(r.message, HasSubstr("SQLSTATE 57014"));
}

TEST_F(PostgresExecutorTest, ASignalToTheHostDoesNotBreakARunningStatement) {
  auto pipeline = Load(OneTableSpec("slow", "SELECT pg_sleep(1)"));
  ASSERT_NE(pipeline, nullptr);
  auto executor = NewExecutor(*pipeline, Options(1));
  // A handler that does nothing, as hosts with signal handlers have: the
  // executor's wait for the server is interrupted (EINTR).
  struct sigaction quiet {};
  quiet.sa_handler = [](int) {};
  struct sigaction old {};
  ASSERT_EQ(sigaction(SIGUSR1, &quiet, &old), 0);
  std::atomic<bool> cancelled{false};
  std::atomic<bool> done{false};
  AttemptResult r;
  std::thread attempt([&] {
    r = RunOnce(*executor, "slow", "p", cancelled);
    done = true;
  });
  for (int i = 0; i < 20 && !done.load(); ++i) {
    absl::SleepFor(absl::Milliseconds(40));
    if (!done.load()) pthread_kill(attempt.native_handle(), SIGUSR1);
  }
  attempt.join();
  sigaction(SIGUSR1, &old, nullptr);
  EXPECT_EQ(r.outcome, Outcome::SUCCEEDED) << r.message;
}

TEST_F(PostgresExecutorTest, ACancelledAttemptCancelsItsStatement) {
  auto pipeline =
      Load(OneTableSpec("slow", "SELECT pg_sleep(30), {partition}"));
  ASSERT_NE(pipeline, nullptr);
  auto executor = NewExecutor(*pipeline, Options(1));
  std::atomic<bool> cancelled{false};
  std::thread stopper([&] {
    absl::SleepFor(absl::Milliseconds(300));
    cancelled = true;
  });
  const absl::Time start = absl::Now();
  const AttemptResult r = RunOnce(*executor, "slow", "p", cancelled);
  stopper.join();
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_EQ(r.outcome, Outcome::RETRYABLE) << r.message;
  // The server no longer runs it.
  EXPECT_EQ(
      Query(server_, absl::StrCat("SELECT count(*) FROM pg_stat_activity"
                                  " WHERE application_name = '",
                                  application_, "' AND state = 'active'")),
      "0");
}

TEST_F(PostgresExecutorTest, ConnectionsNeverExceedTheCapAndAreReused) {
  auto pipeline =
      Load(OneTableSpec("nap", "SELECT pg_sleep(0.05), {partition}"));
  ASSERT_NE(pipeline, nullptr);
  constexpr int kCap = 2;
  auto executor = NewExecutor(*pipeline, Options(kCap));
  std::atomic<bool> done{false};
  int most = 0;
  std::thread watcher([&] {
    PGconn* conn = PQconnectdb(server_.c_str());
    const std::string sql = absl::StrCat(
        "SELECT count(*) FROM pg_stat_activity WHERE "
        "application_name = '",
        application_, "'");
    for (int i = 0; i < 2000 && !done; ++i) {  // Bounded: 2000 * ~5 ms.
      PGresult* r = PQexec(conn, sql.c_str());
      if (PQresultStatus(r) == PGRES_TUPLES_OK) {
        most = std::max(most, atoi(PQgetvalue(r, 0, 0)));
      }
      PQclear(r);
      absl::SleepFor(absl::Milliseconds(5));
    }
    PQfinish(conn);
  });
  std::vector<std::thread> workers;
  std::atomic<int> succeeded{0};
  for (int w = 0; w < 6; ++w) {
    workers.emplace_back([&, w] {
      std::atomic<bool> cancelled{false};
      for (int i = 0; i < 4; ++i) {
        const AttemptResult r =
            RunOnce(*executor, "nap", absl::StrCat("p", w, "-", i), cancelled);
        if (r.outcome == Outcome::SUCCEEDED) ++succeeded;
      }
    });
  }
  for (std::thread& t : workers) t.join();
  done = true;
  watcher.join();
  EXPECT_EQ(succeeded, 24);
  EXPECT_LE(most, kCap);
  EXPECT_GE(most, 1);  // The watcher saw them at all.
  // Kept open for later attempts, no more than the cap.
  EXPECT_EQ(Query(server_, absl::StrCat("SELECT count(*) FROM pg_stat_activity"
                                        " WHERE application_name = '",
                                        application_, "'")),
            absl::StrCat(kCap));
}

TEST_F(PostgresExecutorTest, SpecSinksBecomeExecutorsUnlessTheHostBindsOne) {
  auto pipeline = Load(R"pb(
    sink {
      name: "pg"
      postgres {}
    }
    sink {
      name: "unused"
      postgres {}
    }
    sink {
      name: "mine"
      postgres {}
    }
    table { name: "lake" source: true }
    table { name: "a" upstream: "lake" sink: "pg" sql: "SELECT 1" }
    table { name: "b" upstream: "lake" sink: "mine" sql: "SELECT 1" }
  )pb");
  ASSERT_NE(pipeline, nullptr);
  RunnerOptions options;
  auto own =
      NewCallbackExecutor([](const ClaimedTask&, const std::atomic<bool>&) {
        return AttemptResult{};
      });
  std::shared_ptr<Executor> mine(std::move(own));
  options.executor_by_sink["mine"] = mine;
  ASSERT_TRUE(AddSinkExecutors(*pipeline, &options).ok());
  EXPECT_EQ(options.executor_by_sink.size(), 2u);
  EXPECT_NE(options.executor_by_sink["pg"], nullptr);
  EXPECT_EQ(options.executor_by_sink["mine"], mine);
  EXPECT_EQ(options.executor_by_sink.count("unused"), 0u);
}

// The server stops for a maintenance window while a day loads: the
// attempts that find it away fail RETRYABLE, and once it is back every
// load succeeds.
TEST(PostgresExecutorRestartTest, AMaintenanceWindowIsRetriedToSuccess) {
  LANDFALL_REQUIRE_POSTGRES_CTL();
  PrivatePostgres server;
  ASSERT_EQ(server.Start(), "");
  ASSERT_EQ(ExecOn(server.uri(), "CREATE TABLE loads (hr text, n int)"), "");
  auto pipeline = Pipeline::FromText(
      R"pb(
        sink {
          name: "redshift"
          postgres {}
        }
        pool { name: "redshift" slots: 2 }
        defaults {
          sink: "redshift"
          pool: "redshift"
          retry {
            max_attempts: 100
            initial_backoff: "100ms"
            max_backoff: "200ms"
          }
        }
        table { name: "lake" source: true }
        table {
          name: "loads"
          upstream: "lake"
          sql: "DELETE FROM loads WHERE hr = {partition}; INSERT INTO loads SELECT {partition}, 1 FROM pg_sleep(0.05)"
        }
      )pb",
      SpecFormat::kTextProto, "restart");
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  PostgresExecutorOptions options;
  options.conninfo = server.uri();
  options.connect_timeout = absl::Seconds(2);
  options.max_connections = 2;
  auto executor = NewPostgresExecutor(**pipeline, options);
  ASSERT_TRUE(executor.ok());
  auto scheduler = Scheduler::Create(*pipeline);
  ASSERT_TRUE(scheduler.ok());
  std::shared_ptr<Scheduler> shared = *std::move(scheduler);
  RunnerOptions runner_options;
  runner_options.idle_poll = absl::Milliseconds(20);
  runner_options.executor = *std::move(executor);
  auto runner = Runner::Create(shared, std::move(runner_options));
  ASSERT_TRUE(runner.ok());
  ASSERT_TRUE((*runner)->Start().ok());
  const std::vector<std::string> hours = HoursOfADay();
  for (size_t i = 0; i < hours.size(); ++i) {
    Arrival a;
    a.set_event_id(absl::StrCat("e", i));
    a.set_table("lake");
    a.set_partition(hours[i]);
    ASSERT_TRUE(shared->Ingest(a).ok());
    if (i == 8) {  // Mid-run: down for a second, then back.
      (*runner)->Notify();
      absl::SleepFor(absl::Milliseconds(100));
      ASSERT_EQ(server.Control("stop-immediate"), "");
      absl::SleepFor(absl::Seconds(1));
      ASSERT_EQ(server.Control("resume"), "");
    }
  }
  (*runner)->Notify();
  const RunSummary summary =
      (*runner)->WaitUntilIdle(absl::Milliseconds(300), absl::Seconds(60));
  (*runner)->Stop(absl::Seconds(5));
  EXPECT_TRUE(summary.idle);
  EXPECT_EQ(summary.tasks.succeeded, 24);
  EXPECT_GE(summary.attempts.retryable, 1);  // The window was felt.
  EXPECT_EQ(summary.attempts.fatal, 0);
  EXPECT_EQ(Query(server.uri(),
                  "SELECT count(DISTINCT hr) || '/' || "
                  "count(*) FROM loads"),
            "24/24");
}

}  // namespace
}  // namespace landfall::testing
