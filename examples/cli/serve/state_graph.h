// The table graph coloured by live state, as Graphviz DOT: `landfall dot
// --state`, the demo's final graph and the status page's neighbourhood
// graph all draw it here.
#pragma once

#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "landfall/pipeline.h"
#include "landfall/scheduler.h"

namespace landfall::cli {

// A table's state as the graph shows it: the most urgent state of its
// tasks, in this order: dead, blocked, retrying, running, pending,
// succeeded. A source table has landed (some arrival) or has no data.
enum class GraphState {
  kDead,
  kBlocked,
  kRetrying,   // RETRY_WAIT.
  kRunning,    // RUNNING or EXPIRED.
  kPending,    // WAITING, READY or PAUSED.
  kSucceeded,  // Every task SUCCEEDED.
  kNotBuilt,   // A derived table without a task yet.
  kLanded,     // A source table with an arrival.
  kNoData,     // A source table without one.
};

// "dead", "blocked", "retrying", "running", "pending", "succeeded", "not
// built", "landed", "no data".
const char* GraphStateName(GraphState state);

// Each table's GraphState, indexed by TableId, from the scheduler's tasks
// (one List) and, for the source tables `wanted` names, whether anything
// landed (one freshness query each); other source tables read as no data.
std::vector<GraphState> TableGraphStates(
    Scheduler& scheduler,
    absl::FunctionRef<bool(TableId)> wanted = [](TableId) { return true; });

struct StateGraphOptions {
  // Draw only this table's neighbourhood: the tables within `depth` edges
  // upstream or downstream of it, nearest first, at most `max_nodes`.
  // Empty: every table (max_nodes still applies when positive).
  std::string focus;
  int depth = 2;
  // 0: no cap.
  int max_nodes = 0;
  // When set, each node links to this prefix followed by its name,
  // URL-encoded (the status page's table view).
  std::string link_prefix;
};

struct StateGraph {
  std::string dot;
  int nodes = 0;           // Tables drawn.
  bool truncated = false;  // Tables within reach were left out by the cap.
};

// The graph of `scheduler`'s pipeline (or the focus's neighbourhood) with
// nodes filled and shaped by GraphState, and a legend. NotFound (with a
// suggestion) for an unknown focus table; InvalidArgument for a negative
// depth.
absl::StatusOr<StateGraph> StateGraphDot(Scheduler& scheduler,
                                         const StateGraphOptions& options);

}  // namespace landfall::cli
