// Schedulers in processes on PostgreSQL while the server fails under them:
// restarted (pg_ctl stop -m immediate, then started again) at random
// moments, or their connections ended with pg_terminate_backend in the
// middle of transactions. The children see Unavailable, recover by
// themselves (the next call reconnects), and the history passes the checks
// of the crash test: every acknowledged operation present, nothing applied
// twice, no gap, no attempt held twice, pools within their limits, and the
// opened state equal to the replayed one.
#include <sys/wait.h>

#include <csignal>
#include <functional>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "tests/store/process_test_base.h"

namespace landfall::testing {
namespace {

class PostgresFaultTest : public ProcessTest {
 protected:
  PostgresFaultTest() : ProcessTest("faults", StoreKind::kPostgres) {}

  static constexpr int kChildren = 3;
  // How long the children work after the last fault: each must be back.
  static constexpr absl::Duration kRecovery = absl::Seconds(2);

  // Reads the children's reports until `deadline`.
  static void ReadUntil(const std::vector<ChildProcess*>& children,
                        absl::Time deadline, std::vector<std::string>* lines) {
    while (absl::Now() < deadline) {
      ReadReports(children, deadline - absl::Now(), lines);
      if (std::all_of(children.begin(), children.end(),
                      [](ChildProcess* c) { return c->gone(); })) {
        return;
      }
    }
  }

  // Runs the children under load while `fault` strikes `faults` times, a
  // random gap of `min_gap` to `max_gap` apart; then lets them work for
  // kRecovery, kills them and checks the history. Returns how many faults
  // struck (`fault` returned true).
  int RunUnderFaults(int faults, absl::Duration min_gap, absl::Duration max_gap,
                     const std::function<bool(std::mt19937_64&)>& fault) {
    std::mt19937_64 rng(seed_);
    std::vector<std::unique_ptr<ChildProcess>> owned;
    std::vector<ChildProcess*> children;
    for (int i = 0; i < kChildren; ++i) {
      owned.push_back(Spawn(absl::StrCat("f", i), rng()));
      children.push_back(owned.back().get());
      children.back()->Go();
    }
    std::vector<std::string> lines;
    const absl::Time began = absl::Now();
    int struck = 0;
    for (int i = 0; i < faults; ++i) {
      const int64_t gap_ms = std::uniform_int_distribution<int64_t>(
          absl::ToInt64Milliseconds(min_gap),
          absl::ToInt64Milliseconds(max_gap))(rng);
      ReadUntil(children, absl::Now() + absl::Milliseconds(gap_ms) * kSlowdown,
                &lines);
      if (fault(rng)) ++struck;
    }
    const size_t before_recovery = lines.size();
    ReadUntil(children, absl::Now() + kRecovery * kSlowdown, &lines);
    for (ChildProcess* child : children) {
      child->Kill();
      const int status = child->Reap(absl::Seconds(30), &lines);
      // A child that stopped by itself reported why (an error line).
      EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
          << child->args().worker << " " << DescribeWaitStatus(status);
    }
    const absl::Duration ran = absl::Now() - began;

    const std::vector<std::string> facts = Facts(lines);
    std::vector<HistoryEntry> history;
    CheckHistory(facts, &history);
    ExpectEventsAppliedOnce(history);

    // The faults reached the children, and they came back by themselves.
    const auto unavailable =
        std::count_if(lines.begin(), lines.end(), [](const std::string& l) {
          return absl::StartsWith(l, kUnavailableReport);
        });
    EXPECT_GT(unavailable, 0);
    const std::vector<std::string> recovered =
        Facts({lines.begin() + before_recovery, lines.end()});
    EXPECT_GT(CountFacts(recovered, "claimed "), 0);
    EXPECT_GT(CountFacts(recovered, "completed "), 0);
    for (const char* prefix : {"ingested ", "claimed ", "completed "}) {
      EXPECT_GT(CountFacts(facts, prefix), 0) << prefix;
    }
    std::cout << "[ faults   ] " << struck << " of " << faults
              << " faults struck in " << ran << ", " << unavailable
              << " calls Unavailable, " << facts.size()
              << " acknowledged operations (" << recovered.size()
              << " after the last fault), " << history.size() << " entries\n";
    return struck;
  }
};

// Restarts need a server of the test's own.
class PostgresRestartTest : public PostgresFaultTest {
 protected:
  void SetUp() override {
    LANDFALL_REQUIRE_POSTGRES_CTL();
    ASSERT_EQ(cluster_.Start(), "");
    PostgresFaultTest::SetUp();
  }
  std::string Server() override { return cluster_.uri(); }

  PrivatePostgres cluster_;
};

TEST_F(PostgresRestartTest, ServerRestartedUnderLoadLosesNothingAcknowledged) {
  SCOPED_TRACE(absl::StrCat("LANDFALL_PROCESS_TEST_SEED=", seed_));
  const int restarts =
      RunUnderFaults(10, absl::Milliseconds(200), absl::Milliseconds(700),
                     [&](std::mt19937_64& rng) {
                       // Down for a moment, then back: the crash recovery of an
                       // immediate stop keeps every commit.
                       std::string error = cluster_.Control("stop-immediate");
                       absl::SleepFor(absl::Milliseconds(
                           std::uniform_int_distribution<int>(0, 300)(rng)));
                       if (error.empty()) error = cluster_.Control("resume");
                       EXPECT_EQ(error, "");
                       return error.empty();
                     });
  EXPECT_EQ(restarts, 10);
}

TEST_F(PostgresFaultTest,
       ConnectionsKilledMidTransactionLoseNothingAcknowledged) {
  LANDFALL_REQUIRE_POSTGRES();
  SCOPED_TRACE(absl::StrCat("LANDFALL_PROCESS_TEST_SEED=", seed_));
  // One of the children's connections that is inside a transaction (a
  // statement running, waiting for the lock, or between statements).
  const std::string kill = absl::StrCat(
      "SELECT pg_terminate_backend(pid) FROM (SELECT pid FROM "
      "pg_stat_activity WHERE application_name = '",
      schema_,
      "' AND state IN ('active', 'idle in transaction') AND pid <> "
      "pg_backend_pid() ORDER BY random() LIMIT 1) s");
  const int killed = RunUnderFaults(
      40, absl::Milliseconds(50), absl::Milliseconds(250),
      [&](std::mt19937_64&) { return QueryTestServer(kill) == "t"; });
  EXPECT_GE(killed, 10);
}

}  // namespace
}  // namespace landfall::testing
