// landfall: the command line front end of the library.
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "examples/cli/commands.h"
#include "landfall/version.h"
#include "lib/pipeline/internal/suggest.h"

int main(int argc, char** argv) {
  CLI::App app{absl::StrCat("landfall: data-driven scheduling of ETL work "
                            "over a table dependency graph.\n\n",
                            landfall::cli::kExitCodesHelp),
               "landfall"};
  app.set_version_flag("--version", landfall::Version());
  app.require_subcommand(1);
  int exit_code = landfall::cli::kExitOk;
  landfall::cli::AddValidateCommand(app, &exit_code);
  landfall::cli::AddDotCommand(app, &exit_code);
  landfall::cli::AddSimulateCommand(app, &exit_code);
  landfall::cli::AddWorkCommands(app, &exit_code);
  landfall::cli::AddDeployCommand(app, &exit_code);
  landfall::cli::AddOperatorCommands(app, &exit_code);
  landfall::cli::AddTaskCommands(app, &exit_code);
  landfall::cli::AddControlCommands(app, &exit_code);
  landfall::cli::AddHistoryCommand(app, &exit_code);
  landfall::cli::AddRunCommand(app, &exit_code);
  landfall::cli::AddDemoCommand(app, &exit_code);
  // CLI11 takes an unknown word for a stray argument and says only "A
  // subcommand is required": name it as the unknown subcommand it is.
  if (argc > 1 && argv[1][0] != '-') {
    std::vector<std::string> names;
    for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
      names.push_back(sub->get_name());
    }
    if (std::find(names.begin(), names.end(), argv[1]) == names.end()) {
      std::cerr << "landfall: unknown subcommand \"" << argv[1] << "\""
                << landfall::internal::DidYouMean(argv[1], names)
                << "\nRun with --help for the subcommands.\n";
      return landfall::cli::kExitUsage;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : landfall::cli::kExitUsage;
  }
  return exit_code;
}
