// Schedulers in real processes on one store (a SQLite file, a PostgreSQL
// schema): killed with SIGKILL at random moments under load, and claiming
// side by side from one pool. Each child reports every operation that
// returned OK; the checks then read the store's history, so they hold
// whatever the timing of the kills was.
#include <sys/wait.h>

#include <algorithm>
#include <csignal>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "landfall/scheduler.h"
#include "tests/store/process_test_base.h"

namespace landfall::testing {
namespace {

class ProcessCrashTest : public ProcessTest,
                         public ::testing::WithParamInterface<StoreKind> {
 protected:
  ProcessCrashTest() : ProcessTest("crash", GetParam()) {}

  static constexpr int kChildren = 3;
  static constexpr int kKills = 60;
  static constexpr int kMaxKills = 300;
  // How long a child lives before its kill; some die while opening.
  static constexpr absl::Duration kMinLife = absl::Milliseconds(60);
  static constexpr absl::Duration kMaxLife = absl::Milliseconds(500);
};

TEST_P(ProcessCrashTest, SigkilledSchedulersLoseNothingAcknowledged) {
  SCOPED_TRACE(absl::StrCat("LANDFALL_PROCESS_TEST_SEED=", seed_));
  std::mt19937_64 rng(seed_);
  struct Slot {
    std::unique_ptr<ChildProcess> child;
    absl::Time kill_at;
    int incarnation = 0;
  };
  std::vector<Slot> slots(kChildren);
  const auto start = [&](int i) {
    Slot& slot = slots[i];
    ++slot.incarnation;
    slot.child = Spawn(absl::StrCat("c", i, ".", slot.incarnation), rng());
    slot.child->Go();
    const int64_t life_ms = std::uniform_int_distribution<int64_t>(
        absl::ToInt64Milliseconds(kMinLife),
        absl::ToInt64Milliseconds(kMaxLife))(rng);
    slot.kill_at = absl::Now() + absl::Milliseconds(life_ms * kSlowdown);
  };
  std::vector<std::string> lines;
  const auto stop = [&](Slot& slot) {
    slot.child->Kill();
    const int status = slot.child->Reap(absl::Seconds(30), &lines);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << slot.child->args().worker << " " << DescribeWaitStatus(status);
  };
  // Every kind of operation the checks below count has been acknowledged.
  const auto covered = [&] {
    const std::vector<std::string> facts = Facts(lines);
    for (const char* prefix :
         {"ingested ", "claimed ", "heartbeat ", "redriven "}) {
      if (CountFacts(facts, prefix) == 0) return false;
    }
    for (Outcome outcome : {Outcome::SUCCEEDED, Outcome::RETRYABLE}) {
      if (CountFacts(facts, "completed ", Outcome_Name(outcome)) == 0) {
        return false;
      }
    }
    return true;
  };
  for (int i = 0; i < kChildren; ++i) start(i);
  const absl::Time began = absl::Now();
  int kills = 0;
  // On a loaded machine children live long enough for fewer operations:
  // more kills, up to a bound, until every kind of operation has happened.
  while (kills < kKills || (kills < kMaxKills && !covered())) {
    absl::Time next = absl::InfiniteFuture();
    std::vector<ChildProcess*> children;
    for (Slot& slot : slots) {
      next = std::min(next, slot.kill_at);
      children.push_back(slot.child.get());
    }
    ReadReports(children, next - absl::Now(), &lines);
    for (int i = 0; i < kChildren; ++i) {
      // A child that is gone before its kill crashed on its own: stop()
      // fails the test with how it ended.
      if (absl::Now() < slots[i].kill_at && !slots[i].child->gone()) continue;
      stop(slots[i]);
      ++kills;
      start(i);
    }
  }
  for (Slot& slot : slots) stop(slot);
  const absl::Duration ran = absl::Now() - began;

  const std::vector<std::string> facts = Facts(lines);
  std::vector<HistoryEntry> history;
  CheckHistory(facts, &history);
  ExpectEventsAppliedOnce(history);

  // The run did what it is meant to test.
  std::shared_ptr<StateStore> store = OpenStore();
  const int64_t snapshot = store ? LatestSnapshotSeq(*store) : 0;
  const int lease_expiries = CountIf(history, [](const HistoryEntry& e) {
    return e.outcome == Outcome::LEASE_EXPIRED &&
           (e.kind == EntryKind::kRetryScheduled || e.kind == EntryKind::kDead);
  });
  const int duplicates = CountIf(history, [](const HistoryEntry& e) {
    return e.kind == EntryKind::kDuplicate;
  });
  EXPECT_GT(snapshot, 0);
  EXPECT_GT(lease_expiries, 0);
  EXPECT_GT(duplicates, 0);
  for (const char* prefix :
       {"ingested ", "claimed ", "heartbeat ", "redriven "}) {
    EXPECT_GT(CountFacts(facts, prefix), 0) << prefix;
  }
  for (Outcome outcome : {Outcome::SUCCEEDED, Outcome::RETRYABLE}) {
    EXPECT_GT(CountFacts(facts, "completed ", Outcome_Name(outcome)), 0)
        << Outcome_Name(outcome);
  }
  std::cout << "[ crash    ] " << kills << " kills in " << ran << ", "
            << facts.size() << " acknowledged operations, " << history.size()
            << " entries, " << lease_expiries << " leases expired, "
            << duplicates << " duplicates, " << CountFacts(facts, "redriven ")
            << " redrives, last snapshot at #" << snapshot << "\n";
}

class ProcessConcurrencyTest : public ProcessTest,
                               public ::testing::WithParamInterface<StoreKind> {
 protected:
  ProcessConcurrencyTest() : ProcessTest("concurrency", GetParam()) {}

  void SetUp() override {
    ProcessTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    auto scheduler = Scheduler::Open(pipeline_, OpenStore());
    ASSERT_TRUE(scheduler.ok()) << scheduler.status();
    for (int p = 0; p < kConcurrencyPartitions; ++p) {
      Arrival a;
      a.set_event_id(absl::StrCat("e", p));
      a.set_table("src");
      a.set_partition(Partition(p));
      ASSERT_TRUE((*scheduler)->Ingest(a).ok());
    }
    tasks_ = static_cast<int>((*scheduler)->List().tasks.size());
  }

  static constexpr int kChildren = 4;
  int tasks_ = 0;
};

TEST_P(ProcessConcurrencyTest, ProcessesNeverShareAnAttemptOrOverfillAPool) {
  SCOPED_TRACE(absl::StrCat("LANDFALL_PROCESS_TEST_SEED=", seed_));
  std::vector<std::unique_ptr<ChildProcess>> owned;
  std::vector<ChildProcess*> children;
  for (int i = 0; i < kChildren; ++i) {
    owned.push_back(Spawn(absl::StrCat("w", i), seed_ + i));
    children.push_back(owned.back().get());
  }
  // All open first, then all start at once, so that their claims overlap.
  std::vector<std::string> lines;
  const absl::Time deadline = absl::Now() + absl::Seconds(30) * kSlowdown;
  while (std::count(lines.begin(), lines.end(), kReady) < kChildren &&
         absl::Now() < deadline &&
         std::none_of(children.begin(), children.end(),
                      [](ChildProcess* c) { return c->gone(); })) {
    ReadReports(children, deadline - absl::Now(), &lines);
  }
  ASSERT_EQ(std::count(lines.begin(), lines.end(), kReady), kChildren)
      << ::testing::PrintToString(lines);
  const absl::Time began = absl::Now();
  for (ChildProcess* child : children) child->Go();
  for (ChildProcess* child : children) {
    const int status = child->Reap(deadline - absl::Now(), &lines);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << child->args().worker << " " << DescribeWaitStatus(status);
  }
  const absl::Duration ran = absl::Now() - began;

  const std::vector<std::string> facts = Facts(lines);
  std::vector<HistoryEntry> history;
  const int peak_workers = CheckHistory(facts, &history);
  // Every task was built once, by one of several processes working at once.
  EXPECT_EQ(CountIf(history,
                    [](const HistoryEntry& e) {
                      return e.kind == EntryKind::kSucceeded;
                    }),
            tasks_);
  EXPECT_EQ(CountFacts(facts, "completed "), CountFacts(facts, "claimed "));
  EXPECT_GE(peak_workers, 2);
  std::cout << "[ parallel ] " << kChildren << " processes built " << tasks_
            << " tasks in " << ran << ", " << CountFacts(facts, "claimed ")
            << " attempts, at most " << peak_workers
            << " processes in the pool at once\n";
}

INSTANTIATE_TEST_SUITE_P(Stores, ProcessCrashTest,
                         ::testing::Values(StoreKind::kSqlite,
                                           StoreKind::kPostgres),
                         StoreKindName);
INSTANTIATE_TEST_SUITE_P(Stores, ProcessConcurrencyTest,
                         ::testing::Values(StoreKind::kSqlite,
                                           StoreKind::kPostgres),
                         StoreKindName);

}  // namespace
}  // namespace landfall::testing

// This main replaces gmock_main's (the linker then leaves that one out): a
// child must run its workload instead of the tests.
int main(int argc, char** argv) {
  if (argc > 1 && absl::string_view(argv[1]) == landfall::testing::kChildFlag) {
    return landfall::testing::RunChild(argc, argv);
  }
  ::testing::InitGoogleMock(&argc, argv);
  return RUN_ALL_TESTS();
}
