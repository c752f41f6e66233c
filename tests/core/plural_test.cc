#include "lib/core/plural.h"

#include "gtest/gtest.h"

namespace landfall::internal {
namespace {

TEST(PluralTest, OneTakesTheSingular) {
  EXPECT_EQ(Counted(1, "task"), "1 task");
  EXPECT_EQ(Counted(0, "task"), "0 tasks");
  EXPECT_EQ(Counted(2, "task"), "2 tasks");
  EXPECT_EQ(Counted(1, "entry", "entries"), "1 entry");
  EXPECT_EQ(Counted(3, "entry", "entries"), "3 entries");
}

}  // namespace
}  // namespace landfall::internal
