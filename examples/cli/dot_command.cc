// `landfall dot SPEC [-o FILE]`: the pipeline's graph as Graphviz DOT.
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "examples/cli/commands.h"
#include "landfall/pipeline.h"

namespace landfall::cli {

void AddDotCommand(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "dot",
      "Write a pipeline's table graph as Graphviz DOT (to stdout, or to FILE "
      "with -o). Render it with: dot -Tsvg FILE -o graph.svg");
  struct Args {
    std::string spec;
    std::string output;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("SPEC", args->spec, "Pipeline spec file")->required();
  cmd->add_option("-o,--output", args->output, "Write DOT to this file");
  cmd->callback([args, exit_code] {
    absl::StatusOr<std::shared_ptr<const Pipeline>> pipeline =
        LoadSpec(args->spec);
    if (!pipeline.ok()) {
      std::cerr << pipeline.status().message() << "\n";
      *exit_code = ExitCodeForLoadError(pipeline.status());
      return;
    }
    const std::string dot = (*pipeline)->ToDot();
    if (args->output.empty()) {
      std::cout << dot;
    } else {
      std::ofstream out(args->output, std::ios::binary);
      out << dot;
      out.close();
      if (!out) {
        std::cerr << "cannot write " << args->output << "\n";
        *exit_code = kExitUsage;
        return;
      }
    }
    *exit_code = kExitOk;
  });
}

}  // namespace landfall::cli
