// ReadyQueue: entries come out in the order its comparison gives, whatever
// was pushed, skipped or compacted in between, and from whichever part.
#include "lib/core/ready_queue.h"

#include <algorithm>
#include <random>
#include <set>
#include <vector>

#include "gtest/gtest.h"

namespace landfall::internal {
namespace {

struct Less {
  bool operator()(int a, int b) const { return a < b; }
};

TEST(ReadyQueueTest, PopsInClaimOrderWhateverThePushOrder) {
  std::mt19937 random(7);
  std::vector<int> keys(5000);
  for (int& k : keys) k = static_cast<int>(random() % 100000);
  ReadyQueue<int, Less> queue(Less{});
  auto live = [](int) { return true; };
  std::vector<int> popped;
  // Interleaved pushes and pops, as claims come between arrivals.
  for (size_t i = 0; i < keys.size(); ++i) {
    queue.Push(keys[i], live);
    if (i % 3 == 2) {
      popped.push_back(*queue.Top(live));
      queue.PopEntry();
      queue.Forget();
    }
  }
  std::multiset<int> left(keys.begin(), keys.end());
  for (int k : popped) left.erase(left.find(k));
  std::vector<int> rest;
  while (const int* top = queue.Top(live)) {
    rest.push_back(*top);
    queue.PopEntry();
    queue.Forget();
  }
  EXPECT_TRUE(std::is_sorted(rest.begin(), rest.end()));
  EXPECT_EQ(rest, std::vector<int>(left.begin(), left.end()));
  EXPECT_TRUE(queue.Empty());
}

TEST(ReadyQueueTest, StaleEntriesAreSkippedAndCompactedAway) {
  ReadyQueue<int, Less> queue(Less{});
  std::set<int> ready;
  auto live = [&](int k) { return ready.count(k) > 0; };
  for (int k = 3000; k > 0; --k) {
    ready.insert(k);
    queue.Push(k, live);
  }
  // All but every tenth task stop being ready; the compaction the next
  // push triggers drops them, and the order of the rest holds.
  for (int k = 1; k <= 3000; ++k) {
    if (k % 10 == 0) continue;
    ready.erase(k);
    queue.Forget();
  }
  for (int k = 3001; k <= 4500; ++k) {
    ready.insert(k);
    queue.Push(k, live);
  }
  EXPECT_EQ(queue.EntryCount(), 1800u);
  std::vector<int> order;
  while (const int* top = queue.Top(live)) {
    order.push_back(*top);
    ready.erase(*top);
    queue.PopEntry();
    queue.Forget();
  }
  EXPECT_EQ(order.size(), 1800u);
  EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));
  EXPECT_EQ(order.front(), 10);
  EXPECT_EQ(order.back(), 4500);
}

TEST(ReadyQueueTest, AQueueWithNoTaskLeftDropsItsEntriesWithoutALook) {
  // A batch of leases, all ended: the next push finds every entry stale
  // by the count alone, and reads none of them (each look reads a task).
  ReadyQueue<int, Less> queue(Less{});
  int looks = 0;
  auto live = [&](int) {
    ++looks;
    return true;
  };
  for (int k = 0; k < 100; ++k) queue.Push(k, live);
  for (int k = 0; k < 100; ++k) queue.Forget();
  queue.Push(500, live);
  EXPECT_EQ(queue.EntryCount(), 1u);
  EXPECT_EQ(looks, 0);
  EXPECT_EQ(*queue.Top(live), 500);
}

TEST(ReadyQueueTest, EveryTopIsTheFirstHeldWhateverTheMixOfBatchesAndPops) {
  // Batches of every size, set-asides put back, and pops in between: each
  // look must give the first key held, from whichever of the merged runs
  // it comes.
  std::mt19937 random(11);
  ReadyQueue<int, Less> queue(Less{});
  std::multiset<int> held;
  auto live = [](int) { return true; };
  for (int round = 0; round < 300; ++round) {
    const int pushes = static_cast<int>(random() % (round % 7 == 0 ? 500 : 5));
    for (int i = 0; i < pushes; ++i) {
      const int k = static_cast<int>(random() % 1000);
      held.insert(k);
      queue.Push(k, live);
    }
    const int pops = static_cast<int>(random() % 40);
    for (int i = 0; i < pops && !held.empty(); ++i) {
      ASSERT_EQ(*queue.Top(live), *held.begin()) << "round " << round;
      if (random() % 4 == 0) {  // Set aside and put back.
        queue.PushEntry(queue.PopEntry());
        continue;
      }
      queue.PopEntry();
      queue.Forget();
      held.erase(held.begin());
    }
  }
  while (!held.empty()) {
    ASSERT_EQ(*queue.Top(live), *held.begin());
    queue.PopEntry();
    queue.Forget();
    held.erase(held.begin());
  }
  EXPECT_EQ(queue.Top(live), nullptr);
}

}  // namespace
}  // namespace landfall::internal
