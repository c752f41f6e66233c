// The commands a shell-script host drives work with: init, ingest, claim,
// heartbeat and complete.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "examples/cli/commands.h"
#include "examples/cli/state_file.h"
#include "landfall/ingest_file.h"
#include "lib/capi/records_json.h"
#include "lib/core/plural.h"
#include "lib/runtime/arrival_json.h"
#include "lib/runtime/json_lines.h"
#include "lib/runtime/json_object.h"

namespace landfall::cli {
namespace {

using internal::JsonObject;

void AddInitCommand(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "init",
      "Create a state file for a pipeline, or deploy a changed spec to one "
      "(refused, changing nothing, when the change is incompatible)");
  auto args = std::make_shared<StateArgs>();
  cmd->add_option("SPEC", args->spec, "Pipeline spec file")->required();
  cmd->add_option("--state", args->state, "State file to create or update")
      ->required();
  cmd->add_flag("--json", args->json, "Print JSON");
  AddDedupRetentionOption(cmd, &args->dedup_retention);
  cmd->add_flag("--force", args->force,
                "Deploy even another pipeline (another name, no table in "
                "common) or a spec removing tables that have task states, "
                "dropping their tasks");
  args->deploy = true;
  OnRun(cmd, exit_code, [args, exit_code] {
    std::optional<OpenState> open = Open(*args, exit_code);
    if (!open) return *exit_code;
    Scheduler& s = *open->scheduler;
    const int64_t seq = s.LastSequence();
    if (args->json) {
      std::cout << JsonObject()
                       .Str("pipeline", s.pipeline().name())
                       .Int("tables", s.pipeline().table_count())
                       .Int("last_sequence", seq)
                       .str()
                << "\n";
    } else {
      std::cout << ShownState(args->state) << ": pipeline \""
                << s.pipeline().name() << "\", "
                << internal::Counted(s.pipeline().table_count(), "table")
                << ", history at #" << seq << "\n";
    }
    return kExitOk;
  });
}

// Whether every line of the events file `path` parses (blank lines
// skipped), without holding it; errors as ReadArrivals's.
absl::Status ParseArrivalsFile(const std::string& path) {
  Arrival arrival;
  return internal::ForEachLine(
      path, [&](int number, int64_t, absl::string_view line) {
        if (absl::StripAsciiWhitespace(line).empty()) return absl::OkStatus();
        return internal::ParseArrivalLine(path, number, line, &arrival);
      });
}

void AddIngestCommand(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "ingest",
      "Record arrivals, from a JSON-lines file or one given by options, and "
      "print what each made ready");
  struct Args : StateArgs {
    std::string events, at;
    std::string table, partition, event_id, origin;
  };
  auto args = std::make_shared<Args>();
  AddStateOptions(cmd, args.get());
  CLI::Option* events = cmd->add_option(
      "--events", args->events,
      "Arrivals, one JSON object per line: {\"event_id\", \"table\", "
      "\"partition\", \"at\", \"origin\", \"attributes\"}");
  CLI::Option* table =
      cmd->add_option("--table", args->table, "The table that landed");
  cmd->add_option("--partition", args->partition,
                  "Its partition (none, or -, for an unpartitioned table)");
  cmd->add_option("--event-id", args->event_id,
                  "Unique per delivery (a repeat is a duplicate)");
  cmd->add_option("--origin", args->origin, "Where it landed");
  cmd->add_option("--at", args->at, "When it landed (RFC 3339; default now)");
  events->excludes(table);
  OnRun(cmd, exit_code, [args, exit_code] {
    auto print = [json = args->json](const Arrival& arrival,
                                     const IngestResult& r) {
      if (json) {
        std::cout << capi::IngestResultJson(arrival.event_id(), r) << "\n";
        return;
      }
      std::vector<std::string> ready;
      for (const TaskKey& t : r.made_ready) ready.push_back(TaskName(t));
      std::cout << arrival.event_id() << ": "
                << (r.duplicate ? "duplicate"
                    : ready.empty()
                        ? "recorded, nothing made ready"
                        : "made ready " + absl::StrJoin(ready, ", "))
                << "\n";
    };
    if (!args->events.empty()) {
      // A file that cannot be read or parsed is refused before the state
      // is opened (or created); IngestEventsFile checks the rest.
      if (absl::Status status = ParseArrivalsFile(args->events); !status.ok()) {
        std::cerr << status.message() << "\n";
        return ExitCodeForLoadError(status);
      }
      std::optional<OpenState> open = Open(*args, exit_code);
      if (!open) return *exit_code;
      absl::Status status =
          IngestEventsFile(*open->scheduler, args->events, {}, print);
      return status.ok() ? kExitOk : Report(status);
    }
    if (args->table.empty() || args->event_id.empty()) {
      std::cerr << "ingest: give --events FILE, or --table and --event-id\n";
      return kExitUsage;
    }
    Arrival arrival;
    arrival.set_table(args->table);
    arrival.set_partition(args->partition);
    arrival.set_event_id(args->event_id);
    arrival.set_origin(args->origin);
    if (!args->at.empty()) {
      absl::StatusOr<absl::Time> at = ParseTime("--at", args->at);
      if (!at.ok()) return ReportUsage(at.status());
      const int64_t ns = absl::ToUnixNanos(*at);
      arrival.mutable_at()->set_seconds(ns / 1000000000);
      arrival.mutable_at()->set_nanos(static_cast<int32_t>(ns % 1000000000));
    }
    std::optional<OpenState> open = Open(*args, exit_code);
    if (!open) return *exit_code;
    ResolveUnpartitioned(open->scheduler->pipeline(), args->table,
                         arrival.mutable_partition());
    absl::StatusOr<IngestResult> result = open->scheduler->Ingest(arrival);
    if (!result.ok()) return Report(result.status());
    print(arrival, *result);
    return kExitOk;
  });
}

