// Reading a scheduler's history in tests.
#pragma once

#include <cstdint>
#include <vector>

#include "gtest/gtest.h"
#include "landfall/scheduler.h"

namespace landfall::testing {

// Scheduler::ReadHistory's entries by value (safe in a range-for); an error
// fails the test and reads as no entries.
inline std::vector<HistoryEntry> History(Scheduler& s, int64_t from_seq,
                                         size_t max) {
  absl::StatusOr<std::vector<HistoryEntry>> entries =
      s.ReadHistory(from_seq, max);
  if (!entries.ok()) {
    ADD_FAILURE() << "ReadHistory(" << from_seq << "): " << entries.status();
    return {};
  }
  return *std::move(entries);
}

}  // namespace landfall::testing
