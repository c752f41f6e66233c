// A loaded Pipeline keeps its spec serialized without the table names,
// which its tables hold already: on a real graph they are most of the
// spec's bytes.
#include <string>

#include "lib/pipeline/pipeline_rep.h"

namespace landfall::internal {
namespace {

// Calls f(name written, the table it names) for each table name `rep`'s
// spec writes: table i's name, then its upstreams and inputs, which
// Pipeline::Inputs lists in the order written.
template <typename F>
void ForEachWrittenName(const PipelineRep& rep, PipelineSpec* spec, F f) {
  for (int i = 0; i < spec->table_size(); ++i) {
    TableSpec* t = spec->mutable_table(i);
    f(t->mutable_name(), i);
    const Input* input = rep.inputs.data() + rep.input_begin[i];
    for (std::string& up : *t->mutable_upstream()) f(&up, (input++)->table);
    for (InputSpec& in : *t->mutable_input()) {
      f(in.mutable_table(), (input++)->table);
    }
  }
}

}  // namespace

std::string SerializeSpecWithoutNames(PipelineRep& rep) {
  // Validated, each name written is its table's; checked all the same, so
  // that a spec this misreads is kept whole instead.
  bool names_match = true;
  ForEachWrittenName(rep, rep.spec.get(), [&](std::string* name, TableId id) {
    names_match &= *name == rep.tables[id].name;
  });
  rep.spec_without_names = names_match;
  if (names_match) {
    ForEachWrittenName(rep, rep.spec.get(),
                       [](std::string* name, TableId) { name->clear(); });
  }
  return rep.spec->SerializeAsString();
}

void RestoreSpecNames(const PipelineRep& rep, PipelineSpec* spec) {
  if (!rep.spec_without_names) return;
  ForEachWrittenName(rep, spec, [&](std::string* name, TableId id) {
    *name = rep.tables[id].name;
  });
}

}  // namespace landfall::internal
