// PipelineBuilder's Validator, on the graph: each table's upstreams and
// inputs resolved, cycles found, and the flattened views a Pipeline keeps.
#include <algorithm>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "boost/graph/topological_sort.hpp"
#include "lib/pipeline/internal/suggest.h"
#include "lib/pipeline/spec_validator.h"
#include "lib/pipeline/table_graph.h"

namespace landfall::internal {

void Validator::ResolveUpstreams() {
  upstreams_.resize(spec_.table_size());
  inputs_.resize(spec_.table_size());
  // For suggestions, built on demand; one Suggester keeps their total
  // cost bounded however many upstreams are unknown.
  std::vector<std::string> names;
  std::optional<internal::Suggester> suggester;
  for (int i = 0; i < spec_.table_size(); ++i) {
    const TableSpec& t = spec_.table(i);
    const Table& table = rep_->tables[i];
    const std::string context = absl::StrCat("table \"", t.name(), "\"");
    if (table.source && (t.upstream_size() > 0 || t.input_size() > 0)) {
      Problem(table.defined_at,
              absl::StrCat(context,
                           ": a source table cannot have upstreams"
                           " (remove `source: true` or the "
                           "upstreams)"));
      continue;
    }
    bool all_known = true;
    bool any_partitioned = false;
    for (const WrittenInput& written : WrittenInputs(i)) {
      const std::string& up = written.table;
      auto it = rep_->table_ids.find(up);
      if (it == rep_->table_ids.end()) {
        all_known = false;
        if (!suggester) {
          names = AllTableNames();
          suggester.emplace(names);
        }
        Problem(written.where,
                absl::StrCat(context, ": unknown upstream \"", up, "\"",
                             suggester->DidYouMean(up)));
        continue;
      }
      const Input input{*it, written.mapping};
      std::vector<internal::LocatedInput>& edges = inputs_[i];
      if (std::any_of(edges.begin(), edges.end(), [&](const auto& e) {
            return e.input.table == input.table &&
                   e.input.mapping == input.mapping;
          })) {
        Problem(written.where,
                absl::StrCat(
                    context, ": upstream \"", up, "\" is listed twice",
                    input.mapping == PartitionMapping::kIdentity
                        ? ""
                        : absl::StrCat(" with mapping ",
                                       PartitionMappingName(input.mapping))));
        continue;
      }
      edges.push_back({input, written.where});
      std::vector<TableId>& list = upstreams_[i];
      if (std::find(list.begin(), list.end(), *it) == list.end()) {
        list.push_back(*it);
      }
      any_partitioned |= rep_->tables[*it].partitioned;
    }
    if (!table.source && table.partitioned && all_known && !any_partitioned) {
      Problem(table.defined_at,
              absl::StrCat(context,
                           ": a partitioned table needs a partitioned "
                           "upstream to take its partitions from (or set "
                           "`partitioned: false`)"));
    }
  }
}

std::vector<Validator::WrittenInput> Validator::WrittenInputs(int i) {
  const TableSpec& t = spec_.table(i);
  const std::string context = absl::StrCat("table \"", t.name(), "\"");
  std::vector<WrittenInput> written;
  for (const std::string& up : t.upstream()) {
    written.push_back(
        {up, PartitionMapping::kIdentity, rep_->tables[i].defined_at});
  }
  for (int k = 0; k < t.input_size(); ++k) {
    const InputSpec& input = t.input(k);
    const SpecLocation where = locator_.Find({{"table", i}, {"input", k}});
    if (input.table().empty()) {
      Problem(where,
              absl::StrCat(context, ": input #", k + 1, " names no table"));
      continue;
    }
    if (!InputSpec::Mapping_IsValid(input.mapping())) {
      Problem(locator_.Find({{"table", i}, {"input", k}, {"mapping"}}),
              absl::StrCat(context, ": input \"", input.table(), "\": ",
                           UnknownEnum("mapping", input.mapping(),
                                       InputSpec::Mapping_descriptor())));
      continue;
    }
    written.push_back(
        {input.table(), static_cast<PartitionMapping>(input.mapping()), where});
  }
  return written;
}

std::vector<std::string> Validator::AllTableNames() const {
  std::vector<std::string> names;
  names.reserve(spec_.table_size());
  for (const TableSpec& t : spec_.table()) names.push_back(t.name());
  return names;
}

void Validator::CheckCycles() {
  graph_ = internal::TableGraph(spec_.table_size());
  for (TableId down = 0; down < spec_.table_size(); ++down) {
    for (TableId up : upstreams_[down]) boost::add_edge(up, down, graph_);
  }
  for (const std::vector<TableId>& cycle : internal::FindCycles(graph_)) {
    std::string message = "cycle: ";
    for (TableId id : cycle) {
      absl::StrAppend(&message, rep_->tables[id].name, " -> ");
    }
    absl::StrAppend(&message, rep_->tables[cycle.front()].name);
    Problem(rep_->tables[cycle.front()].defined_at, std::move(message));
  }
}

void Validator::BuildGraphViews() {
  const int n = spec_.table_size();
  std::vector<std::vector<TableId>> downstreams(n);
  for (TableId down = 0; down < n; ++down) {
    for (TableId up : upstreams_[down]) downstreams[up].push_back(down);
  }
  Flatten(upstreams_, &rep_->upstream_begin, &rep_->upstream_ids);
  rep_->input_begin.reserve(n + 1);
  rep_->input_begin.push_back(0);
  size_t input_count = 0;
  for (const auto& edges : inputs_) input_count += edges.size();
  rep_->inputs.reserve(input_count);
  for (const std::vector<internal::LocatedInput>& edges : inputs_) {
    for (const internal::LocatedInput& edge : edges) {
      rep_->inputs.push_back(edge.input);
    }
    rep_->input_begin.push_back(static_cast<int32_t>(rep_->inputs.size()));
  }
  Flatten(downstreams, &rep_->downstream_begin, &rep_->downstream_ids);

  // boost::topological_sort lists vertices in reverse topological order.
  std::vector<TableId>& order = rep_->topological_order;
  order.reserve(n);
  boost::topological_sort(graph_, std::back_inserter(order));
  for (TableId t : order) {  // Downstreams come first in this order.
    int longest = 0;
    for (TableId down : downstreams[t]) {
      longest =
          std::max(longest, rep_->tables[down].longest_downstream_path + 1);
    }
    rep_->tables[t].longest_downstream_path = longest;
  }
  std::reverse(order.begin(), order.end());
  rep_->topological_position.resize(n);
  for (size_t i = 0; i < order.size(); ++i) {
    rep_->topological_position[order[i]] = static_cast<int32_t>(i);
  }
}

void Validator::Flatten(const std::vector<std::vector<TableId>>& lists,
                        std::vector<int32_t>* begin,
                        std::vector<TableId>* ids) {
  size_t count = 0;
  for (const std::vector<TableId>& list : lists) count += list.size();
  ids->reserve(count);
  begin->reserve(lists.size() + 1);
  begin->push_back(0);
  for (const std::vector<TableId>& list : lists) {
    ids->insert(ids->end(), list.begin(), list.end());
    begin->push_back(static_cast<int32_t>(ids->size()));
  }
}

}  // namespace landfall::internal
