// What every command on a state file shares: the --state, --spec and --json
// options, opening the scheduler, printing times and errors, exit codes.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "landfall/runner.h"
#include "landfall/scheduler.h"
#include "landfall/state_store.h"

namespace landfall::cli {

// Whether a command writes the state or only reads it. A read-only command
// never creates, migrates or changes a store (see Open).
enum class StateAccess { kWrite, kReadOnly };

struct StateArgs {
  std::string state;  // PATH or sqlite:PATH.
  StateAccess access = StateAccess::kWrite;
  std::string spec;  // Optional: create the file if missing.
  bool json = false;
  // Deploy `spec` to an existing file that runs another one (init, run);
  // otherwise such a file is refused.
  bool deploy = false;
  // With `deploy`: deploy as DeployOptions::force (init --force).
  bool force = false;
  // --dedup-retention (absl syntax); empty for the scheduler's default.
  std::string dedup_retention;
  // With `spec`: called with its pipeline once loaded, before the state is
  // opened; an error is printed and exits kExitUsage with nothing written.
  std::function<absl::Status(const Pipeline&)> before_open;
  // Told of the scheduler's entries (SchedulerOptions::observer); may be
  // set by before_open. Not owned. Default: none.
  Observer* observer = nullptr;
};

// How --state is described in every command's help.
inline constexpr char kStateHelp[] =
    "State file (SQLite; PATH or sqlite:PATH) or PostgreSQL store "
    "(postgresql://...?schema=NAME)";

// --state (required), --spec, --json and --dedup-retention, as
// `args->access` says them.
void AddStateOptions(CLI::App* cmd, StateArgs* args);
// --dedup-retention alone, for commands that add the others their way.
void AddDedupRetentionOption(CLI::App* cmd, std::string* value);

// A duration option's value (absl syntax, not negative); InvalidArgument
// naming `option` otherwise.
absl::StatusOr<absl::Duration> ParseDurationOption(const std::string& option,
                                                   const std::string& text);
// A --dedup-retention value: a positive, finite duration; InvalidArgument
// naming the option otherwise.
absl::StatusOr<absl::Duration> ParseDedupRetention(const std::string& text);

struct OpenState {
  std::shared_ptr<const Pipeline> pipeline;  // Loaded from --spec, if given.
  std::shared_ptr<StateStore> store;
  std::unique_ptr<Scheduler> scheduler;
};

// The file of a --state value: PATH or sqlite:PATH.
std::string StatePath(const std::string& state);
// Whether a --state value is a PostgreSQL store's URI.
bool IsPostgresState(const std::string& state);
// A --state value as messages show it: the file, or a PostgreSQL store
// without its password.
std::string ShownState(const std::string& state);

// Opens the state file's scheduler. Without --spec the file must exist and
// runs the pipeline it holds; with it, a missing file is created, and a file
// running another spec is refused, or with `deploy` takes the new one
// (refused when incompatible). With StateAccess::kReadOnly the store is
// opened read-only and never created, migrated or changed: --spec only
// checks that it runs that spec, and a store that is missing, empty, not a
// landfall store or holding no pipeline exits kExitUsage. A bad
// --dedup-retention is refused before the file is opened. On error prints
// it and sets `*exit_code`.
std::optional<OpenState> Open(const StateArgs& args, int* exit_code);

// Registers `action` as the command's body; its result is the exit code.
void OnRun(CLI::App* cmd, int* exit_code, std::function<int()> action);

// Prints the error on stderr and returns its exit code: kExitRefused for an
// operation refused (bad argument, unknown name, wrong state), kExitUsage for
// a state file that could not be read or written.
int Report(const absl::Status& status);
// Prints `status` and returns kExitUsage: for a bad option value (a time)
// found after parsing, which exits as CLI11's own checks do.
int ReportUsage(const absl::Status& status);

// For a --table filter: OK when empty or a table of `pipeline`, else
// NotFound naming it.
absl::Status CheckTableFilter(const Pipeline& pipeline,
                              const std::string& table);

// NotFound: `unknown KIND "name"`, with the closest of `known` when one is a
// plausible typo of it, as the library says it.
absl::Status UnknownName(absl::string_view kind, const std::string& name,
                         const std::vector<std::string>& known);

// What a shell runs this landfall as, for hints to print: "landfall" when
// that is what PATH finds, else this binary's path.
std::string SelfCommand();

// `text` as one shell word: as is when it needs no quotes.
std::string ShellWord(const std::string& text);

// RFC 3339 in UTC, or "never".
std::string TimeText(absl::Time t);
// RFC 3339; InvalidArgument naming `option` otherwise.
absl::StatusOr<absl::Time> ParseTime(const std::string& option,
                                     const std::string& text);
// RFC 3339, or a duration ("5m", "2h", "1h30m") meaning that long before
// now; InvalidArgument naming `option` otherwise.
absl::StatusOr<absl::Time> ParseTimeOrAgo(const std::string& option,
                                          const std::string& text);

// "table/partition", or "table" for an unpartitioned one.
std::string TaskName(const TaskKey& task);

// How the commands print the partition of an unpartitioned table, and
// accept it back wherever they take a partition.
inline constexpr char kUnpartitioned[] = "-";
// For an unpartitioned table of `pipeline`, "-" names its one partition, as
// none does: `*partition` becomes "". A partitioned table's partition named
// "-" stays as it is.
void ResolveUnpartitioned(const Pipeline& pipeline, const std::string& table,
                          std::string* partition);

// TABLE [PARTITION] arguments naming one task.
void AddTaskArguments(CLI::App* cmd, TaskKey* task);
// As Open, then ResolveUnpartitioned on `*task`.
std::optional<OpenState> OpenForTask(const StateArgs& args, TaskKey* task,
                                     int* exit_code);
// A command on one task: adds the state options and TABLE [PARTITION]; when
// it runs, opens the state file (as OpenForTask) and returns `action`'s exit
// code.
void OnTask(CLI::App* cmd, int* exit_code,
            std::function<int(const StateArgs& args, const TaskKey& task,
                              Scheduler& scheduler)>
                action,
            StateAccess access = StateAccess::kWrite);

// The first entry at or after `t`, by bisection on the sequence numbers
// (entries are appended in time order; the bound is a retention hint).
absl::StatusOr<int64_t> FirstEntryAtOrAfter(Scheduler& s, absl::Time t);
// The history entries at or after `since` (all those held for
// InfinitePast()), oldest first.
absl::StatusOr<std::vector<HistoryEntry>> ReadHistorySince(Scheduler& s,
                                                           absl::Time since);
// Every entry a store holds, oldest first, read in one read transaction.
absl::StatusOr<std::vector<HistoryEntry>> ReadStoreHistory(StateStore& store);

// "N tasks: n WAITING, n DEAD, ..." naming the states that have tasks.
std::string TaskCountsText(const TaskCounts& counts);

}  // namespace landfall::cli
