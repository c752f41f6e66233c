// `landfall validate SPEC`: checks a spec and prints its summary.
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/str_format.h"
#include "examples/cli/commands.h"
#include "landfall/pipeline.h"
#include "lib/core/plural.h"

namespace landfall::cli {

int ExitCodeForLoadError(const absl::Status& status) {
  return status.code() == absl::StatusCode::kInvalidArgument ? kExitRefused
                                                             : kExitUsage;
}

absl::StatusOr<std::shared_ptr<const Pipeline>> LoadSpec(
    const std::string& path) {
  absl::StatusOr<std::shared_ptr<const Pipeline>> pipeline =
      Pipeline::FromFile(path);
  if (pipeline.ok()) {
    for (const SpecProblem& w : (*pipeline)->warnings()) {
      std::cerr << w.ToString() << "\n";
    }
  }
  return pipeline;
}

void AddValidateCommand(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "validate",
      "Check a pipeline spec (.textproto, .txtpb, .json, .yaml or .yml). "
      "Prints a one-line "
      "summary and exits 0, or prints every problem as file:line:column: "
      "message on stderr and exits 1; exits 2 when the file cannot be read. "
      "Warnings (file:line:column: warning: message, on stderr) do not "
      "change the exit code.");
  auto spec = std::make_shared<std::string>();
  cmd->add_option("SPEC", *spec, "Pipeline spec file")->required();
  cmd->callback([spec, exit_code] {
    absl::StatusOr<std::shared_ptr<const Pipeline>> pipeline = LoadSpec(*spec);
    if (!pipeline.ok()) {
      std::cerr << pipeline.status().message() << "\n";
      *exit_code = ExitCodeForLoadError(pipeline.status());
      return;
    }
    using internal::Counted;
    const PipelineSummary s = (*pipeline)->Summary();
    std::cout << absl::StrFormat(
        "%s: %s (%s, %d derived), %s, %s, %s, longest path %d\n",
        (*pipeline)->name().empty() ? *spec : (*pipeline)->name(),
        Counted(s.tables, "table"), Counted(s.sources, "source"), s.derived,
        Counted(s.edges, "edge"), Counted(s.classes, "class", "classes"),
        Counted(s.pools, "pool"), s.longest_path);
    *exit_code = kExitOk;
  });
}

}  // namespace landfall::cli
