// The status page's HTML, rendered on the server: one page with the live
// parts it refreshes (the summary and tables, the history rows) also
// served alone. Every name, partition, origin and error is escaped.
#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "landfall/history.h"
#include "landfall/scheduler.h"

namespace landfall::cli {

// What the page's URL asks for: /?table=NAME&q=FILTER&depth=N.
struct PageQuery {
  std::string table;   // The table in view; empty for none.
  std::string filter;  // Tables whose name holds it.
  int depth = 2;       // Of the graph around `table`.
};

struct PageOptions {
  // How often the page's script fetches the live parts.
  absl::Duration refresh = absl::Seconds(2);
  // Tables listed at most, and drawn at most in one graph.
  int max_table_rows = 200;
  int max_graph_nodes = 150;
};

// The whole page.
std::string RenderPage(Scheduler& scheduler, const PageQuery& query,
                       const PageOptions& options);
// The parts the script replaces every refresh: the summary, dead letter
// and table in view; and the list of tables.
std::string RenderLive(Scheduler& scheduler, const PageQuery& query,
                       const PageOptions& options);
std::string RenderTables(Scheduler& scheduler, const PageQuery& query,
                         const PageOptions& options);
// Table rows for `entries`, newest first.
std::string RenderHistoryRows(const std::vector<HistoryEntry>& entries);

}  // namespace landfall::cli
