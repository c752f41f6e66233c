// The commands operators look with: status, explain and freshness.
#include <algorithm>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "examples/cli/commands.h"
#include "examples/cli/state_file.h"
#include "lib/capi/records_json.h"
#include "lib/core/plural.h"
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

void AddStatusCommand(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "status",
      "List tasks (table, partition) with their state, attempts and last "
      "success, and count them by state");
  struct Args : StateArgs {
    std::string table, state_filter;
  };
  auto args = std::make_shared<Args>();
  args->access = StateAccess::kReadOnly;
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
    std::cout << TaskCountsText(TaskCounts::From(list)) << "\n";
    return kExitOk;
  });
}

void AddExplainCommand(CLI::App& app, int* exit_code) {
  CLI::App* cmd =
      app.add_subcommand("explain", "Say why a task is or is not running");
  OnTask(
      cmd, exit_code,
      [](const StateArgs& args, const TaskKey& task, Scheduler& s) {
        absl::StatusOr<Explanation> e = s.Explain(task);
        if (!e.ok()) return Report(e.status());
        if (args.json) {
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
      },
      StateAccess::kReadOnly);
}

void AddFreshnessCommand(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "freshness",
      "Each table's latest partition (- for an unpartitioned table) and last "
      "update, and whether it is stale by its freshness policy (max_lag). "
      "Exits 3 when a table is stale.");
  struct Args : StateArgs {
    std::string table;
  };
  auto args = std::make_shared<Args>();
  args->access = StateAccess::kReadOnly;
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
    bool stale = false;
    for (const std::string& table : tables) {
      absl::StatusOr<Freshness> f = s.GetFreshness(table);
      if (!f.ok()) return Report(f.status());
      stale = stale || f->stale;
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
        const bool partitioned =
            s.pipeline().table(*s.pipeline().FindTable(table)).partitioned;
        rows.push_back(
            {f->table, partitioned ? f->latest_partition : kUnpartitioned,
             TimeText(f->last_update), lag, f->stale ? "STALE" : "-"});
      }
    }
    if (!args->json) PrintTable(rows);
    // A cron job or a monitor alerts on the exit code.
    return stale ? kExitAlert : kExitOk;
  });
}

}  // namespace

void AddOperatorCommands(CLI::App& app, int* exit_code) {
  AddStatusCommand(app, exit_code);
  AddExplainCommand(app, exit_code);
  AddFreshnessCommand(app, exit_code);
}

}  // namespace landfall::cli
