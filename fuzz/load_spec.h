// Loading a spec from fuzzed text, then walking one that loads the way
// `landfall validate` and `landfall dot` walk it: shared by the spec fuzzers.
#pragma once

#include <string_view>
#include <vector>

#include "landfall/pipeline.h"

namespace landfall::fuzz {

inline void LoadSpec(std::string_view text, SpecFormat format,
                     std::string_view file) {
  std::vector<SpecProblem> problems;
  auto pipeline = Pipeline::FromText(text, format, file, &problems);
  for (const SpecProblem& problem : problems) (void)problem.ToString();
  if (!pipeline.ok()) return;
  const Pipeline& p = **pipeline;
  for (const SpecProblem& warning : p.warnings()) (void)warning.ToString();
  (void)p.Summary();
  (void)p.ToDot();
  for (const Table& table : p.tables()) {
    (void)p.Ancestors(table.id);
    (void)p.Descendants(table.id);
    (void)p.FindTable(table.name);
  }
}

}  // namespace landfall::fuzz
