#include "lib/pipeline/internal/suggest.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
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

TEST(SuggestTest, CandidatesTooLongOrTooShortAreNotCompared) {
  // "orders" allows 2 edits: only lengths 4 to 8 can be that close.
  std::vector<std::string> names;
  for (int length = 1; length <= 20; ++length) {
    names.push_back(std::string(length, 'x'));
  }
  names.push_back("order");
  Suggester suggester(names);
  EXPECT_EQ(suggester.Closest("orders"), "order");
  EXPECT_EQ(suggester.comparisons(), 6);  // xxxx to xxxxxxxx, and "order".
}

TEST(SuggestTest, NameLongerThanTheCapGetsNoSuggestion) {
  const std::string huge(200'000, 'a');
  const std::vector<std::string> names = {huge + "b"};
  Suggester suggester(names);
  EXPECT_EQ(suggester.Closest(huge), std::nullopt);
  EXPECT_EQ(suggester.comparisons(), 0);
  const std::string longest(Suggester::kMaxLength, 'a');
  EXPECT_EQ(ClosestName(longest, {longest + "b"}), longest + "b");
}

TEST(SuggestTest, ManyUnknownNamesStopBeingSuggestedPastTheBudget) {
  std::vector<std::string> names;
  for (int i = 0; i < 20'000; ++i)
    names.push_back(absl::StrCat("t", 100000 + i));
  Suggester suggester(names);
  int suggested = 0;
  for (int i = 0; i < 20'000; ++i) {
    if (suggester.Closest(absl::StrCat("u", 100000 + i))) ++suggested;
  }
  // Early names are suggested; once the budget is spent, none are, so the
  // work is bounded, not 20k x 20k comparisons.
  EXPECT_GT(suggested, 0);
  EXPECT_LT(suggested, 20'000);
  EXPECT_LE(suggester.comparisons(), Suggester::kMaxCells / (8 * 8) + 1);
}

}  // namespace
}  // namespace landfall::internal
