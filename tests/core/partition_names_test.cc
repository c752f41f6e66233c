#include "lib/core/partition_names.h"

#include <algorithm>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace landfall::internal {
namespace {

// Whether the ranks order the ids as their names order.
void ExpectRanksFollowNames(const PartitionNames& names) {
  std::vector<PartitionId> by_rank(names.size());
  for (PartitionId p = 0; p < names.size(); ++p) by_rank[p] = p;
  std::sort(by_rank.begin(), by_rank.end(), [&](PartitionId a, PartitionId b) {
    return names.ranks()[a] < names.ranks()[b];
  });
  for (size_t i = 1; i < by_rank.size(); ++i) {
    EXPECT_LT(names.Name(by_rank[i - 1]), names.Name(by_rank[i]))
        << "ranks " << names.ranks()[by_rank[i - 1]] << " and "
        << names.ranks()[by_rank[i]];
  }
}

TEST(PartitionNamesTest, GivesEachNameOneDenseId) {
  PartitionNames names;
  EXPECT_EQ(names.Intern(""), 0u);
  EXPECT_EQ(names.Intern("2026-01-02"), 1u);
  EXPECT_EQ(names.Intern("2026-01-01"), 2u);
  EXPECT_EQ(names.Intern("2026-01-02"), 1u);
  EXPECT_EQ(names.size(), 3u);
  EXPECT_EQ(names.Find("2026-01-01"), PartitionId{2});
  EXPECT_EQ(names.Find("2026-01-03"), std::nullopt);
  EXPECT_EQ(names.Name(1), "2026-01-02");
  EXPECT_EQ(names.View(2), "2026-01-01");
}

TEST(PartitionNamesTest, RanksFollowTheOrderOfTheNames) {
  PartitionNames names;
  for (const char* name : {"m", "c", "x", "a", "n", "", "mm", "b"}) {
    names.Intern(name);
  }
  ExpectRanksFollowNames(names);
}

TEST(PartitionNamesTest, RenumbersWhenNeighboursLeaveNoRoom) {
  // Each name ("aa", "aaa", ...) falls between the one interned last and
  // "b": the gap halves each time, and runs out after 32 names.
  PartitionNames names;
  names.Intern("a");
  names.Intern("b");
  for (size_t length = 2; length < 41; ++length) {
    names.Intern(std::string(length, 'a'));
  }
  EXPECT_EQ(names.size(), 41u);
  ExpectRanksFollowNames(names);
}

TEST(PartitionNamesTest, ClearForgetsEveryName) {
  PartitionNames names;
  names.Intern("");
  names.Intern("p");
  names.Clear();
  EXPECT_EQ(names.size(), 0u);
  EXPECT_EQ(names.Find("p"), std::nullopt);
  EXPECT_EQ(names.Intern("q"), 0u);
  EXPECT_EQ(names.ranks().size(), 1u);
}

}  // namespace
}  // namespace landfall::internal
