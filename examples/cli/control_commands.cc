// The commands operators steer a running pipeline with, no restart needed:
// pause, resume, resize-pool and set-class.
#include <functional>
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "examples/cli/commands.h"
#include "examples/cli/state_file.h"
#include "lib/runtime/json_object.h"

namespace landfall::cli {
namespace {

using internal::JsonObject;

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

void AddResizePoolCommand(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "resize-pool",
      "Give a pool another number of slots from now on (running attempts "
      "keep theirs); a later deploy of a spec that changes the pool's size "
      "sets it again");
  struct Args : StateArgs {
    std::string pool;
    int slots = 0;
  };
  auto args = std::make_shared<Args>();
  AddStateOptions(cmd, args.get());
  cmd->add_option("POOL", args->pool, "The pool")->required();
  // Only what an int cannot hold is a usage error; the library says why a
  // size is refused.
  cmd->add_option("SLOTS", args->slots, "Its slots (at least 1)")
      ->required()
      ->check(WholeNumber(std::numeric_limits<int>::min()));
  OnRun(cmd, exit_code, [args, exit_code] {
    return RunOperation(
        *args, exit_code,
        absl::StrCat("resized pool ", args->pool, " to ", args->slots,
                     " slots"),
        [&](Scheduler& s) { return s.SetPoolSlots(args->pool, args->slots); });
  });
}

void AddSetClassCommand(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "set-class",
      "Move a table to another priority class from now on; a later deploy "
      "of a spec that changes the table's class sets it again");
  struct Args : StateArgs {
    std::string table, priority_class;
  };
  auto args = std::make_shared<Args>();
  AddStateOptions(cmd, args.get());
  cmd->add_option("TABLE", args->table, "The table")->required();
  cmd->add_option("CLASS", args->priority_class, "The priority class")
      ->required();
  OnRun(cmd, exit_code, [args, exit_code] {
    return RunOperation(*args, exit_code,
                        absl::StrCat("moved table ", args->table, " to class ",
                                     args->priority_class),
                        [&](Scheduler& s) {
                          return s.SetPriorityClass(args->table,
                                                    args->priority_class);
                        });
  });
}

}  // namespace

void AddControlCommands(CLI::App& app, int* exit_code) {
  AddPauseCommand(app, exit_code, /*pause=*/true);
  AddPauseCommand(app, exit_code, /*pause=*/false);
  AddResizePoolCommand(app, exit_code);
  AddSetClassCommand(app, exit_code);
}

}  // namespace landfall::cli
