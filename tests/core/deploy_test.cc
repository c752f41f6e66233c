// Scheduler::Deploy: changing how tables with states are derived, by
// adopting what was built or rebuilding it, removing tables by force, and
// dry runs. Every test's history replays to the same state (the base's
// TearDown).
#include <string>

#include "lib/testing/history.h"
#include "tests/core/scheduler_test_base.h"

namespace landfall::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kSpec[] = R"(
table { name: "a" source: true }
table { name: "b" source: true }
table { name: "m" upstream: "a" }
table { name: "n" upstream: "m" }
)";
// m joins b.
constexpr char kJoined[] = R"(
table { name: "a" source: true }
table { name: "b" source: true }
table { name: "m" upstream: ["a", "b"] }
table { name: "n" upstream: "m" }
)";

class DeployTest : public SchedulerTest {
 protected:
  void SetUp() override {
    Load(kSpec);
    // Two days built all the way down.
    Arrive("a", "p1");
    Arrive("a", "p2");
    Arrive("b", "p1");
    for (int i = 0; i < 2; ++i) {
      for (const ClaimedTask& task : Claim()) Succeed(task);
    }
    ASSERT_THAT(Claim(), IsEmpty());
  }

  absl::StatusOr<DeployPlan> Deploy(const std::string& spec,
                                    const DeployOptions& options) {
    auto next = Pipeline::FromText(spec, SpecFormat::kTextProto, "next");
    EXPECT_TRUE(next.ok()) << next.status();
    if (!next.ok()) return next.status();
    return scheduler_->Deploy(*next, options);
  }

  static std::vector<std::string> Keys(const std::vector<TaskKey>& tasks) {
    std::vector<std::string> keys;
    for (const TaskKey& t : tasks) keys.push_back(t.table + "/" + t.partition);
    return keys;
  }

  // The entries after `seq`, as kind names.
  std::vector<std::string> KindsAfter(int64_t seq) {
    std::vector<std::string> kinds;
    for (const HistoryEntry& e :
         ::landfall::testing::History(*scheduler_, seq + 1, SIZE_MAX)) {
      kinds.push_back(EntryKindName(e.kind));
    }
    return kinds;
  }
};

TEST_F(DeployTest, AChangedJoinNeedsAChoiceAndTheRefusalChangesNothing) {
  const std::string state = scheduler_->DebugState();
  absl::StatusOr<DeployPlan> plan = Deploy(kJoined, {});
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(plan.status().message()),
              HasSubstr("table \"m\" has task states, and its upstreams "
                        "change from [a] to [a, b]: adopt it (keep what was "
                        "built) or rebuild it"));
  EXPECT_EQ(scheduler_->DebugState(), state);
}

TEST_F(DeployTest, AdoptingKeepsWhatWasBuiltAndRebuildsNothing) {
  const int64_t seq = scheduler_->LastSequence();
  DeployOptions adopt;
  adopt.adopt = {"m"};
  absl::StatusOr<DeployPlan> plan = Deploy(kJoined, adopt);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_TRUE(plan->changed);
  EXPECT_THAT(plan->made_ready, IsEmpty());
  EXPECT_THAT(plan->changes,
              ElementsAre("table m changed: its upstreams change from [a] to "
                          "[a, b] (adopted: what was built is kept, current "
                          "inputs count as consumed)"));
  // One entry, naming what it adopted.
  auto entries = ::landfall::testing::History(*scheduler_, seq + 1, SIZE_MAX);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].kind, EntryKind::kPipelineUpdated);
  EXPECT_THAT(entries[0].adopted, ElementsAre("m"));
  EXPECT_EQ(StateOf("m", "p1"), TaskState::kSucceeded);
  EXPECT_EQ(StateOf("m", "p2"), TaskState::kSucceeded);
  // New data on the new input is a trigger as always.
  Arrive("b", "p2");
  EXPECT_THAT(Names(Claim()), ElementsAre("m/p2"));
  Arrive("b", "p1");
  EXPECT_THAT(Names(Claim()), ElementsAre("m/p1"));
}

