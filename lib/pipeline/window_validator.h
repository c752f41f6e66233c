// Validation of partition windows: the pipeline's `time_zone`, each table's
// `partition_format`, and the mapping of every input against the formats of
// its two tables; part of PipelineBuilder's validation.
#pragma once

#include <vector>

#include "landfall/pipeline.h"
#include "lib/pipeline/pipeline_rep.h"
#include "lib/pipeline/spec_locator.h"

namespace landfall::internal {

// An input edge and where it is written.
struct LocatedInput {
  Input input;
  SpecLocation where;
};

// Resolves spec.time_zone into rep->time_zone and each table's
// partition_format, sets Table::windowed, and checks that each edge of
// `inputs` (by downstream table id) fits the formats of its tables:
// IDENTITY into a table with a format needs the same format upstream;
// HOURLY_TO_DAILY hourly into daily, DAILY_TO_MONTHLY daily into monthly,
// PREVIOUS one format on both sides. REQUIRES: rep->tables is filled.
void ResolveWindows(const SpecLocator& locator,
                    const std::vector<std::vector<LocatedInput>>& inputs,
                    PipelineRep* rep, std::vector<SpecProblem>* problems);

}  // namespace landfall::internal
