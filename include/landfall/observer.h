// Observer: how a host follows what the scheduler does, without polling.
// The library never logs; it tells the Observer instead.
#pragma once

#include "landfall/export.h"
#include "landfall/history.h"

namespace landfall {

class LANDFALL_EXPORT Observer {
 public:
  Observer() = default;
  Observer(const Observer&) = delete;
  Observer& operator=(const Observer&) = delete;
  virtual ~Observer() = default;

  // Called with each history entry right after it is appended, in sequence
  // order, under the scheduler's lock: it must return quickly and must not
  // call back into the scheduler. A subscriber that starts late catches up
  // with Scheduler::ReadHistory(from_seq) first.
  virtual void OnEntry(const HistoryEntry& entry) { (void)entry; }

  // The fast path: what the scheduler calls for each entry, as OnEntry
  // says, with a view of the entry that is valid only during the call.
  // The default builds the whole HistoryEntry and calls OnEntry; an
  // observer that overrides this instead spares the scheduler building one
  // per entry (what Metrics does).
  virtual void OnEntryView(const EntryView& entry) {
    OnEntry(entry.ToHistoryEntry());
  }

  // Bracket the entries of one scheduler operation: BeginEntries comes
  // before its first OnEntryView and EndEntries after its last, on the same
  // thread, under the scheduler's lock; an operation may emit none between
  // them. An observer that takes a lock per entry can take it once per
  // operation instead (Metrics does). Brackets never nest.
  virtual void BeginEntries() {}
  virtual void EndEntries() {}
};

}  // namespace landfall