TEST_F(DeployTest, RebuildingMakesEveryPartitionDue) {
  const int64_t seq = scheduler_->LastSequence();
  DeployOptions rebuild;
  rebuild.rebuild = {"m"};
  absl::StatusOr<DeployPlan> plan = Deploy(kJoined, rebuild);
  ASSERT_TRUE(plan.ok()) << plan.status();
  // m/p2 is forced too, but waits for b/p2 like any build of it.
  EXPECT_THAT(Keys(plan->made_ready), ElementsAre("m/p1"));
  EXPECT_THAT(KindsAfter(seq), ElementsAre("pipeline_updated", "ready"));
  EXPECT_THAT(::landfall::testing::History(*scheduler_, seq + 2, 1)[0].detail,
              "rerun requested");
  EXPECT_EQ(StateOf("m", "p2"), TaskState::kSucceeded);
  Arrive("b", "p2");
  EXPECT_THAT(Names(Claim()), ElementsAre("m/p1", "m/p2"));
}

TEST_F(DeployTest, RebuildingATableWhoseShapeStaysRebuildsIt) {
  DeployOptions rebuild;
  rebuild.rebuild = {"n"};
  absl::StatusOr<DeployPlan> plan =
      Deploy(std::string(kSpec) + "\n# new SQL\n", rebuild);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(Keys(plan->made_ready), ElementsAre("n/p1", "n/p2"));
  EXPECT_THAT(plan->changes,
              ElementsAre("table n changed (rebuilt: every partition is due)"));
}

TEST_F(DeployTest, ADryRunReportsThePlanAndChangesNothing) {
  const std::string state = scheduler_->DebugState();
  const int64_t seq = scheduler_->LastSequence();
  DeployOptions dry;
  dry.rebuild = {"m"};
  dry.dry_run = true;
  absl::StatusOr<DeployPlan> plan = Deploy(
      std::string(kJoined) + R"(table { name: "o" upstream: "m" })", dry);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(Keys(plan->made_ready), ElementsAre("m/p1", "o/p1", "o/p2"));
  EXPECT_EQ(plan->summary, "1 table added (o); 1 table changed (m)");
  EXPECT_EQ(scheduler_->DebugState(), state);
  EXPECT_EQ(scheduler_->LastSequence(), seq);
  EXPECT_FALSE(scheduler_->pipeline().FindTable("o").has_value());
}

TEST_F(DeployTest, RemovingATableWithStatesNeedsForce) {
  const std::string without_n = R"(
table { name: "a" source: true }
table { name: "b" source: true }
table { name: "m" upstream: "a" }
)";
  absl::StatusOr<DeployPlan> plan = Deploy(without_n, {});
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(plan.status().message()),
              HasSubstr("table \"n\" is removed and has task states: force "
                        "the removal to drop them"));
  DeployOptions force;
  force.force = true;
  plan = Deploy(without_n, force);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(plan->changes, ElementsAre("table n removed"));
}

TEST_F(DeployTest, ChoicesNamingNoDerivedTableAreRefused) {
  DeployOptions bad;
  bad.adopt = {"zz", "a", "m"};
  bad.rebuild = {"m"};
  absl::StatusOr<DeployPlan> plan = Deploy(kJoined, bad);
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(plan.status().message(),
            "cannot adopt table \"zz\": the pipeline has no such table; "
            "cannot adopt table \"a\": it is a source, built by no task; "
            "table \"m\" is both adopted and rebuilt: choose one");
}

TEST_F(DeployTest, APartitioningChangeIsRefusedWhateverTheChoice) {
  DeployOptions adopt;
  adopt.adopt = {"n"};
  absl::StatusOr<DeployPlan> plan = Deploy(
      R"(
table { name: "a" source: true }
table { name: "b" source: true }
table { name: "m" upstream: "a" }
table { name: "n" upstream: "m" partitioned: false }
)",
      adopt);
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(plan.status().message()),
              HasSubstr("table \"n\" has task states, and it stops being "
                        "partitioned: remove it first, then add it back"));
}

