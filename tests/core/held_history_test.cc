// HeldHistory: which entries a core holds for ReadHistory.
#include "lib/core/held_history.h"

#include "gtest/gtest.h"

namespace landfall::internal {
namespace {

// Adds entries seq from..to, each with at_ns = seq * 10.
void AddEntries(HeldHistory& history, int64_t from, int64_t to) {
  for (int64_t seq = from; seq <= to; ++seq) {
    Entry e;
    e.seq = seq;
    e.at_ns = seq * 10;
    history.Add(std::move(e));
  }
}

TEST(HeldHistoryTest, ARingHoldsTheNewestEntriesOnly) {
  HeldHistory history(true, 3);
  AddEntries(history, 1, 7);
  EXPECT_EQ(history.OldestHeld(7), 5);
  EXPECT_EQ(history.Find(4, 7), nullptr);
  for (int64_t seq = 5; seq <= 7; ++seq) {
    ASSERT_NE(history.Find(seq, 7), nullptr);
    EXPECT_EQ(history.Find(seq, 7)->at_ns, seq * 10);
  }
  EXPECT_EQ(history.Find(8, 7), nullptr);
}

TEST(HeldHistoryTest, NoCapacityHoldsEveryEntry) {
  HeldHistory history(true, 0);
  AddEntries(history, 1, 100);
  EXPECT_EQ(history.OldestHeld(100), 1);
  EXPECT_EQ(history.Find(1, 100)->at_ns, 10);
  EXPECT_EQ(history.Find(100, 100)->at_ns, 1000);
}

TEST(HeldHistoryTest, AHistoryNotHeldHoldsNone) {
  HeldHistory history(false, 0);
  AddEntries(history, 1, 5);
  EXPECT_EQ(history.OldestHeld(5), 6);
  EXPECT_EQ(history.Find(5, 5), nullptr);
}

TEST(HeldHistoryTest, AfterARestoreTheFirstEntryHeldFollowsTheSnapshot) {
  HeldHistory history(true, 4);
  history.StartAfter(40);
  AddEntries(history, 41, 46);
  EXPECT_EQ(history.OldestHeld(46), 43);
  EXPECT_EQ(history.Find(42, 46), nullptr);
  EXPECT_EQ(history.Find(43, 46)->at_ns, 430);
  EXPECT_EQ(history.Find(46, 46)->at_ns, 460);
}

}  // namespace
}  // namespace landfall::internal
