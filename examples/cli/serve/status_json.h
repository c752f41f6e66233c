// The status page's JSON endpoints: the same views as the page, for tools.
#pragma once

#include <string>

#include "examples/cli/serve/status_history.h"
#include "examples/cli/serve/status_view.h"

namespace landfall::cli {

// /api/summary: {"pipeline","last_seq","tables","tasks","by_state":{...},
// "pools":[{"name","slots","slots_used","running","queued",
// "longest_wait_seconds"}],"classes":[{"name","by_state"}],"dead_total",
// "dead":[{task status...,"explain":[...]}]}; slots is null for no cap.
std::string SummaryJson(const StatusSummary& summary);
// /api/tables: {"matched","tables":[table row...]}.
std::string TablesJson(const TableRows& tables, const Pipeline& pipeline);
// /api/table: a table row with "tasks", "last_arrival" and "explain".
std::string TableDetailJson(const TableDetail& detail,
                            const Pipeline& pipeline);
// /api/history: {"entries":[...],"next":N}.
std::string HistoryJson(const HistoryPage& page);

}  // namespace landfall::cli
