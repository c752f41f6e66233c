// Gantt charts of runs as SVG: per pool a lane whose rows are its slots,
// attempts as bars coloured by class (failed ones marked, each with a
// <title> naming the task), arrivals as ticks, the critical path outlined
// and joined. Several runs are stacked on one time axis, so two runs of
// the same arrivals (a recorded one and a replay) compare at a glance.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "examples/cli/gantt/gantt_chart.h"

namespace landfall::cli {

struct GanttSvgOptions {
  // Width of the picture in pixels. Default 1400.
  int width = 1400;
  // A pool whose attempts took more rows than this draws this many: the
  // rows from the last on collapse into it, a density lane whose bars are
  // translucent (darker where more ran at once). Default 40.
  int max_rows_per_pool = 40;
};

// The charts, first on top, on the time axis that spans them all. Every
// name and error is escaped for XML.
std::string GanttSvg(const std::vector<GanttChart>& charts,
                     const GanttSvgOptions& options);

// Builds each run's chart and writes their SVG to `path`. Unavailable
// naming the file when it cannot be written.
absl::Status WriteGanttSvg(const std::vector<GanttRun>& runs,
                           const GanttSvgOptions& options,
                           const std::string& path);

}  // namespace landfall::cli
