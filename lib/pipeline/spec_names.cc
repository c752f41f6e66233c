// A loaded Pipeline keeps its spec serialized without what its tables hold
// already: the table names, which on a real graph are most of the spec's
// bytes, and each table's labels.
#include <map>
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

// Whether table i's labels in `spec` are those rep.tables[i] holds, for
// every table: each key with the same value, and no other.
bool LabelsMatch(const PipelineRep& rep, const PipelineSpec& spec) {
  for (int i = 0; i < spec.table_size(); ++i) {
    const auto& written = spec.table(i).labels();
    const std::map<std::string, std::string>& held = rep.tables[i].labels;
    if (written.size() != held.size()) return false;
    for (const auto& [key, value] : written) {
      auto it = held.find(key);
      if (it == held.end() || it->second != value) return false;
    }
  }
  return true;
}

}  // namespace

std::string SerializeStrippedSpec(PipelineRep& rep) {
  // Validated, each name written is its table's and each table holds the
  // labels written; checked all the same, so that a spec this misreads is
  // kept whole instead.
  bool names_match = true;
  ForEachWrittenName(rep, rep.spec.get(), [&](std::string* name, TableId id) {
    names_match &= *name == rep.tables[id].name;
  });
  rep.spec_stripped = names_match && LabelsMatch(rep, *rep.spec);
  if (rep.spec_stripped) {
    ForEachWrittenName(rep, rep.spec.get(),
                       [](std::string* name, TableId) { name->clear(); });
    for (TableSpec& t : *rep.spec->mutable_table()) t.clear_labels();
  }
  return rep.spec->SerializeAsString();
}

void RestoreStrippedSpec(const PipelineRep& rep, PipelineSpec* spec) {
  if (!rep.spec_stripped) return;
  ForEachWrittenName(rep, spec, [&](std::string* name, TableId id) {
    *name = rep.tables[id].name;
  });
  for (int i = 0; i < spec->table_size(); ++i) {
    const std::map<std::string, std::string>& labels = rep.tables[i].labels;
    spec->mutable_table(i)->mutable_labels()->insert(labels.begin(),
                                                     labels.end());
  }
}

}  // namespace landfall::internal
