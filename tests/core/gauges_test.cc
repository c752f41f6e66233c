// Scheduler::Gauges: the counts kept as entries apply equal what List
// counts task by task, through every kind of change.
#include "tests/core/scheduler_test_base.h"

namespace landfall::testing {
namespace {

class GaugesTest : public SchedulerTest {
 protected:
  void SetUp() override {
    Load(R"(
defaults { lease: "10m" retry { max_attempts: 2 initial_backoff: "30s" } }
priority_class { name: "etl" }
priority_class { name: "adhoc" }
pool { name: "rs" slots: 3 }
pool { name: "bq" slots: 10 }
table { name: "src" source: true }
table { name: "a" upstream: "src" pool: "rs" }
table { name: "b" upstream: "a" pool: "rs" priority_class: "adhoc" }
table { name: "c" upstream: "src" pool: "bq" priority_class: "adhoc" }
)");
  }

  // Gauges summed by pool, class and state, as List's by_pool and by_class
  // count them (no lease or backoff has ended, so the two agree).
  static void ExpectMatchesList(Scheduler& scheduler, const std::string& at) {
    SCOPED_TRACE(at);
    const TaskGauges gauges = scheduler.Gauges();
    const TaskList list = scheduler.List();
    std::map<std::string, std::map<std::string, int>> by_pool, by_class;
    for (const TaskGauges::Group& g : gauges.groups) {
      for (TaskState state : AllTaskStates()) {
        const int n = static_cast<int>(g.tasks[static_cast<size_t>(state)]);
        if (n == 0) continue;
        by_pool[g.pool][TaskStateName(state)] += n;
        by_class[g.priority_class][TaskStateName(state)] += n;
      }
    }
    EXPECT_EQ(by_pool, list.by_pool);
    EXPECT_EQ(by_class, list.by_class);
    EXPECT_EQ(gauges.last_seq, scheduler.LastSequence());
  }

  void Check(const std::string& at) { ExpectMatchesList(*scheduler_, at); }
};

TEST_F(GaugesTest, CountsFollowEveryKindOfChange) {
  Check("empty");
  Arrive("src", "p1");
  Arrive("src", "p2");
  Check("ready");
  std::vector<ClaimedTask> claimed = Claim(2);
  ASSERT_EQ(claimed.size(), 2u);
  Check("running");
  const TaskGauges running = scheduler_->Gauges();
  ASSERT_EQ(running.pools.size(), 2u);
  EXPECT_EQ(running.pools[0].pool, "rs");
  EXPECT_EQ(running.pools[0].slots, 3);
  EXPECT_EQ(running.pools[0].used, 2);
  ASSERT_TRUE(scheduler_
                  ->Complete(claimed[0].task, claimed[0].attempt,
                             Outcome::RETRYABLE, "later")
                  .ok());
  Check("retry wait");
  ASSERT_TRUE(scheduler_
                  ->Complete(claimed[1].task, claimed[1].attempt,
                             Outcome::FATAL, "broken")
                  .ok());
  Check("dead and blocked");
  ASSERT_TRUE(scheduler_->PauseClass("adhoc").ok());
  Check("class paused");
  ASSERT_TRUE(scheduler_->SetPriorityClass("c", "etl").ok());
  Check("class changed");
  ASSERT_TRUE(scheduler_->ResumeClass("adhoc").ok());
  ASSERT_TRUE(scheduler_->Redrive(claimed[1].task).ok());
  Check("redriven");
  clock_.Advance(absl::Minutes(1));
  ASSERT_TRUE(scheduler_->Poll().ok());
  Check("retry due");
  for (int round = 0; round < 4; ++round) {
    for (const ClaimedTask& t : Claim()) Succeed(t);
  }
  Check("all built");
  ASSERT_TRUE(scheduler_->Rerun({"a", "p1"}, true).ok());
  Check("rerun");
  ASSERT_TRUE(scheduler_->SetPoolSlots("rs", 7).ok());
  EXPECT_EQ(scheduler_->Gauges().pools[0].slots, 7);
}

TEST_F(GaugesTest, ARestoredSchedulerCountsAsTheOneThatWrote) {
  auto store = NewMemoryStore();
  SchedulerOptions options;
  options.clock = &clock_;
  auto first = Scheduler::Open(pipeline_, store, options);
  ASSERT_TRUE(first.ok()) << first.status();
  Arrival arrival;
  arrival.set_event_id("e1");
  arrival.set_table("src");
  arrival.set_partition("p");
  ASSERT_TRUE((*first)->Ingest(arrival).ok());
  ASSERT_TRUE((*first)->Claim("w", 1).ok());
  ASSERT_TRUE((*first)->Checkpoint().ok());
  arrival.set_event_id("e2");
  arrival.set_partition("q");
  ASSERT_TRUE((*first)->Ingest(arrival).ok());
  auto second = Scheduler::Open(pipeline_, store, options);
  ASSERT_TRUE(second.ok()) << second.status();
  ExpectMatchesList(**second, "restored");
  int64_t total = 0;
  for (const TaskGauges::Group& g : (*second)->Gauges().groups) {
    for (int64_t n : g.tasks) total += n;
  }
  EXPECT_EQ(total, 4);  // a/p running, a/q and c/p, c/q ready.
}

}  // namespace
}  // namespace landfall::testing
