// Failure: fencing, leases, backoff, dead letter, blocking and redrive.
#include "absl/strings/str_cat.h"
#include "lib/testing/history.h"
#include "tests/core/scheduler_test_base.h"

namespace landfall::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class FailureTest : public SchedulerTest {
 protected:
  void SetUp() override {
    Load(R"(
defaults { lease: "10m" retry { max_attempts: 3 initial_backoff: "30s"
           multiplier: 2 max_backoff: "45s" } }
table { name: "src" source: true }
table { name: "a" upstream: "src" }
table { name: "b" upstream: "a" }
table { name: "c" upstream: "b" }
table { name: "side" upstream: "src" }
)");
  }
  ClaimedTask ClaimOne(const std::string& table) {
    for (ClaimedTask& t : Claim()) {
      if (t.task.table == table) return t;
    }
    ADD_FAILURE() << "no claim for " << table;
    return {};
  }
};

TEST_F(FailureTest, StaleAttemptIsRefusedAndChangesNothing) {
  Arrive("src", "p");
  ClaimedTask a = ClaimOne("a");
  const int64_t seq = scheduler_->LastSequence();
  auto status = scheduler_->Complete(a.task, a.attempt + 1, Outcome::SUCCEEDED);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(status.message()), HasSubstr("is stale"));
  EXPECT_EQ(scheduler_->Heartbeat(a.task, 7).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(scheduler_->LastSequence(), seq);
  EXPECT_EQ(scheduler_->Complete({"zz", "p"}, 1, Outcome::SUCCEEDED).code(),
            absl::StatusCode::kNotFound);
}

TEST_F(FailureTest, UnknownOutcomeIsRefusedAndChangesNothing) {
  Arrive("src", "p");
  ClaimedTask a = ClaimOne("a");
  const int64_t seq = scheduler_->LastSequence();
  for (int outcome : {7, -1}) {
    absl::Status status =
        scheduler_->Complete(a.task, a.attempt, static_cast<Outcome>(outcome));
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(status.message()),
                HasSubstr(absl::StrCat("unknown outcome ", outcome)));
  }
  Scheduler::Completion c;
  c.task = a.task;
  c.attempt = a.attempt;
  c.outcome = static_cast<Outcome>(9);
  EXPECT_EQ(scheduler_->CompleteBatch({c})[0].code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(scheduler_->LastSequence(), seq);
  EXPECT_EQ(StateOf("a", "p"), TaskState::kRunning);
}

TEST_F(FailureTest, RepeatedCompletionWithTheSameOutcomeChangesNothing) {
  Arrive("src", "p");
  std::vector<ClaimedTask> claimed = Claim();
  ASSERT_THAT(Names(claimed), ElementsAre("a/p", "side/p"));
  ASSERT_TRUE(
      scheduler_->Complete(claimed[0].task, 1, Outcome::SUCCEEDED).ok());
  ASSERT_TRUE(
      scheduler_->Complete(claimed[1].task, 1, Outcome::RETRYABLE, "x").ok());
  const int64_t seq = scheduler_->LastSequence();
  // A host retrying after a lost reply: done, and nothing appended.
  EXPECT_TRUE(
      scheduler_->Complete(claimed[0].task, 1, Outcome::SUCCEEDED).ok());
  EXPECT_TRUE(
      scheduler_->Complete(claimed[1].task, 1, Outcome::RETRYABLE, "x").ok());
  EXPECT_EQ(scheduler_->LastSequence(), seq);
  EXPECT_EQ(StateOf("a", "p"), TaskState::kSucceeded);
  EXPECT_EQ(StateOf("side", "p"), TaskState::kRetryWait);
}

