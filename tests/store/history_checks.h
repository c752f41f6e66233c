// Checks of a store's history after processes worked on it, which hold
// whatever the timing of kills and faults was. Each adds test failures
// naming the first few offending entries or reports.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "landfall/history.h"
#include "landfall/pipeline.h"
#include "landfall/state_store.h"

namespace landfall::testing {

// Every entry, read in one transaction.
std::vector<HistoryEntry> ReadWholeHistory(StateStore& store);
// Sequence numbers run 1, 2, 3... without a gap.
void ExpectGapFree(const std::vector<HistoryEntry>& history);
// Every acknowledged operation left its entry (as many as acknowledged).
void ExpectReportsInHistory(const std::vector<std::string>& facts,
                            const std::vector<HistoryEntry>& history);
// No two processes say they claimed the same attempt.
void ExpectNoAttemptReportedTwice(const std::vector<std::string>& facts);
// Each claim of a task takes the next attempt number, so none is claimed
// twice.
void ExpectAttemptsClaimedOnceInOrder(const std::vector<HistoryEntry>& history);
// Within the retention window an event id applies once; repeats are
// duplicates.
void ExpectEventsAppliedOnce(const std::vector<HistoryEntry>& history);
// A task runs one attempt at a time, only running attempts end, and no
// limited pool ever holds more slots than it has. Returns the most workers
// seen running attempts in limited pools at once.
int ExpectPoolsWithinLimits(const Pipeline& pipeline,
                            const std::vector<HistoryEntry>& history);
// The state rebuilt from the whole history equals the one a scheduler
// opens (from the latest snapshot and the entries after it).
void ExpectOpenedStateEqualsReplay(std::shared_ptr<const Pipeline> pipeline,
                                   std::shared_ptr<StateStore> store,
                                   const std::vector<HistoryEntry>& history);
// The newest snapshot's sequence number, 0 for none.
int64_t LatestSnapshotSeq(StateStore& store);
int CountIf(const std::vector<HistoryEntry>& history,
            bool (*pred)(const HistoryEntry&));

}  // namespace landfall::testing
