#include "examples/cli/app.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "examples/cli/commands.h"
#include "landfall/version.h"
#include "lib/pipeline/internal/suggest.h"

namespace landfall::cli {

void BuildApp(CLI::App& app, int* exit_code) {
  app.description(
      absl::StrCat("landfall: data-driven scheduling of ETL work "
                   "over a table dependency graph.\n\n",
                   kExitCodesHelp));
  app.name("landfall");
  app.set_version_flag("--version", Version());
  app.require_subcommand(1);
  AddValidateCommand(app, exit_code);
  AddDotCommand(app, exit_code);
  AddSimulateCommand(app, exit_code);
  AddWorkCommands(app, exit_code);
  AddDeployCommand(app, exit_code);
  AddOperatorCommands(app, exit_code);
  AddTaskCommands(app, exit_code);
  AddControlCommands(app, exit_code);
  AddHistoryCommand(app, exit_code);
  AddRunCommand(app, exit_code);
  AddDemoCommand(app, exit_code);
  AddServeCommand(app, exit_code);
  AddGanttCommand(app, exit_code);
}

int ParseCommandLine(CLI::App& app, int argc, const char* const* argv,
                     const int* exit_code, std::ostream& out,
                     std::ostream& err) {
  // CLI11 takes an unknown word for a stray argument and says only "A
  // subcommand is required": name it as the unknown subcommand it is.
  if (argc > 1 && argv[1][0] != '-') {
    std::vector<std::string> names;
    for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
      names.push_back(sub->get_name());
    }
    if (std::find(names.begin(), names.end(), argv[1]) == names.end()) {
      err << "landfall: unknown subcommand \"" << argv[1] << "\""
          << internal::DidYouMean(argv[1], names)
          << "\nRun with --help for the subcommands.\n";
      return kExitUsage;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e, out, err);
    return code == 0 ? kExitOk : kExitUsage;
  }
  return *exit_code;
}

}  // namespace landfall::cli
