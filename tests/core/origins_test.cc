// Origins: what a claim tells a loader of the objects landed since its task
// last consumed its inputs, how long the scheduler keeps them, and what it
// remembers of each origin for Scheduler::Ingested.
#include <map>
#include <string>
#include <vector>

#include "tests/core/scheduler_test_base.h"

namespace landfall::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kSpec[] = R"(
defaults { retry { max_attempts: 3 initial_backoff: "1m" } }
table { name: "src" source: true }
table { name: "dim" source: true partitioned: false }
table { name: "a" upstream: "src" }
table { name: "b" upstream: "src" }
table { name: "e" upstream: ["a", "dim"] }
table { name: "total" upstream: "src" partitioned: false }
)";

class OriginsTest : public SchedulerTest {
 protected:
  void SetUp() override { Load(kSpec); }

  IngestResult Land(const std::string& table, const std::string& partition,
                    const std::string& origin, const std::string& event_id) {
    auto result =
        scheduler_->Ingest(MakeArrival(table, partition, origin, event_id));
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : IngestResult{};
  }

  static Arrival MakeArrival(const std::string& table,
                             const std::string& partition,
                             const std::string& origin,
                             const std::string& event_id) {
    Arrival a;
    a.set_event_id(event_id);
    a.set_table(table);
    a.set_partition(partition);
    a.set_origin(origin);
    return a;
  }

  // Claims the three tasks reading src/p: a/p, b/p and total/, in that
  // order (an empty list, failing the test, when those are not what is
  // claimed).
  std::vector<ClaimedTask> ClaimSrcReaders() {
    std::vector<ClaimedTask> claimed = Claim();
    EXPECT_THAT(Names(claimed), ElementsAre("a/p", "b/p", "total/"));
    if (claimed.size() != 3) claimed.clear();
    return claimed;
  }

  // Claims every ready task, by table.
  std::map<std::string, ClaimedTask> ClaimAll() {
    std::map<std::string, ClaimedTask> out;
    for (ClaimedTask& t : Claim()) out[t.task.table] = std::move(t);
    return out;
  }

  // The origins the claim lists for its input from `table`.
  static const InputVersion& Input(const ClaimedTask& t,
                                   const std::string& table) {
    for (const InputVersion& in : t.inputs) {
      if (in.table == table) return in;
    }
    static const InputVersion none;
    ADD_FAILURE() << "no input " << table;
    return none;
  }
};

TEST_F(OriginsTest, AClaimListsTheOriginsLandedSinceItsLastSuccess) {
  Land("src", "p", "s3://lake/src/p/1.csv", "e1");
  Land("src", "p", "", "e2");  // No origin: nothing to list.
  Land("src", "p", "s3://lake/src/p/2.csv", "e3");
  std::vector<ClaimedTask> claimed = ClaimSrcReaders();
  ASSERT_EQ(claimed.size(), 3u);
  const InputVersion& in = Input(claimed[0], "src");
  EXPECT_THAT(in.origins,
              ElementsAre("s3://lake/src/p/1.csv", "s3://lake/src/p/2.csv"));
  EXPECT_TRUE(in.origins_complete);
  for (const ClaimedTask& t : claimed) Succeed(t);

  Land("src", "p", "s3://lake/src/p/3.csv", "e4");
  claimed = ClaimSrcReaders();
  ASSERT_EQ(claimed.size(), 3u);
  EXPECT_THAT(Input(claimed[0], "src").origins,
              ElementsAre("s3://lake/src/p/3.csv"));
  EXPECT_THAT(Input(claimed[1], "src").origins,
              ElementsAre("s3://lake/src/p/3.csv"));
}

TEST_F(OriginsTest, WhatLandsWhileAnAttemptRunsGoesToTheNextAttempt) {
  Land("src", "p", "file:///land/src/p/1", "e1");
  std::vector<ClaimedTask> first = ClaimSrcReaders();
  ASSERT_EQ(first.size(), 3u);
  Land("src", "p", "file:///land/src/p/2", "e2");
  for (const ClaimedTask& t : first) Succeed(t);
  std::vector<ClaimedTask> again = ClaimSrcReaders();
  ASSERT_EQ(again.size(), 3u);
  EXPECT_THAT(Input(again[0], "src").origins,
              ElementsAre("file:///land/src/p/2"));
}

