#include "examples/cli/serve/state_graph.h"

#include <deque>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "examples/cli/serve/html.h"
#include "examples/cli/state_file.h"
#include "lib/pipeline/dot_quote.h"

namespace landfall::cli {
namespace {

using internal::DotEscaped;
using internal::DotQuoted;

// How each state is drawn: told apart by shape as well as by colour.
struct Look {
  const char* fill;
  const char* shape;
  const char* style;
};

Look LookOf(GraphState state) {
  switch (state) {
    case GraphState::kDead:
      return {"#f4a6a6", "octagon", "filled,bold"};
    case GraphState::kBlocked:
      return {"#d9d9d9", "invhouse", "filled,dashed"};
    case GraphState::kRetrying:
      return {"#fdc086", "hexagon", "filled"};
    case GraphState::kRunning:
      return {"#9ecae1", "ellipse", "filled"};
    case GraphState::kPending:
      return {"#ffffcc", "box", "filled,rounded"};
    case GraphState::kSucceeded:
      return {"#b8e186", "box", "filled"};
    case GraphState::kNotBuilt:
      return {"#ffffff", "box", "filled,dotted"};
    case GraphState::kLanded:
      return {"#b8e186", "cylinder", "filled"};
    case GraphState::kNoData:
      return {"#ffffff", "cylinder", "filled,dotted"};
  }
  return {"#ffffff", "box", "filled"};
}

// Ranks for "the most urgent state": lower wins.
int Urgency(TaskState state) {
  switch (state) {
    case TaskState::kDead:
      return 0;
    case TaskState::kBlocked:
      return 1;
    case TaskState::kRetryWait:
      return 2;
    case TaskState::kRunning:
    case TaskState::kExpired:
      return 3;
    case TaskState::kWaiting:
    case TaskState::kReady:
    case TaskState::kPaused:
      return 4;
    case TaskState::kSucceeded:
      return 5;
  }
  return 5;
}

constexpr GraphState kByUrgency[] = {
    GraphState::kDead,    GraphState::kBlocked, GraphState::kRetrying,
    GraphState::kRunning, GraphState::kPending, GraphState::kSucceeded};

std::string NodeLine(const Table& t, GraphState state,
                     const StateGraphOptions& options) {
  const Look look = LookOf(state);
  // The label's "\n" is DOT's line break escape, so it is not escaped.
  std::string line = absl::StrCat(
      "  ", DotQuoted(t.name), " [label=\"", DotEscaped(t.name), "\\n",
      GraphStateName(state), "\", shape=", look.shape, ", style=\"", look.style,
      "\", fillcolor=\"", look.fill, "\"");
  if (t.name == options.focus) line += ", penwidth=3";
  if (!options.link_prefix.empty()) {
    absl::StrAppend(
        &line, ", URL=", DotQuoted(options.link_prefix + UrlEncoded(t.name)),
        ", target=\"_top\"");
  }
  return line + "];\n";
}

std::string Legend() {
  std::string out =
      "  subgraph cluster_legend {\n    label=\"legend\";\n"
      "    fontname=Helvetica;\n";
  const GraphState states[] = {
      GraphState::kSucceeded, GraphState::kRunning, GraphState::kRetrying,
      GraphState::kDead,      GraphState::kBlocked, GraphState::kPending,
      GraphState::kNotBuilt,  GraphState::kLanded,  GraphState::kNoData};
  std::string previous;
  for (GraphState s : states) {
    const Look look = LookOf(s);
    const std::string id = absl::StrCat("legend: ", GraphStateName(s));
    absl::StrAppend(&out, "    ", DotQuoted(id),
                    " [label=", DotQuoted(GraphStateName(s)),
                    ", shape=", look.shape, ", style=\"", look.style,
                    "\", fillcolor=\"", look.fill, "\"];\n");
    // Invisible edges keep the legend in one column.
    if (!previous.empty()) {
      absl::StrAppend(&out, "    ", DotQuoted(previous), " -> ", DotQuoted(id),
                      " [style=invis];\n");
    }
    previous = id;
  }
  return out + "  }\n";
}

}  // namespace

const char* GraphStateName(GraphState state) {
  switch (state) {
    case GraphState::kDead:
      return "dead";
    case GraphState::kBlocked:
      return "blocked";
    case GraphState::kRetrying:
      return "retrying";
    case GraphState::kRunning:
      return "running";
    case GraphState::kPending:
      return "pending";
    case GraphState::kSucceeded:
      return "succeeded";
    case GraphState::kNotBuilt:
      return "not built";
    case GraphState::kLanded:
      return "landed";
    case GraphState::kNoData:
      return "no data";
  }
  return "";
}

std::vector<GraphState> TableGraphStates(
    Scheduler& scheduler, absl::FunctionRef<bool(TableId)> wanted) {
  const Pipeline& pipeline = scheduler.pipeline();
  // Ranks 0..5 of kByUrgency; 6 is no task yet.
  std::vector<int> urgency(pipeline.table_count(), 6);
  for (const TaskStatus& t : scheduler.List().tasks) {
    std::optional<TableId> id = pipeline.FindTable(t.task.table);
    if (id && Urgency(t.state) < urgency[*id]) urgency[*id] = Urgency(t.state);
  }
  std::vector<GraphState> states(pipeline.table_count());
  for (const Table& t : pipeline.tables()) {
    if (t.source && !wanted(t.id)) {
      states[t.id] = GraphState::kNoData;
    } else if (t.source) {
      absl::StatusOr<Freshness> f = scheduler.GetFreshness(t.name);
      const bool landed = f.ok() && f->last_update != absl::InfinitePast();
      states[t.id] = landed ? GraphState::kLanded : GraphState::kNoData;
    } else {
      states[t.id] =
          urgency[t.id] < 6 ? kByUrgency[urgency[t.id]] : GraphState::kNotBuilt;
    }
  }
  return states;
}

absl::StatusOr<StateGraph> StateGraphDot(Scheduler& scheduler,
                                         const StateGraphOptions& options) {
  const Pipeline& pipeline = scheduler.pipeline();
  if (options.depth < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("depth must not be negative (got ", options.depth, ")"));
  }
  const size_t cap = options.max_nodes > 0
                         ? static_cast<size_t>(options.max_nodes)
                         : static_cast<size_t>(pipeline.table_count());
  StateGraph graph;
  std::vector<bool> drawn(pipeline.table_count(), false);
  std::vector<TableId> order;
  if (options.focus.empty()) {
    for (TableId id = 0; id < pipeline.table_count(); ++id) {
      if (order.size() == cap) {
        graph.truncated = true;
        break;
      }
      drawn[id] = true;
      order.push_back(id);
    }
  } else {
    std::optional<TableId> focus = pipeline.FindTable(options.focus);
    if (!focus) {
      std::vector<std::string> names;
      for (const Table& t : pipeline.tables()) names.push_back(t.name);
      return UnknownName("table", options.focus, names);
    }
    // Breadth first both ways, so the nearest tables are the ones kept.
    std::deque<std::pair<TableId, int>> queue = {{*focus, 0}};
    drawn[*focus] = true;
    order.push_back(*focus);
    while (!queue.empty()) {
      const auto [id, distance] = queue.front();
      queue.pop_front();
      if (distance == options.depth) continue;
      for (absl::Span<const TableId> next :
           {pipeline.Upstreams(id), pipeline.Downstreams(id)}) {
        for (TableId n : next) {
          if (drawn[n]) continue;
          if (order.size() == cap) {
            graph.truncated = true;
            continue;
          }
          drawn[n] = true;
          order.push_back(n);
          queue.push_back({n, distance + 1});
        }
      }
    }
  }
  const std::vector<GraphState> states =
      TableGraphStates(scheduler, [&drawn](TableId id) { return drawn[id]; });
  std::string& dot = graph.dot;
  dot = absl::StrCat("digraph ", DotQuoted(pipeline.name()),
                     " {\n  rankdir=LR;\n  node [fontname=Helvetica];\n");
  if (!options.focus.empty() || graph.truncated) {
    std::string label =
        options.focus.empty()
            ? absl::StrCat("the first ", order.size(), " tables")
            : absl::StrCat("within ", options.depth,
                           options.depth == 1 ? " edge of " : " edges of ",
                           options.focus);
    if (graph.truncated) {
      absl::StrAppend(&label, " (capped at ", order.size(), " tables)");
    }
    absl::StrAppend(&dot, "  label=", DotQuoted(label),
                    ";\n  labelloc=t;\n  fontname=Helvetica;\n");
  }
  for (TableId id : order) {
    dot += NodeLine(pipeline.table(id), states[id], options);
  }
  for (TableId id : order) {
    for (TableId up : pipeline.Upstreams(id)) {
      if (!drawn[up]) continue;
      absl::StrAppend(&dot, "  ", DotQuoted(pipeline.table(up).name), " -> ",
                      DotQuoted(pipeline.table(id).name), ";\n");
    }
  }
  dot += Legend();
  dot += "}\n";
  graph.nodes = static_cast<int>(order.size());
  return graph;
}

}  // namespace landfall::cli
