// Seeded synthetic pipelines for tests and benchmarks.
#pragma once

#include <cstdint>
#include <string>

#include "landfall/pipeline.h"

namespace landfall::testing {

// A layered DAG: layer 0 holds the source tables, each table of layer k > 0
// reads between min_fan_in and max_fan_in distinct random tables of layer
// k - 1 (fewer when that layer is smaller). Tables are named "l<k>.t<i>".
struct LayeredPipelineOptions {
  int tables = 1000;  // In all, sources included.
  int width = 100;    // Tables per layer; the last layer may be short.
  int min_fan_in = 4;
  int max_fan_in = 4;
  uint64_t seed = 1;
  bool partitioned = true;
  // Classes "c0" (highest) .. "c<n-1>", drawn per table at random.
  int priority_classes = 1;
  // Pools "p0" .. "p<n-1>", each with `pool_slots` slots, drawn per table.
  int pools = 1;  // 0: tables use the implicit unlimited pool.
  int pool_slots = 100;
};

PipelineSpec MakeLayeredPipelineSpec(const LayeredPipelineOptions& options);

// The spec in text format, one line per table.
std::string ToTextProto(const PipelineSpec& spec);

}  // namespace landfall::testing
