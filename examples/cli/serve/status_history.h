// History entries for the status page and /api/history, optionally of one
// table only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "landfall/history.h"
#include "landfall/scheduler.h"

namespace landfall::cli {

struct HistoryPage {
  std::vector<HistoryEntry> entries;  // Oldest first.
  int64_t next_seq = 1;               // Where the next read starts.
};

inline constexpr int kHistoryRowsShown = 50;
// Entries read at most per call, filtered or not: a call stays quick however
// far behind it starts, and the next one goes on from next_seq.
inline constexpr int kHistoryReadLimit = 5000;

// The entries from `since` on (of `table` when not empty), at most `max`
// of them, reading at most kHistoryReadLimit.
absl::StatusOr<HistoryPage> ReadHistorySince(Scheduler& scheduler,
                                             int64_t since,
                                             const std::string& table, int max);

// The last `max` entries (of `table` when not empty) among the last
// kHistoryReadLimit; next_seq follows the last entry. An unreadable history
// reads as none.
HistoryPage ReadRecentHistory(Scheduler& scheduler, const std::string& table,
                              int max);

}  // namespace landfall::cli
