#include <algorithm>
#include <vector>

#include "boost/graph/strong_components.hpp"
#include "lib/pipeline/table_graph.h"

namespace landfall::internal {
namespace {

// A cycle through `start` inside its component: a depth-first walk that only
// follows edges within the component must come back to `start`, because every
// vertex of a strongly connected component reaches every other.
std::vector<TableId> CycleThrough(const TableGraph& graph, TableId start,
                                  const std::vector<int>& component) {
  const int wanted = component[start];
  std::vector<TableId> path = {start};
  std::vector<bool> visited(boost::num_vertices(graph), false);
  visited[start] = true;
  // Per path element: the next out edge to look at.
  std::vector<TableGraph::out_edge_iterator> next;
  next.push_back(boost::out_edges(start, graph).first);
  while (!path.empty()) {
    const TableId at = path.back();
    const auto end = boost::out_edges(at, graph).second;
    bool advanced = false;
    while (next.back() != end) {
      const TableId to =
          static_cast<TableId>(boost::target(*next.back(), graph));
      ++next.back();
      if (component[to] != wanted) continue;
      if (to == start) return path;
      if (visited[to]) continue;
      visited[to] = true;
      path.push_back(to);
      next.push_back(boost::out_edges(to, graph).first);
      advanced = true;
      break;
    }
    if (!advanced) {
      path.pop_back();
      next.pop_back();
    }
  }
  return {};  // Unreachable for a component with a cycle.
}

}  // namespace

std::vector<std::vector<TableId>> FindCycles(const TableGraph& graph) {
  const size_t n = boost::num_vertices(graph);
  std::vector<int> component(n);
  const int count = boost::strong_components(
      graph, boost::make_iterator_property_map(
                 component.begin(), boost::get(boost::vertex_index, graph)));
  std::vector<int> size(count, 0);
  for (int c : component) ++size[c];

  std::vector<bool> reported(count, false);
  std::vector<std::vector<TableId>> cycles;
  for (TableId v = 0; v < static_cast<TableId>(n); ++v) {
    const int c = component[v];
    if (reported[c]) continue;
    const bool self_loop = boost::edge(v, v, graph).second;
    if (size[c] < 2 && !self_loop) continue;
    reported[c] = true;
    cycles.push_back(CycleThrough(graph, v, component));
  }
  return cycles;
}

}  // namespace landfall::internal
