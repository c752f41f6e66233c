// `landfall gantt --state URI [SPEC] [--since T] [-o FILE]`: the attempts of
// a state store's history as a Gantt chart (SVG).
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "examples/cli/commands.h"
#include "examples/cli/gantt/gantt_svg.h"
#include "examples/cli/state_file.h"

namespace landfall::cli {

void AddGanttOptions(CLI::App* cmd, GanttSvgOptions* options) {
  cmd->add_option("--gantt-width", options->width,
                  "Width of the Gantt chart in pixels (default 1400)")
      ->check(WholeNumber(300));
  cmd->add_option("--gantt-rows", options->max_rows_per_pool,
                  "Rows drawn per pool at most; a pool that ran more attempts "
                  "at once collapses the rest into its last row (default 40)")
      ->check(WholeNumber(1));
}

void AddGanttCommand(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "gantt",
      "Draw a state store's attempts as a Gantt chart (SVG): a lane per pool "
      "with a row per slot, bars coloured by class, failed attempts marked, "
      "arrivals as ticks, the critical path outlined; each bar's tooltip "
      "names its task");
  struct Args : StateArgs {
    std::string since, output, title;
    GanttSvgOptions svg;
  };
  auto args = std::make_shared<Args>();
  args->access = StateAccess::kReadOnly;
  cmd->add_option("SPEC", args->spec,
                  "Pipeline spec file: refuse a store that runs another one");
  cmd->add_option("--state", args->state, kStateHelp)->required();
  cmd->add_option("--since", args->since,
                  "Only attempts claimed at or after TIME: RFC 3339, or a "
                  "duration such as 5m or 2h meaning that long before now");
  cmd->add_option("--title", args->title,
                  "Title of the chart (default: the store)");
  cmd->add_option("-o,--output", args->output,
                  "Write the SVG to this file (default: stdout)");
  AddGanttOptions(cmd, &args->svg);
  OnRun(cmd, exit_code, [args, exit_code] {
    absl::Time since = absl::InfinitePast();
    if (!args->since.empty()) {
      absl::StatusOr<absl::Time> t = ParseTimeOrAgo("--since", args->since);
      if (!t.ok()) return ReportUsage(t.status());
      since = *t;
    }
    std::optional<OpenState> open = Open(*args, exit_code);
    if (!open) return *exit_code;
    GanttRun run;
    run.title = args->title.empty() ? ShownState(args->state) : args->title;
    run.pipeline = &open->scheduler->pipeline();
    absl::StatusOr<std::vector<HistoryEntry>> history =
        ReadHistorySince(*open->scheduler, since);
    if (!history.ok()) return Report(history.status());
    run.history = *std::move(history);
    if (args->output.empty()) {
      std::cout << GanttSvg({BuildGanttChart(run)}, args->svg);
      return kExitOk;
    }
    if (absl::Status s = WriteGanttSvg({run}, args->svg, args->output);
        !s.ok()) {
      return Report(s);
    }
    return kExitOk;
  });
}

}  // namespace landfall::cli