void AddClaimCommand(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "claim",
      "Claim ready tasks for a worker, highest priority first, and print "
      "each as a JSON line: {table, partition, attempt, lease_deadline, "
      "pool, class, sink, inputs: [{table, partition, version, origins, "
      "origins_complete}]}, where origins are the objects landed on that "
      "input since the task last consumed it. Prints nothing when nothing "
      "is ready.");
  struct Args : StateArgs {
    std::string worker;
    int max = 1;
    std::vector<std::string> pools, classes;
  };
  auto args = std::make_shared<Args>();
  AddStateOptions(cmd, args.get());
  cmd->add_option("--worker", args->worker, "Who runs the tasks")->required();
  cmd->add_option("--max", args->max, "At most this many tasks (default 1)")
      ->check(WholeNumber(1));
  cmd->add_option("--pool", args->pools, "Only tasks of this pool");
  cmd->add_option("--class", args->classes, "Only tasks of this class");
  OnRun(cmd, exit_code, [args, exit_code] {
    std::optional<OpenState> open = Open(*args, exit_code);
    if (!open) return *exit_code;
    // A misspelt filter would claim nothing, forever.
    const Pipeline& pipeline = open->scheduler->pipeline();
    for (const std::string& pool : args->pools) {
      if (!pipeline.FindPool(pool)) {
        std::vector<std::string> names;
        for (const Pool& p : pipeline.pools()) names.push_back(p.name);
        return Report(UnknownName("pool", pool, names));
      }
    }
    for (const std::string& cls : args->classes) {
      if (!pipeline.FindPriorityClass(cls)) {
        std::vector<std::string> names;
        for (const PriorityClass& c : pipeline.priority_classes()) {
          names.push_back(c.name);
        }
        return Report(UnknownName("priority class", cls, names));
      }
    }
    absl::StatusOr<std::vector<ClaimedTask>> claimed = open->scheduler->Claim(
        args->worker, args->max, ClaimFilter{args->pools, args->classes});
    if (!claimed.ok()) return Report(claimed.status());
    for (const ClaimedTask& t : *claimed) {
      std::cout << JsonObject()
                       .Str("table", t.task.table)
                       .Str("partition", t.task.partition)
                       .Int("attempt", t.attempt)
                       .Time("lease_deadline", t.lease_deadline)
                       .Str("pool", t.pool)
                       .Str("class", t.priority_class)
                       .Str("sink", t.sink)
                       .Raw("inputs", capi::InputsJson(t.inputs))
                       .str()
                << "\n";
    }
    return kExitOk;
  });
}

