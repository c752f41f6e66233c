// The data behind a Pipeline; shared by the builder and the accessors.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/base/call_once.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"
#include "landfall/pipeline.h"
#include "lib/pipeline/spec_locator.h"

namespace landfall {
namespace internal {

// Hashing and comparing table ids by their tables' names, so that the
// index of names holds 4-byte ids and the names stay in the tables alone.
// A name given as a string view looks up its id.
struct TableNameHash {
  using is_transparent = void;
  const std::vector<Table>* tables;
  size_t operator()(TableId id) const { return (*this)((*tables)[id].name); }
  size_t operator()(absl::string_view name) const {
    return absl::Hash<absl::string_view>()(name);
  }
};
struct TableNameEq {
  using is_transparent = void;
  const std::vector<Table>* tables;
  absl::string_view NameOf(TableId id) const { return (*tables)[id].name; }
  absl::string_view NameOf(absl::string_view name) const { return name; }
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    return NameOf(a) == NameOf(b);
  }
};

struct PipelineRep {
  PipelineRep() : table_ids(0, TableNameHash{&tables}, TableNameEq{&tables}) {}
  PipelineRep(const PipelineRep&) = delete;
  PipelineRep& operator=(const PipelineRep&) = delete;

  // The spec while the pipeline is built; then, serialized in spec_bytes, it
  // is parsed again only when Pipeline::spec() is first called: a loaded
  // spec holds every name again and takes more than the rest together.
  // When spec_stripped, spec_bytes leaves out the table names and labels,
  // which the tables hold (see SerializeStrippedSpec).
  mutable std::unique_ptr<PipelineSpec> spec;
  std::string spec_bytes;
  bool spec_stripped = false;
  mutable absl::once_flag spec_once;
  std::string name;
  PriorityGate gate = PriorityGate::kPool;
  std::vector<Table> tables;
  std::vector<PriorityClass> classes;
  std::vector<Pool> pools;
  std::vector<Sink> sinks;
  // Every table by name; find() takes a name.
  absl::flat_hash_set<TableId, TableNameHash, TableNameEq> table_ids;
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
  std::vector<int32_t> topological_position;  // By table id.
  // What loads but looks wrong; see Pipeline::warnings().
  std::vector<SpecProblem> warnings;
};

// `rep`'s spec serialized without what its tables hold: each table's name,
// each name of an upstream or input (Pipeline::Inputs lists them in the
// order written), and each table's labels. Clears them in rep.spec and sets
// rep.spec_stripped; when putting them back would not give the spec as
// written, serializes it whole instead. REQUIRES: rep.spec validated into
// rep.
std::string SerializeStrippedSpec(PipelineRep& rep);
// Puts back into `spec`, parsed from rep.spec_bytes, the names and labels
// SerializeStrippedSpec left out.
void RestoreStrippedSpec(const PipelineRep& rep, PipelineSpec* spec);

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
