// landfall deploy: a changed spec onto a state file, with the choices a
// change of how tables with states are derived needs, and a dry run.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "examples/cli/commands.h"
#include "examples/cli/state_file.h"
#include "lib/capi/records_json.h"
#include "lib/core/plural.h"

namespace landfall::cli {
namespace {

void PrintPlan(const DeployPlan& plan, const std::string& pipeline,
               bool dry_run) {
  if (!plan.changed) {
    std::cout << "pipeline \"" << pipeline << "\": no change\n";
    return;
  }
  std::cout << (dry_run ? "would deploy" : "deployed") << " pipeline \""
            << pipeline << "\": " << plan.summary << "\n";
  for (const std::string& change : plan.changes) {
    std::cout << "  " << change << "\n";
  }
  const size_t n = plan.made_ready.size();
  std::cout << (dry_run ? "would make " : "made ")
            << internal::Counted(n, "task") << " ready" << (n > 0 ? ":" : "")
            << "\n";
  for (const TaskKey& task : plan.made_ready) {
    std::cout << "  " << TaskName(task) << "\n";
  }
}

}  // namespace

void AddDeployCommand(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "deploy",
      "Deploy a changed spec to a state file: a table with task states whose "
      "upstreams or trigger change is adopted (what was built is kept) or "
      "rebuilt (every partition due); removing a table with states needs "
      "--force");
  struct Args : StateArgs {
    std::string file;
    DeployOptions options;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("SPEC", args->file, "Pipeline spec file")->required();
  cmd->add_option("--state", args->state, "State file (PATH or sqlite:PATH)")
      ->required();
  cmd->add_flag("--json", args->json, "Print JSON");
  AddDedupRetentionOption(cmd, &args->dedup_retention);
  cmd->add_option("--adopt", args->options.adopt,
                  "Keep what TABLE built and take its current inputs as "
                  "consumed (repeatable)");
  cmd->add_option("--rebuild", args->options.rebuild,
                  "Make every partition of TABLE due again (repeatable)");
  cmd->add_flag("--force", args->options.force,
                "Remove tables that have task states, or replace another "
                "pipeline (another name, no table in common), dropping their "
                "tasks");
  cmd->add_flag("--dry-run", args->options.dry_run,
                "Print what would change and which tasks would become ready; "
                "write nothing");
  OnRun(cmd, exit_code, [args, exit_code] {
    absl::StatusOr<std::shared_ptr<const Pipeline>> next =
        Pipeline::FromFile(args->file);
    if (!next.ok()) {
      std::cerr << next.status().message() << "\n";
      return ExitCodeForLoadError(next.status());
    }
    std::optional<OpenState> open = Open(*args, exit_code);
    if (!open) return *exit_code;
    absl::StatusOr<DeployPlan> plan =
        open->scheduler->Deploy(*next, args->options);
    if (!plan.ok()) return Report(plan.status());
    if (args->json) {
      std::cout << capi::DeployPlanJson(*plan, args->options.dry_run) << "\n";
    } else {
      PrintPlan(*plan, (*next)->name(), args->options.dry_run);
    }
    return kExitOk;
  });
}

}  // namespace landfall::cli
