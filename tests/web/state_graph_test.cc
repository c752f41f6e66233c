// The state graph: each table's state told apart by colour and shape, the
// legend, the neighbourhood and its cap (on the 6,000-table bigquery-etl
// fixture when it is there).
#include "examples/cli/serve/state_graph.h"

#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "landfall/clock.h"
#include "landfall/scheduler.h"

namespace landfall::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSpec[] = R"(
name: "g"
pool { name: "wh" slots: 10 }
defaults { pool: "wh" retry { max_attempts: 2 initial_backoff: "1h" } }
table { name: "src" source: true }
table { name: "quiet" source: true }
table { name: "ok" upstream: "src" }
table { name: "runs" upstream: "src" }
table { name: "retries" upstream: "src" }
table { name: "dies" upstream: "src" }
table { name: "after_dies" upstream: "dies" }
table { name: "pends" upstream: "quiet" }
)";

class StateGraphTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pipeline = Pipeline::FromText(kSpec, SpecFormat::kTextProto, "spec");
    ASSERT_TRUE(pipeline.ok()) << pipeline.status();
    SchedulerOptions options;
    options.clock = &clock_;
    auto s = Scheduler::Create(*pipeline, options);
    ASSERT_TRUE(s.ok());
    s_ = *std::move(s);
    Arrival a;
    a.set_event_id("e1");
    a.set_table("src");
    a.set_partition("p1");
    ASSERT_TRUE(s_->Ingest(a).ok());
    auto claimed = s_->Claim("w", 10);
    ASSERT_TRUE(claimed.ok());
    for (const ClaimedTask& t : *claimed) {
      const std::string& table = t.task.table;
      if (table == "ok") {
        ASSERT_TRUE(s_->Complete(t.task, t.attempt, Outcome::SUCCEEDED).ok());
      } else if (table == "retries") {
        ASSERT_TRUE(s_->Complete(t.task, t.attempt, Outcome::RETRYABLE).ok());
      } else if (table == "dies") {
        ASSERT_TRUE(s_->Complete(t.task, t.attempt, Outcome::FATAL).ok());
      }
    }
  }

  // The DOT line of `table`'s node.
  std::string NodeOf(const std::string& dot, const std::string& table) {
    const size_t at = dot.find(absl::StrCat("  \"", table, "\" [label="));
    if (at == std::string::npos) return "";
    return dot.substr(at, dot.find('\n', at) - at);
  }

  ManualClock clock_{absl::FromUnixSeconds(1541203200)};
  std::unique_ptr<Scheduler> s_;
};

TEST_F(StateGraphTest, TellsStatesApartByShapeAsWellAsColour) {
  auto graph = StateGraphDot(*s_, StateGraphOptions());
  ASSERT_TRUE(graph.ok()) << graph.status();
  const std::string& dot = graph->dot;
  EXPECT_THAT(NodeOf(dot, "ok"), HasSubstr("succeeded\", shape=box, "
                                           "style=\"filled\""));
  EXPECT_THAT(NodeOf(dot, "runs"), HasSubstr("running\", shape=ellipse"));
  EXPECT_THAT(NodeOf(dot, "retries"), HasSubstr("retrying\", shape=hexagon"));
  EXPECT_THAT(NodeOf(dot, "dies"), HasSubstr("dead\", shape=octagon"));
  EXPECT_THAT(NodeOf(dot, "after_dies"),
              HasSubstr("blocked\", shape=invhouse"));
  EXPECT_THAT(NodeOf(dot, "pends"), HasSubstr("not built\", shape=box, "
                                              "style=\"filled,dotted\""));
  EXPECT_THAT(NodeOf(dot, "src"), HasSubstr("landed\", shape=cylinder"));
  EXPECT_THAT(NodeOf(dot, "quiet"), HasSubstr("no data\", shape=cylinder"));
  EXPECT_THAT(dot, HasSubstr("subgraph cluster_legend"));
  for (const char* state :
       {"succeeded", "running", "retrying", "dead", "blocked", "pending"}) {
    EXPECT_THAT(dot, HasSubstr(absl::StrCat("\"legend: ", state, "\" [label=\"",
                                            state, "\"")));
  }
  EXPECT_THAT(dot, HasSubstr("\"dies\" -> \"after_dies\";"));
  EXPECT_EQ(graph->nodes, 8);
  EXPECT_FALSE(graph->truncated);
}

