// Scheduler::UpdatePipeline without a store: what a change of spec keeps,
// what it takes from the new spec, and what it refuses.
#include <algorithm>
#include <string>

#include "lib/testing/history.h"
#include "tests/core/scheduler_test_base.h"

namespace landfall::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kSpec[] = R"(
name: "update"
priority_class { name: "high" }
priority_class { name: "low" }
pool { name: "wh" slots: 1 }
table { name: "src" source: true }
table { name: "x" upstream: "src" priority_class: "low" pool: "wh" }
table { name: "y" upstream: "src" priority_class: "low" pool: "wh" }
table { name: "z" upstream: "src" priority_class: "low" pool: "wh" }
)";

class UpdatePipelineTest : public SchedulerTest {
 protected:
  void SetUp() override { Load(kSpec); }

  absl::Status Update(const std::string& spec) {
    auto next = Pipeline::FromText(spec, SpecFormat::kTextProto, "next");
    EXPECT_TRUE(next.ok()) << next.status();
    return next.ok() ? scheduler_->UpdatePipeline(*next) : next.status();
  }

  static std::string Replace(std::string text, const std::string& from,
                             const std::string& to) {
    text.replace(text.find(from), from.size(), to);
    return text;
  }
};

TEST_F(UpdatePipelineTest, ClassesFollowTheSpecWhereItChangesThem) {
  ASSERT_TRUE(scheduler_->SetPriorityClass("y", "high").ok());
  // The spec moves z up; y keeps the class an operator gave it.
  ASSERT_TRUE(
      Update(Replace(kSpec,
                     R"(name: "z" upstream: "src" priority_class: "low")",
                     R"(name: "z" upstream: "src" priority_class: "high")"))
          .ok());
  Arrive("src", "p");
  std::vector<std::string> order;
  for (int i = 0; i < 3; ++i) {
    std::vector<ClaimedTask> claimed = Claim(1);
    ASSERT_EQ(claimed.size(), 1u);
    order.push_back(claimed[0].task.table + ":" +
                    std::string(claimed[0].priority_class));
    Succeed(claimed[0]);
  }
  EXPECT_THAT(order, ElementsAre("y:high", "z:high", "x:low"));
}

TEST_F(UpdatePipelineTest, TheChangeIsOneEntryAndHistoryIsKept) {
  Arrive("src", "p");
  const int64_t before = scheduler_->LastSequence();
  ASSERT_TRUE(
      Update(std::string(kSpec) + R"(table { name: "w" upstream: "x" })").ok());
  EXPECT_EQ(scheduler_->LastSequence(), before + 1);
  std::vector<HistoryEntry> history =
      ::landfall::testing::History(*scheduler_, 1, SIZE_MAX);
  ASSERT_EQ(history.size(), static_cast<size_t>(before + 1));
  EXPECT_EQ(history.back().kind, EntryKind::kPipelineUpdated);
  EXPECT_EQ(history.back().detail, "1 table added (w)");
  EXPECT_THAT(history.back().ToString(),
              HasSubstr("pipeline_updated: 1 table added (w)"));
  // The new table runs once its upstream builds.
  std::vector<ClaimedTask> x = Claim(1);
  ASSERT_EQ(Names(x), std::vector<std::string>{"x/p"});
  Succeed(x[0]);
  EXPECT_EQ(StateOf("w", "p"), TaskState::kReady);
}

TEST_F(UpdatePipelineTest, AnIdenticalSpecChangesNothing) {
  Arrive("src", "p");
  const int64_t before = scheduler_->LastSequence();
  ASSERT_TRUE(Update(kSpec).ok());
  EXPECT_EQ(scheduler_->LastSequence(), before);
}

TEST_F(UpdatePipelineTest, ChangingHowATableWithStatesIsDerivedIsRefused) {
  Arrive("src", "p");
  const std::string state = scheduler_->DebugState();
  absl::Status status =
      Update(Replace(kSpec, R"(name: "x" upstream: "src")",
                     R"(name: "x" upstream: "src" trigger: ANY)"));
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(
      std::string(status.message()),
      HasSubstr("table \"x\" has task states, and its trigger changes"));
  EXPECT_EQ(scheduler_->DebugState(), state);
  EXPECT_EQ(scheduler_->UpdatePipeline(nullptr).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(UpdatePipelineTest, AnUpstreamChangingItsPartitioningIsRefused) {
  const std::string two_sources =
      std::string(kSpec) + R"(table { name: "src2" source: true }
table { name: "w" upstream: "src" upstream: "src2" trigger: ANY })";
  ASSERT_TRUE(Update(two_sources).ok());
  Arrive("src", "p");  // w has states; src2 has none.
  // An unpartitioned src2 would be a requirement of every partition of w,
  // which w's states did not count.
  absl::Status status =
      Update(Replace(two_sources, R"(name: "src2" source: true)",
                     R"(name: "src2" source: true partitioned: false)"));
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("table \"w\" has task states, and its upstreams "
                        "change from [src, src2] to [src, src2 "
                        "(unpartitioned)]"));
}

TEST_F(UpdatePipelineTest, ATableWithoutStatesMayChangeItsUpstreams) {
  Arrive("src", "p");
  EXPECT_TRUE(
      Update(std::string(kSpec) + R"(table { name: "w" upstream: "x" })").ok());
  EXPECT_TRUE(Update(std::string(kSpec) +
                     R"(table { name: "w" upstream: "x" upstream: "y" })")
                  .ok());
}

TEST_F(UpdatePipelineTest, AnAddedTableIsDueOnDataLandedBefore) {
  // Everything that is due, claimed and built one at a time.
  const auto build_all = [&] {
    std::vector<std::string> built;
    for (auto claimed = Claim(1); !claimed.empty(); claimed = Claim(1)) {
      built.push_back(Names(claimed)[0]);
      Succeed(claimed[0]);
    }
    std::sort(built.begin(), built.end());
    return built;
  };
  Arrive("src", "p");
  Arrive("src", "q");
  EXPECT_THAT(build_all(),
              ElementsAre("x/p", "x/q", "y/p", "y/q", "z/p", "z/q"));
  // DESIGN.md: due when every upstream has a version and the task never
  // succeeded. w reads only src; v also reads w, which has nothing yet;
  // u is unpartitioned and reads the latest of src.
  ASSERT_TRUE(Update(std::string(kSpec) + R"(
table { name: "w" upstream: "src" }
table { name: "v" upstream: "src" upstream: "w" }
table { name: "u" upstream: "src" partitioned: false }
)")
                  .ok());
  EXPECT_THAT(build_all(), ElementsAre("u/", "v/p", "v/q", "w/p", "w/q"));
  EXPECT_THAT(build_all(), ElementsAre());
  Arrive("src", "r");
  EXPECT_THAT(build_all(),
              ElementsAre("u/", "v/r", "w/r", "x/r", "y/r", "z/r"));
}

}  // namespace
}  // namespace landfall::testing
