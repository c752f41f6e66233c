// What-if runs on a recorded day: the arrivals and the attempt durations and
// outcomes a state's history recorded, replayed through a changed spec (a
// bigger pool, another class order, a new table) by Simulate, and compared,
// per table, with what the record had. It backs `landfall simulate SPEC2
// --replay-state URI`.
//
// The rules of a replay (README.md, "Planning capacity with a replay"):
// - The window is [since, until) on the history's times. Its arrivals are
//   replayed at the time the record took them (the time of their history
//   entry), in history order; duplicates are not replayed (they changed
//   nothing). The replay starts from nothing: what arrived or was built
//   before `since` is not carried in, and operator actions in the record
//   (pause, resize, redrive, ...) are not replayed: the spec is SPEC2.
// - The recorded run is taken up to the first arrival at or after `until`
//   (the end of the history without one or without `until`): its attempts
//   are those claimed in [since, that horizon). The replay runs until
//   nothing is left to do.
// - The n-th attempt of a task (table, partition) in the replay takes the
//   duration and outcome of the n-th recorded attempt of that task (the
//   first recorded in the window is the first). Durations are taken to the
//   millisecond, at least 1ms. A LEASE_EXPIRED attempt's worker dies
//   silently, so its lease runs out as in the record.
// - An attempt beyond the recorded ones of its task takes the duration of
//   the task's last recorded attempt and succeeds.
// - A task the record never attempted (a new table, a partition the record
//   never built) takes `default_duration` when set, else the lower median
//   of the durations of the recorded succeeded attempts of the tables of its
//   pool in SPEC2, else of all recorded succeeded attempts, else 60s; it
//   succeeds.
// - An attempt still running when the history ends takes what it had run by
//   the history's last entry, or its task's default duration (above) when
//   that is longer, and succeeds; on the recorded side it never finished.
// - Recorded arrivals and attempts of a table SPEC2 lacks are left out (an
//   attempt also when SPEC2 makes the table a source); the tables are listed
//   as dropped.
// - Freshness of a table in a run: its latest partition (greatest key) that
//   an attempt built, when that attempt finished, and how long after the
//   window's first arrival. The makespan: from the window's first arrival to
//   the last attempt's finish.
// With the same spec, a record that a simulation wrote (durations in whole
// milliseconds) is replayed to the same claims and finishes exactly.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "landfall/export.h"
#include "landfall/history.h"
#include "landfall/pipeline.h"
#include "landfall/scheduler.h"
#include "landfall/simulator.h"

namespace landfall {

struct ReplayOptions {
  // The window's start. Default: the history's first arrival.
  std::optional<absl::Time> since;
  // The window's end (exclusive). Default: none.
  std::optional<absl::Time> until;
  // The duration of a task the record never attempted. Default: the median
  // rule above.
  std::optional<absl::Duration> default_duration;
  // The replay's SimulationOptions::workers and ::store (which must hold no
  // history: it keeps the replayed run). Defaults: no limit, in memory.
  int workers = 0;
  std::shared_ptr<StateStore> store;
  // The replay's SimulationOptions::dedup_retention. Default 7 days.
  absl::Duration dedup_retention = absl::Hours(24 * 7);
};

// One attempt of a run, as its history tells it.
struct RunAttempt {
  TaskKey task;
  int64_t attempt = 0;  // As the run numbered it.
  std::string pool;     // The table's pool in the spec the run is read with.
  absl::Time claimed_at;
  // InfiniteFuture for an attempt still running when the history ends.
  absl::Time finished_at = absl::InfiniteFuture();
  Outcome outcome = Outcome::SUCCEEDED;
  std::string message;
};

// A run's attempts in claim order, from the window's first arrival.
struct RunRecord {
  std::vector<RunAttempt> attempts;
  // The latest finish of an attempt; InfinitePast when none finished.
  absl::Time last_finish = absl::InfinitePast();
};

// A table's freshness in one run.
struct TableFreshness {
  std::string partition;                       // Its latest partition built.
  absl::Time built_at = absl::InfinitePast();  // InfinitePast: none built.
};

struct ReplayInput {
  // What Simulate replays: the window's arrivals and the script above.
  SimulationInput input;
  // The window as given (`since` defaults to `start`; `until` is
  // InfiniteFuture without one), its first arrival, and the end of the
  // recorded run.
  absl::Time since;
  absl::Time until = absl::InfiniteFuture();
  absl::Time start;
  absl::Time horizon = absl::InfiniteFuture();
  // The recorded attempts of the window (tables SPEC2 lacks left out).
  RunRecord recorded;
  // Tables of the window that SPEC2 lacks, sorted.
  std::vector<std::string> dropped_tables;
};

// The replay of `history` (from its first entry held, in sequence order)
// through `spec2`, as the rules above say. InvalidArgument when `since` is
// not before `until` or the window holds no arrival (the message says what
// the history holds).
LANDFALL_EXPORT absl::StatusOr<ReplayInput> ExtractReplay(
    const Pipeline& spec2, const std::vector<HistoryEntry>& history,
    const ReplayOptions& options);

// The attempts of `history` claimed in [from, before), in claim order, with
// their pools in `spec`.
LANDFALL_EXPORT RunRecord
RecordOfHistory(const Pipeline& spec, const std::vector<HistoryEntry>& history,
                absl::Time from, absl::Time before);

// Each derived table's freshness in `run`, by table name.
LANDFALL_EXPORT std::map<std::string, TableFreshness> FreshnessOf(
    const RunRecord& run);

// Every entry of the scheduler's history still held, in sequence order; the
// error of ReadHistory.
LANDFALL_EXPORT absl::StatusOr<std::vector<HistoryEntry>> ReadWholeHistory(
    Scheduler& scheduler);

struct ReplayResult {
  ReplayInput window;  // The extracted window and the recorded run.
  RunRecord replayed;
};

// Extracts the window and runs it through `spec2` with Simulate. Errors of
// ExtractReplay, and Simulate's (InvalidArgument for an arrival SPEC2
// refuses: a partition that does not fit its table's format).
LANDFALL_EXPORT absl::StatusOr<ReplayResult> SimulateReplay(
    std::shared_ptr<const Pipeline> spec2,
    const std::vector<HistoryEntry>& history, const ReplayOptions& options);

// Writes the comparison as JSON lines, one per derived table of `spec2` that
// either run built, in spec order:
//   {"table","recorded":{"partition","built_at","after"},"replayed":{...},
//    "change"}
// ("after": built_at less the window's first arrival; a run that built none
// of the table has "recorded":null; "change" is replayed less recorded
// "after", null unless both built the same latest partition), then
//   {"replay":{"since","until","arrivals","dropped_tables",
//    "recorded":{"attempts","succeeded","makespan"},"replayed":{...},
//    "makespan_change"}}.
// Durations in absl syntax ("-4m30s"); times RFC 3339 UTC.
LANDFALL_EXPORT void PrintReplay(const Pipeline& spec2,
                                 const ReplayResult& result, std::ostream& out);

}  // namespace landfall
