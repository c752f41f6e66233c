// Claim order and limits: priority gate scopes, longest path first, pools.
#include <algorithm>
#include <string>
#include <vector>

#include "tests/core/scheduler_test_base.h"

namespace landfall::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

class OrderingTest : public SchedulerTest {
 protected:
  // Partitions of `table` arriving in one batch, in this order.
  void ArriveAtOnce(const std::string& table,
                    const std::vector<std::string>& partitions) {
    std::vector<Arrival> batch;
    for (const std::string& p : partitions) {
      Arrival a;
      a.set_event_id(p);
      a.set_table(table);
      a.set_partition(p);
      batch.push_back(a);
    }
    ASSERT_TRUE(scheduler_->IngestBatch(batch).ok());
  }

  // Claims etl_rs/p alone, which fails and backs off.
  void EtlBacksOff() {
    Arrive("src", "p");
    auto claimed = Claim(1);
    ASSERT_THAT(Names(claimed), ElementsAre("etl_rs/p"));
    ASSERT_TRUE(
        scheduler_
            ->Complete(claimed[0].task, 1, Outcome::RETRYABLE, "maintenance")
            .ok());
  }
};

constexpr char kTwoPools[] = R"(
priority_gate: %s
priority_class { name: "etl" }
priority_class { name: "adhoc" }
pool { name: "rs" slots: 10 }
pool { name: "bq" slots: 10 }
table { name: "src" source: true }
table { name: "etl_rs" upstream: "src" pool: "rs" }
table { name: "adhoc_rs" upstream: "src" pool: "rs" priority_class: "adhoc" }
table { name: "adhoc_bq" upstream: "src" pool: "bq" priority_class: "adhoc" }
)";

std::string WithGate(const char* gate) {
  std::string spec = kTwoPools;
  spec.replace(spec.find("%s"), 2, gate);
  return spec;
}

TEST_F(OrderingTest, PoolGateHoldsLowerClassesInTheSamePoolOnly) {
  Load(WithGate("POOL"));
  Arrive("src", "p");
  auto claimed = Claim();
  EXPECT_THAT(Names(claimed), ElementsAre("etl_rs/p", "adhoc_bq/p"));
  Succeed(claimed[0]);
  EXPECT_THAT(Names(Claim()), ElementsAre("adhoc_rs/p"));
}

TEST_F(OrderingTest, PipelineGateHoldsEveryLowerClass) {
  Load(WithGate("PIPELINE"));
  Arrive("src", "p");
  auto claimed = Claim();
  EXPECT_THAT(Names(claimed), ElementsAre("etl_rs/p"));
  Succeed(claimed[0]);
  EXPECT_THAT(Names(Claim()), ElementsAre("adhoc_rs/p", "adhoc_bq/p"));
}

TEST_F(OrderingTest, GateOffOnlyOrdersClasses) {
  Load(WithGate("OFF"));
  Arrive("src", "p");
  EXPECT_THAT(Names(Claim()),
              ElementsAre("etl_rs/p", "adhoc_rs/p", "adhoc_bq/p"));
}

TEST_F(OrderingTest, RetryWaitingHigherClassStillGates) {
  Load(WithGate("POOL"));
  EtlBacksOff();
  EXPECT_THAT(Names(Claim()), ElementsAre("adhoc_bq/p"));
  auto x = scheduler_->Explain({"adhoc_rs", "p"});
  ASSERT_TRUE(x.ok());
  EXPECT_THAT(x->ToString(),
              ::testing::HasSubstr("gated by priority class etl"));
}

TEST_F(OrderingTest, LongestPathFirstThenReadyTimeThenSpecOrder) {
  Load(R"(
table { name: "src" source: true }
table { name: "leaf" upstream: "src" }
table { name: "deep" upstream: "src" }
table { name: "deep2" upstream: "deep" }
table { name: "other" upstream: "src" }
table { name: "late" source: true }
table { name: "late_leaf" upstream: "late" }
)");
  Arrive("src", "b");
  clock_.Advance(absl::Seconds(1));
  Arrive("src", "a");
  clock_.Advance(absl::Seconds(1));
  Arrive("late", "a");
  EXPECT_THAT(
      Names(Claim()),
      ElementsAre("deep/b", "deep/a",  // longest path, earliest first
                  "leaf/b", "other/b", "leaf/a", "other/a", "late_leaf/a"));
}

