#include "landfall/clock.h"

#include "absl/time/clock.h"

namespace landfall {

absl::Time SystemClock::Now() const { return absl::Now(); }

SystemClock* SystemClock::Default() {
  static SystemClock* clock = new SystemClock;
  return clock;
}

ManualClock::ManualClock(absl::Time start)
    : now_ns_(absl::ToUnixNanos(start)) {}

absl::Time ManualClock::Now() const {
  return absl::FromUnixNanos(now_ns_.load(std::memory_order_acquire));
}

void ManualClock::Set(absl::Time now) {
  now_ns_.store(absl::ToUnixNanos(now), std::memory_order_release);
}

void ManualClock::Advance(absl::Duration by) {
  now_ns_.fetch_add(absl::ToInt64Nanoseconds(by), std::memory_order_acq_rel);
}

}  // namespace landfall
