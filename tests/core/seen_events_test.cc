#include "lib/core/seen_events.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace landfall::internal {
namespace {

std::shared_ptr<const EntryText> Text(std::string id, std::string origin = "") {
  return std::make_shared<const EntryText>(
      EntryText{std::move(id), std::move(origin), {}, ""});
}

std::vector<std::string> Ids(const SeenEvents& seen) {
  std::vector<std::string> ids;
  seen.ForEachId([&](absl::string_view id, const SeenEvents::Seen&) {
    ids.emplace_back(id);
  });
  std::sort(ids.begin(), ids.end());
  return ids;
}

TEST(SeenEventsTest, FindsTheNewestArrivalOfAnId) {
  SeenEvents seen;
  EXPECT_EQ(seen.Find("e1"), nullptr);
  seen.Add(10, Text("e1", "first"));
  seen.Add(20, Text("e2"));
  seen.Add(30, Text("e1", "second"));
  const SeenEvents::Seen* e1 = seen.Find("e1");
  ASSERT_NE(e1, nullptr);
  EXPECT_EQ(e1->at_ns, 30);
  EXPECT_EQ(e1->text->origin, "second");
  EXPECT_EQ(Ids(seen), (std::vector<std::string>{"e1", "e2"}));
  // The order keeps both arrivals of e1, for a snapshot.
  EXPECT_EQ(seen.InOrder().size(), 3u);
}

TEST(SeenEventsTest, ForgettingAnOldArrivalKeepsTheNewerOneOfItsId) {
  SeenEvents seen;
  seen.Add(10, Text("e1", "first"));
  seen.Add(20, Text("e2"));
  seen.Add(30, Text("e1", "second"));
  seen.ForgetBefore(25);
  EXPECT_EQ(seen.Find("e2"), nullptr);
  ASSERT_NE(seen.Find("e1"), nullptr);
  EXPECT_EQ(seen.Find("e1")->text->origin, "second");
  EXPECT_EQ(seen.InOrder().size(), 1u);
  seen.ForgetBefore(31);
  EXPECT_EQ(seen.Find("e1"), nullptr);
  EXPECT_TRUE(seen.InOrder().empty());
}

TEST(SeenEventsTest, NumbersWrapPastTwoToThe32) {
  SeenEvents seen(UINT32_MAX - 50);
  for (int i = 0; i < 1000; ++i) seen.Add(i, Text(absl::StrCat("e", i)));
  seen.ForgetBefore(500);
  for (int i = 0; i < 1000; ++i) {
    const SeenEvents::Seen* found = seen.Find(absl::StrCat("e", i));
    if (i < 500) {
      EXPECT_EQ(found, nullptr) << i;
    } else {
      ASSERT_NE(found, nullptr) << i;
      EXPECT_EQ(found->at_ns, i);
    }
  }
  seen.Add(2000, Text("e700", "again"));
  EXPECT_EQ(seen.Find("e700")->at_ns, 2000);
  EXPECT_EQ(Ids(seen).size(), 500u);
}

}  // namespace
}  // namespace landfall::internal
