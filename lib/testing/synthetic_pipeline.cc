#include "lib/testing/synthetic_pipeline.h"

#include <algorithm>
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"

namespace landfall::testing {

PipelineSpec MakeLayeredPipelineSpec(const LayeredPipelineOptions& options) {
  std::mt19937_64 rng(options.seed);
  PipelineSpec spec;
  spec.set_name(
      absl::StrCat("layered-", options.tables, "-seed-", options.seed));
  for (int c = 0; c < options.priority_classes; ++c) {
    spec.add_priority_class()->set_name(absl::StrCat("c", c));
  }
  for (int p = 0; p < options.pools; ++p) {
    PoolSpec* pool = spec.add_pool();
    pool->set_name(absl::StrCat("p", p));
    pool->set_slots(options.pool_slots);
  }
  std::uniform_int_distribution<int> fan_in(options.min_fan_in,
                                            options.max_fan_in);
  std::uniform_int_distribution<int> class_of(
      0, std::max(0, options.priority_classes - 1));
  std::uniform_int_distribution<int> pool_of(0, std::max(0, options.pools - 1));

  std::vector<std::string> previous_layer, layer;
  for (int i = 0; i < options.tables; ++i) {
    const int layer_index = i / options.width;
    if (i % options.width == 0) {
      previous_layer.swap(layer);
      layer.clear();
    }
    TableSpec* table = spec.add_table();
    table->set_name(absl::StrCat("l", layer_index, ".t", i % options.width));
    table->set_partitioned(options.partitioned);
    if (layer_index == 0) {
      table->set_source(true);
    } else {
      const int want = std::min<int>(fan_in(rng), previous_layer.size());
      std::uniform_int_distribution<size_t> pick(0, previous_layer.size() - 1);
      std::vector<size_t> chosen;
      while (static_cast<int>(chosen.size()) < want) {
        const size_t candidate = pick(rng);
        if (std::find(chosen.begin(), chosen.end(), candidate) ==
            chosen.end()) {
          chosen.push_back(candidate);
        }
      }
      for (size_t c : chosen) table->add_upstream(previous_layer[c]);
      if (options.pools > 0) {
        table->set_pool(absl::StrCat("p", pool_of(rng)));
      }
    }
    if (options.priority_classes > 1) {
      table->set_priority_class(absl::StrCat("c", class_of(rng)));
    }
    layer.push_back(table->name());
  }
  return spec;
}

std::string ToTextProto(const PipelineSpec& spec) {
  PipelineSpec header = spec;
  header.clear_table();
  std::string out;
  google::protobuf::TextFormat::PrintToString(header, &out);
  google::protobuf::TextFormat::Printer single_line;
  single_line.SetSingleLineMode(true);
  for (const TableSpec& table : spec.table()) {
    std::string line;
    single_line.PrintToString(table, &line);
    absl::StrAppend(&out, "table { ", line, "}\n");
  }
  return out;
}

}  // namespace landfall::testing