// Options naming one attempt: --table, --partition, --attempt.
struct AttemptArgs : StateArgs {
  TaskKey task;
  int64_t attempt = 0;
};

void AddAttemptOptions(CLI::App* cmd, AttemptArgs* args) {
  AddStateOptions(cmd, args);
  cmd->add_option("--table", args->task.table, "The task's table")->required();
  cmd->add_option("--partition", args->task.partition,
                  "The task's partition (none, or -, for an unpartitioned "
                  "table)");
  cmd->add_option("--attempt", args->attempt, "The attempt claimed")
      ->required()
      ->check(WholeNumber<int64_t>(1));
}

// Prints what became of an attempt, as the task's state now.
int PrintAttempt(const AttemptArgs& args, Scheduler& scheduler,
                 const std::string& done) {
  absl::StatusOr<Explanation> e = scheduler.Explain(args.task);
  const std::string state =
      e.ok() ? TaskStateName(e->status.state) : std::string("UNKNOWN");
  if (args.json) {
    std::cout << JsonObject()
                     .Str("table", args.task.table)
                     .Str("partition", args.task.partition)
                     .Int("attempt", args.attempt)
                     .Str("state", state)
                     .Time("deadline",
                           e.ok() ? e->status.deadline : absl::InfinitePast())
                     .str()
              << "\n";
  } else {
    std::cout << TaskName(args.task) << " attempt " << args.attempt << ": "
              << done << "; now " << state << "\n";
  }
  return kExitOk;
}

void AddHeartbeatCommand(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "heartbeat", "Extend a running attempt's lease by the table's lease");
  auto args = std::make_shared<AttemptArgs>();
  AddAttemptOptions(cmd, args.get());
  OnRun(cmd, exit_code, [args, exit_code] {
    std::optional<OpenState> open = OpenForTask(*args, &args->task, exit_code);
    if (!open) return *exit_code;
    Scheduler& s = *open->scheduler;
    if (absl::Status st = s.Heartbeat(args->task, args->attempt); !st.ok()) {
      return Report(st);
    }
    return PrintAttempt(*args, s, "lease extended");
  });
}

void AddCompleteCommand(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "complete",
      "Record how an attempt ended: SUCCEEDED triggers the downstream "
      "tables, RETRYABLE backs off and retries, FATAL dead-letters");
  struct Args : AttemptArgs {
    std::string outcome = "SUCCEEDED";
    std::string message;
  };
  auto args = std::make_shared<Args>();
  AddAttemptOptions(cmd, args.get());
  cmd->add_option("--outcome", args->outcome,
                  "SUCCEEDED (default), RETRYABLE or FATAL")
      ->check(
          CLI::IsMember({"SUCCEEDED", "RETRYABLE", "FATAL"}, CLI::ignore_case));
  cmd->add_option("--message", args->message, "What went wrong");
  OnRun(cmd, exit_code, [args, exit_code] {
    Outcome outcome = Outcome::SUCCEEDED;
    Outcome_Parse(absl::AsciiStrToUpper(args->outcome), &outcome);
    std::optional<OpenState> open = OpenForTask(*args, &args->task, exit_code);
    if (!open) return *exit_code;
    Scheduler& s = *open->scheduler;
    absl::Status st =
        s.Complete(args->task, args->attempt, outcome, args->message);
    if (!st.ok()) return Report(st);
    return PrintAttempt(*args, s, Outcome_Name(outcome));
  });
}

}  // namespace

void AddWorkCommands(CLI::App& app, int* exit_code) {
  AddInitCommand(app, exit_code);
  AddIngestCommand(app, exit_code);
  AddClaimCommand(app, exit_code);
  AddHeartbeatCommand(app, exit_code);
  AddCompleteCommand(app, exit_code);
}

}  // namespace landfall::cli
