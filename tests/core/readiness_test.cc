// Readiness: triggers, partition mapping, reruns while running, duplicates.
#include "lib/testing/history.h"
#include "tests/core/scheduler_test_base.h"

namespace landfall::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class ReadinessTest : public SchedulerTest {};

TEST_F(ReadinessTest, AllTriggerWaitsForEveryUpstream) {
  Load(R"(
table { name: "a" source: true }
table { name: "b" source: true }
table { name: "m" upstream: ["a", "b"] }
)");
  EXPECT_THAT(Arrive("a", "p1").made_ready, IsEmpty());
  EXPECT_THAT(Claim(), IsEmpty());
  auto result = Arrive("b", "p1");
  ASSERT_EQ(result.made_ready.size(), 1u);
  EXPECT_EQ(result.made_ready[0].table, "m");
  EXPECT_THAT(Names(Claim()), ElementsAre("m/p1"));
}

TEST_F(ReadinessTest, AnyTriggerRunsOnEitherUpstream) {
  Load(R"(
table { name: "a" source: true }
table { name: "b" source: true }
table { name: "m" upstream: ["a", "b"] trigger: ANY }
)");
  Arrive("a", "p1");
  auto claimed = Claim();
  EXPECT_THAT(Names(claimed), ElementsAre("m/p1"));
  Succeed(claimed[0]);
  Arrive("b", "p1");
  EXPECT_THAT(Names(Claim()), ElementsAre("m/p1"));
}

TEST_F(ReadinessTest, PartitionsMapByIdentity) {
  Load(R"(
table { name: "a" source: true }
table { name: "m" upstream: "a" }
)");
  Arrive("a", "2018-11-03");
  Arrive("a", "2018-11-04");
  EXPECT_THAT(Names(Claim()), ElementsAre("m/2018-11-03", "m/2018-11-04"));
}

TEST_F(ReadinessTest, UnpartitionedUpstreamIsARequirementOnly) {
  Load(R"(
table { name: "dim" source: true partitioned: false }
table { name: "fact" source: true }
table { name: "m" upstream: ["fact", "dim"] }
)");
  Arrive("fact", "p1");
  EXPECT_THAT(Claim(), IsEmpty());
  // Its first arrival releases the partitions that were waiting for it.
  Arrive("dim", "");
  auto claimed = Claim();
  EXPECT_THAT(Names(claimed), ElementsAre("m/p1"));
  Succeed(claimed[0]);
  // A new version does not re-trigger old partitions.
  Arrive("dim", "");
  EXPECT_THAT(Claim(), IsEmpty());
  Arrive("fact", "p2");
  EXPECT_THAT(Names(Claim()), ElementsAre("m/p2"));
}

TEST_F(ReadinessTest, UnpartitionedDownstreamRunsOnAnyPartition) {
  Load(R"(
table { name: "fact" source: true }
table { name: "total" upstream: "fact" partitioned: false }
)");
  Arrive("fact", "p1");
  auto claimed = Claim();
  ASSERT_THAT(Names(claimed), ElementsAre("total/"));
  EXPECT_THAT(claimed[0].inputs.size(), 1u);
  EXPECT_EQ(claimed[0].inputs[0].partition, "p1");
  Succeed(claimed[0]);
  Arrive("fact", "p2");
  EXPECT_THAT(Names(Claim()), ElementsAre("total/"));
}

TEST_F(ReadinessTest, ArrivalWhileRunningGivesExactlyOneRerun) {
  Load(R"(
table { name: "a" source: true }
table { name: "m" upstream: "a" }
)");
  Arrive("a", "p");
  auto first = Claim();
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].inputs[0].version, 1);
  Arrive("a", "p");
  Arrive("a", "p");
  EXPECT_THAT(Claim(), IsEmpty());  // Still running.
  Succeed(first[0]);
  auto second = Claim();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].attempt, 2);
  EXPECT_EQ(second[0].inputs[0].version, 3);
  Succeed(second[0]);
  EXPECT_THAT(Claim(), IsEmpty());
}

TEST_F(ReadinessTest, DuplicateArrivalChangesNothingElse) {
  Load(R"(
table { name: "a" source: true }
table { name: "m" upstream: "a" }
)");
  Arrive("a", "p", "evt");
  auto claimed = Claim();
  Succeed(claimed[0]);
  const int64_t before = scheduler_->LastSequence();
  IngestResult again = Arrive("a", "p", "evt");
  EXPECT_TRUE(again.duplicate);
  EXPECT_THAT(Claim(), IsEmpty());
  auto history = ::landfall::testing::History(*scheduler_, before + 1, 10);
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].kind, EntryKind::kDuplicate);
  EXPECT_EQ(history[0].event_id, "evt");
}

TEST_F(ReadinessTest, DuplicateWindowExpires) {
  SchedulerOptions options;
  options.dedup_retention = absl::Hours(1);
  Load(R"(table { name: "a" source: true })", options);
  Arrive("a", "p", "evt");
  Arrive("a", "p", "other");
  clock_.Advance(absl::Hours(2));
  EXPECT_FALSE(Arrive("a", "p", "evt").duplicate);
  // Forgetting is part of the history: a rebuilt scheduler (TearDown) has
  // forgotten "other" too.
}

