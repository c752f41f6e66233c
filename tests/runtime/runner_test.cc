// The Runner on real threads and the system clock: pool limits, retries,
// shutdown; the subprocess executor's outcomes, timeout and logs; the landing
// directory source.
#include "landfall/runner.h"

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "landfall/clock.h"
#include "landfall/landing_source.h"
#include "landfall/state_store.h"
#include "landfall/subprocess_executor.h"
#include "lib/testing/history.h"

namespace landfall {
namespace {

namespace fs = std::filesystem;
using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kSpec[] = R"(
pool { name: "wh" slots: 2 }
defaults { pool: "wh" lease: "2s" retry { max_attempts: 3 initial_backoff: "50ms" jitter: 0 } }
table { name: "src" source: true }
table { name: "a" upstream: "src" }
table { name: "b" upstream: "src" }
table { name: "c" upstream: "src" }
table { name: "d" upstream: "src" }
table { name: "e" upstream: "a" }
)";

std::shared_ptr<const Pipeline> TestPipeline() {
  auto pipeline = Pipeline::FromText(kSpec, SpecFormat::kTextProto, "spec");
  EXPECT_TRUE(pipeline.ok()) << pipeline.status();
  return *pipeline;
}

// Polls `done` for up to 10 seconds.
bool Eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 1000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

Arrival SourceArrival(const std::string& id) {
  Arrival a;
  a.set_event_id(id);
  a.set_table("src");
  a.set_partition("p");
  return a;
}

// An executor whose attempts all succeed at once.
std::shared_ptr<Executor> Succeeding() {
  return NewCallbackExecutor([](const ClaimedTask&, const std::atomic<bool>&) {
    return AttemptResult{};
  });
}

// Options that run every table with Succeeding().
RunnerOptions SucceedingOptions() {
  RunnerOptions options;
  options.executor = Succeeding();
  return options;
}

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    scheduler_ = std::shared_ptr<Scheduler>(
        *Scheduler::Create(TestPipeline(), SchedulerOptions()));
  }

  // Starts a runner and lands src/p once: five tasks to run.
  std::unique_ptr<Runner> StartOnOneArrival(RunnerOptions options) {
    auto runner = Runner::Create(scheduler_, std::move(options));
    EXPECT_TRUE(runner.ok()) << runner.status();
    EXPECT_TRUE((*runner)->Start().ok());
    EXPECT_TRUE(scheduler_->Ingest(SourceArrival("e1")).ok());
    (*runner)->Notify();
    return *std::move(runner);
  }

  int Succeeded() {
    int n = 0;
    for (const HistoryEntry& h :
         ::landfall::testing::History(*scheduler_, 1, SIZE_MAX)) {
      n += h.kind == EntryKind::kSucceeded;
    }
    return n;
  }

  std::shared_ptr<Scheduler> scheduler_;
};

TEST_F(RunnerTest, RunsEveryTaskOnceWithinThePoolsSlots) {
  std::mutex mu;
  int running = 0, most = 0;
  std::vector<std::string> ran;
  RunnerOptions options;
  options.executor = NewCallbackExecutor(
      [&](const ClaimedTask& task, const std::atomic<bool>&) {
        {
          std::lock_guard<std::mutex> lock(mu);
          most = std::max(most, ++running);
          ran.push_back(task.task.table);
        }
        // Long enough for the pool's other worker to wake on a slow machine.
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        std::lock_guard<std::mutex> lock(mu);
        --running;
        return AttemptResult{};
      });
  auto runner = StartOnOneArrival(std::move(options));
  ASSERT_TRUE(Eventually([&] { return Succeeded() == 5; }));
  runner->Stop(absl::Seconds(1));
  EXPECT_EQ(most, 2);
  std::sort(ran.begin(), ran.end());
  EXPECT_THAT(ran, ElementsAre("a", "b", "c", "d", "e"));
  EXPECT_EQ(runner->stats().succeeded, 5);
  EXPECT_EQ(runner->stats().running, 0);
}

