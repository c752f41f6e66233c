// A Runner on the PostgreSQL store: woken at once by another host's commit
// (LISTEN/NOTIFY), and riding out server restarts with its attempts alive.
#include <atomic>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "landfall/runner.h"
#include "landfall/scheduler.h"
#include "lib/testing/history.h"
#include "tests/store/postgres_test_env.h"

namespace landfall::testing {
namespace {

constexpr char kSpec[] = R"(
name: "runner"
defaults {
  lease: "5s"
  retry { max_attempts: 5 initial_backoff: "100ms" max_backoff: "200ms" }
}
table { name: "src" source: true }
table { name: "a" upstream: "src" }
)";

std::string SchemaUri(const std::string& server, const std::string& schema) {
  return absl::StrCat(server, server.find('?') == std::string::npos ? "?" : "&",
                      "schema=", schema);
}

class PostgresRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LANDFALL_REQUIRE_POSTGRES();
    auto pipeline = Pipeline::FromText(kSpec, SpecFormat::kTextProto, "runner");
    ASSERT_TRUE(pipeline.ok()) << pipeline.status();
    pipeline_ = *pipeline;
  }
  void TearDown() override {
    if (!server_.empty() && server_ == TestPostgres()) {
      EXPECT_EQ(DropTestSchema(schema_), "");
    }
  }

  // A scheduler on its own connection to the test's store: a host.
  std::shared_ptr<Scheduler> Host() {
    auto store = OpenStateStore(SchemaUri(server_, schema_));
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return nullptr;
    auto scheduler = Scheduler::Open(pipeline_, *store);
    EXPECT_TRUE(scheduler.ok()) << scheduler.status();
    return scheduler.ok() ? std::shared_ptr<Scheduler>(*std::move(scheduler))
                          : nullptr;
  }

  static Arrival ArrivalOf(int i) {
    Arrival a;
    a.set_event_id(absl::StrCat("e", i));
    a.set_table("src");
    a.set_partition(absl::StrCat("p", i));
    return a;
  }

  static int Count(Scheduler& s, EntryKind kind) {
    int n = 0;
    for (const HistoryEntry& e : History(s, 1, 100000)) {
      n += e.kind == kind ? 1 : 0;
    }
    return n;
  }

  std::shared_ptr<const Pipeline> pipeline_;
  std::string server_ = TestPostgres();
  std::string schema_ = NewTestSchema();
};

TEST_F(PostgresRunnerTest, WorkAnotherHostAddsStartsAtOnceNotAtTheIdlePoll) {
  std::shared_ptr<Scheduler> runner_host = Host();
  std::shared_ptr<Scheduler> other_host = Host();
  ASSERT_TRUE(runner_host && other_host);
  absl::Mutex mu;
  absl::Time started = absl::InfiniteFuture();
  RunnerOptions options;
  options.idle_poll = absl::Seconds(60);  // Only a notification wakes it.
  options.executor =
      NewCallbackExecutor([&](const ClaimedTask&, const std::atomic<bool>&) {
        absl::MutexLock lock(&mu);
        started = std::min(started, absl::Now());
        return AttemptResult{};
      });
  auto runner = Runner::Create(runner_host, options);
  ASSERT_TRUE(runner.ok()) << runner.status();
  ASSERT_TRUE((*runner)->Start().ok());
  // Its workers find nothing and go idle; its watch listens.
  absl::SleepFor(absl::Milliseconds(300));
  const absl::Time ingested = absl::Now();
  ASSERT_TRUE(other_host->Ingest(ArrivalOf(1)).ok());
  absl::Duration waited;
  {
    absl::MutexLock lock(&mu);
    mu.AwaitWithDeadline(
        absl::Condition(
            +[](absl::Time* t) { return *t != absl::InfiniteFuture(); },
            &started),
        ingested + absl::Seconds(10));
    waited = started - ingested;
  }
  (*runner)->Stop(absl::Seconds(5));
  EXPECT_LT(waited, absl::Seconds(2));
  std::cout << "[ listen   ] another host's arrival started after " << waited
            << "\n";
}

// The server is restarted twice while attempts run, each longer than its
// lease: the runner sees Unavailable, retries with backoff, keeps the
// leases alive with heartbeats and records each attempt's end once.
class PostgresRunnerRestartTest : public PostgresRunnerTest {
 protected:
  void SetUp() override {
    LANDFALL_REQUIRE_POSTGRES_CTL();
    PostgresRunnerTest::SetUp();
    ASSERT_EQ(cluster_.Start(), "");
    server_ = cluster_.uri();
  }
  PrivatePostgres cluster_;
};

TEST_F(PostgresRunnerRestartTest, RunnerRidesOutServerRestarts) {
  constexpr int kTasks = 4;
  std::shared_ptr<Scheduler> host = Host();
  ASSERT_NE(host, nullptr);
  std::vector<Arrival> arrivals;
  for (int i = 0; i < kTasks; ++i) arrivals.push_back(ArrivalOf(i));
  ASSERT_TRUE(host->IngestBatch(arrivals).ok());
  std::atomic<int> runs{0};
  std::atomic<int> errors{0};
  RunnerOptions options;
  options.max_workers = 4;
  options.idle_poll = absl::Milliseconds(200);
  options.executor = NewCallbackExecutor(
      [&](const ClaimedTask&, const std::atomic<bool>& cancelled) {
        ++runs;
        // Longer than the lease: only heartbeats keep it.
        for (int i = 0; i < 600 && !cancelled.load(); ++i) {
          absl::SleepFor(absl::Milliseconds(10));
        }
        return AttemptResult{};
      });
  options.on_event = [&](const RunnerEvent& e) {
    if (e.kind == RunnerEvent::Kind::kError) ++errors;
  };
  auto runner = Runner::Create(host, options);
  ASSERT_TRUE(runner.ok()) << runner.status();
  ASSERT_TRUE((*runner)->Start().ok());
  for (int restart = 0; restart < 2; ++restart) {
    absl::SleepFor(absl::Seconds(1));
    ASSERT_EQ(cluster_.Control("restart-immediate"), "");
  }
  // Bounded: every task built, or give up after 60 seconds.
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while ((*runner)->stats().succeeded < kTasks && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  (*runner)->Stop(absl::Seconds(5));
  EXPECT_EQ((*runner)->stats().succeeded, kTasks);
  EXPECT_GT(errors.load(), 0);  // The restarts were seen.
  // Each task was built by one attempt, recorded once.
  std::shared_ptr<Scheduler> check = Host();
  ASSERT_NE(check, nullptr);
  EXPECT_EQ(Count(*check, EntryKind::kSucceeded), kTasks);
  EXPECT_EQ(Count(*check, EntryKind::kRetryScheduled), 0);
  EXPECT_EQ(Count(*check, EntryKind::kClaimed), kTasks);
  EXPECT_GE(Count(*check, EntryKind::kHeartbeat), kTasks);
  EXPECT_EQ(runs.load(), kTasks);
}

}  // namespace
}  // namespace landfall::testing
