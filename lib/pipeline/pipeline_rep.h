// The data behind a Pipeline; shared by the builder and the accessors.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/base/call_once.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "landfall/pipeline.h"
#include "lib/pipeline/spec_locator.h"

namespace landfall {
namespace internal {

struct PipelineRep {
  // The spec while the pipeline is built; then, serialized in spec_bytes, it
  // is parsed again only when Pipeline::spec() is first called: a loaded
  // spec holds every name again and takes more than the rest together.
  mutable std::unique_ptr<PipelineSpec> spec;
  std::string spec_bytes;
  mutable absl::once_flag spec_once;
  std::string name;
  PriorityGate gate = PriorityGate::kPool;
  std::vector<Table> tables;
  std::vector<PriorityClass> classes;
  std::vector<Pool> pools;
  std::vector<Sink> sinks;
  // Keys view the names in `tables`, which never move once built.
  absl::flat_hash_map<absl::string_view, TableId> table_ids;
  absl::flat_hash_map<std::string, ClassId> class_ids;
  absl::flat_hash_map<std::string, PoolId> pool_ids;

  // The graph in compressed rows: table t's upstreams are
  // upstream_ids[upstream_begin[t] .. upstream_begin[t + 1]). The
  // Boost.Graph structure is built only to validate.
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
