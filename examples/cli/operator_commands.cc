// The commands operators look and act with: status, explain, dlq, rerun,
// pause, resume and freshness.
#include <algorithm>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "examples/cli/commands.h"
#include "examples/cli/state_file.h"
#include "lib/capi/records_json.h"
#include "lib/runtime/json_object.h"

namespace landfall::cli {
namespace {

using capi::StatusJson;
using internal::JsonArray;
using internal::JsonObject;

// Rows of cells, each column as wide as its widest cell.
void PrintTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += i + 1 < row.size() ? absl::StrFormat("%-*s  ", widths[i], row[i])
                                 : row[i];
    }
    std::cout << absl::StripTrailingAsciiWhitespace(line) << "\n";
  }
}

// Options naming one task: TABLE [PARTITION].
void AddTaskArguments(CLI::App* cmd, TaskKey* task) {
  cmd->add_option("TABLE", task->table, "The table")->required();
  cmd->add_option("PARTITION", task->partition,
                  "The partition (none for an unpartitioned table)");
}

// Opens the state and runs `op`, printing `done` when it succeeds.
int RunOperation(const StateArgs& args, int* exit_code, const std::string& done,
                 const std::function<absl::Status(Scheduler&)>& op) {
  std::optional<OpenState> open = Open(args, exit_code);
  if (!open) return *exit_code;
  if (absl::Status s = op(*open->scheduler); !s.ok()) return Report(s);
  if (args.json) {
    std::cout << JsonObject().Str("done", done).str() << "\n";
  } else {
    std::cout << done << "\n";
  }
  return kExitOk;
}

void AddStatusCommand(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "status",
      "List tasks (table, partition) with their state, attempts and last "
      "success, and count them by state");
  struct Args : StateArgs {
    std::string table, state_filter;
  };
  auto args = std::make_shared<Args>();
  AddStateOptions(cmd, args.get());
  cmd->add_option("--table", args->table, "Only this table's tasks");
  std::vector<std::string> names;
  for (TaskState s : AllTaskStates()) names.push_back(TaskStateName(s));
  cmd->add_option("--state-filter", args->state_filter,
                  "Only tasks in this state")
      ->check(CLI::IsMember(names, CLI::ignore_case));
  OnRun(cmd, exit_code, [args, exit_code] {
    std::optional<OpenState> open = Open(*args, exit_code);
    if (!open) return *exit_code;
    Scheduler& s = *open->scheduler;
    ListFilter filter;
    filter.table = args->table;
    if (absl::Status st = CheckTableFilter(s.pipeline(), args->table);
        !st.ok()) {
      return Report(st);
    }
    filter.state = TaskStateFromName(absl::AsciiStrToUpper(args->state_filter));
    const TaskList list = s.List(filter);
    if (args->json) {
      for (const TaskStatus& t : list.tasks) std::cout << StatusJson(t) << "\n";
      return kExitOk;
    }
    std::vector<std::vector<std::string>> rows = {
        {"TASK", "STATE", "ATTEMPT", "VERSION", "LAST SUCCESS", "DETAIL"}};
    for (const TaskStatus& t : list.tasks) {
      std::string detail = t.worker.empty() ? t.last_error : "by " + t.worker;
      rows.push_back({TaskName(t.task), TaskStateName(t.state),
                      std::to_string(t.attempt), std::to_string(t.version),
                      TimeText(t.last_success), detail});
    }
    PrintTable(rows);
    std::vector<std::string> counts;
    for (const auto& [state, n] : list.by_state) {
      counts.push_back(absl::StrCat(n, " ", state));
    }
    std::cout << list.tasks.size() << " tasks"
              << (counts.empty() ? "" : ": " + absl::StrJoin(counts, ", "))
              << "\n";
    return kExitOk;
  });
}

void AddExplainCommand(CLI::App& app, int* exit_code) {
  CLI::App* cmd =
      app.add_subcommand("explain", "Say why a task is or is not running");
  struct Args : StateArgs {
    TaskKey task;
  };
  auto args = std::make_shared<Args>();
  AddStateOptions(cmd, args.get());
  AddTaskArguments(cmd, &args->task);
  OnRun(cmd, exit_code, [args, exit_code] {
    std::optional<OpenState> open = Open(*args, exit_code);
    if (!open) return *exit_code;
    absl::StatusOr<Explanation> e = open->scheduler->Explain(args->task);
    if (!e.ok()) return Report(e.status());
    if (args->json) {
      std::vector<std::string> reasons;
      for (const std::string& r : e->reasons) {
        reasons.push_back(internal::JsonString(r));
      }
      std::cout << JsonObject()
                       .Raw("status", StatusJson(e->status))
                       .Raw("reasons", JsonArray(reasons))
                       .str()
                << "\n";
    } else {
      std::cout << e->ToString() << "\n";
    }
    return kExitOk;
  });
}

