// The histogram buckets nanoseconds exactly as their value in seconds
// compares with the bounds.
#include "lib/metrics/histogram.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace landfall::internal {
namespace {

// The bucket a value in seconds falls in: the first bound not below it.
size_t BucketOfSeconds(const std::vector<double>& bounds, double seconds) {
  return std::lower_bound(bounds.begin(), bounds.end(), seconds) -
         bounds.begin();
}

// Which bucket the one observation of a fresh histogram went to.
size_t BucketObserved(const std::vector<double>& bounds, int64_t nanos) {
  Histogram h(bounds);
  h.Observe(nanos);
  const MetricSample s = h.Sample({});
  for (size_t i = 0; i < s.buckets.size(); ++i) {
    if (s.buckets[i] == 1) return i;
  }
  return bounds.size();
}

TEST(HistogramTest, BucketsNanosecondsAsTheirSecondsCompare) {
  const std::vector<double> defaults = MetricsOptions().buckets;
  std::mt19937_64 random(7);
  for (int i = 0; i < 20000; ++i) {
    // Values near every bound, and anywhere up to a day.
    const double bound = defaults[random() % defaults.size()];
    const int64_t nanos =
        i % 2 == 0 ? static_cast<int64_t>(bound * 1e9) +
                         static_cast<int64_t>(random() % 5) - 2
                   : static_cast<int64_t>(random() % 86'400'000'000'000);
    const double seconds = std::max(0.0, static_cast<double>(nanos) / 1e9);
    ASSERT_EQ(BucketObserved(defaults, nanos),
              BucketOfSeconds(defaults, seconds))
        << nanos << " ns";
  }
}

TEST(HistogramTest, AValueOnABoundBelongsToThatBoundsBucket) {
  const std::vector<double> bounds = {0.1, 0.3, 2.5};
  EXPECT_EQ(BucketObserved(bounds, 100'000'000), 0u);
  EXPECT_EQ(BucketObserved(bounds, 100'000'001), 1u);
  EXPECT_EQ(BucketObserved(bounds, 300'000'000), 1u);
  EXPECT_EQ(BucketObserved(bounds, 2'500'000'000), 2u);
  EXPECT_EQ(BucketObserved(bounds, 2'500'000'001), 3u);  // +Inf.
  EXPECT_EQ(BucketObserved(bounds, -5), 0u);             // Counted as 0.
  EXPECT_EQ(BucketObserved({}, 12), 0u);                 // +Inf alone.
}

TEST(HistogramTest, BoundsInNanosecondsAreTheMostWithinTheBound) {
  for (double seconds : {0.0, 1e-9, 1.5e-9, 0.01, 0.3, 0.7, 21600.0, 1e6, -0.3,
                         9.1e9, 9.2e9, -9.2e9}) {
    const int64_t n = Histogram::MostNanosWithin(seconds);
    EXPECT_LE(static_cast<double>(n) / 1e9, seconds) << seconds;
    EXPECT_GT(static_cast<double>(n + 1) / 1e9, seconds) << seconds;
  }
  EXPECT_EQ(Histogram::MostNanosWithin(1e12),
            std::numeric_limits<int64_t>::max());
  EXPECT_EQ(Histogram::MostNanosWithin(-1e12),
            std::numeric_limits<int64_t>::min());
  EXPECT_EQ(Histogram::MostNanosWithin(std::nan("")),
            std::numeric_limits<int64_t>::min());
}

TEST(HistogramTest, SumsInSecondsAndCountsCumulatively) {
  Histogram h({1, 10});
  h.Observe(500'000'000);
  h.Observe(1'500'000'000);
  h.Observe(20'000'000'000);
  const MetricSample s = h.Sample({});
  EXPECT_DOUBLE_EQ(s.sum, 22);
  EXPECT_EQ(s.buckets, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(s.count, 3u);
}

}  // namespace
}  // namespace landfall::internal
