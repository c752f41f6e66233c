// Pipelines and arrivals the benchmarks share.
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "landfall/pipeline.h"
#include "landfall/records.pb.h"
#include "lib/testing/synthetic_pipeline.h"

namespace landfall::bench {

inline constexpr char kPartition[] = "2018-11-03";

// Layered DAGs of width 1,000, each table reading 4 random tables of the
// layer before, in one unlimited pool; built once per size.
inline std::shared_ptr<const Pipeline> Layered(int tables) {
  static auto* cache = new std::map<int, std::shared_ptr<const Pipeline>>;
  auto& pipeline = (*cache)[tables];
  if (pipeline == nullptr) {
    testing::LayeredPipelineOptions options;
    options.tables = tables;
    options.width = 1000;
    options.pools = 0;  // One unlimited pool: measure the scheduler, not waits.
    pipeline = *Pipeline::FromSpec(testing::MakeLayeredPipelineSpec(options));
  }
  return pipeline;
}

// One arrival of partition kPartition per source table.
inline std::vector<Arrival> SourceArrivals(const Pipeline& pipeline) {
  std::vector<Arrival> arrivals;
  for (TableId t = 0; t < pipeline.table_count(); ++t) {
    if (!pipeline.table(t).source) continue;
    Arrival a;
    a.set_event_id(absl::StrCat("e", t));
    a.set_table(pipeline.table(t).name);
    a.set_partition(kPartition);
    arrivals.push_back(std::move(a));
  }
  return arrivals;
}

}  // namespace landfall::bench
