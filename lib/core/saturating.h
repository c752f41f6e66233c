// Time arithmetic on int64 nanoseconds since 1970 that saturates instead of
// overflowing: a deadline past what the clock can hold is the end of time,
// never a date wrapped into the past.
#pragma once

#include <cstdint>
#include <limits>

#include "absl/time/time.h"

namespace landfall::internal {

inline int64_t AddNanos(int64_t t, int64_t d) {
  int64_t sum;
  if (__builtin_add_overflow(t, d, &sum)) {
    return d > 0 ? std::numeric_limits<int64_t>::max()
                 : std::numeric_limits<int64_t>::min();
  }
  return sum;
}

// `t` + `d`; ToInt64Nanoseconds saturates an infinite `d` first.
inline int64_t AddDuration(int64_t t, absl::Duration d) {
  return AddNanos(t, absl::ToInt64Nanoseconds(d));
}

inline int64_t SubtractDuration(int64_t t, absl::Duration d) {
  return AddDuration(t, -d);
}

// absl::ToInt64Nanoseconds, remembering its last answer. This abseil
// converts by a division in software (about 150 instructions), and a
// scheduler converts the same few durations (its tables' leases) on every
// claim.
class DurationNanos {
 public:
  int64_t operator()(absl::Duration d) {
    if (d != last_) {
      last_ = d;
      nanos_ = absl::ToInt64Nanoseconds(d);
    }
    return nanos_;
  }

 private:
  absl::Duration last_;
  int64_t nanos_ = 0;
};

}  // namespace landfall::internal