TEST_F(FailureTest, AnotherOutcomeForAnEndedAttemptSaysHowItEnded) {
  Arrive("src", "p");
  std::vector<ClaimedTask> claimed = Claim();
  ASSERT_TRUE(
      scheduler_->Complete(claimed[0].task, 1, Outcome::SUCCEEDED).ok());
  ASSERT_TRUE(scheduler_->Complete(claimed[1].task, 1, Outcome::FATAL).ok());
  const int64_t seq = scheduler_->LastSequence();
  absl::Status status =
      scheduler_->Complete(claimed[0].task, 1, Outcome::RETRYABLE);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(), "attempt 1 of a/p already ended: it succeeded");
  status = scheduler_->Complete(claimed[1].task, 1, Outcome::SUCCEEDED);
  EXPECT_EQ(status.message(),
            "attempt 1 of side/p already ended: it failed FATAL");
  status = scheduler_->Heartbeat(claimed[0].task, 1);
  EXPECT_EQ(status.message(), "attempt 1 of a/p already ended: it succeeded");
  EXPECT_EQ(scheduler_->LastSequence(), seq);
  EXPECT_EQ(StateOf("a", "p"), TaskState::kSucceeded);
  EXPECT_EQ(StateOf("side", "p"), TaskState::kDead);
}

TEST_F(FailureTest, CompletionAfterTheLeaseExpiredSaysSo) {
  Arrive("src", "p");
  ClaimedTask a = ClaimOne("a");
  clock_.Advance(absl::Minutes(10));
  ASSERT_TRUE(scheduler_->Poll().ok());
  absl::Status status = scheduler_->Complete(a.task, 1, Outcome::SUCCEEDED);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(),
            "attempt 1 of a/p already ended: its lease expired");
  EXPECT_EQ(StateOf("a", "p"), TaskState::kRetryWait);
}

TEST_F(FailureTest, DeadlinesPastWhatTheClockHoldsSaturate) {
  const absl::Time end = absl::FromUnixNanos(INT64_MAX);
  clock_.Set(end - absl::Minutes(5));
  Arrive("src", "p");
  ClaimedTask a = ClaimOne("a");
  // A 10m lease from 5m before the end of time: the end, never 1677.
  EXPECT_EQ(a.lease_deadline, end);
  EXPECT_EQ(StateOf("a", "p"), TaskState::kRunning);
  // A 30s backoff from 10s before it: likewise.
  clock_.Set(end - absl::Seconds(10));
  ASSERT_TRUE(scheduler_->Complete(a.task, a.attempt, Outcome::RETRYABLE).ok());
  EXPECT_EQ(scheduler_->NextWakeup(), end);
  EXPECT_EQ(StateOf("a", "p"), TaskState::kRetryWait);
}

TEST_F(FailureTest, CompleteBatchFindsTasksByIdAndIgnoresAWrongId) {
  Arrive("src", "p");
  std::vector<ClaimedTask> claimed = Claim();
  ASSERT_THAT(Names(claimed), ElementsAre("a/p", "side/p"));
  ASSERT_NE(claimed[0].id, claimed[1].id);
  // "a" by its own id; "side" with a's id, which names another task, and an
  // attempt that ended by id with another outcome: the key decides.
  std::vector<Scheduler::Completion> batch = {
      {claimed[0].task, claimed[0].id, claimed[0].attempt, Outcome::SUCCEEDED,
       ""},
      {claimed[1].task, claimed[0].id, claimed[1].attempt, Outcome::SUCCEEDED,
       ""},
      {claimed[1].task, claimed[1].id, claimed[1].attempt, Outcome::FATAL, ""},
  };
  std::vector<absl::Status> statuses = scheduler_->CompleteBatch(batch);
  ASSERT_EQ(statuses.size(), 3u);
  EXPECT_TRUE(statuses[0].ok()) << statuses[0];
  EXPECT_TRUE(statuses[1].ok()) << statuses[1];
  EXPECT_EQ(statuses[2].code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(StateOf("side", "p"), TaskState::kSucceeded);
  EXPECT_THAT(Names(Claim()), ElementsAre("b/p"));
}

TEST_F(FailureTest, BackoffGrowsAndIsCapped) {
  Arrive("src", "p");
  ClaimedTask a = ClaimOne("a");
  ASSERT_TRUE(scheduler_->Complete(a.task, 1, Outcome::RETRYABLE, "x").ok());
  EXPECT_EQ(scheduler_->NextWakeup(), T0() + absl::Seconds(30));
  clock_.Advance(absl::Seconds(29));
  EXPECT_THAT(Claim(), IsEmpty());
  clock_.Advance(absl::Seconds(1));
  a = ClaimOne("a");
  EXPECT_EQ(a.attempt, 2);
  ASSERT_TRUE(scheduler_->Complete(a.task, 2, Outcome::RETRYABLE, "x").ok());
  // 30s * 2 = 60s, capped at 45s.
  EXPECT_EQ(scheduler_->NextWakeup(), clock_.Now() + absl::Seconds(45));
}

// Retries of a/p back off 100s, 200s, ... with full jitter.
constexpr char kJitterSpec[] = R"(
defaults { retry { initial_backoff: "100s" jitter: true max_attempts: 9 } }
table { name: "src" source: true }
table { name: "a" upstream: "src" }
)";