TEST_F(RunnerTest, ARetryableFailureIsRetriedAfterItsBackoff) {
  RunnerOptions options;
  options.executor_by_table["a"] = NewCallbackExecutor(
      [](const ClaimedTask& task, const std::atomic<bool>&) {
        return task.attempt == 1
                   ? AttemptResult{Outcome::RETRYABLE, "maintenance"}
                   : AttemptResult{};
      });
  options.executor =
      NewCallbackExecutor([](const ClaimedTask&, const std::atomic<bool>&) {
        return AttemptResult{};
      });
  auto runner = StartOnOneArrival(std::move(options));
  ASSERT_TRUE(Eventually([&] { return Succeeded() == 5; }));
  runner->Stop(absl::Seconds(1));
  EXPECT_EQ(runner->stats().failed, 1);
  auto a = scheduler_->Explain({"a", "p"});
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->status.attempt, 2);
}

TEST_F(RunnerTest, StoppingPastTheGracePeriodAbandonsTheAttempt) {
  RunnerOptions options;
  options.executor = NewCallbackExecutor(
      [&](const ClaimedTask&, const std::atomic<bool>& cancelled) {
        while (!cancelled.load()) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return AttemptResult{};
      });
  auto runner = StartOnOneArrival(std::move(options));
  ASSERT_TRUE(Eventually([&] { return runner->stats().running == 2; }));
  runner->Stop(absl::Milliseconds(50));
  EXPECT_EQ(runner->stats().abandoned, 2);  // Both of the pool's slots.
  EXPECT_EQ(scheduler_->List().by_state["RUNNING"], 2);
  EXPECT_EQ(Succeeded(), 0);
}

// Fails `table`'s attempts with `outcome` up to attempt `failures`; the
// rest succeed.
RunnerOptions FailingOptions(const std::string& table, Outcome outcome,
                             int failures) {
  RunnerOptions options;
  options.idle_poll = absl::Milliseconds(20);
  options.executor = NewCallbackExecutor(
      [=](const ClaimedTask& task, const std::atomic<bool>&) {
        return task.task.table == table && task.attempt <= failures
                   ? AttemptResult{outcome, "failed"}
                   : AttemptResult{};
      });
  return options;
}

TEST_F(RunnerTest, WaitUntilIdleCountsDeadAndBlockedTasksAndFatalAttempts) {
  auto runner = StartOnOneArrival(FailingOptions("a", Outcome::FATAL, 1));
  const RunSummary summary =
      runner->WaitUntilIdle(absl::Milliseconds(100), absl::Seconds(10));
  EXPECT_TRUE(summary.idle);
  EXPECT_EQ(summary.tasks.dead, 1);       // a
  EXPECT_EQ(summary.tasks.blocked, 1);    // e, which needs a
  EXPECT_EQ(summary.tasks.succeeded, 3);  // b, c and d
  EXPECT_EQ(summary.tasks.Of(TaskState::kDead), 1);
  EXPECT_EQ(summary.attempts.claimed, 4);
  EXPECT_EQ(summary.attempts.succeeded, 3);
  EXPECT_EQ(summary.attempts.fatal, 1);
  EXPECT_EQ(summary.attempts.retryable, 0);
  EXPECT_EQ(summary.attempts.failed, 1);
}

TEST_F(RunnerTest, ATaskThatFailedOnceThenSucceededCountsAsBuilt) {
  auto runner = StartOnOneArrival(FailingOptions("a", Outcome::RETRYABLE, 1));
  const RunSummary summary =
      runner->WaitUntilIdle(absl::Milliseconds(100), absl::Seconds(10));
  EXPECT_TRUE(summary.idle);
  EXPECT_EQ(summary.tasks.succeeded, 5);
  EXPECT_EQ(summary.tasks.dead + summary.tasks.blocked, 0);
  EXPECT_EQ(summary.attempts.succeeded, 5);
  EXPECT_EQ(summary.attempts.retryable, 1);
  EXPECT_EQ(summary.attempts.fatal, 0);
}

