#include "lib/core/slot_directory.h"

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "lib/core/chunked_vector.h"
#include "lib/core/task_state.h"

namespace landfall::internal {
namespace {

// Slots of a few tables, registered in a directory as Core does.
class Directory {
 public:
  explicit Directory(int tables) : tables_(tables) {}

  SlotIndex Add(TableId table, PartitionId p) {
    Slot slot;
    slot.table = table;
    slot.partition = p;
    const SlotIndex s = static_cast<SlotIndex>(slots_.size());
    slots_.push_back(slot);
    directory_.Add(tables_[table], s, p);
    return s;
  }
  std::optional<SlotIndex> Find(TableId table, PartitionId p) const {
    return directory_.Find(tables_[table], table, p);
  }
  std::vector<SlotIndex> SlotsOf(TableId table) const {
    const auto span = directory_.SlotsOf(tables_[table]);
    return std::vector<SlotIndex>(span.begin(), span.end());
  }

 private:
  ChunkedVector<Slot> slots_;
  std::vector<TableRuntime> tables_;
  SlotDirectory directory_{&slots_};
};

TEST(SlotDirectoryTest, FindsEverySlotOfATableOfDensePartitions) {
  Directory directory(1);
  std::vector<PartitionId> partitions(300);
  for (PartitionId p = 0; p < partitions.size(); ++p) partitions[p] = p;
  std::shuffle(partitions.begin(), partitions.end(), std::mt19937(7));
  std::vector<SlotIndex> created;
  for (PartitionId p : partitions) created.push_back(directory.Add(0, p));
  for (size_t i = 0; i < partitions.size(); ++i) {
    EXPECT_EQ(directory.Find(0, partitions[i]), created[i]) << partitions[i];
  }
  EXPECT_EQ(directory.Find(0, 300), std::nullopt);
  EXPECT_EQ(directory.Find(0, 100000), std::nullopt);
  EXPECT_EQ(directory.SlotsOf(0), created);
}

TEST(SlotDirectoryTest, APartitionFarOutMovesTheTableToHashingAndLosesNone) {
  Directory directory(1);
  const SlotIndex a = directory.Add(0, 0);
  const SlotIndex b = directory.Add(0, 1);
  const SlotIndex far = directory.Add(0, 1000000);
  const SlotIndex c = directory.Add(0, 2);
  EXPECT_EQ(directory.Find(0, 0), a);
  EXPECT_EQ(directory.Find(0, 1), b);
  EXPECT_EQ(directory.Find(0, 1000000), far);
  EXPECT_EQ(directory.Find(0, 2), c);
  EXPECT_EQ(directory.Find(0, 3), std::nullopt);
  EXPECT_EQ(directory.SlotsOf(0), (std::vector<SlotIndex>{a, b, far, c}));
}

TEST(SlotDirectoryTest, ATableWhoseFirstPartitionIsFarOutFindsBoth) {
  Directory directory(1);
  const SlotIndex a = directory.Add(0, 5000);
  const SlotIndex b = directory.Add(0, 4000);
  EXPECT_EQ(directory.Find(0, 5000), a);
  EXPECT_EQ(directory.Find(0, 4000), b);
  EXPECT_EQ(directory.Find(0, 0), std::nullopt);
}

// Tables of dense, sparse and mixed partition ids, slots added in random
// order: every (table, partition) is found as a plain map of them says.
TEST(SlotDirectoryTest, FindsWhatAMapOfTheSlotsFinds) {
  std::mt19937 random(11);
  for (int round = 0; round < 20; ++round) {
    constexpr int kTables = 4;
    Directory directory(kTables);
    std::map<std::pair<TableId, PartitionId>, SlotIndex> expected;
    std::uniform_int_distribution<int> table_of(0, kTables - 1);
    std::uniform_int_distribution<PartitionId> dense(0, 200);
    std::uniform_int_distribution<PartitionId> sparse(0, 100000);
    for (int i = 0; i < 600; ++i) {
      const TableId table = table_of(random);
      // Table 0 dense, 1 sparse, the others mostly dense with a far one now
      // and then.
      const PartitionId p =
          table == 0   ? dense(random)
          : table == 1 ? sparse(random)
                       : (random() % 50 == 0 ? sparse(random) : dense(random));
      if (expected.count({table, p}) > 0) continue;
      expected[{table, p}] = directory.Add(table, p);
    }
    for (TableId table = 0; table < kTables; ++table) {
      for (PartitionId p = 0; p <= 201; ++p) {
        auto it = expected.find({table, p});
        const std::optional<SlotIndex> want =
            it == expected.end() ? std::nullopt
                                 : std::optional<SlotIndex>(it->second);
        ASSERT_EQ(directory.Find(table, p), want)
            << "round " << round << " table " << table << " partition " << p;
      }
    }
    for (const auto& [key, s] : expected) {
      ASSERT_EQ(directory.Find(key.first, key.second), s);
    }
  }
}

}  // namespace
}  // namespace landfall::internal
