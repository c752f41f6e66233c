// A fixed-bucket histogram, as Prometheus exposes one.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "absl/base/attributes.h"
#include "landfall/metrics.h"

namespace landfall::internal {

// Observations are nanoseconds, exposed in seconds: each bound is kept as
// the most nanoseconds it takes, so that an observation needs no division
// and integer comparisons only.
class Histogram {
 public:
  // `bounds`: ascending upper bounds in seconds; +Inf is implied.
  explicit Histogram(const std::vector<double>& bounds)
      : counts_(bounds.size() + 1, 0) {
    bound_nanos_.reserve(bounds.size());
    for (double b : bounds) bound_nanos_.push_back(MostNanosWithin(b));
  }

  // Counts `nanos` (none below 0) in the bucket of the first bound it is
  // not above (le: a value on a bound belongs to that bound's bucket).
  ABSL_ATTRIBUTE_ALWAYS_INLINE void Observe(int64_t nanos) {
    nanos = std::max<int64_t>(nanos, 0);
    sum_nanos_ += static_cast<double>(nanos);
    // Queue waits and arrival-to-ready latencies are mostly within the
    // first bound: one comparison for them.
    if (!bound_nanos_.empty() && nanos <= bound_nanos_.front()) {
      ++counts_[0];
      return;
    }
    ++counts_[BucketPast(nanos)];
  }

  // Cumulative counts per bound, the sum and the count.
  MetricSample Sample(MetricLabels labels) const {
    MetricSample s;
    s.labels = std::move(labels);
    uint64_t running = 0;
    for (size_t i = 0; i < bound_nanos_.size(); ++i) {
      running += counts_[i];
      s.buckets.push_back(running);
    }
    s.count = running + counts_.back();
    s.sum = sum_nanos_ / 1e9;
    return s;
  }

  // The first bound not below `nanos` (the bound count: +Inf), by a binary
  // search without branches on the data: none mispredicted.
  size_t BucketPast(int64_t nanos) const {
    if (bound_nanos_.empty()) return 0;
    const int64_t* base = bound_nanos_.data();
    size_t n = bound_nanos_.size();
    while (n > 1) {
      const size_t half = n / 2;
      base = base[half] < nanos ? base + half : base;
      n -= half;
    }
    return static_cast<size_t>(base - bound_nanos_.data()) +
           (*base < nanos ? 1 : 0);
  }

  // The largest n with n / 1e9 <= seconds, as a double division compares:
  // a bound in nanoseconds that buckets exactly as the bound in seconds.
  static int64_t MostNanosWithin(double seconds) {
    constexpr int64_t kMost = std::numeric_limits<int64_t>::max();
    constexpr int64_t kLeast = std::numeric_limits<int64_t>::min();
    if (std::isnan(seconds)) return kLeast;  // No value is within it.
    // Past the range of int64 nanoseconds.
    if (seconds >= static_cast<double>(kMost) / 1e9) return kMost;
    if (seconds < static_cast<double>(kLeast) / 1e9) return kLeast;
    // The product rounds (by up to a few thousand near the ends); the
    // division is monotonic, so stepping settles it.
    int64_t n = static_cast<int64_t>(
        std::clamp(std::floor(seconds * 1e9), -0x1p63, 0x1p63 - 4096));
    while (n < kMost && static_cast<double>(n + 1) / 1e9 <= seconds) ++n;
    while (n > kLeast && static_cast<double>(n) / 1e9 > seconds) --n;
    return n;
  }

 private:
  std::vector<int64_t> bound_nanos_;  // The bounds, as MostNanosWithin.
  std::vector<uint64_t> counts_;      // Per bucket, the last for +Inf.
  double sum_nanos_ = 0;
};

}  // namespace landfall::internal
