// What the runner reaches outside the process for: the subprocess executor's
// outcomes, timeout and logs; the landing directory source.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "landfall/clock.h"
#include "landfall/landing_source.h"
#include "landfall/runner.h"
#include "landfall/state_store.h"
#include "landfall/subprocess_executor.h"
#include "lib/testing/history.h"
#include "tests/runtime/runner_test_base.h"

namespace landfall {
namespace {

namespace fs = std::filesystem;
using ::testing::Each;
using ::testing::HasSubstr;

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
    for (const char* suffix : {"", "-wal", "-shm", "-queue"}) {
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
