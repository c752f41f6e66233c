// The small fixed pipeline the fuzzers that need one run: sources, a
// partitioned chain, an unpartitioned source, both triggers (ANY over a
// source, and ANY over derived tables only, with a table below it), two
// classes relaxing the gate (etl's retrying tasks hold nothing back, adhoc
// passes after max_gate_wait) and a pool of 2 slots. Its seed corpora name
// these tables.
#pragma once

#include <cstdlib>
#include <iostream>
#include <memory>

#include "landfall/pipeline.h"

namespace landfall::fuzz {

inline constexpr char kFuzzSpec[] = R"pb(
  name: "fuzz"
  priority_class { name: "etl" gate_holds_retrying: false }
  priority_class { name: "adhoc" max_gate_wait: "10m" }
  pool { name: "wh" slots: 2 }
  defaults {
    pool: "wh"
    lease: "5m"
    retry { max_attempts: 2 initial_backoff: "1m" }
  }
  table { name: "src" source: true }
  table { name: "dim" source: true partitioned: false }
  table { name: "stage" upstream: "src" }
  table {
    name: "mart"
    upstream: [ "stage", "dim" ]
    trigger: ALL
  }
  table {
    name: "any"
    upstream: [ "src", "stage" ]
    trigger: ANY
    priority_class: "adhoc"
  }
  table { name: "report" upstream: "dim" partitioned: false pool_slots: 2 }
  table {
    name: "either"
    upstream: [ "stage", "mart" ]
    trigger: ANY
    priority_class: "adhoc"
  }
  table { name: "below" upstream: "either" }
)pb";

// The pipeline of kFuzzSpec, loaded once; aborts if it does not load (the
// fuzzer itself is broken then).
inline std::shared_ptr<const Pipeline> FuzzPipeline() {
  static const auto* const pipeline = [] {
    auto loaded = Pipeline::FromText(kFuzzSpec, SpecFormat::kTextProto,
                                     "fuzz_pipeline.textproto");
    if (!loaded.ok()) {
      std::cerr << loaded.status() << "\n";
      std::abort();
    }
    return new std::shared_ptr<const Pipeline>(*std::move(loaded));
  }();
  return *pipeline;
}

}  // namespace landfall::fuzz
