// The table DAG as a Boost.Graph adjacency list: vertex i is table i, an edge
// runs from an upstream to its downstream.
#pragma once

#include <vector>

#include "boost/graph/adjacency_list.hpp"
#include "landfall/pipeline.h"

namespace landfall::internal {

using TableGraph =
    boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS,
                          boost::no_property, boost::no_property,
                          boost::no_property, boost::vecS>;

// One cycle per strongly connected component that has one (including a table
// listed as its own upstream), as the tables in edge order, starting at the
// table with the lowest id; the list is ordered by that first id.
std::vector<std::vector<TableId>> FindCycles(const TableGraph& graph);

}  // namespace landfall::internal