TEST_F(RunnerTest, WaitUntilIdleTimesOutWhileAnAttemptRuns) {
  RunnerOptions options;
  options.executor = NewCallbackExecutor(
      [](const ClaimedTask&, const std::atomic<bool>& cancelled) {
        while (!cancelled.load()) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return AttemptResult{};
      });
  auto runner = StartOnOneArrival(std::move(options));
  const absl::Time start = absl::Now();
  const RunSummary summary =
      runner->WaitUntilIdle(absl::ZeroDuration(), absl::Milliseconds(200));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(200));
  EXPECT_FALSE(summary.idle);
  EXPECT_EQ(summary.tasks.running, 2);  // The pool's slots.
  EXPECT_EQ(summary.tasks.ready, 2);
  // Stop ends a wait under way.
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    runner->Stop(absl::ZeroDuration());
  });
  EXPECT_FALSE(runner->WaitUntilIdle(absl::ZeroDuration()).idle);
  stopper.join();
}

TEST_F(RunnerTest, ZeroTimeoutWaitsAddUpToTheQuietTime) {
  auto runner = StartOnOneArrival(FailingOptions("a", Outcome::FATAL, 0));
  ASSERT_TRUE(Eventually([&] { return Succeeded() == 5; }));
  const absl::Duration quiet = absl::Milliseconds(300);
  const absl::Time start = absl::Now();
  int checks = 0;
  while (!runner->WaitUntilIdle(quiet, absl::ZeroDuration()).idle) {
    ++checks;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_LT(absl::Now() - start, absl::Seconds(10));
  }
  EXPECT_GT(checks, 0);
  EXPECT_GE(absl::Now() - start, quiet / 2);
}

TEST_F(RunnerTest, WaitUntilIdleOnARunnerNotStartedChecksOnce) {
  ASSERT_TRUE(scheduler_->Ingest(SourceArrival("e1")).ok());
  auto runner = Runner::Create(scheduler_, SucceedingOptions());
  ASSERT_TRUE(runner.ok());
  const absl::Time start = absl::Now();
  const RunSummary summary =
      (*runner)->WaitUntilIdle(absl::ZeroDuration(), absl::Seconds(10));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_FALSE(summary.idle);
  EXPECT_EQ(summary.tasks.ready, 4);  // a to d; e needs a built first.
  EXPECT_EQ(summary.attempts.claimed, 0);
}

TEST_F(RunnerTest, BadOptionsAreRefused) {
  RunnerOptions options;
  options.max_workers = 0;
  EXPECT_EQ(Runner::Create(scheduler_, options).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Runner::Create(nullptr, RunnerOptions()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(RunnerTest, WorkersPastTheCapAndAnIdlePollOfNoTimeAreRefused) {
  RunnerOptions options = SucceedingOptions();
  options.max_workers = RunnerOptions::kMaxWorkers + 1;
  absl::Status status = Runner::Create(scheduler_, options).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("max_workers must be 1 to 1024"));
  options.max_workers = RunnerOptions::kMaxWorkers;
  EXPECT_TRUE(Runner::Create(scheduler_, options).ok());
  for (absl::Duration poll : {absl::ZeroDuration(), absl::Milliseconds(-5)}) {
    options.idle_poll = poll;
    status = Runner::Create(scheduler_, options).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(status.message(), HasSubstr("idle_poll must be positive"));
  }
}

TEST_F(RunnerTest, ARunnerWithoutAnExecutorForEveryTableIsRefused) {
  RunnerOptions options;
  options.executor_by_table["a"] = Succeeding();
  absl::Status status = Runner::Create(scheduler_, options).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(),
              HasSubstr("no executor for 4 tables (of 5 that run): \"b\", "
                        "\"c\", \"d\", \"e\" (set executor for every "
                        "table, or executor_by_table or executor_by_sink for "
                        "these)"));
  EXPECT_THAT(std::string(status.message()),
              ::testing::StartsWith("Runner::Create: "));
  options.executor = Succeeding();
  EXPECT_TRUE(Runner::Create(scheduler_, options).ok());
}

// A spec with sinks and more tables than a message lists.
constexpr char kSinkSpec[] = R"(
table { name: "src" source: true }
table { name: "orders" upstream: "src" sink: "redshift" }
table { name: "items" upstream: "src" sink: "redshift" }
table { name: "t1" upstream: "src" }
table { name: "t2" upstream: "src" }
table { name: "t3" upstream: "src" }
table { name: "t4" upstream: "src" }
table { name: "t5" upstream: "src" }
table { name: "t6" upstream: "src" }
)";