// Claims the one ready task of `s`, fails it retryably and moves the clock
// to its retry; returns the wait.
absl::Duration FailAndWait(Scheduler& s, ManualClock& clock) {
  auto claimed_or = s.Claim("w", 1);
  EXPECT_TRUE(claimed_or.ok()) << claimed_or.status();
  std::vector<ClaimedTask> claimed =
      claimed_or.ok() ? *claimed_or : std::vector<ClaimedTask>{};
  EXPECT_EQ(claimed.size(), 1u);
  if (claimed.empty()) return absl::ZeroDuration();
  EXPECT_TRUE(
      s.Complete(claimed[0].task, claimed[0].attempt, Outcome::RETRYABLE).ok());
  const absl::Duration wait = *s.NextWakeup() - clock.Now();
  clock.Advance(wait);
  return wait;
}

TEST_F(FailureTest, JitterStaysWithinTheBackoffAndFollowsTheSeed) {
  std::vector<absl::Duration> waits[2];
  for (int run = 0; run < 2; ++run) {
    Load(kJitterSpec);
    Arrive("src", "p");
    for (int i = 0; i < 3; ++i) {
      const absl::Duration wait = FailAndWait(*scheduler_, clock_);
      EXPECT_GE(wait, absl::ZeroDuration());
      EXPECT_LE(wait, absl::Seconds(100) * (1 << i));
      waits[run].push_back(wait);
    }
  }
  EXPECT_EQ(waits[0], waits[1]);
}

