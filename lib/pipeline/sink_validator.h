// Validation of the spec's sinks and of the tables' `sink`, `sql` and
// `statement_timeout`; part of PipelineBuilder's validation.
#pragma once

#include <vector>

#include "landfall/pipeline.h"
#include "lib/pipeline/pipeline_rep.h"
#include "lib/pipeline/spec_locator.h"

namespace landfall::internal {

// Resolves spec.sink into rep->sinks, reporting each problem.
void ResolveSinks(const SpecLocator& locator, PipelineRep* rep,
                  std::vector<SpecProblem>* problems);

// Checks the sink each table names (already resolved into Table::sink, over
// the defaults) and compiles its sql. REQUIRES: ResolveSinks ran and
// rep->tables is filled.
void ResolveTableSinks(const SpecLocator& locator, PipelineRep* rep,
                       std::vector<SpecProblem>* problems);

}  // namespace landfall::internal
