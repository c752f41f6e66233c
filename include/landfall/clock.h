// Clock: the scheduler's only source of time. Core code never reads the
// system clock itself, so tests and the simulator run on a ManualClock.
#pragma once

#include <atomic>
#include <cstdint>

#include "absl/time/time.h"
#include "landfall/export.h"

namespace landfall {

class LANDFALL_EXPORT Clock {
 public:
  virtual ~Clock() = default;
  // The current time. Thread-safe.
  virtual absl::Time Now() const = 0;
};

// Wall-clock time (absl::Now()).
class LANDFALL_EXPORT SystemClock : public Clock {
 public:
  absl::Time Now() const override;
  // A process-wide instance; never destroyed.
  static SystemClock* Default();
};

// Time that moves only when told to. Thread-safe.
class LANDFALL_EXPORT ManualClock : public Clock {
 public:
  explicit ManualClock(absl::Time start = absl::UnixEpoch());
  absl::Time Now() const override;
  void Set(absl::Time now);
  void Advance(absl::Duration by);

 private:
  std::atomic<int64_t> now_ns_;
};

}  // namespace landfall
