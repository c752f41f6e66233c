// The `landfall` command's app: its subcommands, and parsing a command line
// with them. main() runs it; the command-line fuzzer builds the same app and
// parses with its callbacks removed.
#pragma once

#include <ostream>

#include "CLI/CLI.hpp"

namespace landfall::cli {

// Registers the version flag and every subcommand on `app`. A subcommand
// that runs stores its exit code in `*exit_code`.
void BuildApp(CLI::App& app, int* exit_code);

// Parses argv with `app` (running the chosen subcommand's callback) and
// returns the exit code: kExitUsage for an unknown subcommand or bad usage,
// 0 for --help and --version, otherwise `*exit_code` as the subcommand left
// it. Help and errors go to `out` and `err`.
int ParseCommandLine(CLI::App& app, int argc, const char* const* argv,
                     const int* exit_code, std::ostream& out,
                     std::ostream& err);

}  // namespace landfall::cli
