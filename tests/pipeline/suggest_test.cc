#include "lib/pipeline/internal/suggest.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace landfall::internal {
namespace {

TEST(SuggestTest, EditDistanceCountsEdits) {
  EXPECT_EQ(BoundedEditDistance("orders", "orders", 5), 0);
  EXPECT_EQ(BoundedEditDistance("order", "orders", 5), 1);
  EXPECT_EQ(BoundedEditDistance("kitten", "sitting", 5), 3);
  EXPECT_EQ(BoundedEditDistance("", "abc", 5), 3);
}

TEST(SuggestTest, EditDistanceStopsPastTheLimit) {
  EXPECT_GT(BoundedEditDistance("abcdef", "uvwxyz", 2), 2);
  EXPECT_GT(BoundedEditDistance("a", "abcdefgh", 3), 3);
}

TEST(SuggestTest, ClosestNameIsAPlausibleTypo) {
  const std::vector<std::string> names = {"dwh.orders", "dwh.users",
                                          "mart.sales"};
  EXPECT_EQ(ClosestName("dwh.order", names), "dwh.orders");
  EXPECT_EQ(ClosestName("dwh.usres", names), "dwh.users");
  EXPECT_EQ(ClosestName("inventory", names), std::nullopt);
  EXPECT_EQ(ClosestName("x", {}), std::nullopt);
}

TEST(SuggestTest, DidYouMeanIsTheMessagesTail) {
  const std::vector<std::string> names = {"dwh.orders", "dwh.users"};
  EXPECT_EQ(DidYouMean("dwh.order", names), " (did you mean \"dwh.orders\"?)");
  EXPECT_EQ(DidYouMean("inventory", names), "");
}

TEST(SuggestTest, TiesGoToTheEarliestCandidate) {
  EXPECT_EQ(ClosestName("ab", {"ax", "xb"}), "ax");
}

}  // namespace
}  // namespace landfall::internal
