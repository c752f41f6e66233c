// HistoryEntry: one change in the scheduler's append-only history. The
// history is the journal: folding the entries in sequence order from an
// empty state reproduces the scheduler's state exactly.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "landfall/export.h"
#include "landfall/records.pb.h"

namespace landfall {

enum class EntryKind {
  kArrival,          // table/partition landed at `until`: event_id, origin,
                     // attributes.
  kDuplicate,        // event_id was seen before; nothing else changed.
  kReady,            // The task became due.
  kBlocked,          // The task needs a dead task's output (detail: whose).
  kUnblocked,        // It no longer does.
  kClaimed,          // worker holds `attempt` until `until`.
  kHeartbeat,        // The lease of `attempt` now ends at `until`.
  kSucceeded,        // `attempt` built a new version.
  kRetryScheduled,   // `attempt` failed (outcome, detail); retry at `until`.
  kDead,             // `attempt` failed for good (outcome, detail).
  kRetryDue,         // The backoff ended; the task is due again.
  kRedriven,         // Taken out of the dead letter with a fresh budget.
  kMarkedSucceeded,  // Recorded as built by an operator.
  kRerunRequested,   // To be built again even if nothing is newer.
  kPaused,           // table, or priority_class when table is empty.
  kResumed,          // Likewise.
  kClassChanged,     // table moved to priority_class.
  kPoolResized,      // pool now has `slots` slots.
  kPipelineUpdated,  // The pipeline became `spec` (detail: what changed).
};
LANDFALL_EXPORT const char* EntryKindName(EntryKind kind);

struct HistoryEntry {
  int64_t seq = 0;  // From 1, without gaps.
  absl::Time at;
  EntryKind kind = EntryKind::kArrival;
  std::string table;
  std::string partition;
  int64_t attempt = 0;
  std::string worker;
  std::string event_id;
  std::string origin;
  std::map<std::string, std::string> attributes;
  Outcome outcome = Outcome::SUCCEEDED;
  std::string detail;  // Error message, or what blocks a task.
  absl::Time until = absl::InfinitePast();  // Lease end or retry time.
  std::string priority_class;
  std::string pool;
  int slots = 0;
  // kPipelineUpdated: the PipelineSpec deployed, serialized, and the tables
  // it adopted and rebuilds (DeployOptions).
  std::string spec;
  std::vector<std::string> adopted;
  std::vector<std::string> rebuilt;
  // kClaimed: when the task became ready, where its queue wait began;
  // InfinitePast in entries an older landfall wrote.
  absl::Time ready_at = absl::InfinitePast();
  // kSucceeded, kRetryScheduled, kDead: the seq of the kClaimed entry of
  // the attempt this entry ends; 0 when it ends none (a waiting task sent
  // to the dead letter), and in entries an older landfall wrote.
  int64_t claim_seq = 0;

  // One line for people: "#12 2018-11-04T01:00:00Z claimed dwh.x/2018-11-03
  // attempt 1 by w1 until ..."; an arrival says when it landed ("landed
  // ...") where other kinds say "until".
  LANDFALL_EXPORT std::string ToString() const;
};

// A history entry's cheap fields, as the scheduler hands them to
// Observer::OnEntryView without building a HistoryEntry: the names are
// views of the scheduler's own strings, valid only during the call (copy
// what is kept), and times are Unix nanoseconds, kNoTime for none. The
// table's name is looked up only when table() is called: an observer that
// keeps figures by table_id spares the scheduler reading it. The
// fields mean what HistoryEntry's of the same name do; the text fields
// (event_id, origin, attributes, detail, spec, adopted, rebuilt) come only
// with ToHistoryEntry(). Not thread-safe; used by the thread handed it.
class LANDFALL_EXPORT EntryView {
 public:
  static constexpr int64_t kNoTime = std::numeric_limits<int64_t>::min();

  // Views `entry`, which must outlive the view.
  explicit EntryView(const HistoryEntry& entry);
  // A view whose fields the caller sets; `whole` builds the entry they
  // show, and `table` gives its table's name (called by table() only).
  // Both must outlive the view.
  EntryView(absl::FunctionRef<HistoryEntry()> whole,
            absl::FunctionRef<absl::string_view()> table)
      : whole_(whole), table_name_(table) {}
  // As above, with the table's name at hand.
  EntryView(absl::FunctionRef<HistoryEntry()> whole, absl::string_view table)
      : table_(table), whole_(whole) {}

  int64_t seq = 0;
  int64_t at_ns = 0;
  EntryKind kind = EntryKind::kArrival;
  absl::string_view partition;
  int64_t attempt = 0;
  absl::string_view worker;
  Outcome outcome = Outcome::SUCCEEDED;
  int64_t until_ns = kNoTime;
  absl::string_view priority_class;
  absl::string_view pool;
  int slots = 0;
  int64_t ready_ns = kNoTime;  // HistoryEntry::ready_at.
  int64_t claim_seq = 0;
  // An entry ending an attempt: when the claim it ends was written, or
  // kNoTime where the view does not say (a HistoryEntry has no such field).
  int64_t claimed_ns = kNoTime;
  // A claim: whether the entry that ends its attempt will carry claimed_ns,
  // so that an observer need not remember the claim. The scheduler sets it
  // on the claims it tells as it makes them in memory; views of stored
  // entries and of a HistoryEntry leave it false.
  bool claim_time_follows = false;
  // The index of `table` in the pipeline the scheduler runs, or -1 when
  // unknown or for no table. Ids follow the order of the pipeline's spec
  // (see pipeline.h), so a Pipeline built from the spec of the last
  // kPipelineUpdated entry has the same ones.
  int32_t table_id = -1;

  // The table's name; empty for none.
  absl::string_view table() const {
    return table_name_ ? (*table_name_)() : table_;
  }
  absl::Time at() const { return absl::FromUnixNanos(at_ns); }
  absl::Time until() const { return TimeOf(until_ns); }
  absl::Time ready_at() const { return TimeOf(ready_ns); }

  // The whole entry: built on each call, so call it once.
  HistoryEntry ToHistoryEntry() const {
    return entry_ != nullptr ? *entry_ : (*whole_)();
  }

 private:
  static absl::Time TimeOf(int64_t ns) {
    return ns == kNoTime ? absl::InfinitePast() : absl::FromUnixNanos(ns);
  }

  absl::string_view table_;
  const HistoryEntry* entry_ = nullptr;
  std::optional<absl::FunctionRef<HistoryEntry()>> whole_;
  std::optional<absl::FunctionRef<absl::string_view()>> table_name_;
};

// The entry as a StateStore keeps it, and back. InvalidArgument for a
// stored kind this library does not know.
LANDFALL_EXPORT JournalEntry ToJournal(const HistoryEntry& entry);
// As above, into `out`, reusing its memory.
LANDFALL_EXPORT void ToJournal(const HistoryEntry& entry, JournalEntry* out);
LANDFALL_EXPORT absl::StatusOr<HistoryEntry> FromJournal(
    const JournalEntry& entry);

}  // namespace landfall
