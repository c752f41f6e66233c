// Fuzzes the `landfall` command's option parsing: the app main() builds,
// stopped once parsing is done and before a subcommand's callback would run
// (commands read and write files and stores; their inputs have fuzzers of
// their own). The input is argv after argv[0], split at NUL bytes.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "examples/cli/app.h"

namespace {

struct ParsedOnly {};

// CLI11 calls pre_callback() after parsing, before any callback; the
// callbacks stay registered, as they own the options' storage.
class ParseOnlyApp : public CLI::App {
 public:
  void pre_callback() override { throw ParsedOnly(); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> args = {"landfall"};
  std::string arg;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == '\0') {
      args.push_back(arg);
      arg.clear();
    } else {
      arg.push_back(static_cast<char>(data[i]));
    }
  }
  if (size > 0) args.push_back(arg);
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());

  ParseOnlyApp app;
  int exit_code = 0;
  landfall::cli::BuildApp(app, &exit_code);
  std::ostringstream out;
  std::ostringstream err;
  try {
    const int code = landfall::cli::ParseCommandLine(
        app, static_cast<int>(argv.size()), argv.data(), &exit_code, out, err);
    // Short of running a command: help or version (0), or a usage error.
    if (code != 0 && code != 2) __builtin_trap();
  } catch (const ParsedOnly&) {
  }
  return 0;
}
