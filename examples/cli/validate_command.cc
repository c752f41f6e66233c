// `landfall validate SPEC`: checks a spec and prints its summary.
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/str_format.h"
#include "examples/cli/commands.h"
#include "landfall/pipeline.h"

namespace landfall::cli {

int ExitCodeForLoadError(const absl::Status& status) {
  return status.code() == absl::StatusCode::kInvalidArgument ? kExitRefused
                                                             : kExitUsage;
}

void AddValidateCommand(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "validate",
      "Check a pipeline spec (.textproto, .txtpb or .json). Prints a one-line "
      "summary and exits 0, or prints every problem as file:line:column: "
      "message on stderr and exits 1; exits 2 when the file cannot be read.");
  auto spec = std::make_shared<std::string>();
  cmd->add_option("SPEC", *spec, "Pipeline spec file")->required();
  cmd->callback([spec, exit_code] {
    absl::StatusOr<std::shared_ptr<const Pipeline>> pipeline =
        Pipeline::FromFile(*spec);
    if (!pipeline.ok()) {
      std::cerr << pipeline.status().message() << "\n";
      *exit_code = ExitCodeForLoadError(pipeline.status());
      return;
    }
    const PipelineSummary s = (*pipeline)->Summary();
    std::cout << absl::StrFormat(
        "%s: %d tables (%d sources, %d derived), %d edges, %d classes, "
        "%d pools, longest path %d\n",
        (*pipeline)->name().empty() ? *spec : (*pipeline)->name(), s.tables,
        s.sources, s.derived, s.edges, s.classes, s.pools, s.longest_path);
    *exit_code = kExitOk;
  });
}

}  // namespace landfall::cli
