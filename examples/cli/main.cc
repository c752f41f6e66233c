// landfall: the command line front end of the library.
#include <iostream>

#include "absl/strings/str_cat.h"
#include "examples/cli/commands.h"
#include "landfall/version.h"

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
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : landfall::cli::kExitUsage;
  }
  return exit_code;
}
