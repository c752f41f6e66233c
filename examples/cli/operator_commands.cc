// The commands operators look with: status, explain and freshness.
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
#include "landfall/alerts.h"
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

// "-" for none, else up to three keys and how many more.
std::string BreachedText(const std::vector<std::string>& breached) {
  if (breached.empty()) return "-";
  constexpr size_t kShown = 3;
  std::vector<std::string> shown(
      breached.begin(), breached.begin() + std::min(kShown, breached.size()));
  for (std::string& key : shown) {
    if (key.empty()) key = kUnpartitioned;
  }
  std::string text = absl::StrJoin(shown, ",");
  if (breached.size() > kShown) {
    absl::StrAppend(&text, " and ", breached.size() - kShown, " more");
  }
  return text;
}

std::string DurationOrDash(absl::Duration d) {
  return d == absl::InfiniteDuration() ? "-" : absl::FormatDuration(d);
}

void AddFreshnessCommand(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "freshness",
      "Each table's latest partition (- for an unpartitioned table), last "
      "update and lag, whether it is stale by its max_lag, and its deadline "
      "with the partitions past it and not built (breached). Exits 3 when a "
      "table is stale or breached.");
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
        {"TABLE", "LATEST PARTITION", "LAST UPDATE", "LAG", "MAX LAG", "STALE",
         "DEADLINE", "BREACHED"}};
    bool alert = false;
    const absl::Time now = absl::Now();
    for (const std::string& table : tables) {
      absl::StatusOr<FreshnessReport> r = JudgeFreshness(s, table, now);
      if (!r.ok()) return Report(r.status());
      const Freshness& f = r->freshness;
      alert = alert || f.stale || r->breached;
      const std::string lag =
          DurationOrDash(absl::Trunc(r->lag, absl::Minutes(1)));
      const std::string deadline =
          r->deadline ? DeadlineText(*r->deadline) : "-";
      std::vector<std::string> breached;
      for (const DeadlineStatus& d : r->deadlines) {
        if (d.breached) breached.push_back(d.partition);
      }
      if (args->json) {
        std::vector<std::string> deadlines, breached_json;
        for (const DeadlineStatus& d : r->deadlines) {
          deadlines.push_back(JsonObject()
                                  .Str("partition", d.partition)
                                  .Time("due", d.due)
                                  .Bool("breached", d.breached)
                                  .str());
        }
        for (const std::string& p : breached) {
          breached_json.push_back(internal::JsonString(p));
        }
        std::cout << JsonObject()
                         .Str("table", f.table)
                         .Str("latest_partition", f.latest_partition)
                         .Time("last_update", f.last_update)
                         .Raw("lag", r->lag == absl::InfiniteDuration()
                                         ? "null"
                                         : internal::JsonString(lag))
                         .Str("max_lag", DurationOrDash(f.max_lag))
                         .Raw("deadline", r->deadline
                                              ? internal::JsonString(deadline)
                                              : "null")
                         .Raw("deadlines", JsonArray(deadlines))
                         .Raw("breached", JsonArray(breached_json))
                         .Bool("stale", f.stale)
                         .str()
                  << "\n";
      } else {
        const bool partitioned =
            s.pipeline().table(*s.pipeline().FindTable(table)).partitioned;
        rows.push_back(
            {f.table, partitioned ? f.latest_partition : kUnpartitioned,
             TimeText(f.last_update), lag, DurationOrDash(f.max_lag),
             f.stale ? "STALE" : "-", deadline, BreachedText(breached)});
      }
    }
    if (!args->json) PrintTable(rows);
    // A cron job or a monitor alerts on the exit code.
    return alert ? kExitAlert : kExitOk;
  });
}

}  // namespace

void AddOperatorCommands(CLI::App& app, int* exit_code) {
  AddStatusCommand(app, exit_code);
  AddExplainCommand(app, exit_code);
  AddFreshnessCommand(app, exit_code);
}

}  // namespace landfall::cli