TEST_F(OriginsTest, ARetryListsWhatTheFailedAttemptDidNot) {
  Land("src", "p", "o1", "e1");
  std::vector<ClaimedTask> first = ClaimSrcReaders();
  ASSERT_EQ(first.size(), 3u);
  ASSERT_TRUE(scheduler_
                  ->Complete(first[0].task, first[0].attempt,
                             Outcome::RETRYABLE, "warehouse busy")
                  .ok());
  Land("src", "p", "o2", "e2");
  clock_.Advance(absl::Minutes(1));
  ClaimedTask retry = ClaimAll()["a"];
  EXPECT_EQ(retry.attempt, 2);
  EXPECT_THAT(Input(retry, "src").origins, ElementsAre("o1", "o2"));
}

TEST_F(OriginsTest, OriginsAreDroppedOnceEveryReaderConsumedThem) {
  Land("src", "p", "o1", "e1");
  std::vector<ClaimedTask> claimed = ClaimSrcReaders();
  ASSERT_EQ(claimed.size(), 3u);
  Succeed(claimed[0]);  // a
  // b has not consumed it: still kept.
  EXPECT_THAT(scheduler_->DebugState(), HasSubstr("origins src/p"));
  Succeed(claimed[1]);  // b
  EXPECT_THAT(scheduler_->DebugState(), Not(HasSubstr("origins src/p ")));
  EXPECT_THAT(scheduler_->DebugState(), HasSubstr("origins dropped src/p"));
}

TEST_F(OriginsTest, OriginsEveryReaderConsumedGoWhileALaggardHoldsTheRest) {
  Land("src", "p", "o1", "e1");
  std::vector<ClaimedTask> claimed = ClaimSrcReaders();
  ASSERT_EQ(claimed.size(), 3u);
  Succeed(claimed[0]);
  Succeed(claimed[1]);
  // o1 consumed by a and b. Now b claims o2 and then lags.
  Land("src", "p", "o2", "e2");
  std::vector<ClaimedTask> second = Claim();  // total still runs.
  ASSERT_THAT(Names(second), ElementsAre("a/p", "b/p"));
  Succeed(second[0]);
  Succeed(second[1]);
  ClaimedTask slow_b;
  for (int i = 3; i <= 9; ++i) {
    Land("src", "p", "o" + std::to_string(i), "e" + std::to_string(i));
    for (const ClaimedTask& t : Claim()) {
      if (t.task.table == "b" && slow_b.attempt == 0) {
        slow_b = t;  // Claims o3 and runs on.
      } else {
        Succeed(t);
      }
    }
  }
  ASSERT_THAT(Input(slow_b, "src").origins, ElementsAre("o3"));
  Succeed(slow_b);
  // Eight kept (o3..o9 and one more) look for consumed ones: o3 goes.
  Land("src", "p", "o10", "e10");
  const std::string state = scheduler_->DebugState();
  EXPECT_THAT(state, Not(HasSubstr("=o3 ")));
  EXPECT_THAT(state, HasSubstr("=o4 "));
  ClaimedTask b = ClaimAll()["b"];
  EXPECT_THAT(Input(b, "src").origins,
              ElementsAre("o4", "o5", "o6", "o7", "o8", "o9", "o10"));
  EXPECT_TRUE(Input(b, "src").origins_complete);
}

TEST_F(OriginsTest, APartitionKeepsAtMostTheBoundAndSaysSoWhenOver) {
  ASSERT_TRUE(scheduler_->PauseTable("b").ok());
  ASSERT_TRUE(scheduler_->PauseTable("total").ok());
  const int landed = kMaxOriginsPerPartition + 1;
  std::vector<Arrival> arrivals;
  for (int i = 1; i <= landed; ++i) {
    arrivals.push_back(MakeArrival("src", "p", "o" + std::to_string(i),
                                   "e" + std::to_string(i)));
  }
  ASSERT_TRUE(scheduler_->IngestBatch(arrivals).ok());
  ClaimedTask a = ClaimAll()["a"];
  const InputVersion& in = Input(a, "src");
  EXPECT_FALSE(in.origins_complete);
  EXPECT_LE(in.origins.size(), static_cast<size_t>(kMaxOriginsPerPartition));
  EXPECT_GE(in.origins.size(),
            static_cast<size_t>(kMaxOriginsPerPartition * 7 / 8));
  EXPECT_EQ(in.origins.back(), "o" + std::to_string(landed));
}