TEST_F(FailureTest, LeaseExpiryFailsTheAttemptAndHeartbeatsExtendIt) {
  Arrive("src", "p");
  ClaimedTask a = ClaimOne("a");
  EXPECT_EQ(a.lease_deadline, T0() + absl::Minutes(10));
  clock_.Advance(absl::Minutes(9));
  ASSERT_TRUE(scheduler_->Heartbeat(a.task, a.attempt).ok());
  clock_.Advance(absl::Minutes(9));
  ASSERT_TRUE(scheduler_->Heartbeat(a.task, a.attempt).ok());
  clock_.Advance(absl::Minutes(10) + absl::Seconds(1));
  ASSERT_TRUE(scheduler_->Poll().ok());
  EXPECT_EQ(StateOf("a", "p"), TaskState::kRetryWait);
  auto status = scheduler_->Complete(a.task, a.attempt, Outcome::SUCCEEDED);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(FailureTest, CompletingAfterTheLeaseEndedIsRefusedAndChangesNothing) {
  Arrive("src", "p");
  ClaimedTask a = ClaimOne("a");
  clock_.Advance(absl::Minutes(10));  // The lease ends at this very instant.
  const int64_t seq = scheduler_->LastSequence();
  auto status = scheduler_->Complete(a.task, a.attempt, Outcome::SUCCEEDED);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(status.message()), HasSubstr("lost its lease"));
  EXPECT_EQ(scheduler_->Heartbeat(a.task, a.attempt).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(scheduler_->LastSequence(), seq);
  ASSERT_TRUE(scheduler_->Poll().ok());  // Time moving on is what fails it.
  EXPECT_EQ(StateOf("a", "p"), TaskState::kRetryWait);
}

TEST_F(FailureTest, ClaimingNothingChangesNothing) {
  Arrive("src", "p");
  clock_.Advance(absl::Hours(1));
  const int64_t seq = scheduler_->LastSequence();
  EXPECT_THAT(Claim(0), IsEmpty());
  EXPECT_THAT(Claim(-1), IsEmpty());
  EXPECT_EQ(scheduler_->LastSequence(), seq);
}

TEST_F(FailureTest, RetryBudgetCountsPastSixteenBits) {
  Load(R"(
defaults { retry { max_attempts: 70000 initial_backoff: "1s" max_backoff: "1s" } }
table { name: "src" source: true }
table { name: "a" upstream: "src" }
)");
  Arrive("src", "p");
  for (int i = 1; i <= 65537; ++i) {
    auto claimed = Claim(1);
    ASSERT_EQ(claimed.size(), 1u) << "attempt " << i;
    ASSERT_TRUE(
        scheduler_
            ->Complete(claimed[0].task, claimed[0].attempt, Outcome::RETRYABLE)
            .ok());
    clock_.Advance(absl::Seconds(1));
  }
  ListFilter filter;
  filter.table = "a";
  EXPECT_EQ(scheduler_->List(filter).tasks[0].run_attempts, 65537);
}

TEST_F(FailureTest, JitterOfARebuiltSchedulerMatchesTheOriginal) {
  // One scheduler fails twice; a second fails once, is rebuilt from its
  // history, and the rebuilt one fails the second time.
  Load(kJitterSpec);
  Arrive("src", "p");
  FailAndWait(*scheduler_, clock_);
  const absl::Duration original = FailAndWait(*scheduler_, clock_);

  Load(kJitterSpec);
  Arrive("src", "p");
  FailAndWait(*scheduler_, clock_);
  auto rebuilt = Scheduler::Replay(
      pipeline_, ::landfall::testing::History(*scheduler_, 1, SIZE_MAX),
      options_);
  ASSERT_TRUE(rebuilt.ok());
  EXPECT_EQ(FailAndWait(**rebuilt, clock_), original);
}

TEST_F(FailureTest, ExplainCountsTheAttemptsOfTheCurrentRun) {
  Arrive("src", "p");
  ClaimedTask a = ClaimOne("a");
  ASSERT_TRUE(scheduler_->Complete(a.task, 1, Outcome::FATAL, "x").ok());
  ASSERT_TRUE(scheduler_->Redrive({"a", "p"}).ok());
  a = ClaimOne("a");
  ASSERT_TRUE(scheduler_->Complete(a.task, 2, Outcome::FATAL, "y").ok());
  EXPECT_THAT(scheduler_->Explain({"a", "p"})->ToString(),
              HasSubstr("dead after 1 attempt; last error: y"));
}

TEST_F(FailureTest, FatalGoesDeadAndBlocksOnlyDescendants) {
  Arrive("src", "p");
  auto claimed = Claim();
  ASSERT_THAT(Names(claimed), ElementsAre("a/p", "side/p"));
  ASSERT_TRUE(
      scheduler_->Complete(claimed[0].task, 1, Outcome::FATAL, "bad sql").ok());
  Succeed(claimed[1]);
  EXPECT_EQ(StateOf("a", "p"), TaskState::kDead);
  EXPECT_EQ(StateOf("b", "p"), TaskState::kBlocked);
  EXPECT_EQ(StateOf("c", "p"), TaskState::kBlocked);
  auto dead = scheduler_->DeadLetter();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].last_error, "bad sql");
  auto x = scheduler_->Explain({"c", "p"});
  ASSERT_TRUE(x.ok());
  EXPECT_THAT(x->ToString(), HasSubstr("needs a/p (dead)"));
  x = scheduler_->Explain({"a", "p"});
  EXPECT_THAT(x->ToString(), HasSubstr("dead after 1 attempt;"));
  // Other partitions are not blocked.
  Arrive("src", "q");
  EXPECT_THAT(Names(Claim()), ElementsAre("a/q", "side/q"));
}