TEST_F(ReadinessTest, ArrivalForDerivedTableIsAnExternalBuild) {
  Load(R"(
table { name: "a" source: true }
table { name: "m" upstream: "a" }
table { name: "n" upstream: "m" }
)");
  Arrive("m", "p");
  EXPECT_THAT(Names(Claim()), ElementsAre("n/p"));
}

TEST_F(ReadinessTest, BadArrivalsAreRefusedAndChangeNothing) {
  Load(R"(
table { name: "a" source: true }
table { name: "d" source: true partitioned: false }
)");
  Arrival a;
  a.set_table("a");
  a.set_partition("p");
  EXPECT_EQ(scheduler_->Ingest(a).status().code(),
            absl::StatusCode::kInvalidArgument);  // No event id.
  a.set_event_id("e");
  a.set_table("zz");
  EXPECT_EQ(scheduler_->Ingest(a).status().code(),
            absl::StatusCode::kInvalidArgument);
  a.set_table("d");
  auto bad = scheduler_->Ingest(a);
  EXPECT_THAT(std::string(bad.status().message()),
              ::testing::HasSubstr("unpartitioned"));
  a.set_table("a");
  a.set_partition("");
  EXPECT_FALSE(scheduler_->Ingest(a).ok());
  a.set_partition("p");
  a.mutable_at()->set_seconds(253402214400);  // 9999-12-31
  EXPECT_THAT(std::string(scheduler_->Ingest(a).status().message()),
              ::testing::HasSubstr("outside 1900 to 2200"));
  a.clear_at();
  (*a.mutable_attributes())["size\xff"] = "1";
  EXPECT_THAT(std::string(scheduler_->Ingest(a).status().message()),
              ::testing::HasSubstr("attribute name is not UTF-8"));
  a.clear_attributes();
  a.set_partition("");
  // A batch with one bad arrival applies none of them.
  Arrival good;
  good.set_event_id("g");
  good.set_table("a");
  good.set_partition("p");
  std::vector<Arrival> batch = {good, a};
  EXPECT_FALSE(scheduler_->IngestBatch(batch).ok());
  EXPECT_EQ(scheduler_->LastSequence(), 0);
}

// The history's ready entries name what made each task due.
TEST_F(ReadinessTest, ReadyEntriesNameWhatMadeTheTaskDue) {
  Load(R"(
table { name: "a" source: true }
table { name: "dim" source: true partitioned: false }
table { name: "m" upstream: ["a", "dim"] }
table { name: "n" upstream: "m" }
)");
  Arrive("a", "p1");
  Arrive("a", "p1");
  Arrive("dim", "");  // The requirement that was missing.
  ClaimedTask m = Claim()[0];
  Succeed(m);
  std::vector<std::string> ready;
  for (const HistoryEntry& e :
       ::landfall::testing::History(*scheduler_, 1, SIZE_MAX)) {
    if (e.kind == EntryKind::kReady) ready.push_back(e.ToString());
  }
  EXPECT_THAT(
      ready,
      ElementsAre(HasSubstr("ready m/p1: upstream dim reached version 1"),
                  HasSubstr("ready n/p1: upstream m/p1 reached "
                            "version 1")));
}

TEST_F(ReadinessTest, ReadyEntriesOfRerunsAndRedrivesSaySo) {
  Load(R"(
defaults { retry { max_attempts: 1 } }
table { name: "a" source: true }
table { name: "m" upstream: "a" }
)");
  Arrive("a", "p1");
  Succeed(Claim()[0]);
  ASSERT_TRUE(scheduler_->Rerun({"m", "p1"}, false).ok());
  ClaimedTask again = Claim()[0];
  ASSERT_TRUE(
      scheduler_->Complete(again.task, again.attempt, Outcome::FATAL).ok());
  ASSERT_TRUE(scheduler_->Redrive({"m", "p1"}).ok());
  std::vector<std::string> details;
  for (const HistoryEntry& e :
       ::landfall::testing::History(*scheduler_, 1, SIZE_MAX)) {
    if (e.kind == EntryKind::kReady) details.push_back(e.detail);
  }
  EXPECT_THAT(details, ElementsAre("upstream a/p1 reached version 1",
                                   "rerun requested", "redriven"));
}

TEST_F(ReadinessTest, AnUnknownTableSuggestsTheCloseName) {
  Load(R"(
table { name: "jalan.reservations" source: true }
table { name: "jalan.users" source: true }
)");
  absl::Status status = TryArrive("jalan.reservation", "p").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(status.message()),
            "event e1: unknown table \"jalan.reservation\" (did you mean "
            "\"jalan.reservations\"?)");
  // Nothing close: no suggestion.
  EXPECT_EQ(
      std::string(TryArrive("hotpepper.shops", "p", "e1").status().message()),
      "event e1: unknown table \"hotpepper.shops\"");
  // Every call naming a table says the same.
  EXPECT_THAT(
      std::string(scheduler_->Explain({"jalan.user", "p"}).status().message()),
      ::testing::EndsWith("(did you mean \"jalan.users\"?)"));
}

}  // namespace
}  // namespace landfall::testing
