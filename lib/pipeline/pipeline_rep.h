// The data behind a Pipeline; shared by the builder and the accessors.
#pragma once

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "landfall/pipeline.h"
#include "lib/pipeline/spec_locator.h"
#include "lib/pipeline/table_graph.h"

namespace landfall {
namespace internal {

struct PipelineRep {
  PipelineSpec spec;
  PriorityGate gate = PriorityGate::kPool;
  std::vector<Table> tables;
  std::vector<PriorityClass> classes;
  std::vector<Pool> pools;
  std::vector<Sink> sinks;
  absl::flat_hash_map<std::string, TableId> table_ids;
  absl::flat_hash_map<std::string, ClassId> class_ids;
  absl::flat_hash_map<std::string, PoolId> pool_ids;

  internal::TableGraph graph;
  // The graph again in compressed rows, for allocation-free spans on the
  // scheduler's hot path: table t's upstreams are
  // upstream_ids[upstream_begin[t] .. upstream_begin[t + 1]).
  std::vector<int32_t> upstream_begin, downstream_begin;
  std::vector<TableId> upstream_ids, downstream_ids;
  // Every input edge with its mapping: table t's are
  // inputs[input_begin[t] .. input_begin[t + 1]).
  std::vector<int32_t> input_begin;
  std::vector<Input> inputs;
  absl::TimeZone time_zone = absl::UTCTimeZone();

  std::vector<TableId> topological_order;
  // What loads but looks wrong; see Pipeline::warnings().
  std::vector<SpecProblem> warnings;
};

}  // namespace internal

// Builds Pipelines from specs; the only code that creates a Pipeline.
class PipelineBuilder {
 public:
  // Validates `spec`, reporting every problem with locations from `locator`.
  static absl::StatusOr<std::shared_ptr<const Pipeline>> Build(
      PipelineSpec spec, const internal::SpecLocator& locator,
      std::vector<SpecProblem>* problems);
};

}  // namespace landfall