void AddDeadLetterCommand(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "dlq", "The dead letter: list its tasks, or redrive one");
  cmd->require_subcommand(1);
  cmd->fallthrough();
  auto args = std::make_shared<StateArgs>();
  AddStateOptions(cmd, args.get());
  CLI::App* list = cmd->add_subcommand("list", "List the dead tasks");
  OnRun(list, exit_code, [args, exit_code] {
    std::optional<OpenState> open = Open(*args, exit_code);
    if (!open) return *exit_code;
    for (const TaskStatus& t : open->scheduler->DeadLetter()) {
      if (args->json) {
        std::cout << StatusJson(t) << "\n";
      } else {
        std::cout << TaskName(t.task) << " attempt " << t.attempt << ": "
                  << t.last_error << "\n";
      }
    }
    return kExitOk;
  });
  CLI::App* redrive = cmd->add_subcommand(
      "redrive", "Put a dead task back to work with a fresh retry budget");
  auto task = std::make_shared<TaskKey>();
  AddTaskArguments(redrive, task.get());
  OnRun(redrive, exit_code, [args, task, exit_code] {
    return RunOperation(*args, exit_code, "redriven " + TaskName(*task),
                        [&](Scheduler& s) { return s.Redrive(*task); });
  });
}

void AddRerunCommand(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "rerun", "Build a task again even if nothing is newer (a backfill)");
  struct Args : StateArgs {
    TaskKey task;
    bool with_descendants = false;
  };
  auto args = std::make_shared<Args>();
  AddStateOptions(cmd, args.get());
  AddTaskArguments(cmd, &args->task);
  cmd->add_flag("--with-descendants", args->with_descendants,
                "Also rerun every descendant once it lands");
  OnRun(cmd, exit_code, [args, exit_code] {
    return RunOperation(*args, exit_code, "rerun " + TaskName(args->task),
                        [&](Scheduler& s) {
                          return s.Rerun(args->task, args->with_descendants);
                        });
  });
}

void AddPauseCommand(CLI::App& app, int* exit_code, bool pause) {
  CLI::App* cmd = app.add_subcommand(
      pause ? "pause" : "resume",
      pause ? "Stop claiming a table's or a class's tasks (running attempts "
              "go on)"
            : "Claim a paused table's or class's tasks again");
  struct Args : StateArgs {
    std::string table, priority_class;
  };
  auto args = std::make_shared<Args>();
  AddStateOptions(cmd, args.get());
  CLI::Option* table = cmd->add_option("--table", args->table, "The table");
  CLI::Option* cls =
      cmd->add_option("--class", args->priority_class, "The priority class");
  table->excludes(cls);
  OnRun(cmd, exit_code, [cmd, args, exit_code, pause] {
    if (args->table.empty() && args->priority_class.empty()) {
      std::cerr << cmd->get_name() << ": give --table or --class\n";
      return kExitUsage;
    }
    const bool is_table = !args->table.empty();
    const std::string what =
        is_table ? "table " + args->table : "class " + args->priority_class;
    return RunOperation(*args, exit_code,
                        (pause ? "paused " : "resumed ") + what,
                        [&](Scheduler& s) {
                          if (is_table) {
                            return pause ? s.PauseTable(args->table)
                                         : s.ResumeTable(args->table);
                          }
                          return pause ? s.PauseClass(args->priority_class)
                                       : s.ResumeClass(args->priority_class);
                        });
  });
}

void AddFreshnessCommand(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "freshness",
      "Each table's latest partition and last update, and whether it is "
      "stale by its freshness policy (max_lag)");
  struct Args : StateArgs {
    std::string table;
  };
  auto args = std::make_shared<Args>();
  AddStateOptions(cmd, args.get());
  cmd->add_option("--table", args->table, "Only this table");
  OnRun(cmd, exit_code, [args, exit_code] {
    std::optional<OpenState> open = Open(*args, exit_code);
    if (!open) return *exit_code;
    Scheduler& s = *open->scheduler;
    std::vector<std::string> tables;
    if (!args->table.empty()) {
      tables.push_back(args->table);
    } else {
      for (const Table& t : s.pipeline().tables()) tables.push_back(t.name);
    }
    std::vector<std::vector<std::string>> rows = {
        {"TABLE", "LATEST PARTITION", "LAST UPDATE", "MAX LAG", "STALE"}};
    for (const std::string& table : tables) {
      absl::StatusOr<Freshness> f = s.GetFreshness(table);
      if (!f.ok()) return Report(f.status());
      const std::string lag = f->max_lag == absl::InfiniteDuration()
                                  ? "-"
                                  : absl::FormatDuration(f->max_lag);
      if (args->json) {
        std::cout << JsonObject()
                         .Str("table", f->table)
                         .Str("latest_partition", f->latest_partition)
                         .Time("last_update", f->last_update)
                         .Str("max_lag", lag)
                         .Bool("stale", f->stale)
                         .str()
                  << "\n";
      } else {
        rows.push_back({f->table, f->latest_partition, TimeText(f->last_update),
                        lag, f->stale ? "STALE" : "-"});
      }
    }
    if (!args->json) PrintTable(rows);
    return kExitOk;
  });
}

}  // namespace

void AddOperatorCommands(CLI::App& app, int* exit_code) {
  AddStatusCommand(app, exit_code);
  AddExplainCommand(app, exit_code);
  AddDeadLetterCommand(app, exit_code);
  AddRerunCommand(app, exit_code);
  AddPauseCommand(app, exit_code, /*pause=*/true);
  AddPauseCommand(app, exit_code, /*pause=*/false);
  AddFreshnessCommand(app, exit_code);
}

}  // namespace landfall::cli