TEST_F(OrderingTest, PartitionKeyBreaksTheLastTie) {
  Load(R"(
table { name: "src" source: true }
table { name: "m" upstream: "src" }
)");
  ArriveAtOnce("src", {"c", "a", "b"});
  EXPECT_THAT(Names(Claim()), ElementsAre("m/a", "m/b", "m/c"));
}

// Partition names that each fall between the same name and the one before
// them ("a1", "a01", "a001", ...), and dates appended and prepended: ties
// still go in name order, past the point where the scheduler must renumber
// its order of names.
TEST_F(OrderingTest, PartitionKeyOrdersTiesHoweverTheNamesArrive) {
  Load(R"(
table { name: "src" source: true }
table { name: "m" upstream: "src" }
)");
  std::vector<std::string> names = {"a", "b"};
  for (int zeros = 0; zeros < 40; ++zeros) {
    names.push_back("a" + std::string(zeros, '0') + "1");
  }
  for (int day = 10; day < 30; ++day)
    names.push_back("2018-11-" + std::to_string(day));
  for (int day = 9; day >= 1; --day)
    names.push_back("2018-11-0" + std::to_string(day));
  ArriveAtOnce("src", names);
  std::vector<std::string> expected;
  for (const std::string& p : names) expected.push_back("m/" + p);
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(Names(Claim(static_cast<int>(names.size()))), expected);
}

TEST_F(OrderingTest, PoolSlotsCapConcurrency) {
  Load(R"(
pool { name: "wh" slots: 5 }
defaults { pool: "wh" }
table { name: "src" source: true }
table { name: "big" upstream: "src" pool_slots: 4 }
table { name: "small" upstream: "src" }
table { name: "small2" upstream: "src" }
)");
  Arrive("src", "p");
  Arrive("src", "q");
  // big/p takes 4, small/p 1; big/q no longer fits, nor anything else.
  auto claimed = Claim();
  EXPECT_THAT(Names(claimed), ElementsAre("big/p", "small/p"));
  EXPECT_THAT(Claim(), IsEmpty());
  auto x = scheduler_->Explain({"small2", "p"});
  ASSERT_TRUE(x.ok());
  EXPECT_THAT(x->ToString(), ::testing::HasSubstr("pool wh is full: 5 of 5"));
  Succeed(claimed[1]);  // Frees 1: small/q fits, big/q does not.
  EXPECT_THAT(Names(Claim()), ElementsAre("small/q"));
  // The pool cannot shrink below what one attempt of big holds.
  auto status = scheduler_->SetPoolSlots("wh", 3);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("\"big\""));
}

TEST_F(OrderingTest, ClaimFilterByPoolAndClass) {
  Load(WithGate("OFF"));
  Arrive("src", "p");
  ClaimFilter bq;
  bq.pools = {"bq"};
  EXPECT_THAT(Names(Claim(10, bq)), ElementsAre("adhoc_bq/p"));
  ClaimFilter etl;
  etl.classes = {"etl"};
  EXPECT_THAT(Names(Claim(10, etl)), ElementsAre("etl_rs/p"));
}

