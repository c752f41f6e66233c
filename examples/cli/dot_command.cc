// `landfall dot SPEC [-o FILE]`: the pipeline's graph as Graphviz DOT.
// `landfall dot --state URI [SPEC] [-o FILE]`: the graph coloured by the
// live state of a state store.
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "examples/cli/commands.h"
#include "examples/cli/serve/state_graph.h"
#include "examples/cli/state_file.h"
#include "landfall/pipeline.h"

namespace landfall::cli {
namespace {

// Writes `dot` to `output`, or stdout when empty; the exit code.
int WriteDot(const std::string& dot, const std::string& output) {
  if (output.empty()) {
    std::cout << dot;
    return kExitOk;
  }
  std::ofstream out(output, std::ios::binary);
  out << dot;
  out.close();
  if (!out) {
    std::cerr << "cannot write " << output << "\n";
    return kExitUsage;
  }
  return kExitOk;
}

}  // namespace

void AddDotCommand(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "dot",
      "Write a pipeline's table graph as Graphviz DOT (to stdout, or to FILE "
      "with -o). With --state, the graph of the pipeline the store runs, "
      "each table coloured and shaped by its live state (succeeded, "
      "running, retrying, dead, blocked, pending; sources landed or not), "
      "with a legend. Render it with: dot -Tsvg FILE -o graph.svg");
  struct Args : StateArgs {
    std::string output;
    std::string table;
    int depth = 2;
  };
  auto args = std::make_shared<Args>();
  args->access = StateAccess::kReadOnly;
  cmd->add_option("SPEC", args->spec,
                  "Pipeline spec file (with --state: refuse a store that "
                  "runs another one)");
  cmd->add_option("--state", args->state,
                  absl::StrCat(kStateHelp,
                               ": colour the graph by its live "
                               "state"));
  cmd->add_option("--table", args->table,
                  "With --state: only the tables within --depth edges of "
                  "this one");
  cmd->add_option("--depth", args->depth,
                  "With --table: how many edges away (default 2)")
      ->check(WholeNumber(0));
  cmd->add_option("-o,--output", args->output, "Write DOT to this file");
  OnRun(cmd, exit_code, [args, exit_code] {
    if (args->state.empty()) {
      if (args->spec.empty()) {
        std::cerr << "dot: give SPEC, --state URI, or both\n";
        return kExitUsage;
      }
      if (!args->table.empty()) {
        std::cerr << "dot: --table needs --state\n";
        return kExitUsage;
      }
      absl::StatusOr<std::shared_ptr<const Pipeline>> pipeline =
          LoadSpec(args->spec);
      if (!pipeline.ok()) {
        std::cerr << pipeline.status().message() << "\n";
        return ExitCodeForLoadError(pipeline.status());
      }
      return WriteDot((*pipeline)->ToDot(), args->output);
    }
    std::optional<OpenState> open = Open(*args, exit_code);
    if (!open) return *exit_code;
    StateGraphOptions options;
    options.focus = args->table;
    options.depth = args->depth;
    absl::StatusOr<StateGraph> graph = StateGraphDot(*open->scheduler, options);
    if (!graph.ok()) return Report(graph.status());
    return WriteDot(graph->dot, args->output);
  });
}

}  // namespace landfall::cli