constexpr char kUndated[] = R"(
table { name: "a" source: true }
table { name: "m" upstream: "a" }
)";
constexpr char kDated[] = R"(
table { name: "a" source: true partition_format: "%Y-%m-%d" }
table { name: "m" upstream: "a" partition_format: "%Y-%m-%d" }
)";

TEST_F(DeployTest, AFormatEveryPartitionMatchesIsTakenOver) {
  Load(kUndated);
  Arrive("a", "2026-12-01");
  for (const ClaimedTask& task : Claim()) Succeed(task);
  Arrive("a", "2026-12-02");
  absl::StatusOr<DeployPlan> plan = Deploy(kDated, {});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(plan->changes,
              ElementsAre("table a changed: its partition_format changes "
                          "from \"\" to \"%Y-%m-%d\"",
                          "table m changed: its partition_format changes "
                          "from \"\" to \"%Y-%m-%d\""));
  EXPECT_EQ(StateOf("m", "2026-12-01"), TaskState::kSucceeded);
  EXPECT_EQ(StateOf("m", "2026-12-02"), TaskState::kReady);
  // The format holds from here on.
  EXPECT_EQ(TryArrive("a", "backfill").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(DeployTest, AFormatAPartitionDoesNotMatchIsRefused) {
  Load(kUndated);
  Arrive("a", "2026-12-01");
  Arrive("a", "backfill");
  const std::string state = scheduler_->DebugState();
  absl::StatusOr<DeployPlan> plan = Deploy(kDated, {});
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(plan.status().message()),
              HasSubstr("table \"a\" has task states, and its "
                        "partition_format changes from \"\" to "
                        "\"%Y-%m-%d\", which partition \"backfill\" does "
                        "not match: remove it first, then add it back"));
  EXPECT_EQ(scheduler_->DebugState(), state);
}

TEST_F(DeployTest, AnotherPipelineIsRefusedUnlessForced) {
  Load(R"(name: "sales"
          table { name: "src" source: true }
          table { name: "d" upstream: "src" })");
  constexpr char kOther[] = R"(name: "hr"
                               table { name: "people" source: true }
                               table { name: "teams" upstream: "people" })";
  // Refused even before any task exists: it is not a change of this one.
  EXPECT_EQ(Deploy(kOther, DeployOptions()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  Arrive("src", "p");
  ASSERT_EQ(StateOf("d", "p"), TaskState::kReady);
  const int64_t seq = scheduler_->LastSequence();
  absl::StatusOr<DeployPlan> plan = Deploy(kOther, DeployOptions());
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(plan.status().message(),
              HasSubstr("pipeline \"hr\" is not a change of the running "
                        "pipeline \"sales\""));
  EXPECT_EQ(scheduler_
                ->UpdatePipeline(
                    *Pipeline::FromText(kOther, SpecFormat::kTextProto, "o"))
                .code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(scheduler_->LastSequence(), seq);
  EXPECT_EQ(scheduler_->pipeline().name(), "sales");
  EXPECT_EQ(StateOf("d", "p"), TaskState::kReady);

  DeployOptions force;
  force.force = true;
  ASSERT_TRUE(Deploy(kOther, force).ok());
  EXPECT_EQ(scheduler_->pipeline().name(), "hr");
}

TEST_F(DeployTest, ARenameOrASharedTableIsAChange) {
  Load(R"(name: "sales" table { name: "src" source: true })");
  // Another name, one table in common.
  ASSERT_TRUE(Deploy(R"(name: "revenue"
                        table { name: "src" source: true }
                        table { name: "d" upstream: "src" })",
                     DeployOptions())
                  .ok());
  // The same name, no table in common.
  ASSERT_TRUE(Deploy(R"(name: "revenue" table { name: "x" source: true })",
                     DeployOptions())
                  .ok());
}

// Sources a and b, x reading a (it dies), m as `m` says, n reading m.
std::string WithM(const std::string& m) {
  return R"(
table { name: "a" source: true }
table { name: "b" source: true }
table { name: "x" upstream: "a" }
table { name: "n" upstream: "m" }
)" + m;
}
// m reads x and a healthy source, with trigger ANY or ALL; or b alone.
constexpr char kMAnyOverDead[] =
    R"(table { name: "m" upstream: ["x", "b"] trigger: ANY })";
constexpr char kMAllOverDead[] =
    R"(table { name: "m" upstream: ["x", "b"] trigger: ALL })";
constexpr char kMBesideDead[] = R"(table { name: "m" upstream: "b" })";

// Deploys that change what a task needs: DESIGN.md's BLOCKED rule holds on
// the new upstreams and triggers, transitively, in both directions.
class DeployBlockingTest : public SchedulerTest {
 protected:
  // x/p dead; m/p built (on b) and n/p due.
  void Start(const std::string& m) {
    Load(WithM(m));
    Arrive("a", "p");
    Arrive("b", "p");
    for (const ClaimedTask& task : Claim()) {
      ASSERT_TRUE(scheduler_
                      ->Complete(task.task, task.attempt,
                                 task.task.table == "x" ? Outcome::FATAL
                                                        : Outcome::SUCCEEDED,
                                 "bad sql")
                      .ok());
    }
    ASSERT_EQ(StateOf("x", "p"), TaskState::kDead);
    ASSERT_EQ(StateOf("n", "p"), TaskState::kReady);
  }

  void Deploy(const std::string& m) {
    auto next = Pipeline::FromText(WithM(m), SpecFormat::kTextProto, "next");
    ASSERT_TRUE(next.ok()) << next.status();
    DeployOptions options;
    options.adopt = {"m"};
    auto plan = scheduler_->Deploy(*next, options);
    ASSERT_TRUE(plan.ok()) << plan.status();
  }
};

TEST_F(DeployBlockingTest, AnyToAllOverADeadUpstreamBlocksTheTaskAndBelow) {
  Start(kMAnyOverDead);
  Deploy(kMAllOverDead);
  EXPECT_EQ(StateOf("m", "p"), TaskState::kBlocked);
  EXPECT_EQ(StateOf("n", "p"), TaskState::kBlocked);
  EXPECT_THAT(Claim(), IsEmpty());
  EXPECT_THAT(scheduler_->Explain({"n", "p"})->ToString(),
              HasSubstr("blocked: needs"));
}

TEST_F(DeployBlockingTest,
       AllToAnyWithAHealthyUpstreamUnblocksTheTaskAndBelow) {
  Start(kMAnyOverDead);
  Deploy(kMAllOverDead);
  Deploy(kMAnyOverDead);
  EXPECT_EQ(StateOf("m", "p"), TaskState::kSucceeded);
  EXPECT_THAT(Names(Claim()), ElementsAre("n/p"));
}

TEST_F(DeployBlockingTest, AnEdgeFromADeadTableBlocksTheTaskAndBelow) {
  Start(kMBesideDead);
  Deploy(kMAllOverDead);
  EXPECT_EQ(StateOf("m", "p"), TaskState::kBlocked);
  EXPECT_EQ(StateOf("n", "p"), TaskState::kBlocked);
  EXPECT_THAT(Claim(), IsEmpty());
  // Redriving the dead task releases both.
  ASSERT_TRUE(scheduler_->Redrive(TaskKey{"x", "p"}).ok());
  EXPECT_EQ(StateOf("m", "p"), TaskState::kSucceeded);
  EXPECT_EQ(StateOf("n", "p"), TaskState::kReady);
}

TEST_F(DeployBlockingTest, AnEdgeFromADeadTableBlocksPartitionsNotBuiltYet) {
  Start(kMBesideDead);
  Arrive("a", "q");
  for (const ClaimedTask& task : Claim()) {
    ASSERT_TRUE(scheduler_
                    ->Complete(task.task, task.attempt,
                               task.task.table == "x" ? Outcome::FATAL
                                                      : Outcome::SUCCEEDED)
                    .ok());
  }
  ASSERT_EQ(StateOf("x", "q"), TaskState::kDead);
  Deploy(kMAllOverDead);
  // m/q never had a task: it is named blocked, as a dead upstream's
  // readers are.
  EXPECT_EQ(StateOf("m", "q"), TaskState::kBlocked);
  EXPECT_EQ(StateOf("n", "q"), TaskState::kBlocked);
}

}  // namespace
}  // namespace landfall::testing
