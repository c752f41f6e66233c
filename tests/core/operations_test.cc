// Operations and queries: pause/resume, rerun, explain, freshness, history.
#include <set>
#include <string>

#include "lib/testing/history.h"
#include "tests/core/scheduler_test_base.h"

namespace landfall::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class OperationsTest : public SchedulerTest {
 protected:
  // Claims every ready task and completes it: FATAL for the partitions in
  // `fatal`, else SUCCEEDED.
  void CompleteClaimed(const std::set<std::string>& fatal) {
    for (const ClaimedTask& t : Claim()) {
      const Outcome outcome =
          fatal.count(t.task.partition) ? Outcome::FATAL : Outcome::SUCCEEDED;
      ASSERT_TRUE(scheduler_->Complete(t.task, t.attempt, outcome).ok());
    }
  }

  void SetUp() override {
    Load(R"(
priority_class { name: "etl" }
priority_class { name: "adhoc" }
table { name: "src" source: true freshness { max_lag: "2h" } }
table { name: "a" upstream: "src" }
table { name: "b" upstream: "a" priority_class: "adhoc" }
table { name: "x" upstream: "src" priority_class: "adhoc" }
)");
  }
};

TEST_F(OperationsTest, PauseAndResumeATable) {
  ASSERT_TRUE(scheduler_->PauseTable("a").ok());
  Arrive("src", "p");
  EXPECT_EQ(StateOf("a", "p"), TaskState::kPaused);
  // A paused table does not hold back lower classes.
  EXPECT_THAT(Names(Claim()), ElementsAre("x/p"));
  auto x = scheduler_->Explain({"a", "p"});
  EXPECT_THAT(x->ToString(), HasSubstr("table a is paused"));
  ASSERT_TRUE(scheduler_->ResumeTable("a").ok());
  EXPECT_THAT(Names(Claim()), ElementsAre("a/p"));
}

TEST_F(OperationsTest, PausingASourceTableIsRefusedAndChangesNothing) {
  const int64_t seq = scheduler_->LastSequence();
  for (absl::Status s :
       {scheduler_->PauseTable("src"), scheduler_->ResumeTable("src")}) {
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(s.message(), HasSubstr("table \"src\" is a source table"));
  }
  EXPECT_EQ(scheduler_->LastSequence(), seq);
}

TEST_F(OperationsTest, PauseAndResumeAClass) {
  ASSERT_TRUE(scheduler_->PauseClass("adhoc").ok());
  Arrive("src", "p");
  auto claimed = Claim();
  EXPECT_THAT(Names(claimed), ElementsAre("a/p"));
  Succeed(claimed[0]);
  EXPECT_THAT(Claim(), IsEmpty());
  ASSERT_TRUE(scheduler_->ResumeClass("adhoc").ok());
  EXPECT_THAT(Names(Claim()), ElementsAre("b/p", "x/p"));
  EXPECT_EQ(scheduler_->PauseClass("nope").code(), absl::StatusCode::kNotFound);
}

TEST_F(OperationsTest, RerunBuildsAgainWithoutNewInput) {
  Arrive("src", "p");
  for (const ClaimedTask& t : Claim()) Succeed(t);
  for (const ClaimedTask& t : Claim()) Succeed(t);
  EXPECT_THAT(Claim(), IsEmpty());
  ASSERT_TRUE(scheduler_->Rerun({"a", "p"}, /*with_descendants=*/true).ok());
  auto claimed = Claim();
  ASSERT_THAT(Names(claimed), ElementsAre("a/p"));
  Succeed(claimed[0]);
  EXPECT_THAT(Names(Claim()), ElementsAre("b/p"));  // Descendants follow.
}

