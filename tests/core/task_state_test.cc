// Task states as queries report them: as of now, without writing, and
// telling a built task (SUCCEEDED) from one never due (WAITING).
#include "tests/core/scheduler_test_base.h"

namespace landfall::testing {
namespace {

using ::testing::HasSubstr;

class TaskStateTest : public SchedulerTest {
 protected:
  void SetUp() override {
    Load(R"(
defaults { lease: "10m" retry { max_attempts: 2 initial_backoff: "30s" } }
table { name: "src" source: true }
table { name: "a" upstream: "src" }
table { name: "b" upstream: ["a", "src"] }
)");
  }

  TaskStatus StatusOf(const std::string& table) {
    ListFilter filter;
    filter.table = table;
    TaskList list = scheduler_->List(filter);
    EXPECT_EQ(list.tasks.size(), 1u) << table;
    return list.tasks.empty() ? TaskStatus{} : list.tasks[0];
  }
};

TEST_F(TaskStateTest, ABuiltTaskIsSucceededAndOneNeverDueIsWaiting) {
  Arrive("src", "p");
  ClaimedTask a = Claim(1)[0];
  Succeed(a);
  EXPECT_EQ(StateOf("a", "p"), TaskState::kSucceeded);
  EXPECT_EQ(StateOf("b", "p"), TaskState::kReady);
  TaskList list = scheduler_->List();
  EXPECT_EQ(list.by_state["SUCCEEDED"], 1);
  EXPECT_EQ(list.by_state.count("WAITING"), 0u);
  // A new upstream version makes it due again: no longer up to date.
  Arrive("src", "p");
  EXPECT_EQ(StateOf("a", "p"), TaskState::kReady);
}

TEST_F(TaskStateTest, AMarkedTaskIsSucceeded) {
  Load(R"(
table { name: "src" source: true }
table { name: "x" source: true }
table { name: "a" upstream: ["src", "x"] }
)");
  Arrive("src", "p");
  EXPECT_EQ(StateOf("a", "p"), TaskState::kWaiting);
  ASSERT_TRUE(scheduler_->MarkSucceeded({"a", "p"}).ok());
  EXPECT_EQ(StateOf("a", "p"), TaskState::kSucceeded);
}

TEST_F(TaskStateTest, AnEndedLeaseIsExpiredBeforeAnyWrite) {
  Arrive("src", "p");
  Claim(1);
  const int64_t seq = scheduler_->LastSequence();
  clock_.Advance(absl::Minutes(10));
  TaskStatus status = StatusOf("a");
  EXPECT_EQ(status.state, TaskState::kExpired);
  EXPECT_EQ(status.deadline, T0() + absl::Minutes(10));
  EXPECT_EQ(status.worker, "w");
  auto why = scheduler_->Explain({"a", "p"});
  ASSERT_TRUE(why.ok()) << why.status();
  EXPECT_THAT(why->ToString(),
              HasSubstr("a/p EXPIRED: the lease of attempt 1 on worker w "
                        "ended at 2018-11-04T01:10:00Z without a heartbeat: "
                        "the next write fails the attempt (it backs off"));
  EXPECT_EQ(scheduler_->List().by_state["EXPIRED"], 1);
  // Queries wrote nothing; the next write records the expiry.
  EXPECT_EQ(scheduler_->LastSequence(), seq);
  ASSERT_TRUE(scheduler_->Poll().ok());
  EXPECT_EQ(StateOf("a", "p"), TaskState::kRetryWait);
}

TEST_F(TaskStateTest, ALeaseStillHeldIsRunningToItsLastInstant) {
  Arrive("src", "p");
  Claim(1);
  clock_.Advance(absl::Minutes(10) - absl::Nanoseconds(1));
  EXPECT_EQ(StateOf("a", "p"), TaskState::kRunning);
  clock_.Advance(absl::Nanoseconds(1));
  EXPECT_EQ(StateOf("a", "p"), TaskState::kExpired);
}

TEST_F(TaskStateTest, AnExpiredLeaseWithNoRetryLeftSaysDeadLetter) {
  Arrive("src", "p");
  ClaimedTask first = Claim(1)[0];
  ASSERT_TRUE(
      scheduler_->Complete(first.task, first.attempt, Outcome::RETRYABLE).ok());
  clock_.Advance(absl::Seconds(30));
  ASSERT_EQ(Claim(1).size(), 1u);
  clock_.Advance(absl::Minutes(10));
  auto why = scheduler_->Explain({"a", "p"});
  ASSERT_TRUE(why.ok());
  EXPECT_THAT(why->ToString(), HasSubstr("it goes to the dead letter"));
}

TEST_F(TaskStateTest, ABackoffThatEndedIsReadyBeforeAnyWrite) {
  Arrive("src", "p");
  ClaimedTask a = Claim(1)[0];
  ASSERT_TRUE(
      scheduler_
          ->Complete(a.task, a.attempt, Outcome::RETRYABLE, "warehouse busy")
          .ok());
  EXPECT_EQ(StateOf("a", "p"), TaskState::kRetryWait);
  const int64_t seq = scheduler_->LastSequence();
  clock_.Advance(absl::Seconds(30));
  TaskStatus status = StatusOf("a");
  EXPECT_EQ(status.state, TaskState::kReady);
  EXPECT_EQ(status.ready_since, T0() + absl::Seconds(30));
  auto why = scheduler_->Explain({"a", "p"});
  ASSERT_TRUE(why.ok());
  EXPECT_THAT(why->ToString(),
              HasSubstr("its backoff after attempt 1 ended at "
                        "2018-11-04T01:00:30Z: due again (warehouse busy)"));
  EXPECT_EQ(scheduler_->LastSequence(), seq);
  ASSERT_TRUE(scheduler_->PauseTable("a").ok());
  EXPECT_EQ(StateOf("a", "p"), TaskState::kPaused);
}

TEST_F(TaskStateTest, StatesAreFoundByName) {
  for (TaskState state : AllTaskStates()) {
    EXPECT_EQ(TaskStateFromName(TaskStateName(state)), state);
  }
  EXPECT_EQ(AllTaskStates().size(), 9u);
  EXPECT_EQ(TaskStateFromName("succeeded"), std::nullopt);
  EXPECT_EQ(TaskStateFromName("UNKNOWN"), std::nullopt);
}

}  // namespace
}  // namespace landfall::testing
