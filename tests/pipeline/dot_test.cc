// DOT export, parsed back with Boost's Graphviz reader.
#include <map>
#include <string>

#include "boost/graph/adjacency_list.hpp"
#include "boost/graph/graphviz.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "landfall/pipeline.h"
#include "lib/testing/synthetic_pipeline.h"

namespace landfall {
namespace {

struct DotNode {
  std::string name, label, shape, fillcolor;
};
using DotGraph =
    boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, DotNode>;

DotGraph ParseDot(const std::string& dot) {
  DotGraph graph;
  boost::dynamic_properties properties(boost::ignore_other_properties);
  properties.property("node_id", boost::get(&DotNode::name, graph));
  properties.property("label", boost::get(&DotNode::label, graph));
  properties.property("shape", boost::get(&DotNode::shape, graph));
  properties.property("fillcolor", boost::get(&DotNode::fillcolor, graph));
  EXPECT_TRUE(boost::read_graphviz(dot, graph, properties));
  return graph;
}

TEST(DotTest, HasOneNodePerTableAndOneEdgePerUpstream) {
  testing::LayeredPipelineOptions options;
  options.tables = 300;
  options.width = 50;
  options.min_fan_in = 1;
  options.max_fan_in = 5;
  options.priority_classes = 3;
  auto p = Pipeline::FromSpec(testing::MakeLayeredPipelineSpec(options));
  ASSERT_TRUE(p.ok()) << p.status();
  const DotGraph graph = ParseDot((*p)->ToDot());
  EXPECT_EQ(boost::num_vertices(graph), 300u);
  EXPECT_EQ(static_cast<int>(boost::num_edges(graph)), (*p)->Summary().edges);
}

TEST(DotTest, MarksSourcesPoolsAndClasses) {
  auto p = Pipeline::FromText(R"(
name: "shop \"main\""
priority_class { name: "etl" }
priority_class { name: "adhoc" }
pool { name: "redshift" slots: 5 }
table { name: "lake.orders" source: true }
table { name: "dwh.orders" upstream: "lake.orders" pool: "redshift" }
table { name: "mart.\"q\"" upstream: "dwh.orders" priority_class: "adhoc" }
)",
                              SpecFormat::kTextProto, "spec");
  ASSERT_TRUE(p.ok()) << p.status();
  const DotGraph graph = ParseDot((*p)->ToDot());
  std::map<std::string, DotNode> nodes;
  for (auto v : boost::make_iterator_range(boost::vertices(graph))) {
    nodes[graph[v].name] = graph[v];
  }
  ASSERT_EQ(nodes.size(), 3u);
  EXPECT_EQ(nodes["lake.orders"].shape, "cylinder");
  EXPECT_EQ(nodes["dwh.orders"].shape, "box");
  EXPECT_EQ(nodes["dwh.orders"].label, "dwh.orders\\nredshift");
  EXPECT_EQ(nodes["mart.\"q\""].label, "mart.\"q\"\\ndefault");
  EXPECT_NE(nodes["dwh.orders"].fillcolor, nodes["mart.\"q\""].fillcolor);
  ASSERT_EQ(boost::num_edges(graph), 2u);
  for (auto e : boost::make_iterator_range(boost::edges(graph))) {
    const std::string from = graph[boost::source(e, graph)].name;
    const std::string to = graph[boost::target(e, graph)].name;
    EXPECT_TRUE((from == "lake.orders" && to == "dwh.orders") ||
                (from == "dwh.orders" && to == "mart.\"q\""))
        << from << " -> " << to;
  }
}

TEST(DotTest, QuotesAndBackslashesInNamesAreEscaped) {
  auto pipeline = Pipeline::FromText(
      "name: \"a \\\"b\\\"\"\n"
      "table { name: \"s\\\\\" source: true }\n"
      "table { name: \"d \\\"x\\\"\" upstream: \"s\\\\\" }\n",
      SpecFormat::kTextProto, "p.textproto");
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  const std::string dot = (*pipeline)->ToDot();
  EXPECT_THAT(dot, ::testing::HasSubstr("digraph \"a \\\"b\\\"\" {"));
  EXPECT_THAT(dot, ::testing::HasSubstr("\"s\\\\\" -> \"d \\\"x\\\"\";"));
  const DotGraph graph = ParseDot(dot);
  ASSERT_EQ(boost::num_vertices(graph), 2u);
}

}  // namespace
}  // namespace landfall
