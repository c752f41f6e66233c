// landfall: the command line front end of the library.
#include <iostream>

#include "examples/cli/app.h"
#include "examples/cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app;
  int exit_code = landfall::cli::kExitOk;
  landfall::cli::BuildApp(app, &exit_code);
  return landfall::cli::ParseCommandLine(app, argc, argv, &exit_code, std::cout,
                                         std::cerr);
}