TEST_F(StateGraphTest, TableStateIsItsMostUrgentTask) {
  Arrival a;
  a.set_event_id("e2");
  a.set_table("src");
  a.set_partition("p2");
  ASSERT_TRUE(s_->Ingest(a).ok());
  // ok/p1 succeeded, ok/p2 is ready: pending wins.
  auto states = TableGraphStates(*s_);
  EXPECT_EQ(states[*s_->pipeline().FindTable("ok")], GraphState::kPending);
  // dies/p1 dead, dies/p2 ready: dead wins.
  EXPECT_EQ(states[*s_->pipeline().FindTable("dies")], GraphState::kDead);
}

TEST_F(StateGraphTest, NeighbourhoodKeepsTheNearestTablesUpToTheCap) {
  StateGraphOptions options;
  options.focus = "dies";
  options.depth = 1;
  auto graph = StateGraphDot(*s_, options);
  ASSERT_TRUE(graph.ok());
  EXPECT_EQ(graph->nodes, 3);  // dies, src, after_dies.
  EXPECT_THAT(graph->dot, Not(HasSubstr("\"ok\" [")));
  EXPECT_THAT(graph->dot, HasSubstr("label=\"within 1 edge of dies\""));
  options.depth = 2;
  options.max_nodes = 4;
  graph = StateGraphDot(*s_, options);
  ASSERT_TRUE(graph.ok());
  EXPECT_EQ(graph->nodes, 4);
  EXPECT_TRUE(graph->truncated);
  EXPECT_THAT(graph->dot, HasSubstr("(capped at 4 tables)"));
  options.focus = "dis";
  EXPECT_THAT(StateGraphDot(*s_, options).status().message(),
              HasSubstr("unknown table \"dis\" (did you mean \"dies\"?)"));
}

// Node names and labels are quoted for DOT: a quote or backslash in a name
// cannot end the string early.
TEST(StateGraphQuotingTest, QuotesNamesForDot) {
  auto pipeline = Pipeline::FromText(R"(
pool { name: "wh" slots: 1 }
defaults { pool: "wh" }
table { name: "a\"] x [b" source: true }
table { name: "c\\" upstream: "a\"] x [b" }
)",
                                     SpecFormat::kTextProto, "spec");
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  auto s = Scheduler::Create(*pipeline);
  ASSERT_TRUE(s.ok());
  auto graph = StateGraphDot(**s, StateGraphOptions());
  ASSERT_TRUE(graph.ok());
  EXPECT_THAT(graph->dot, HasSubstr("\"a\\\"] x [b\" -> \"c\\\\\";"));
}

TEST(StateGraphFixtureTest, NeighbourhoodOnTheBigqueryEtlFixtureIsCapped) {
  const std::string path =
      LANDFALL_FIXTURES_DIR "/bigquery-etl/pipeline.textproto";
  if (!std::filesystem::exists(path)) {
    GTEST_SKIP() << "no bigquery-etl fixture at " << path;
  }
  auto pipeline = Pipeline::FromFile(path);
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  auto s = Scheduler::Create(*pipeline);
  ASSERT_TRUE(s.ok());
  // The table read by the most others: a hub, whose neighbourhood two
  // edges out is far past the cap.
  TableId busiest = 0;
  size_t most = 0;
  for (const Table& t : (*pipeline)->tables()) {
    const size_t n = (*pipeline)->Downstreams(t.id).size();
    if (n > most) {
      most = n;
      busiest = t.id;
    }
  }
  StateGraphOptions options;
  options.focus = (*pipeline)->table(busiest).name;
  options.depth = 2;
  options.max_nodes = 150;
  const absl::Time start = absl::Now();
  auto graph = StateGraphDot(**s, options);
  const absl::Duration took = absl::Now() - start;
  ASSERT_TRUE(graph.ok()) << graph.status();
  EXPECT_EQ(graph->nodes, 150);
  EXPECT_TRUE(graph->truncated);
  EXPECT_LT(took, absl::Seconds(20));  // Far above it: a bound, not a timing.
  std::cout << options.focus << ": read by " << most << " tables, graph of "
            << graph->nodes << " tables in " << took << "\n";
}

}  // namespace
}  // namespace landfall::cli