TEST_F(FailureTest, ExhaustedRetriesGoDeadAndRedriveUnblocks) {
  Arrive("src", "p");
  for (int i = 1; i <= 3; ++i) {
    ClaimedTask a = ClaimOne("a");
    EXPECT_EQ(a.attempt, i);
    ASSERT_TRUE(
        scheduler_
            ->Complete(a.task, a.attempt, Outcome::RETRYABLE, "maintenance")
            .ok());
    clock_.Advance(absl::Minutes(1));
  }
  EXPECT_EQ(StateOf("a", "p"), TaskState::kDead);
  EXPECT_EQ(StateOf("b", "p"), TaskState::kBlocked);
  EXPECT_EQ(scheduler_->Redrive({"b", "p"}).code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(scheduler_->Redrive({"a", "p"}).ok());
  EXPECT_EQ(StateOf("b", "p"), TaskState::kWaiting);
  ClaimedTask a = ClaimOne("a");
  EXPECT_EQ(a.attempt, 4);  // Attempt numbers only grow.
  Succeed(a);
  EXPECT_THAT(Names(Claim()), ElementsAre("b/p"));
}

TEST_F(FailureTest, MarkSucceededUnblocksAndTriggers) {
  Arrive("src", "p");
  ClaimedTask a = ClaimOne("a");
  ASSERT_TRUE(scheduler_->Complete(a.task, 1, Outcome::FATAL, "x").ok());
  ASSERT_TRUE(scheduler_->MarkSucceeded({"a", "p"}).ok());
  EXPECT_THAT(Names(Claim()), ElementsAre("b/p"));
}

// Trigger ANY needs one healthy upstream: a dead one blocks it only when
// every other upstream is dead or blocked for it too.
class AnyBlockingTest : public SchedulerTest {
 protected:
  void SetUp() override {
    Load(R"(
defaults { retry { max_attempts: 1 } }
table { name: "src1" source: true }
table { name: "src2" source: true }
table { name: "a" upstream: "src1" }
table { name: "b" upstream: "src2" }
table { name: "either" upstream: "a" upstream: "b" trigger: ANY }
table { name: "below" upstream: "either" }
)");
  }
  // Claims the task of `table` (and only it) and ends it with `outcome`.
  void Run(const std::string& table, Outcome outcome) {
    std::vector<ClaimedTask> claimed = Claim();
    bool found = false;
    for (const ClaimedTask& t : claimed) {
      const bool it = t.task.table == table;
      found = found || it;
      ASSERT_TRUE(scheduler_
                      ->Complete(t.task, t.attempt,
                                 it ? outcome : Outcome::SUCCEEDED, "x")
                      .ok());
    }
    ASSERT_TRUE(found) << "no claim for " << table;
  }
};

TEST_F(AnyBlockingTest, OneDeadAndOneHealthyUpstreamRunsOnTheHealthyOne) {
  Arrive("src1", "p");
  Run("a", Outcome::FATAL);
  EXPECT_EQ(StateOf("a", "p"), TaskState::kDead);
  EXPECT_EQ(StateOf("either", "p"), TaskState::kWaiting);
  EXPECT_EQ(StateOf("below", "p"), TaskState::kWaiting);
  Arrive("src2", "p");
  Run("b", Outcome::SUCCEEDED);
  EXPECT_THAT(Names(Claim()), ElementsAre("either/p"));
  EXPECT_EQ(scheduler_->DeadLetter().size(), 1u);
}

TEST_F(AnyBlockingTest, EveryUpstreamDeadBlocksItAndItsDescendants) {
  Arrive("src1", "p");
  Arrive("src2", "p");
  Run("a", Outcome::FATAL);  // b succeeds: either runs on it.
  std::vector<ClaimedTask> either = Claim();
  ASSERT_THAT(Names(either), ElementsAre("either/p"));
  Succeed(either[0]);  // Not blocked through either/p.
  Arrive("src2", "q");
  Arrive("src1", "q");
  std::vector<ClaimedTask> claimed = Claim();
  ASSERT_THAT(Names(claimed), ElementsAre("a/q", "b/q", "below/p"));
  ASSERT_TRUE(
      scheduler_->Complete(claimed[0].task, 1, Outcome::FATAL, "x").ok());
  EXPECT_EQ(StateOf("either", "q"), TaskState::kWaiting);
  ASSERT_TRUE(
      scheduler_->Complete(claimed[1].task, 1, Outcome::FATAL, "y").ok());
  EXPECT_EQ(StateOf("either", "q"), TaskState::kBlocked);
  EXPECT_EQ(StateOf("below", "q"), TaskState::kBlocked);
  EXPECT_THAT(scheduler_->Explain({"below", "q"})->ToString(),
              HasSubstr("blocked: needs a/q (dead)"));
  EXPECT_THAT(Claim(), IsEmpty());
}

TEST_F(AnyBlockingTest, AllTableBelowAnyTableIsNotBlockedThroughIt) {
  Arrive("src1", "p");
  Arrive("src2", "p");
  Run("b", Outcome::FATAL);
  ASSERT_THAT(Names(Claim()), ElementsAre("either/p"));
  EXPECT_EQ(StateOf("below", "p"), TaskState::kWaiting);
  EXPECT_TRUE(
      scheduler_->Complete({"either", "p"}, 1, Outcome::SUCCEEDED).ok());
  EXPECT_THAT(Names(Claim()), ElementsAre("below/p"));
}

TEST_F(AnyBlockingTest, RedriveOfOneDeadUpstreamUnblocksIt) {
  Arrive("src1", "p");
  Arrive("src2", "p");
  std::vector<ClaimedTask> claimed = Claim();
  ASSERT_THAT(Names(claimed), ElementsAre("a/p", "b/p"));
  ASSERT_TRUE(
      scheduler_->Complete(claimed[0].task, 1, Outcome::FATAL, "x").ok());
  ASSERT_TRUE(
      scheduler_->Complete(claimed[1].task, 1, Outcome::FATAL, "y").ok());
  ASSERT_EQ(StateOf("either", "p"), TaskState::kBlocked);
  ASSERT_EQ(StateOf("below", "p"), TaskState::kBlocked);
  // b/p stays dead, yet either/p needs only a/p.
  ASSERT_TRUE(scheduler_->Redrive({"a", "p"}).ok());
  EXPECT_EQ(StateOf("either", "p"), TaskState::kWaiting);
  EXPECT_EQ(StateOf("below", "p"), TaskState::kWaiting);
  Run("a", Outcome::SUCCEEDED);
  ASSERT_THAT(Names(Claim()), ElementsAre("either/p"));
  EXPECT_TRUE(
      scheduler_->Complete({"either", "p"}, 1, Outcome::SUCCEEDED).ok());
  ASSERT_THAT(Names(Claim()), ElementsAre("below/p"));
  // Redriving the other one afterwards runs it, and either/p on it.
  ASSERT_TRUE(scheduler_->Redrive({"b", "p"}).ok());
  Run("b", Outcome::SUCCEEDED);
  EXPECT_THAT(Names(Claim()), ElementsAre("either/p"));
}

}  // namespace
}  // namespace landfall::testing
