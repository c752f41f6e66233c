// Checking a simulation's input lines, already read (ReadSimulationInput
// reads them from files; the JSON-lines fuzzer passes them from memory).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "landfall/pipeline.h"
#include "landfall/records.pb.h"

namespace landfall::internal {

// The arrivals of `lines`, the lines of the events file `path`, each
// checked as Simulate would take it. Errors: "PATH:LINE: message".
absl::StatusOr<std::vector<Arrival>> ParseSimulatedArrivals(
    std::shared_ptr<const Pipeline> pipeline, const std::string& path,
    const std::vector<std::string>& lines);

// The script of `lines`, the lines of the script file `path`, each checked
// against `pipeline`. Errors: "PATH:LINE: message".
absl::StatusOr<std::vector<SimulatedAttempt>> ParseSimulatedScript(
    const Pipeline& pipeline, const std::string& path,
    const std::vector<std::string>& lines);

}  // namespace landfall::internal
