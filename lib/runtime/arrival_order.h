// The arrivals a simulation takes, in its order, wherever they are kept (a
// list in memory, an events file).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <ostream>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "landfall/pipeline.h"
#include "landfall/records.pb.h"
#include "landfall/simulator.h"

namespace landfall::internal {

// The arrivals in the order a simulation takes them: by time, list order
// breaking ties.
class ArrivalOrder {
 public:
  virtual ~ArrivalOrder() = default;
  virtual size_t size() const = 0;
  virtual absl::Time TimeOf(size_t i) const = 0;
  // The i-th arrival, valid until the next call. REQUIRES: i is 0, then 1,
  // and so on.
  virtual absl::StatusOr<const Arrival*> Read(size_t i) = 0;
};

// Why a simulation cannot take `arrival`, if it cannot: it needs a time.
absl::Status CheckSimulatedArrival(const Arrival& arrival);

// `status` with "PATH:LINE: " before its message.
absl::Status AtLine(const std::string& path, int line,
                    const absl::Status& status);

// Simulate over `arrivals`: checks the script, then calls `check_arrivals`
// (when given), then runs, as long as each is OK.
absl::Status SimulateInOrder(
    std::shared_ptr<const Pipeline> pipeline, ArrivalOrder& arrivals,
    const std::vector<SimulatedAttempt>& script,
    const SimulationOptions& options, std::ostream& out,
    const std::function<absl::Status()>& check_arrivals = nullptr);

}  // namespace landfall::internal
