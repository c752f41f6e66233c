// `landfall simulate SPEC --events EVENTS.jsonl [--script SCRIPT.jsonl]
//  [--workers N] [--until TIME] [--gantt FILE.svg]`: a deterministic run on
//  a simulated clock.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "examples/cli/commands.h"
#include "examples/cli/gantt/gantt_svg.h"
#include "examples/cli/state_file.h"
#include "landfall/pipeline.h"
#include "landfall/simulator.h"

namespace landfall::cli {

void AddSimulateCommand(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "simulate",
      "Run a pipeline against a file of arrivals with simulated executors on "
      "a simulated clock. Prints one JSON line per finished attempt "
      "({table, partition, attempt, claimed_at, finished_at, outcome}), per "
      "duplicate arrival ({duplicate}), and a summary line last.");
  struct Args {
    std::string spec, events, script, until, state, dedup_retention, gantt;
    int workers = 0;
    GanttSvgOptions gantt_svg;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("SPEC", args->spec, "Pipeline spec file")->required();
  cmd->add_option("--events", args->events,
                  "Arrivals, one JSON object per line: {\"event_id\", "
                  "\"table\", \"partition\", \"at\", \"origin\"}")
      ->required();
  cmd->add_option("--script", args->script,
                  "How attempts go, one JSON object per line: {\"table\", "
                  "\"partition\"?, \"attempt\"?, \"duration\", \"outcome\", "
                  "\"message\"}; the first match wins; unmatched attempts "
                  "take 60s and succeed");
  cmd->add_option("--workers", args->workers,
                  "At most N attempts at once in total (default: no limit)")
      ->check(WholeNumber(0));
  cmd->add_option("--until", args->until,
                  "Stop at this time (RFC 3339, e.g. 2018-11-04T06:00:00Z)");
  cmd->add_option("--state", args->state,
                  "Keep the run in this new state file (sqlite:PATH or PATH), "
                  "for status, history and the other commands on it; "
                  "written with synchronous=NORMAL, as a simulation can be "
                  "run again");
  AddDedupRetentionOption(cmd, &args->dedup_retention);
  cmd->add_option("--gantt", args->gantt,
                  "Draw the run's attempts as a Gantt chart (SVG) in this "
                  "file, as `landfall gantt` does");
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
    if (!args->dedup_retention.empty()) {
      absl::StatusOr<absl::Duration> retention =
          ParseDedupRetention(args->dedup_retention);
      if (!retention.ok()) return fail(retention.status(), kExitRefused);
      options.dedup_retention = *retention;
    }
    if (!args->until.empty()) {
      absl::StatusOr<absl::Time> until = ParseTime("--until", args->until);
      if (!until.ok()) return fail(until.status(), kExitUsage);
      options.until = *until;
    }
    if (!args->state.empty()) {
      SqliteStoreOptions store_options;
      store_options.synchronous = SqliteStoreOptions::Synchronous::kNormal;
      absl::StatusOr<std::shared_ptr<StateStore>> store =
          OpenSqliteStore(StatePath(args->state), store_options);
      if (!store.ok()) return fail(store.status(), kExitUsage);
      options.store = *std::move(store);
    } else if (!args->gantt.empty()) {
      options.store = NewMemoryStore();  // The chart reads its history.
    }
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
