// Graph queries on hand-built DAGs.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "landfall/pipeline.h"

namespace landfall {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// a, b: sources.  c <- a.  d <- a, b.  e <- c, d.  f <- b.  g <- e.
constexpr char kDiamond[] = R"(
table { name: "a" source: true }
table { name: "b" source: true }
table { name: "c" upstream: "a" }
table { name: "d" upstream: ["b", "a"] }
table { name: "e" upstream: ["c", "d"] }
table { name: "f" upstream: "b" }
table { name: "g" upstream: "e" }
)";

class GraphTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto p = Pipeline::FromText(kDiamond, SpecFormat::kTextProto, "diamond");
    ASSERT_TRUE(p.ok()) << p.status();
    pipeline_ = *p;
  }
  TableId Id(const std::string& name) { return *pipeline_->FindTable(name); }

  std::shared_ptr<const Pipeline> pipeline_;
};

TEST_F(GraphTest, TablesGetIdsInSpecOrder) {
  for (TableId id = 0; id < pipeline_->table_count(); ++id) {
    EXPECT_EQ(pipeline_->table(id).id, id);
  }
  EXPECT_EQ(Id("a"), 0);
  EXPECT_EQ(Id("g"), 6);
  EXPECT_FALSE(pipeline_->FindTable("z").has_value());
}

TEST_F(GraphTest, UpstreamsKeepSpecOrderAndDownstreamsIdOrder) {
  EXPECT_THAT(pipeline_->Upstreams(Id("d")), ElementsAre(Id("b"), Id("a")));
  EXPECT_THAT(pipeline_->Upstreams(Id("a")), IsEmpty());
  EXPECT_THAT(pipeline_->Downstreams(Id("a")), ElementsAre(Id("c"), Id("d")));
  EXPECT_THAT(pipeline_->Downstreams(Id("b")), ElementsAre(Id("d"), Id("f")));
  EXPECT_THAT(pipeline_->Downstreams(Id("g")), IsEmpty());
}

TEST_F(GraphTest, AncestorsAndDescendantsAreTransitive) {
  EXPECT_THAT(pipeline_->Ancestors(Id("g")),
              ElementsAre(Id("a"), Id("b"), Id("c"), Id("d"), Id("e")));
  EXPECT_THAT(pipeline_->Ancestors(Id("f")), ElementsAre(Id("b")));
  EXPECT_THAT(pipeline_->Ancestors(Id("a")), IsEmpty());
  EXPECT_THAT(pipeline_->Descendants(Id("b")),
              ElementsAre(Id("d"), Id("e"), Id("f"), Id("g")));
  EXPECT_THAT(pipeline_->Descendants(Id("g")), IsEmpty());
}

TEST_F(GraphTest, TopologicalOrderPutsUpstreamsFirst) {
  auto order = pipeline_->TopologicalOrder();
  ASSERT_EQ(order.size(), 7u);
  std::vector<int> position(order.size());
  for (size_t i = 0; i < order.size(); ++i) position[order[i]] = i;
  for (TableId t = 0; t < pipeline_->table_count(); ++t) {
    for (TableId up : pipeline_->Upstreams(t)) {
      EXPECT_LT(position[up], position[t]) << up << " before " << t;
    }
  }
}

TEST_F(GraphTest, LongestDownstreamPathCountsEdges) {
  EXPECT_EQ(pipeline_->LongestDownstreamPath(Id("a")), 3);  // a c e g
  EXPECT_EQ(pipeline_->LongestDownstreamPath(Id("b")), 3);  // b d e g
  EXPECT_EQ(pipeline_->LongestDownstreamPath(Id("e")), 1);
  EXPECT_EQ(pipeline_->LongestDownstreamPath(Id("f")), 0);
  EXPECT_EQ(pipeline_->LongestDownstreamPath(Id("g")), 0);
}

TEST_F(GraphTest, SummaryCountsTheGraph) {
  const PipelineSummary s = pipeline_->Summary();
  EXPECT_EQ(s.tables, 7);
  EXPECT_EQ(s.sources, 2);
  EXPECT_EQ(s.derived, 5);
  EXPECT_EQ(s.edges, 7);
  EXPECT_EQ(s.classes, 1);
  EXPECT_EQ(s.pools, 1);
  EXPECT_EQ(s.longest_path, 3);
}

}  // namespace
}  // namespace landfall
