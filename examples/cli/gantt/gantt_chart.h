// The attempts of a run as a Gantt chart sees them: each attempt with its
// pool, class, times and outcome, on a slot row of its pool, the arrivals,
// and the run's critical path. Built from the history alone (and the
// pipeline, for pools and classes); gantt_svg.h draws one or more of them.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "landfall/history.h"
#include "landfall/pipeline.h"

namespace landfall::cli {

// One run to draw: its history in sequence order (all of it, or the entries
// from some time on) and the pipeline it ran.
struct GanttRun {
  std::string title;
  const Pipeline* pipeline = nullptr;  // Not owned; outlives the chart.
  std::vector<HistoryEntry> history;
};

// How an attempt ended.
enum class AttemptEnd {
  kSucceeded,
  kRetried,  // Failed; retried after a backoff.
  kDead,     // Failed for good.
  kExpired,  // Its lease ran out (retried, or dead: see `dead`).
  kRunning,  // Not ended when the history does.
};

struct GanttAttempt {
  std::string table;
  std::string partition;
  int64_t attempt = 0;
  std::string pool;            // "" for a table the pipeline does not have.
  std::string priority_class;  // As it was when the attempt was claimed.
  absl::Time start;            // Claimed.
  absl::Time end;              // Ended; the history's end while running.
  AttemptEnd ended = AttemptEnd::kRunning;
  bool dead = false;   // The task went to the dead letter with it.
  std::string detail;  // The error of a failed attempt.
  int row = 0;         // Slot row in its pool, from 0.
  bool critical = false;
};

struct GanttArrival {
  std::string table;
  std::string partition;
  absl::Time at;  // When the history took it.
  bool critical = false;
};

// A pool as drawn: its slot limit (the largest it had in the history) and
// the rows its attempts took.
struct GanttLane {
  std::string pool;
  int slots = 0;  // kUnlimitedSlots for none.
  int rows = 0;
};

struct GanttChart {
  std::string title;
  std::vector<GanttLane> lanes;        // The pipeline's pools in spec order.
  std::vector<std::string> classes;    // Priority classes, highest first.
  std::vector<GanttAttempt> attempts;  // In claim order.
  std::vector<GanttArrival> arrivals;  // In history order.
  // Indexes into `attempts`, first to last: the critical path.
  std::vector<size_t> critical_path;
  // The arrival the critical path starts from, if it starts from one.
  std::optional<size_t> critical_arrival;
  absl::Time begin = absl::InfiniteFuture();  // First entry drawn.
  absl::Time end = absl::InfinitePast();      // Last entry of the history.
};

// Reads the run's attempts and arrivals off its history. An attempt starts
// at its `claimed` entry and ends at its `succeeded`, `retry_scheduled` or
// `dead` entry; one whose claim the history does not hold (it began before
// the entries given) is left out. Rows: each pool's attempts, in claim
// order, take the lowest row free at their start (greedy interval
// colouring), so a pool never has more rows than attempts it ran at once.
//
// The critical path ends at the attempt that succeeded last (or, when none
// succeeded, the attempt that ended last) and walks back from each attempt
// to what released it: the previous attempt of the same task when it was a
// retry (`retry_due`), else the input named by its `ready` entry ("upstream
// T/P reached version N"): that input's latest succeeded attempt, or, for a
// source, its latest arrival, where the path starts. It stops at a task made
// due by an operator (rerun, redrive) or whose release the history does not
// hold.
GanttChart BuildGanttChart(const GanttRun& run);

}  // namespace landfall::cli