TEST_F(OperationsTest, RerunWithoutDescendantsStillTriggersThemByData) {
  Arrive("src", "p");
  for (const ClaimedTask& t : Claim()) Succeed(t);
  for (const ClaimedTask& t : Claim()) Succeed(t);
  ASSERT_TRUE(scheduler_->Rerun({"a", "p"}, false).ok());
  auto claimed = Claim();
  ASSERT_THAT(Names(claimed), ElementsAre("a/p"));
  Succeed(claimed[0]);
  // The rebuild is a new version of a/p, so b/p is due by the usual rule.
  EXPECT_THAT(Names(Claim()), ElementsAre("b/p"));
}

TEST_F(OperationsTest, RerunRequestedWhileRunningRunsAgainAfter) {
  Arrive("src", "p");
  auto claimed = Claim(1);
  ASSERT_THAT(Names(claimed), ElementsAre("a/p"));
  ASSERT_TRUE(scheduler_->Rerun({"a", "p"}, false).ok());
  Succeed(claimed[0]);
  claimed = Claim();
  // The rerun was asked for after the attempt took its inputs: a/p is owed
  // one more build (beside b/p and x/p, due from the first).
  EXPECT_THAT(Names(claimed), ::testing::Contains("a/p"));
}

TEST_F(OperationsTest, RerunWithDescendantsCrossesRequirementEdges) {
  Load(R"(
table { name: "dimsrc" source: true partitioned: false }
table { name: "dim" upstream: "dimsrc" partitioned: false }
table { name: "fact" source: true }
table { name: "m" upstream: ["fact", "dim"] }
)");
  Arrive("dimsrc", "");
  Arrive("fact", "p1");
  for (int i = 0; i < 3; ++i) {
    for (const ClaimedTask& t : Claim()) Succeed(t);
  }
  ASSERT_THAT(Claim(), IsEmpty());
  ASSERT_TRUE(scheduler_->Rerun({"dim", ""}, /*with_descendants=*/true).ok());
  auto claimed = Claim();
  ASSERT_THAT(Names(claimed), ElementsAre("dim/"));
  Succeed(claimed[0]);
  // dim is only a requirement of m, so its new version triggers nothing,
  // but the rerun asked for m too.
  EXPECT_THAT(Names(Claim()), ElementsAre("m/p1"));
}

