// TaskCounts: the counts a core keeps per queue and per table.
#include "lib/core/task_counts.h"

#include "gtest/gtest.h"

namespace landfall::internal {
namespace {

TEST(TaskCountsTest, EachQueueAndStateHasItsOwnCount) {
  TaskCounts counts(2, 3);  // Queues: pool * 3 + class.
  ++counts.Recorded(1, 2, TaskState::kReady);
  counts.Recorded(0, 1, TaskState::kDead) += 4;
  ++counts.Active(1, 0);
  ++counts.ActiveInClass(0);
  ASSERT_EQ(counts.queue_count(), 6u);
  for (size_t queue = 0; queue < counts.queue_count(); ++queue) {
    const int64_t* recorded = counts.RecordedInQueue(queue);
    for (size_t state = 0; state < kTaskStateCount; ++state) {
      const int64_t want =
          queue == 5 && state == static_cast<size_t>(TaskState::kReady)  ? 1
          : queue == 1 && state == static_cast<size_t>(TaskState::kDead) ? 4
                                                                         : 0;
      EXPECT_EQ(recorded[state], want) << "queue " << queue << " " << state;
    }
    EXPECT_EQ(counts.ActiveInQueue(queue), queue == 3 ? 1 : 0);
  }
  EXPECT_EQ(counts.ActiveInClass(0), 1);
  EXPECT_EQ(counts.ActiveInClass(1), 0);
}

TEST(TaskCountsTest, ATableIsUnhealthyUntilItsCountComesBackToZero) {
  TaskCounts counts(1, 1);
  counts.AddUnhealthy(7, 1);
  counts.AddUnhealthy(7, 1);
  counts.AddUnhealthy(9, 1);
  EXPECT_EQ(counts.unhealthy(), 3);
  EXPECT_EQ(counts.UnhealthyOf(7), 2);
  counts.AddUnhealthy(7, -2);
  EXPECT_FALSE(counts.HasUnhealthy(7));
  EXPECT_EQ(counts.UnhealthyOf(7), 0);
  EXPECT_TRUE(counts.HasUnhealthy(9));
  EXPECT_EQ(counts.unhealthy(), 1);
}

TEST(TaskCountsTest, ATableHasForcedTasksUntilTheirCountComesBackToZero) {
  TaskCounts counts(1, 1);
  EXPECT_FALSE(counts.HasForced(3));
  counts.AddForced(3, 1);
  EXPECT_TRUE(counts.HasForced(3));
  counts.AddForced(3, -1);
  EXPECT_FALSE(counts.HasForced(3));
}

}  // namespace
}  // namespace landfall::internal
