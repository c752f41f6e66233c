// SortReadyKeysLastFirst: the same order as sorting by ReadyBefore, whether a
// batch is sorted by radix or by comparisons, whichever bytes of its keys
// differ, and with partitions of one table tied on everything but their
// names' ranks.
#include "lib/core/ready_key_sort.h"

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace landfall::internal {
namespace {

// Distinct keys (one slot each), with partition ranks in no particular
// order of ids.
struct Batch {
  std::vector<ReadyKey> keys;
  std::vector<uint64_t> ranks;
};

// `size` keys drawn from few paths, times and tables, so that ties on the
// first words are common; `times` and `tables` bound how many differ.
Batch RandomBatch(std::mt19937_64& random, size_t size, int64_t times,
                  int32_t tables) {
  Batch batch;
  batch.keys.reserve(size);
  for (uint64_t r = 0; r < 64; ++r) batch.ranks.push_back((r * 37) % 64);
  for (size_t i = 0; i < size; ++i) {
    const int32_t path = static_cast<int32_t>(random() % 5) - 1;
    const int64_t time =
        static_cast<int64_t>(random() % times) * 1000000007 - 5000000000;
    const TableId table = static_cast<TableId>(random() % tables);
    const PartitionId partition = static_cast<PartitionId>(random() % 64);
    batch.keys.emplace_back(path, time, table, partition,
                            static_cast<SlotIndex>(i));
  }
  return batch;
}

// Slots in the order a queue gives them up (from the back), sorted by each.
std::vector<SlotIndex> ClaimOrder(const std::vector<ReadyKey>& keys) {
  std::vector<SlotIndex> order;
  for (auto it = keys.rbegin(); it != keys.rend(); ++it) {
    order.push_back(it->slot);
  }
  return order;
}

void ExpectSortedAsByComparison(Batch batch) {
  std::vector<ReadyKey> expected = batch.keys;
  // Keys tied on every part (the same partition of a table at one time)
  // are equal: the stable sort and a check of claim order leave them be.
  std::stable_sort(expected.begin(), expected.end(),
                   [&](const ReadyKey& a, const ReadyKey& b) {
                     return ReadyBefore(b, a, batch.ranks);
                   });
  SortReadyKeysLastFirst(batch.keys, batch.ranks);
  ASSERT_EQ(batch.keys.size(), expected.size());
  for (size_t i = 0; i + 1 < batch.keys.size(); ++i) {
    ASSERT_FALSE(ReadyBefore(batch.keys[i], batch.keys[i + 1], batch.ranks))
        << "at " << i << " of " << batch.keys.size();
  }
  std::vector<SlotIndex> got = ClaimOrder(batch.keys);
  std::vector<SlotIndex> want = ClaimOrder(expected);
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want) << "a key was lost or duplicated";
}

TEST(ReadyKeySortTest, MatchesComparisonSortAroundTheRadixThreshold) {
  std::mt19937_64 random(11);
  for (size_t size : {0, 1, 2, 17, 255, 256, 257, 1000, 4096}) {
    SCOPED_TRACE(size);
    ExpectSortedAsByComparison(RandomBatch(random, size, 3, 50));
  }
}

TEST(ReadyKeySortTest, MatchesComparisonSortWhicheverBytesDiffer) {
  std::mt19937_64 random(12);
  // One time and one table: only paths and partition ranks differ; many
  // times and tables: every byte of both words may.
  for (int64_t times : {1, 2, 1000000}) {
    for (int32_t tables : {1, 300, 1 << 30}) {
      SCOPED_TRACE(testing::Message()
                   << times << " times, " << tables << " tables");
      ExpectSortedAsByComparison(RandomBatch(random, 2000, times, tables));
    }
  }
}

TEST(ReadyKeySortTest, NegativeTimesAndPathsKeepTheirOrder) {
  // Signed parts are packed so that unsigned bytes order them: a time
  // before 1970 comes before one after, a longer path before a shorter.
  std::vector<uint64_t> ranks = {0};
  std::vector<ReadyKey> keys;
  keys.reserve(600);
  for (int i = 0; i < 600; ++i) {
    keys.emplace_back(i % 3, (i % 2 == 0 ? -1 : 1) * int64_t{i} * 1000, 0, 0,
                      static_cast<SlotIndex>(i));
  }
  SortReadyKeysLastFirst(keys, ranks);
  const ReadyKey& first = keys.back();
  // Path 2 (i % 3 == 2) at the earliest time, -596,000 ns.
  EXPECT_EQ(first.slot, 596u);
  for (size_t i = 0; i + 1 < keys.size(); ++i) {
    ASSERT_FALSE(ReadyBefore(keys[i], keys[i + 1], ranks)) << "at " << i;
  }
}

}  // namespace
}  // namespace landfall::internal
