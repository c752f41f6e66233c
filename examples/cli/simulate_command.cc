// `landfall simulate SPEC --events EVENTS.jsonl [--script SCRIPT.jsonl]
//  [--workers N] [--until TIME] [--gantt FILE.svg]`: a deterministic run on
//  a simulated clock.
// `landfall simulate SPEC2 --replay-state URI [--since T] [--until T]
//  [--gantt FILE.svg]`: a recorded day replayed through SPEC2 (see
//  landfall/replay.h), and with --gantt both runs drawn on one time axis.
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "examples/cli/commands.h"
#include "examples/cli/gantt/gantt_svg.h"
#include "examples/cli/state_file.h"
#include "landfall/pipeline.h"
#include "landfall/replay.h"
#include "landfall/simulator.h"

namespace landfall::cli {
namespace {

struct SimulateArgs {
  std::string spec, events, script, until, state, dedup_retention, gantt;
  int workers = 0;
  GanttSvgOptions gantt_svg;
  // --replay-state and its options.
  std::string replay_state, since, default_duration;
};

// The store a simulation keeps its run in: --state, else one in memory for
// --gantt to read; null when neither needs one.
absl::StatusOr<std::shared_ptr<StateStore>> OpenSimulationStore(
    const SimulateArgs& args) {
  if (args.state.empty()) {
    if (args.gantt.empty()) return nullptr;
    return NewMemoryStore();  // The chart reads its history.
  }
  SqliteStoreOptions options;
  options.synchronous = SqliteStoreOptions::Synchronous::kNormal;
  return OpenSqliteStore(StatePath(args.state), options);
}

// The recorded entries a chart of the replayed window draws: those in
// [since, horizon), and the ends of the attempts claimed in it.
std::vector<HistoryEntry> RecordedWindow(
    const std::vector<HistoryEntry>& history, const ReplayInput& window) {
  std::set<std::tuple<std::string, std::string, int64_t>> claimed;
  std::vector<HistoryEntry> entries;
  for (const HistoryEntry& e : history) {
    auto attempt = std::make_tuple(e.table, e.partition, e.attempt);
    const bool in_window = e.at >= window.since && e.at < window.horizon;
    if (in_window && e.kind == EntryKind::kClaimed) claimed.insert(attempt);
    const bool ends = e.kind == EntryKind::kSucceeded ||
                      e.kind == EntryKind::kRetryScheduled ||
                      e.kind == EntryKind::kDead;
    if (in_window || (ends && claimed.count(attempt) > 0)) {
      entries.push_back(e);
    }
  }
  return entries;
}

// The replay of --replay-state's history through the spec: the comparison
// on stdout; returns the exit code.
int RunReplay(const SimulateArgs& args,
              std::shared_ptr<const Pipeline> pipeline,
              absl::Duration dedup_retention) {
  ReplayOptions options;
  options.workers = args.workers;
  if (!args.since.empty()) {
    absl::StatusOr<absl::Time> since = ParseTime("--since", args.since);
    if (!since.ok()) return ReportUsage(since.status());
    options.since = *since;
  }
  if (!args.until.empty()) {
    absl::StatusOr<absl::Time> until = ParseTime("--until", args.until);
    if (!until.ok()) return ReportUsage(until.status());
    options.until = *until;
  }
  if (!args.default_duration.empty()) {
    absl::StatusOr<absl::Duration> d =
        ParseDurationOption("--default-duration", args.default_duration);
    if (!d.ok()) return ReportUsage(d.status());
    options.default_duration = *d;
  }
  options.dedup_retention = dedup_retention;
  StateArgs recorded;
  recorded.state = args.replay_state;
  recorded.access = StateAccess::kReadOnly;
  int exit_code = kExitOk;
  std::optional<OpenState> open = Open(recorded, &exit_code);
  if (!open) return exit_code;
  absl::StatusOr<std::vector<HistoryEntry>> history =
      ReadWholeHistory(*open->scheduler);
  if (!history.ok()) return Report(history.status());
  absl::StatusOr<std::shared_ptr<StateStore>> store = OpenSimulationStore(args);
  if (!store.ok()) return ReportUsage(store.status());
  options.store = *std::move(store);
  absl::StatusOr<ReplayResult> result =
      SimulateReplay(pipeline, *history, options);
  if (!result.ok()) {
    // Errors name the recorded state, but for --state's store (the
    // simulation's, which must hold no history).
    const bool keeping =
        !args.state.empty() &&
        absl::StrContains(result.status().message(), "already holds history");
    std::cerr << (keeping ? ShownState(args.state)
                          : ShownState(args.replay_state))
              << ": ";
    return Report(result.status());
  }
  PrintReplay(*pipeline, *result, std::cout);
  if (args.gantt.empty()) return kExitOk;
  absl::StatusOr<std::vector<HistoryEntry>> replayed =
      ReadStoreHistory(*options.store);
  if (!replayed.ok()) return Report(replayed.status());
  const std::vector<GanttRun> runs = {
      {absl::StrCat("recorded: ", ShownState(args.replay_state)),
       &open->scheduler->pipeline(), RecordedWindow(*history, result->window)},
      {absl::StrCat("replayed: ", args.spec), pipeline.get(),
       *std::move(replayed)}};
  if (absl::Status s = WriteGanttSvg(runs, args.gantt_svg, args.gantt);
      !s.ok()) {
    return ReportUsage(s);
  }
  return kExitOk;
}

}  // namespace

void AddSimulateCommand(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "simulate",
      "Run a pipeline against a file of arrivals with simulated executors on "
      "a simulated clock. Prints one JSON line per finished attempt "
      "({table, partition, attempt, claimed_at, finished_at, outcome}), per "
      "duplicate arrival ({duplicate}), and a summary line last. With "
      "--replay-state: replays a recorded day through SPEC and prints, per "
      "table, the freshness it had and would have had, and the makespans.");
  auto args = std::make_shared<SimulateArgs>();
  cmd->add_option("SPEC", args->spec, "Pipeline spec file")->required();
  CLI::Option* events =
      cmd->add_option("--events", args->events,
                      "Arrivals, one JSON object per line: {\"event_id\", "
                      "\"table\", \"partition\", \"at\", \"origin\"}");
  CLI::Option* replay = cmd->add_option(
      "--replay-state", args->replay_state,
      "Replay the arrivals, attempt durations and outcomes recorded in this "
      "state (PATH, sqlite:PATH or postgresql://...; only read) through "
      "SPEC, instead of --events");
  replay->excludes(events);
  CLI::Option* since = cmd->add_option(
      "--since", args->since,
      "With --replay-state: the window's start (RFC 3339; default: the "
      "history's first arrival)");
  since->needs(replay);
  cmd->add_option("--default-duration", args->default_duration,
                  "With --replay-state: how long a task the record never "
                  "attempted takes (default: the median of its pool's "
                  "recorded attempts)")
      ->needs(replay);
  CLI::Option* script = cmd->add_option(
      "--script", args->script,
      "How attempts go, one JSON object per line: {\"table\", "
      "\"partition\"?, \"attempt\"?, \"duration\", \"outcome\", "
      "\"message\"}; the first match wins; unmatched attempts "
      "take 60s and succeed");
  script->excludes(replay);
  cmd->add_option("--workers", args->workers,
                  "At most N attempts at once in total (default: no limit)")
      ->check(WholeNumber(0));
  cmd->add_option("--until", args->until,
                  "Stop at this time (RFC 3339, e.g. 2018-11-04T06:00:00Z); "
                  "with --replay-state: the window's end (exclusive), and "
                  "the replay runs until nothing is left to do");
  cmd->add_option("--state", args->state,
                  "Keep the run (or the replayed one) in this new state file "
                  "(sqlite:PATH or PATH), "
                  "for status, history and the other commands on it; "
                  "written with synchronous=NORMAL, as a simulation can be "
                  "run again");
  AddDedupRetentionOption(cmd, &args->dedup_retention);
  cmd->add_option("--gantt", args->gantt,
                  "Draw the run's attempts as a Gantt chart (SVG) in this "
                  "file, as `landfall gantt` does; with --replay-state, the "
                  "recorded run and the replayed one on one time axis");
  AddGanttOptions(cmd, &args->gantt_svg);
  cmd->callback([args, exit_code] {
    auto fail = [&](const absl::Status& status, int code) {
      std::cerr << status.message() << "\n";
      *exit_code = code;
    };
    absl::StatusOr<std::shared_ptr<const Pipeline>> pipeline =
        LoadSpec(args->spec);
    if (!pipeline.ok()) {
      return fail(pipeline.status(), ExitCodeForLoadError(pipeline.status()));
    }
    absl::Duration dedup_retention = SimulationOptions().dedup_retention;
    if (!args->dedup_retention.empty()) {
      absl::StatusOr<absl::Duration> retention =
          ParseDedupRetention(args->dedup_retention);
      if (!retention.ok()) return fail(retention.status(), kExitRefused);
      dedup_retention = *retention;
    }
    if (!args->replay_state.empty()) {
      *exit_code = RunReplay(*args, *pipeline, dedup_retention);
      return;
    }
    if (args->events.empty()) {
      return fail(absl::InvalidArgumentError(
                      "simulate needs --events or --replay-state"),
                  kExitUsage);
    }
    // Every line is checked before anything is printed or a state file
    // is created. The arrivals are read again as the simulation goes, not
    // held.
    absl::StatusOr<std::unique_ptr<EventsFile>> events =
        EventsFile::Read(*pipeline, args->events);
    if (!events.ok()) {
      return fail(events.status(), ExitCodeForLoadError(events.status()));
    }
    std::vector<SimulatedAttempt> script;
    if (!args->script.empty()) {
      absl::StatusOr<std::vector<SimulatedAttempt>> read =
          ReadSimulationScript(**pipeline, args->script);
      if (!read.ok()) {
        return fail(read.status(), ExitCodeForLoadError(read.status()));
      }
      script = *std::move(read);
    }
    SimulationOptions options;
    options.workers = args->workers;
    options.dedup_retention = dedup_retention;
    if (!args->until.empty()) {
      absl::StatusOr<absl::Time> until = ParseTime("--until", args->until);
      if (!until.ok()) return fail(until.status(), kExitUsage);
      options.until = *until;
    }
    absl::StatusOr<std::shared_ptr<StateStore>> store =
        OpenSimulationStore(*args);
    if (!store.ok()) return fail(store.status(), kExitUsage);
    options.store = *std::move(store);
    absl::Status status =
        Simulate(*pipeline, **events, script, options, std::cout);
    if (!status.ok()) return fail(status, kExitRefused);
    if (!args->gantt.empty()) {
      GanttRun run;
      run.title = absl::StrCat("simulate ", args->spec);
      run.pipeline = pipeline->get();
      absl::StatusOr<std::vector<HistoryEntry>> history =
          ReadStoreHistory(*options.store);
      if (!history.ok()) return fail(history.status(), kExitUsage);
      run.history = *std::move(history);
      status = WriteGanttSvg({run}, args->gantt_svg, args->gantt);
      if (!status.ok()) return fail(status, kExitUsage);
    }
    *exit_code = kExitOk;
  });
}

}  // namespace landfall::cli
