// The `landfall` command's subcommands. Each Add*Command registers one
// subcommand on the app; when it runs it stores the process exit code in
// `*exit_code`.
#pragma once

#include <limits>
#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "landfall/pipeline.h"

namespace landfall::cli {

// Exit codes of every subcommand.
inline constexpr int kExitOk = 0;       // Done.
inline constexpr int kExitRefused = 1;  // Refused, or bad input.
inline constexpr int kExitUsage = 2;    // Bad usage, or a file error.
// Done, with something to alert on: `run --exit-when-idle` ended with tasks
// dead or blocked, or `freshness` found a table stale or past a deadline.
inline constexpr int kExitAlert = 3;
// How --help says them.
inline constexpr char kExitCodesHelp[] =
    "Exit codes: 0 done, 1 refused or bad input, 2 usage or file error, 3 "
    "done with something to alert on (run --exit-when-idle: tasks dead or "
    "blocked; freshness: a table stale or past its deadline).";

// Checks an integer option: a whole number from `min` to the largest T.
// CLI11's own checks print the range as doubles and its conversion clamps
// what overflows; this refuses both (exit 2) with a readable range.
template <typename T>
CLI::Validator WholeNumber(T min) {
  constexpr T max = std::numeric_limits<T>::max();
  return CLI::Validator(
      [min](std::string& text) -> std::string {
        T value;
        if (absl::SimpleAtoi(text, &value) && value >= min) return "";
        return absl::StrCat("must be a whole number from ", min, " to ", max,
                            " (got \"", text, "\")");
      },
      absl::StrCat("INT in [", min, " - ", max, "]"));
}

// kExitRefused for errors in the input (InvalidArgument, FailedPrecondition,
// NotFound of a named thing), kExitUsage for files that cannot be read.
int ExitCodeForLoadError(const absl::Status& status);

// Pipeline::FromFile, printing the spec's warnings on stderr (one per line,
// file:line:column: warning: ...): every command that reads a spec says
// them.
absl::StatusOr<std::shared_ptr<const Pipeline>> LoadSpec(
    const std::string& path);

void AddValidateCommand(CLI::App& app, int* exit_code);
void AddDotCommand(CLI::App& app, int* exit_code);
void AddSimulateCommand(CLI::App& app, int* exit_code);
// init, ingest, claim, heartbeat, complete.
void AddWorkCommands(CLI::App& app, int* exit_code);
// status, explain, freshness.
void AddOperatorCommands(CLI::App& app, int* exit_code);
// dlq, rerun, mark-succeeded.
void AddTaskCommands(CLI::App& app, int* exit_code);
// pause, resume, resize-pool, set-class.
void AddControlCommands(CLI::App& app, int* exit_code);
void AddHistoryCommand(CLI::App& app, int* exit_code);
void AddRunCommand(CLI::App& app, int* exit_code);
// deploy: a changed spec with --adopt, --rebuild, --force, --dry-run.
void AddDeployCommand(CLI::App& app, int* exit_code);
void AddDemoCommand(CLI::App& app, int* exit_code);
// serve: the read-only status page of a state store.
void AddServeCommand(CLI::App& app, int* exit_code);
// gantt: a state store's attempts as a Gantt chart.
void AddGanttCommand(CLI::App& app, int* exit_code);
// --gantt-width and --gantt-rows, for every command that draws a chart.
struct GanttSvgOptions;
void AddGanttOptions(CLI::App* cmd, GanttSvgOptions* options);

}  // namespace landfall::cli
