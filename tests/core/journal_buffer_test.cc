#include "lib/core/journal_buffer.h"

#include "gtest/gtest.h"

namespace landfall::internal {
namespace {

void Fill(JournalBuffer& buffer, int n) {
  for (int i = 0; i < n; ++i) buffer.Add()->set_seq(i + 1);
}

TEST(JournalBufferTest, AddedEntriesAreClearedMessages) {
  JournalBuffer buffer;
  buffer.Add()->set_table("t");
  buffer.Clear();
  JournalEntry* reused = buffer.Add();
  EXPECT_EQ(reused->table(), "");
  EXPECT_EQ(buffer.size(), 1u);
}

TEST(JournalBufferTest, OperationsOfOneSizeKeepTheirMessages) {
  JournalBuffer buffer;
  Fill(buffer, 100);
  buffer.ClearKeeping(10);
  EXPECT_EQ(buffer.size(), 0u);
  EXPECT_EQ(buffer.held(), 100u);  // This operation used them all.
  Fill(buffer, 100);
  buffer.ClearKeeping(10);
  EXPECT_EQ(buffer.held(), 100u);
}

TEST(JournalBufferTest, ASmallerOperationGivesBackWhatALargerOneLeft) {
  JournalBuffer buffer;
  Fill(buffer, 100);
  buffer.ClearKeeping(10);
  Fill(buffer, 30);
  buffer.ClearKeeping(10);
  EXPECT_EQ(buffer.held(), 30u);
  Fill(buffer, 2);
  buffer.ClearKeeping(10);
  EXPECT_EQ(buffer.held(), 10u);  // Never below what it is told to keep.
}

}  // namespace
}  // namespace landfall::internal
