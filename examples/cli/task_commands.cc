// The commands operators act on tasks with: dlq, rerun and mark-succeeded.
// Each prints every task it touched, one line (or JSON object) per task.
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "examples/cli/commands.h"
#include "examples/cli/state_file.h"
#include "lib/capi/records_json.h"
#include "lib/runtime/json_object.h"

namespace landfall::cli {
namespace {

using internal::JsonObject;

// One line per task: "<what> <task>", the history's name of the change with
// spaces ("redriven a/p"), or as JSON {"done": <kind>, "table",
// "partition"}. Rerun's descendants, not asked for by name, are marked so
// (" (descendant)", "descendant": true).
void PrintTasks(const StateArgs& args, EntryKind kind,
                const std::vector<TaskKey>& tasks,
                const std::set<TaskKey>& asked = {}) {
  const std::string done = EntryKindName(kind);
  for (const TaskKey& task : tasks) {
    const bool descendant = !asked.empty() && asked.count(task) == 0;
    if (args.json) {
      JsonObject json;
      json.Str("done", done)
          .Str("table", task.table)
          .Str("partition", task.partition);
      if (kind == EntryKind::kRerunRequested) {
        json.Bool("descendant", descendant);
      }
      std::cout << json.str() << "\n";
    } else {
      std::cout << absl::StrReplaceAll(done, {{"_", " "}}) << " "
                << TaskName(task) << (descendant ? " (descendant)" : "")
                << "\n";
    }
  }
}

// The dead tasks, of `table` only unless it is empty.
std::vector<TaskKey> DeadTasks(Scheduler& scheduler, const std::string& table) {
  std::vector<TaskKey> dead;
  for (const TaskStatus& t : scheduler.DeadLetter()) {
    if (table.empty() || t.task.table == table) dead.push_back(t.task);
  }
  return dead;
}

void AddDeadLetterCommand(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "dlq", "The dead letter: list its tasks, or redrive them");
  cmd->require_subcommand(1);
  cmd->fallthrough();
  auto args = std::make_shared<StateArgs>();
  AddStateOptions(cmd, args.get());
  CLI::App* list = cmd->add_subcommand("list", "List the dead tasks");
  OnRun(list, exit_code, [args, exit_code] {
    args->access = StateAccess::kReadOnly;
    std::optional<OpenState> open = Open(*args, exit_code);
    if (!open) return *exit_code;
    const std::vector<TaskStatus> dead = open->scheduler->DeadLetter();
    if (dead.empty() && !args->json) std::cout << "the dead letter is empty\n";
    for (const TaskStatus& t : dead) {
      if (args->json) {
        std::cout << capi::StatusJson(t) << "\n";
      } else {
        std::cout << TaskName(t.task) << " attempt " << t.attempt << ": "
                  << t.last_error << "\n";
      }
    }
    return kExitOk;
  });
  CLI::App* redrive = cmd->add_subcommand(
      "redrive",
      "Put dead tasks back to work with a fresh retry budget: one (TABLE "
      "[PARTITION]), every dead task of a table (--table T), or every one "
      "(--all); all at once, or none when one cannot be. Prints each task "
      "redriven.");
  struct Redrive {
    TaskKey task;
    std::string table;
    bool all = false;
  };
  auto what = std::make_shared<Redrive>();
  AddTaskArguments(redrive, &what->task);
  redrive->get_option("TABLE")->required(false);
  CLI::Option* table =
      redrive->add_option("--table", what->table, "Every dead task of TABLE");
  CLI::Option* all = redrive->add_flag("--all", what->all, "Every dead task");
  table->excludes(all)->excludes("TABLE");
  all->excludes("TABLE");
  OnRun(redrive, exit_code, [args, what, exit_code] {
    if (what->task.table.empty() && what->table.empty() && !what->all) {
      std::cerr << "dlq redrive: give TABLE [PARTITION], --table TABLE or "
                   "--all\n";
      return kExitUsage;
    }
    std::optional<OpenState> open = OpenForTask(*args, &what->task, exit_code);
    if (!open) return *exit_code;
    Scheduler& s = *open->scheduler;
    std::vector<TaskKey> tasks;
    if (!what->task.table.empty()) {
      tasks.push_back(what->task);
    } else {
      if (absl::Status st = CheckTableFilter(s.pipeline(), what->table);
          !st.ok()) {
        return Report(st);
      }
      tasks = DeadTasks(s, what->table);
      if (tasks.empty()) {
        if (!args->json) {
          std::cout << "no dead task"
                    << (what->table.empty() ? "" : " of table " + what->table)
                    << " to redrive\n";
        }
        return kExitOk;
      }
    }
    if (absl::Status st = s.RedriveBatch(tasks); !st.ok()) return Report(st);
    PrintTasks(*args, EntryKind::kRedriven, tasks);
    return kExitOk;
  });
}

// The table's tasks whose partitions lie from `from` to `to` (byte order).
absl::StatusOr<std::vector<TaskKey>> TasksInRange(Scheduler& scheduler,
                                                  const std::string& table,
                                                  const std::string& from,
                                                  const std::string& to) {
  const Pipeline& pipeline = scheduler.pipeline();
  if (absl::Status s = CheckTableFilter(pipeline, table); !s.ok()) return s;
  const Table& t = pipeline.table(*pipeline.FindTable(table));
  if (t.source || !t.partitioned) {
    return absl::InvalidArgumentError(absl::StrCat(
        "table \"", table, "\" is ",
        t.source ? "a source table: it has no task"
                 : "unpartitioned: --from and --to range over partitions"));
  }
  if (from > to) {
    return absl::InvalidArgumentError(
        absl::StrCat("--from ", from, " comes after --to ", to));
  }
  ListFilter filter;
  filter.table = table;
  std::vector<TaskKey> tasks;
  for (const TaskStatus& status : scheduler.List(filter).tasks) {
    const std::string& p = status.task.partition;
    if (from <= p && p <= to) tasks.push_back(status.task);
  }
  if (tasks.empty()) {
    return absl::NotFoundError(
        absl::StrCat("table \"", table, "\" has no task with a partition from ",
                     from, " to ", to));
  }
  return tasks;  // In partition order, as List sorts them.
}

void AddRerunCommand(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "rerun",
      "Build tasks again even if nothing is newer (a backfill): one (TABLE "
      "[PARTITION]), or the table's tasks with partitions from --from to "
      "--to; all at once, or none when one cannot be (a dead one: redrive "
      "it). Prints each task marked.");
  struct Args : StateArgs {
    TaskKey task;
    std::string from, to;
    bool with_descendants = false;
  };
  auto args = std::make_shared<Args>();
  AddStateOptions(cmd, args.get());
  AddTaskArguments(cmd, &args->task);
  CLI::Option* from = cmd->add_option(
      "--from", args->from,
      "First partition of a range (with --to): the table's tasks whose "
      "partition keys sort from --from to --to, both included");
  CLI::Option* to = cmd->add_option(
      "--to", args->to, "Last partition of the range (with --from)");
  from->needs(to)->excludes("PARTITION");
  to->needs(from)->excludes("PARTITION");
  cmd->add_flag("--with-descendants", args->with_descendants,
                "Also rerun every descendant (printed too) once its "
                "upstreams are rebuilt");
  OnRun(cmd, exit_code, [args, exit_code] {
    std::optional<OpenState> open = OpenForTask(*args, &args->task, exit_code);
    if (!open) return *exit_code;
    Scheduler& s = *open->scheduler;
    std::vector<TaskKey> tasks;
    if (args->from.empty() && args->to.empty()) {
      tasks.push_back(args->task);
    } else {
      absl::StatusOr<std::vector<TaskKey>> range =
          TasksInRange(s, args->task.table, args->from, args->to);
      if (!range.ok()) return Report(range.status());
      tasks = *std::move(range);
    }
    std::vector<TaskKey> rerun;
    if (absl::Status st = s.RerunBatch(tasks, args->with_descendants, &rerun);
        !st.ok()) {
      return Report(st);
    }
    PrintTasks(*args, EntryKind::kRerunRequested, rerun,
               std::set<TaskKey>(tasks.begin(), tasks.end()));
    return kExitOk;
  });
}

void AddMarkSucceededCommand(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "mark-succeeded",
      "Record a dead or waiting task as built by hand: its descendants are "
      "unblocked and triggered");
  OnTask(cmd, exit_code,
         [](const StateArgs& args, const TaskKey& task, Scheduler& s) {
           if (absl::Status st = s.MarkSucceeded(task); !st.ok()) {
             return Report(st);
           }
           PrintTasks(args, EntryKind::kMarkedSucceeded, {task});
           return kExitOk;
         });
}

}  // namespace

void AddTaskCommands(CLI::App& app, int* exit_code) {
  AddDeadLetterCommand(app, exit_code);
  AddRerunCommand(app, exit_code);
  AddMarkSucceededCommand(app, exit_code);
}

}  // namespace landfall::cli
