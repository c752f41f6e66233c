// Writers in several processes on one SQLite state file, each ingesting
// arrivals back to back through its own durable Scheduler for a fixed time:
// how many operations each got done and how long each waited for the
// store's write lock. The benchmark reports the figures; a test bounds them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "landfall/state_store.h"

namespace landfall::testing {

struct WriteContentionOptions {
  std::string path;  // The state file; created (with its spec) if missing.
  int processes = 8;
  absl::Duration duration = absl::Seconds(10);  // Of the busy phase.
  SqliteStoreOptions store;
};

// One process's figures. A wait runs from asking for the write transaction
// (StateStore::Begin(kWrite)) to having it, or to giving up.
struct WriterFigures {
  int64_t operations = 0;  // Ingests committed.
  int64_t gave_up = 0;     // Ingests refused as Unavailable (lock timeout).
  absl::Duration total_wait;
  absl::Duration p99_wait;
  absl::Duration max_wait;
  // The most write transactions other writers began while one wait of this
  // writer's lasted: writers served in turn overtake a waiting one at most
  // once each, however slow the machine.
  int64_t max_overtaken = 0;
};

struct WriteContentionReport {
  std::vector<WriterFigures> writers;  // One per process.

  int64_t MinOperations() const;
  int64_t MaxOperations() const;
  // Over every wait of every process.
  absl::Duration MeanWait() const;
  absl::Duration MaxWait() const;
  int64_t MaxOvertaken() const;
  // Fairness: max/min operations (infinite when a writer did none), and the
  // longest wait over the mean wait.
  double OperationsRatio() const;
  double WaitRatio() const;
  // A table of the figures, one line per process, then the ratios.
  std::string Describe() const;
};

// Forks options.processes writers, starts them together once each has
// opened its scheduler, and collects their figures. Any error other than a
// lock timeout, in a writer or here, is the result. Must be called while
// this process runs no other threads (it forks).
absl::StatusOr<WriteContentionReport> RunWriteContention(
    const WriteContentionOptions& options);

}  // namespace landfall::testing
