#include "lib/core/run_records.h"

#include <cstdint>

#include "gtest/gtest.h"

namespace landfall::internal {
namespace {

TEST(RunRecordsTest, ReusesAFreedRecordFreshlyCleared) {
  RunRecords runs;
  int32_t a = -1;
  int32_t b = -1;
  runs.Take(&a).time_ns = 5;
  RunRecord& second = runs.Take(&b);
  second.time_ns = 7;
  second.worker = 3;
  EXPECT_EQ(a, 0);
  EXPECT_EQ(b, 1);
  runs.GiveBack(b);
  int32_t c = -1;
  const RunRecord& reused = runs.Take(&c);
  EXPECT_EQ(c, b);
  EXPECT_EQ(reused.time_ns, 0);
  EXPECT_EQ(reused.worker, -1);
  EXPECT_EQ(runs[a].time_ns, 5);
}

TEST(RunRecordsTest, TheLastOfABurstGivesTheArrayBack) {
  RunRecords runs;
  constexpr int kBurst = 10000;
  for (int i = 0; i < kBurst; ++i) {
    int32_t index = -1;
    runs.Take(&index);
    ASSERT_EQ(index, i);
  }
  for (int32_t i = 0; i < kBurst; ++i) runs.GiveBack(i);
  // Given back whole: numbering starts over rather than from the free list.
  int32_t index = -1;
  runs.Take(&index);
  EXPECT_EQ(index, 0);
  int32_t next = -1;
  runs.Take(&next);
  EXPECT_EQ(next, 1);
}

}  // namespace
}  // namespace landfall::internal
