#include "examples/cli/serve/status_history.h"

#include <algorithm>
#include <string>
#include <vector>

namespace landfall::cli {

absl::StatusOr<HistoryPage> ReadHistorySince(Scheduler& scheduler,
                                             int64_t since,
                                             const std::string& table,
                                             int max) {
  HistoryPage page;
  page.next_seq = std::max<int64_t>(since, 1);
  absl::StatusOr<std::vector<HistoryEntry>> read =
      scheduler.ReadHistory(page.next_seq, kHistoryReadLimit);
  if (!read.ok()) return read.status();
  for (HistoryEntry& h : *read) {
    if (static_cast<int>(page.entries.size()) == max) break;
    page.next_seq = h.seq + 1;
    if (table.empty() || h.table == table) {
      page.entries.push_back(std::move(h));
    }
  }
  return page;
}

HistoryPage ReadRecentHistory(Scheduler& scheduler, const std::string& table,
                              int max) {
  HistoryPage page;
  const int64_t last = scheduler.LastSequence();
  page.next_seq = last + 1;
  absl::StatusOr<HistoryPage> read = ReadHistorySince(
      scheduler, last - kHistoryReadLimit + 1, table, kHistoryReadLimit);
  if (!read.ok()) return page;
  const size_t keep = std::min(read->entries.size(), static_cast<size_t>(max));
  page.entries.assign(std::make_move_iterator(read->entries.end() - keep),
                      std::make_move_iterator(read->entries.end()));
  page.next_seq = std::max(page.next_seq, read->next_seq);
  return page;
}

}  // namespace landfall::cli
