// The scheduler's internal history entry: HistoryEntry with names interned,
// so appending one costs no string copies on the hot path.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "landfall/history.h"
#include "landfall/pipeline.h"

namespace landfall::internal {

using PartitionId = uint32_t;
using SlotIndex = uint32_t;
inline constexpr SlotIndex kNoSlot = ~SlotIndex{0};

// An arrival's attributes, sorted by name. A vector rather than a std::map:
// every arrival the scheduler remembers for deduplication holds one.
using Attributes = std::vector<std::pair<std::string, std::string>>;

// The pairs of `map` (names unique), sorted by name.
template <typename Map>
Attributes SortedAttributes(const Map& map) {
  if (map.empty()) return {};
  Attributes sorted(map.begin(), map.end());
  std::sort(sorted.begin(), sorted.end());
  return sorted;
}

// The rarely used text of an entry, shared rather than copied.
struct EntryText {
  std::string event_id;
  std::string origin;
  Attributes attributes;
  std::string detail;
};

struct Entry {
  int64_t seq = 0;
  int64_t at_ns = 0;
  EntryKind kind = EntryKind::kArrival;
  TableId table = -1;
  PartitionId partition = 0;
  // kReady: the version of `cause` that made the task due.
  int32_t cause_version = 0;
  int64_t attempt = 0;
  int64_t until_ns = 0;  // Lease end, retry time, or an arrival's landing.
  int32_t worker = -1;   // Interned worker name.
  // kClassChanged, kPaused/kResumed of a class: the class; kPoolResized: the
  // pool.
  int32_t target = -1;
  int32_t slots = 0;
  Outcome outcome = Outcome::SUCCEEDED;
  // kClaimed: when the task became ready (HistoryEntry::ready_at); an
  // attempt's end: the seq of its claim (HistoryEntry::claim_seq), 0 when
  // it ends none. Set by Core::Emit from the slot before the entry applies.
  int64_t attempt_link = 0;
  std::shared_ptr<const EntryText> text;
  // Where the slot of table/partition is, when the emitter knows: saves a
  // lookup. Not part of the record.
  SlotIndex slot = kNoSlot;
  // kReady: the input slot whose new version made the task due, kNoSlot when
  // `text` says why (a rerun, a redrive).
  SlotIndex cause = kNoSlot;
};

// Whether entries of `kind` end an attempt when the task runs.
inline bool EndsAttempt(EntryKind kind) {
  return kind == EntryKind::kSucceeded || kind == EntryKind::kRetryScheduled ||
         kind == EntryKind::kDead;
}

// A view of stored entry `j` (Observer::OnEntryView); `whole` builds the
// HistoryEntry, and must outlive the view.
EntryView JournalView(const JournalEntry& j,
                      absl::FunctionRef<HistoryEntry()> whole);

// For an entry of a kind this library does not know: FailedPrecondition
// (WrittenByNewerLandfall) above the newest kind it knows, InvalidArgument
// (corruption) below zero.
absl::Status CheckKind(const JournalEntry& j);

// FailedPrecondition saying that `what` (an entry kind, a snapshot format)
// was written by a newer landfall than this one, marked so that
// IsWrittenByNewerLandfall (state_store.h) tells it from corruption, which
// is DataLoss.
absl::Status WrittenByNewerLandfall(absl::string_view what);
// `status` marked as WrittenByNewerLandfall's statuses are.
absl::Status MarkedNewer(absl::Status status);

// `status` (not OK) with `context` before its message, as DataLoss unless it
// is WrittenByNewerLandfall: what a store holds was written by a scheduler,
// so state this library cannot apply is corrupt, unless a newer one wrote it.
absl::Status AsStoredStateError(const absl::Status& status,
                                absl::string_view context = "");

}  // namespace landfall::internal
