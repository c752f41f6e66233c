// The Runner on real threads and the system clock: pool limits, retries,
// shutdown, waiting until idle, and the checks of its executor options.
#include "landfall/runner.h"

#include <algorithm>
#include <mutex>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/testing/history.h"
#include "tests/runtime/runner_test_base.h"

namespace landfall {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

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

}  // namespace
}  // namespace landfall