TEST_F(OperationsTest, RerunRefusesSourcesUnknownTablesAndBadPartitions) {
  EXPECT_EQ(scheduler_->Rerun({"src", "p"}, false).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(scheduler_->Rerun({"zz", "p"}, false).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(scheduler_->Rerun({"a", ""}, false).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(OperationsTest, RerunOfAPartitionWithNoTaskIsNotFoundAndChangesNothing) {
  Arrive("src", "p");
  const int64_t seq = scheduler_->LastSequence();
  absl::Status s = scheduler_->Rerun({"a", "never-landed"}, false);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("a/never-landed"));
  // In a batch too: the task that exists is not rerun either.
  s = scheduler_->RerunBatch({{"a", "p"}, {"a", "never-landed"}},
                             /*with_descendants=*/true, nullptr);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(scheduler_->LastSequence(), seq);
  TaskList all = scheduler_->List();
  for (const TaskStatus& t : all.tasks) {
    EXPECT_NE(t.task.partition, "never-landed");
  }
}

// A/p1 and a/p2 share one unpartitioned descendant.
constexpr char kBatchSpec[] = R"(
table { name: "src" source: true }
table { name: "a" upstream: "src" }
table { name: "total" upstream: "a" partitioned: false }
)";

TEST_F(OperationsTest, RerunBatchTellsEveryTaskItMarkedOnceInOrder) {
  Load(kBatchSpec);
  Arrive("src", "p1");
  Arrive("src", "p2");
  for (int i = 0; i < 2; ++i) {
    for (const ClaimedTask& t : Claim()) Succeed(t);
  }
  std::vector<TaskKey> rerun;
  ASSERT_TRUE(scheduler_
                  ->RerunBatch({{"a", "p1"}, {"a", "p2"}, {"a", "p1"}},
                               /*with_descendants=*/true, &rerun)
                  .ok());
  EXPECT_THAT(rerun, ElementsAre(TaskKey{"a", "p1"}, TaskKey{"total", ""},
                                 TaskKey{"a", "p2"}));
  EXPECT_THAT(Names(Claim()), ElementsAre("a/p1", "a/p2"));
}

TEST_F(OperationsTest, RerunBatchWithOneDeadTaskChangesNothing) {
  Load(kBatchSpec);
  Arrive("src", "p1");
  Arrive("src", "p2");
  CompleteClaimed(/*fatal=*/{"p2"});
  const int64_t seq = scheduler_->LastSequence();
  std::vector<TaskKey> rerun;
  absl::Status s = scheduler_->RerunBatch({{"a", "p1"}, {"a", "p2"}},
                                          /*with_descendants=*/false, &rerun);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("a/p2 is dead: redrive it instead"));
  EXPECT_THAT(rerun, IsEmpty());
  EXPECT_EQ(scheduler_->LastSequence(), seq);
}

TEST_F(OperationsTest, RedriveBatchRedrivesEveryDeadTaskOrNone) {
  Load(kBatchSpec);
  Arrive("src", "p1");
  Arrive("src", "p2");
  Arrive("src", "p3");
  CompleteClaimed(/*fatal=*/{"p1", "p2"});
  const int64_t seq = scheduler_->LastSequence();
  EXPECT_EQ(scheduler_->RedriveBatch({{"a", "p1"}, {"a", "p3"}}).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(scheduler_->LastSequence(), seq);
  EXPECT_EQ(scheduler_->RedriveBatch({{"a", "p1"}, {"zz", "p"}}).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(scheduler_->LastSequence(), seq);
  ASSERT_TRUE(
      scheduler_->RedriveBatch({{"a", "p1"}, {"a", "p2"}, {"a", "p1"}}).ok());
  EXPECT_EQ(StateOf("a", "p1"), TaskState::kReady);
  EXPECT_EQ(StateOf("a", "p2"), TaskState::kReady);
  EXPECT_THAT(scheduler_->DeadLetter(), IsEmpty());
}

TEST_F(OperationsTest, AnArrivalLineSaysWhenItLanded) {
  Arrival a;
  a.set_event_id("e1");
  a.set_table("src");
  a.set_partition("p");
  a.mutable_at()->set_seconds(1541293200);
  ASSERT_TRUE(scheduler_->Ingest(a).ok());
  EXPECT_THAT(::landfall::testing::History(*scheduler_, 1, 1)[0].ToString(),
              HasSubstr("arrival src/p event e1 landed 2018-11-04T01:00:00Z"));
}

TEST_F(OperationsTest, ExplainNamesMissingUpstreams) {
  auto x = scheduler_->Explain({"a", "p"});
  ASSERT_TRUE(x.ok());
  EXPECT_THAT(x->ToString(), HasSubstr("waiting for upstreams: src/p"));
  EXPECT_EQ(scheduler_->Explain({"zz", "p"}).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(OperationsTest, FreshnessAndStaleness) {
  Arrive("src", "2018-11-03");
  Arrive("src", "2018-11-04");
  auto f = scheduler_->GetFreshness("src");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->latest_partition, "2018-11-04");
  ASSERT_EQ(f->partitions.size(), 2u);
  EXPECT_FALSE(f->stale);
  clock_.Advance(absl::Hours(3));
  EXPECT_TRUE(scheduler_->GetFreshness("src")->stale);
}

// A source keeps its last arrival, a derived table its last success, and a
// derived table that also had an arrival (an external build) both.
TEST_F(OperationsTest, FreshnessKeepsArrivalAndSuccessTimesOfEveryTable) {
  Arrive("src", "p");
  clock_.Advance(absl::Minutes(1));
  Arrive("a", "p");  // An external build of a/p.
  const absl::Time arrived = clock_.Now();
  clock_.Advance(absl::Minutes(1));
  // The gate lets adhoc x run once etl a has.
  for (int round = 0; round < 3; ++round) {
    for (const ClaimedTask& t : Claim()) Succeed(t);
  }
  const absl::Time succeeded = clock_.Now();

  auto src = scheduler_->GetFreshness("src");
  ASSERT_TRUE(src.ok());
  ASSERT_EQ(src->partitions.size(), 1u);
  EXPECT_EQ(src->partitions[0].last_arrival, T0());
  EXPECT_EQ(src->partitions[0].last_success, absl::InfinitePast());
  auto a = scheduler_->GetFreshness("a");
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->partitions.size(), 1u);
  EXPECT_EQ(a->partitions[0].last_arrival, arrived);
  EXPECT_EQ(a->partitions[0].last_success, succeeded);
  auto x = scheduler_->GetFreshness("x");
  ASSERT_TRUE(x.ok());
  ASSERT_EQ(x->partitions.size(), 1u);
  EXPECT_EQ(x->partitions[0].last_arrival, absl::InfinitePast());
  EXPECT_EQ(x->partitions[0].last_success, succeeded);
}

TEST_F(OperationsTest, ListCountsByStatePoolAndClass) {
  Arrive("src", "p");
  Claim(1);
  TaskList list = scheduler_->List();
  EXPECT_EQ(list.by_state["RUNNING"], 1);
  EXPECT_EQ(list.by_state["READY"], 1);
  EXPECT_EQ(list.by_class["adhoc"]["READY"], 1);
  EXPECT_EQ(list.by_pool["default"]["RUNNING"], 1);
}

TEST(BoundedHistoryTest, KeepsTheNewestEntries) {
  auto pipeline = Pipeline::FromText(R"(table { name: "s" source: true })",
                                     SpecFormat::kTextProto, "spec");
  ASSERT_TRUE(pipeline.ok());
  ManualClock clock;
  SchedulerOptions options;
  options.clock = &clock;
  options.history_capacity = 3;
  struct Recorder : Observer {
    void OnEntry(const HistoryEntry& e) override { seen.push_back(e.seq); }
    std::vector<int64_t> seen;
  } recorder;
  options.observer = &recorder;
  auto scheduler = *Scheduler::Create(*pipeline, options);
  for (int i = 1; i <= 5; ++i) {
    Arrival a;
    a.set_event_id("e" + std::to_string(i));
    a.set_table("s");
    a.set_partition("p");
    ASSERT_TRUE(scheduler->Ingest(a).ok());
  }
  EXPECT_THAT(recorder.seen, ElementsAre(1, 2, 3, 4, 5));
  std::vector<int64_t> held;
  for (const HistoryEntry& e :
       ::landfall::testing::History(*scheduler, 1, 10)) {
    held.push_back(e.seq);
  }
  EXPECT_THAT(held, ElementsAre(3, 4, 5));
  ASSERT_EQ(::landfall::testing::History(*scheduler, 4, 1).size(), 1u);
  EXPECT_EQ(::landfall::testing::History(*scheduler, 4, 1)[0].event_id, "e4");
  EXPECT_THAT(::landfall::testing::History(*scheduler, 6, 10), IsEmpty());
}

TEST_F(OperationsTest, HistoryIsGapFreeAndNamesWhatChanged) {
  Arrive("src", "p", "e1");
  auto claimed = Claim(1);
  Succeed(claimed[0]);
  auto history = ::landfall::testing::History(*scheduler_, 1, 100);
  ASSERT_GE(history.size(), 5u);
  EXPECT_EQ(history[0].kind, EntryKind::kArrival);
  EXPECT_EQ(history[0].event_id, "e1");
  EXPECT_EQ(history[1].kind, EntryKind::kReady);
  EXPECT_EQ(history[1].table, "a");
  for (size_t i = 0; i < history.size(); ++i) {
    EXPECT_EQ(history[i].seq, static_cast<int64_t>(i + 1));
  }
  EXPECT_THAT(history[3].ToString(), HasSubstr("claimed a/p attempt 1 by w"));
  EXPECT_THAT(::landfall::testing::History(*scheduler_, 4, 1),
              ::testing::SizeIs(1));
}

}  // namespace
}  // namespace landfall::testing