TEST_F(OriginsTest, InputsNotReadPartitionByPartitionListNone) {
  Land("dim", "", "s3://lake/dim/1", "d1");
  Land("src", "p", "s3://lake/src/p/1", "e1");
  std::map<std::string, ClaimedTask> first = ClaimAll();
  EXPECT_THAT(Input(first["total"], "src").origins, IsEmpty());
  EXPECT_FALSE(Input(first["total"], "src").origins_complete);
  Succeed(first["a"]);
  ClaimedTask e = ClaimAll()["e"];
  // A task's output has no origins; a requirement lists none.
  EXPECT_THAT(Input(e, "a").origins, IsEmpty());
  EXPECT_TRUE(Input(e, "a").origins_complete);
  EXPECT_THAT(Input(e, "dim").origins, IsEmpty());
  EXPECT_FALSE(Input(e, "dim").origins_complete);
}

TEST_F(OriginsTest, AnArrivalForADerivedTableIsListedToItsReaders) {
  Land("src", "p", "", "e1");
  Land("dim", "", "", "d1");
  Land("a", "p", "s3://lake/a/p/backfill", "x1");
  ClaimedTask e = ClaimAll()["e"];
  EXPECT_THAT(Input(e, "a").origins, ElementsAre("s3://lake/a/p/backfill"));
}

TEST_F(OriginsTest, ATableAddedByADeployIsToldItsOriginsAreIncomplete) {
  Land("src", "p", "o1", "e1");
  for (const ClaimedTask& t : Claim()) Succeed(t);
  auto next = Pipeline::FromText(
      std::string(kSpec) + "table { name: \"late\" upstream: \"src\" }",
      SpecFormat::kTextProto, "spec");
  ASSERT_TRUE(next.ok()) << next.status();
  ASSERT_TRUE(scheduler_->UpdatePipeline(*next).ok());
  ClaimedTask late = ClaimAll()["late"];
  EXPECT_THAT(Input(late, "src").origins, IsEmpty());
  EXPECT_FALSE(Input(late, "src").origins_complete);
}

TEST_F(OriginsTest, AnAdoptedTableCountsItsNewInputsOriginsAsConsumed) {
  Load(R"(
table { name: "src" source: true }
table { name: "more" source: true }
table { name: "a" upstream: "src" }
table { name: "b" upstream: "more" }
)");
  Land("src", "p", "o1", "e1");
  Succeed(ClaimAll()["a"]);
  Land("more", "p", "q1", "e2");  // Kept for b.
  auto next = Pipeline::FromText(R"(
table { name: "src" source: true }
table { name: "more" source: true }
table { name: "a" upstream: ["src", "more"] }
table { name: "b" upstream: "more" }
)",
                                 SpecFormat::kTextProto, "spec");
  ASSERT_TRUE(next.ok()) << next.status();
  DeployOptions adopt;
  adopt.adopt = {"a"};
  ASSERT_TRUE(scheduler_->Deploy(*next, adopt).ok());
  // a took q1 as consumed: once b consumes it too, nobody needs it.
  Succeed(ClaimAll()["b"]);
  EXPECT_THAT(scheduler_->DebugState(), Not(HasSubstr("origins more/p ")));
}

TEST_F(OriginsTest, IngestedKnowsEachOriginsLatestEventBeyondTheDedupWindow) {
  Land("src", "p", "file:///land/src/p/x.csv", "x.csv#1");
  clock_.Advance(absl::Hours(24 * 8));  // Past the 7-day window.
  const Arrival same =
      MakeArrival("src", "p", "file:///land/src/p/x.csv", "x.csv#1");
  const Arrival changed =
      MakeArrival("src", "p", "file:///land/src/p/x.csv", "x.csv#2");
  const Arrival no_origin = MakeArrival("src", "p", "", "x.csv#1");
  EXPECT_THAT(scheduler_->Ingested({same, changed, no_origin}),
              ElementsAre(true, false, false));
  // Ingest keeps its meaning: past the window the same id is no duplicate.
  EXPECT_FALSE(
      Land("src", "p", "file:///land/src/p/x.csv", "x.csv#2").duplicate);
  EXPECT_THAT(scheduler_->Ingested({same, changed}), ElementsAre(false, true));
}

TEST_F(OriginsTest, ADuplicateIsTheLatestEventOfItsOrigin) {
  Land("src", "p", "o", "v1");
  Land("src", "p", "o", "v2");
  EXPECT_TRUE(Land("src", "p", "o", "v1").duplicate);
  EXPECT_THAT(scheduler_->Ingested({MakeArrival("src", "p", "o", "v1"),
                                    MakeArrival("src", "p", "o", "v2")}),
              ElementsAre(true, false));
}

}  // namespace
}  // namespace landfall::testing