TEST(CheckExecutorsTest, ASinksExecutorRunsItsTablesAndTheRestAreCounted) {
  auto pipeline = Pipeline::FromText(kSinkSpec, SpecFormat::kTextProto, "s");
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  RunnerOptions options;
  options.executor_by_sink["redshift"] = Succeeding();
  EXPECT_TRUE(HasExecutor(options, (*pipeline)->table(1)));
  EXPECT_FALSE(HasExecutor(options, (*pipeline)->table(3)));
  absl::Status status = CheckExecutors(**pipeline, options);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "no executor for 6 tables (of 8 that run): \"t1\", \"t2\", "
            "\"t3\", \"t4\", \"t5\" and 1 more (set executor for every "
            "table, or executor_by_table or executor_by_sink for these)");
  options.executor = Succeeding();
  EXPECT_TRUE(CheckExecutors(**pipeline, options).ok());
  // A source table has none, whatever the options say.
  EXPECT_FALSE(HasExecutor(options, (*pipeline)->table(0)));
}

TEST(CheckExecutorsTest, NamesOfNoTableOrSinkThatRunsAreRefusedWithTheClosest) {
  auto pipeline = Pipeline::FromText(kSinkSpec, SpecFormat::kTextProto, "s");
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  RunnerOptions options;
  options.executor = Succeeding();
  options.executor_by_table["ordres"] = Succeeding();
  options.executor_by_table["src"] = Succeeding();
  options.executor_by_table["items"] = nullptr;
  options.executor_by_sink["redshfit"] = Succeeding();
  ExecutorOptionNames names;
  names.executor = "--exec";
  names.executor_by_table = "--exec-table";
  names.executor_by_sink = "--exec-sink";
  absl::Status status = CheckExecutors(**pipeline, options, names);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "--exec-table: table \"items\" has a null executor\n"
            "--exec-table: unknown table \"ordres\" (did you mean "
            "\"orders\"?)\n"
            "--exec-table: table \"src\" is a source table: it runs "
            "nothing\n"
            "--exec-sink: unknown sink \"redshfit\" (did you mean "
            "\"redshift\"?)\n"
            "no executor for 1 table (of 8 that run): \"items\" (set --exec "
            "for every table, or --exec-table or --exec-sink for these)");
}

TEST_F(RunnerTest, ASinkNamedByNoTableIsRefused) {
  RunnerOptions options = SucceedingOptions();
  options.executor_by_sink["redshift"] = Succeeding();
  absl::Status status = Runner::Create(scheduler_, options).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(),
              HasSubstr("executor_by_sink: unknown sink \"redshift\" (no "
                        "table that runs names a sink)"));
}

class SubprocessExecutorTest : public ::testing::Test {
 protected:
  void TearDown() override { fs::remove_all(dir_); }

  // Runs attempt 2 of dwh.orders/2018-11-03, whose input src/2018-11-03
  // lists `origins_`.
  AttemptResult Run(const std::string& script,
                    absl::Duration timeout = absl::Seconds(10)) {
    return RunCommand({script}, /*shell=*/true, timeout);
  }
  AttemptResult RunCommand(std::vector<std::string> command, bool shell,
                           absl::Duration timeout = absl::Seconds(10)) {
    SubprocessOptions options;
    options.command = std::move(command);
    options.shell = shell;
    options.timeout = timeout;
    options.log_dir = dir_;
    auto executor = NewSubprocessExecutor(options);
    EXPECT_TRUE(executor.ok()) << executor.status();
    ClaimedTask task;
    task.task = {"dwh.orders", "2018-11-03"};
    task.attempt = 2;
    InputVersion& in = task.inputs.emplace_back();
    in.table = "src";
    in.partition = "2018-11-03";
    in.version = 1;
    in.origins = origins_;
    in.origins_complete = origins_complete_;
    std::atomic<bool> cancelled{false};
    return (*executor)->Run(task, cancelled);
  }