TEST_F(OrderingTest, RuntimeClassAndPoolChanges) {
  Load(R"(
priority_gate: PIPELINE
priority_class { name: "etl" }
priority_class { name: "adhoc" }
pool { name: "wh" slots: 1 }
defaults { pool: "wh" }
table { name: "src" source: true }
table { name: "a" upstream: "src" }
table { name: "b" upstream: "src" priority_class: "adhoc" }
)");
  ASSERT_TRUE(scheduler_->SetPriorityClass("b", "etl").ok());
  ASSERT_TRUE(scheduler_->SetPriorityClass("a", "adhoc").ok());
  Arrive("src", "p");
  EXPECT_THAT(Names(Claim()), ElementsAre("b/p"));
  ASSERT_TRUE(scheduler_->SetPoolSlots("wh", 2).ok());
  EXPECT_THAT(Claim(), IsEmpty());  // a is adhoc, gated while b runs.
  EXPECT_EQ(scheduler_->SetPoolSlots("wh", 0).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(scheduler_->SetPriorityClass("a", "nope").code(),
            absl::StatusCode::kNotFound);
}

TEST_F(OrderingTest, RetryingTasksOfAClassThatHoldsNoneBackDoNotGate) {
  std::string spec = WithGate("POOL");
  spec.replace(spec.find(R"(priority_class { name: "etl" })"),
               std::string(R"(priority_class { name: "etl" })").size(),
               R"(priority_class { name: "etl" gate_holds_retrying: false })");
  Load(spec);
  EtlBacksOff();
  EXPECT_THAT(
      scheduler_->Explain({"adhoc_rs", "p"})->ToString(),
      ::testing::HasSubstr("retrying tasks of etl hold no lower class"));
  EXPECT_THAT(Names(Claim()), ElementsAre("adhoc_rs/p", "adhoc_bq/p"));
  // READY again after its backoff, it holds lower classes back again.
  clock_.Advance(absl::Minutes(1));
  Arrive("src", "q");
  EXPECT_THAT(Names(Claim()),
              ElementsAre("etl_rs/p", "etl_rs/q", "adhoc_bq/q"));
  EXPECT_THAT(scheduler_->Explain({"adhoc_rs", "q"})->ToString(),
              ::testing::HasSubstr("gated by priority class etl (strict): it "
                                   "has tasks ready or running in pool rs"));
}

constexpr char kGateWait[] = R"(
priority_gate: POOL
priority_class { name: "etl" }
priority_class { name: "adhoc" max_gate_wait: "30m" }
pool { name: "rs" slots: 2 }
defaults { lease: "2h" }
table { name: "src" source: true }
table { name: "etl_rs" upstream: "src" pool: "rs" }
table { name: "adhoc_rs" upstream: "src" pool: "rs" priority_class: "adhoc" }
)";

TEST_F(OrderingTest, MaxGateWaitLetsATaskPassAfterHigherClassesWithinPools) {
  Load(kGateWait);
  Arrive("src", "p");
  auto etl = Claim();
  ASSERT_THAT(Names(etl), ElementsAre("etl_rs/p"));
  EXPECT_THAT(scheduler_->Explain({"adhoc_rs", "p"})->ToString(),
              ::testing::HasSubstr("gated by priority class etl (max_gate_wait "
                                   "30m: claimable at 2018-11-04T01:30:00Z)"));
  clock_.Advance(absl::Minutes(30) - absl::Seconds(1));
  EXPECT_THAT(Claim(), IsEmpty());
  clock_.Advance(absl::Seconds(1));
  // A newer etl task comes first and takes the one free slot.
  Arrive("src", "q");
  EXPECT_THAT(Names(Claim()), ElementsAre("etl_rs/q"));
  const std::string why = scheduler_->Explain({"adhoc_rs", "p"})->ToString();
  EXPECT_THAT(why, ::testing::HasSubstr("past its max_gate_wait of 30m"));
  EXPECT_THAT(why, ::testing::HasSubstr("pool rs is full"));
  Succeed(etl[0]);
  // adhoc_rs/q has waited for no time yet: still gated.
  EXPECT_THAT(Names(Claim()), ElementsAre("adhoc_rs/p"));
  EXPECT_THAT(Claim(), IsEmpty());
  // The wait counts from when the task last became READY.
  EXPECT_EQ(scheduler_->NextWakeup(), T0() + absl::Minutes(60));
}

TEST_F(OrderingTest, ALongGateWaitNearTheClocksStartDoesNotWrap) {
  Load(R"(
priority_gate: POOL
priority_class { name: "etl" }
priority_class { name: "adhoc" max_gate_wait: "87600h" }
pool { name: "rs" slots: 2 }
table { name: "src" source: true }
table { name: "etl_rs" upstream: "src" pool: "rs" }
table { name: "adhoc_rs" upstream: "src" pool: "rs" priority_class: "adhoc" }
)");
  // Ten years before 1678 is before the earliest int64 nanosecond: the
  // wait's end must saturate, not wrap into the past.
  clock_.Set(absl::FromUnixSeconds(-9'200'000'000));
  Arrive("src", "p");
  EXPECT_THAT(Names(Claim()), ElementsAre("etl_rs/p"));
  EXPECT_THAT(Claim(), IsEmpty());
}

}  // namespace
}  // namespace landfall::testing
