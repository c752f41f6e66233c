// A fixed-bucket histogram, as Prometheus exposes one.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "landfall/metrics.h"

namespace landfall::internal {

class Histogram {
 public:
  // `bounds`: ascending upper bounds; +Inf is implied.
  explicit Histogram(const std::vector<double>& bounds)
      : bounds_(bounds), counts_(bounds.size() + 1, 0) {}

  void Observe(double value) {
    // A value on a bound belongs to that bound's bucket (le: less or equal).
    const size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), value) -
                     bounds_.begin();
    ++counts_[i];
    sum_ += value;
  }

  // Cumulative counts per bound, the sum and the count.
  MetricSample Sample(MetricLabels labels) const {
    MetricSample s;
    s.labels = std::move(labels);
    uint64_t running = 0;
    for (size_t i = 0; i < bounds_.size(); ++i) {
      running += counts_[i];
      s.buckets.push_back(running);
    }
    s.count = running + counts_.back();
    s.sum = sum_;
    return s;
  }

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // Per bucket, the last for +Inf.
  double sum_ = 0;
};

}  // namespace landfall::internal