  std::string Log() {
    std::ifstream in(dir_ + "/dwh.orders/2018-11-03/attempt-2.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  std::string dir_ =
      ::testing::TempDir() + "landfall-exec-" + std::to_string(getpid());
  std::vector<std::string> origins_;
  bool origins_complete_ = true;
};

TEST_F(SubprocessExecutorTest, ExitCodesAreOutcomesAndOutputIsLogged) {
  AttemptResult ok =
      Run("echo loading {table} {partition} {attempt} {inputs}; "
          "echo \"$LANDFALL_TABLE\" >&2");
  EXPECT_EQ(ok.outcome, Outcome::SUCCEEDED);
  EXPECT_THAT(ok.message, HasSubstr("exit 0; log: " + dir_));
  EXPECT_EQ(Log(),
            "loading dwh.orders 2018-11-03 2 src/2018-11-03@1\n"
            "dwh.orders\n");
  EXPECT_EQ(Run("exit 75").outcome, Outcome::RETRYABLE);
  AttemptResult fatal = Run("exit 3");
  EXPECT_EQ(fatal.outcome, Outcome::FATAL);
  EXPECT_THAT(fatal.message, HasSubstr("exit 3"));
}

TEST_F(SubprocessExecutorTest, ASlowAttemptIsStoppedAndRetryable) {
  const absl::Time start = absl::Now();
  AttemptResult slow = Run("sleep 30", absl::Milliseconds(200));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(slow.outcome, Outcome::RETRYABLE);
  EXPECT_THAT(slow.message, HasSubstr("timed out after 200ms"));
}

TEST_F(SubprocessExecutorTest, AChildCanBeStoppedWhenTheHostBlocksSignals) {
  sigset_t stops, old;
  sigemptyset(&stops);
  sigaddset(&stops, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stops, &old);
  const absl::Time start = absl::Now();
  // Without a reset mask the child ignores SIGTERM until the SIGKILL 5 s on.
  AttemptResult slow = Run("sleep 30", absl::Milliseconds(100));
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  EXPECT_EQ(slow.outcome, Outcome::RETRYABLE);
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
}

TEST_F(SubprocessExecutorTest, ACommandThatCannotStartIsFatal) {
  SubprocessOptions options;
  options.command = {"/nonexistent/loader", "{table}"};
  options.log_dir = dir_;
  ClaimedTask task;
  task.task = {"t", ""};
  task.attempt = 1;
  std::atomic<bool> cancelled{false};
  AttemptResult r = (*NewSubprocessExecutor(options))->Run(task, cancelled);
  EXPECT_EQ(r.outcome, Outcome::FATAL);
  EXPECT_THAT(r.message, HasSubstr("/nonexistent/loader"));
  EXPECT_EQ(NewSubprocessExecutor(SubprocessOptions()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(SubprocessExecutorTest, ACommandIsLookedUpInPathAsExecvpDoes) {
  // PATH: a directory without it, one where it cannot run, one where it can.
  for (const char* d : {"/none", "/denied", "/runs"}) {
    fs::create_directories(dir_ + "/bin" + d);
  }
  std::ofstream(dir_ + "/bin/denied/loader") << "#!/bin/sh\nexit 0\n";
  std::ofstream(dir_ + "/bin/runs/loader") << "#!/bin/sh\necho ran $1\n";
  fs::permissions(dir_ + "/bin/runs/loader", fs::perms::owner_all);
  const char* saved = getenv("PATH");
  const std::string path = saved != nullptr ? saved : "";
  setenv("PATH", (dir_ + "/bin/none:" + dir_ + "/bin/denied").c_str(), 1);
  AttemptResult denied = RunCommand({"loader", "{table}"}, /*shell=*/false);
  setenv("PATH", (dir_ + "/bin/denied:" + dir_ + "/bin/runs").c_str(), 1);
  AttemptResult runs = RunCommand({"loader", "{table}"}, /*shell=*/false);
  setenv("PATH", path.c_str(), 1);
  EXPECT_EQ(denied.outcome, Outcome::FATAL);
  EXPECT_THAT(denied.message,
              HasSubstr("cannot run loader: Permission denied"));
  EXPECT_EQ(runs.outcome, Outcome::SUCCEEDED) << runs.message;
  EXPECT_EQ(Log(), "ran dwh.orders\n");
}

TEST_F(SubprocessExecutorTest, OriginsAreArgumentsAndAFileOfOneALine) {
  origins_ = {"s3://lake/src/1.csv", "s3://lake/src/two words.csv"};
  AttemptResult r =
      RunCommand({"/bin/sh", "-c",
                  "printf '<%s>' \"$@\"; echo; cat \"$LANDFALL_ORIGINS_FILE\"; "
                  "echo \"complete=$LANDFALL_ORIGINS_COMPLETE\"",
                  "sh", "{origins}", "all: {origins}"},
                 /*shell=*/false);
  EXPECT_EQ(r.outcome, Outcome::SUCCEEDED) << r.message;
  EXPECT_EQ(Log(),
            "<s3://lake/src/1.csv><s3://lake/src/two words.csv>"
            "<all: s3://lake/src/1.csv s3://lake/src/two words.csv>\n"
            "s3://lake/src/1.csv\ns3://lake/src/two words.csv\n"
            "complete=1\n");
  // The file goes when the attempt ends.
  EXPECT_FALSE(fs::exists(dir_ + "/dwh.orders/2018-11-03/attempt-2.origins"));
}

TEST_F(SubprocessExecutorTest, AShellCommandGetsEachOriginQuoted) {
  origins_ = {"s3://lake/it's here.csv", "s3://lake/$HOME.csv"};
  AttemptResult r = Run("for o in {origins}; do echo \"[$o]\"; done");
  EXPECT_EQ(r.outcome, Outcome::SUCCEEDED) << r.message;
  EXPECT_EQ(Log(), "[s3://lake/it's here.csv]\n[s3://lake/$HOME.csv]\n");
}

TEST_F(SubprocessExecutorTest, NoOriginsAreNoArgumentsAndAnEmptyFile) {
  origins_complete_ = false;
  AttemptResult r =
      RunCommand({"/bin/sh", "-c",
                  "echo \"$# $(wc -c < \"$LANDFALL_ORIGINS_FILE\") "
                  "$LANDFALL_ORIGINS_COMPLETE\"",
                  "sh", "{origins}"},
                 /*shell=*/false);
  EXPECT_EQ(r.outcome, Outcome::SUCCEEDED) << r.message;
  EXPECT_EQ(Log(), "0 0 0\n");
}

class LandingSourceTest : public ::testing::Test {
 protected:
  void SetUp() override { fs::create_directories(root_ + "/src/p1"); }
  void TearDown() override {
    if (source_ != nullptr) source_->Stop();
    fs::remove_all(root_);
    for (const char* suffix : {"", "-wal", "-shm"}) {
      fs::remove(root_ + ".db" + suffix);
    }
  }

  void Land(const std::string& relative, const std::string& content) {
    const std::string path = root_ + "/" + relative;
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path + ".tmp") << content;
    fs::rename(path + ".tmp", path);
  }

  // A scheduler on a state file beside the landing directory, as `landfall
  // run` opens it.
  std::shared_ptr<Scheduler> OpenState() {
    auto store = OpenSqliteStore(root_ + ".db");
    EXPECT_TRUE(store.ok()) << store.status();
    SchedulerOptions options;
    options.clock = &clock_;
    auto scheduler = Scheduler::Open(TestPipeline(), *store, options);
    EXPECT_TRUE(scheduler.ok()) << scheduler.status();
    return *std::move(scheduler);
  }

  // Starts the source; with a scheduler, as `landfall run` wires it: it
  // ingests the arrivals and says which files were ingested already.
  void StartSource(std::shared_ptr<Scheduler> scheduler = nullptr) {
    if (source_ != nullptr) source_->Stop();
    LandingSourceOptions options;
    options.root = root_;
    if (scheduler != nullptr) {
      options.ingested = [scheduler](absl::Span<const Arrival> arrivals) {
        return scheduler->Ingested(arrivals);
      };
    }
    options.on_error = [this](const absl::Status& s) {
      std::lock_guard<std::mutex> lock(mu_);
      errors_.push_back(std::string(s.message()));
    };
    auto source = NewLandingSource(TestPipeline(), options);
    ASSERT_TRUE(source.ok()) << source.status();
    source_ = *std::move(source);
    ASSERT_TRUE(source_
                    ->Start([this, scheduler](std::vector<Arrival> arrivals) {
                      std::lock_guard<std::mutex> lock(mu_);
                      for (Arrival& a : arrivals) got_.push_back(a);
                      if (scheduler == nullptr) return absl::OkStatus();
                      return scheduler->IngestBatch(arrivals).status();
                    })
                    .ok());
  }

  size_t Got() {
    std::lock_guard<std::mutex> lock(mu_);
    return got_.size();
  }

  std::string root_ =
      ::testing::TempDir() + "landfall-landing-" + std::to_string(getpid());
  ManualClock clock_{absl::Now()};
  std::unique_ptr<Source> source_;
  std::mutex mu_;
  std::vector<Arrival> got_;
  std::vector<std::string> errors_;
};

TEST_F(LandingSourceTest, FilesLandedBeforeAndAfterStartAreArrivals) {
  Land("src/p1/part-0.csv", "a,b\n");
  StartSource();
  ASSERT_EQ(Got(), 1u);
  // A new partition directory too. A file that lands while its directory
  // is being watched can be seen twice, by the scan and by its event: the
  // same arrival, which the scheduler takes as a duplicate.
  Land("src/p2/part-0.csv", "c,d\n");
  ASSERT_TRUE(Eventually([&] { return Got() >= 2; }));
  Land("src/p2/part-0.csv", "c,d\n");  // Delivered again, same content.
  Land("nope/p1/x.csv", "x");
  // Events come in order: once the error is in, so is the delivery before.
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> lock(mu_);
    return !errors_.empty();
  }));
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_THAT(errors_[0], HasSubstr("no table \"nope\""));
  EXPECT_EQ(got_[0].table(), "src");
  EXPECT_EQ(got_[0].partition(), "p1");
  EXPECT_THAT(got_[0].origin(), HasSubstr("file://"));
  std::vector<std::string> p2_ids;
  for (size_t i = 1; i < got_.size(); ++i) {
    EXPECT_EQ(got_[i].partition(), "p2");
    p2_ids.push_back(got_[i].event_id());
  }
  EXPECT_GE(p2_ids.size(), 2u);
  EXPECT_THAT(p2_ids, Each(p2_ids[0]));
  EXPECT_NE(got_[0].event_id(), p2_ids[0]);
}

TEST_F(LandingSourceTest, UnknownTablesAreReportedAndSkipped) {
  Land("nope/p1/x.csv", "x");
  Land("src/loose.csv", "x");  // Partitioned: needs a partition directory.
  StartSource();
  EXPECT_EQ(Got(), 0u);
  std::lock_guard<std::mutex> lock(mu_);
  ASSERT_EQ(errors_.size(), 2u);
  EXPECT_THAT(errors_[0], HasSubstr("no table \"nope\""));
  EXPECT_THAT(errors_[1], HasSubstr("table \"src\" is partitioned"));
}

TEST_F(LandingSourceTest, ARestartSkipsTheFilesItIngestedAndRecordsNothing) {
  Land("src/p1/a.csv", "a\n");
  Land("src/p1/b.csv", "b\n");
  StartSource(OpenState());
  ASSERT_EQ(Got(), 2u);
  const int64_t last = OpenState()->LastSequence();

  clock_.Advance(absl::Hours(1));
  auto restarted = OpenState();
  StartSource(restarted);
  EXPECT_EQ(Got(), 2u);
  EXPECT_EQ(restarted->LastSequence(), last);  // Not even duplicates.
}

TEST_F(LandingSourceTest, EightDaysLaterOnlyAChangedFileIsAnArrival) {
  Land("src/p1/a.csv", "a\n");
  Land("src/p1/b.csv", "b\n");
  StartSource(OpenState());
  ASSERT_EQ(Got(), 2u);
  source_->Stop();
  const int64_t last = OpenState()->LastSequence();

  // Past the 7-day dedup window, and b has new content meanwhile.
  clock_.Advance(absl::Hours(24 * 8));
  Land("src/p1/b.csv", "b, corrected\n");
  auto restarted = OpenState();
  StartSource(restarted);
  std::vector<std::string> landed;
  for (const HistoryEntry& h :
       ::landfall::testing::History(*restarted, last + 1, 100)) {
    EXPECT_NE(h.kind, EntryKind::kDuplicate);
    if (h.kind == EntryKind::kArrival) landed.push_back(h.origin);
  }
  ASSERT_EQ(landed.size(), 1u);
  EXPECT_THAT(landed[0], HasSubstr("/src/p1/b.csv"));
}

}  // namespace
}  // namespace landfall
