// What every StateStore does, run against each implementation.
#include <vector>

#include "gmock/gmock.h"
#include "tests/store/store_test_base.h"

namespace landfall::testing {
namespace {

using Access = StateStore::Access;

JournalEntry Entry(int64_t seq, const std::string& table = "t") {
  JournalEntry e;
  e.set_seq(seq);
  e.set_at_ns(seq * 1000);
  e.set_table(table);
  e.set_partition("2018-11-03");
  return e;
}

std::vector<JournalEntry> Entries(int64_t from, int64_t to) {
  std::vector<JournalEntry> out;
  for (int64_t seq = from; seq <= to; ++seq) out.push_back(Entry(seq));
  return out;
}

std::vector<int64_t> Seqs(const std::vector<JournalEntry>& entries) {
  std::vector<int64_t> out;
  for (const JournalEntry& e : entries) out.push_back(e.seq());
  return out;
}

class StoreConformanceTest : public StoreTest {
 protected:
  // Appends entries from..to in one committed transaction.
  void Append(int64_t from, int64_t to) {
    ASSERT_TRUE(store_->Begin(Access::kWrite).ok());
    ASSERT_TRUE(store_->AppendEntries(Entries(from, to)).ok());
    ASSERT_TRUE(store_->Commit().ok());
  }
  std::vector<int64_t> Read(StateStore& store, int64_t after,
                            size_t max = 100) {
    std::vector<JournalEntry> out;
    EXPECT_TRUE(store.Begin(Access::kRead).ok());
    EXPECT_TRUE(store.ReadEntries(after, max, &out).ok());
    store.Rollback();
    return Seqs(out);
  }
};

TEST_P(StoreConformanceTest, AppendedEntriesReadBackInOrderWhole) {
  Append(1, 3);
  Append(4, 5);
  EXPECT_THAT(Read(*store_, 0), ::testing::ElementsAre(1, 2, 3, 4, 5));
  EXPECT_THAT(Read(*store_, 3), ::testing::ElementsAre(4, 5));
  EXPECT_THAT(Read(*store_, 1, 2), ::testing::ElementsAre(2, 3));
  std::vector<JournalEntry> out;
  ASSERT_TRUE(store_->Begin(Access::kRead).ok());
  ASSERT_TRUE(store_->ReadEntries(1, 1, &out).ok());
  EXPECT_EQ(*store_->LastSequence(), 5);
  store_->Rollback();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].table(), "t");
  EXPECT_EQ(out[0].at_ns(), 2000);
}

TEST_P(StoreConformanceTest, AppendOutOfSequenceIsRefusedAndAppendsNothing) {
  Append(1, 2);
  ASSERT_TRUE(store_->Begin(Access::kWrite).ok());
  std::vector<JournalEntry> gap = {Entry(3), Entry(5)};
  absl::Status status = store_->AppendEntries(gap);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("next is 4"));
  EXPECT_EQ(store_->AppendEntries(Entries(2, 2)).code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store_->Commit().ok());
  EXPECT_THAT(Read(*store_, 0), ::testing::ElementsAre(1, 2));
}

TEST_P(StoreConformanceTest, RollbackKeepsNothingOfTheTransaction) {
  Append(1, 2);
  ASSERT_TRUE(store_->Begin(Access::kWrite).ok());
  ASSERT_TRUE(store_->AppendEntries(Entries(3, 4)).ok());
  ASSERT_TRUE(store_->WriteSnapshot({4, "state at 4"}).ok());
  ASSERT_TRUE(store_->WriteSpec("spec").ok());
  store_->Rollback();
  ASSERT_TRUE(store_->Begin(Access::kRead).ok());
  EXPECT_EQ(*store_->LastSequence(), 2);
  EXPECT_FALSE(store_->ReadLatestSnapshot()->has_value());
  EXPECT_FALSE(store_->ReadSpec()->has_value());
  store_->Rollback();
}

TEST_P(StoreConformanceTest, CommittedWritesAreSeenByAnotherHandle) {
  Append(1, 3);
  ASSERT_TRUE(store_->Begin(Access::kWrite).ok());
  ASSERT_TRUE(store_->WriteSpec("spec bytes").ok());
  ASSERT_TRUE(store_->WriteSnapshot({2, "state at 2"}).ok());
  ASSERT_TRUE(store_->Commit().ok());
  std::shared_ptr<StateStore> other = Reopen();
  ASSERT_NE(other, nullptr);
  EXPECT_THAT(Read(*other, 0), ::testing::ElementsAre(1, 2, 3));
  ASSERT_TRUE(other->Begin(Access::kRead).ok());
  EXPECT_EQ(**other->ReadSpec(), "spec bytes");
  auto snapshot = other->ReadLatestSnapshot();
  ASSERT_TRUE(snapshot.ok() && snapshot->has_value());
  EXPECT_EQ((*snapshot)->seq, 2);
  EXPECT_EQ((*snapshot)->bytes, "state at 2");
  other->Rollback();
}

TEST_P(StoreConformanceTest, TheNewestSnapshotWinsAndTwoAreKept) {
  Append(1, 9);
  for (int64_t seq : {3, 6, 9}) {
    ASSERT_TRUE(store_->Begin(Access::kWrite).ok());
    ASSERT_TRUE(
        store_->WriteSnapshot({seq, "state at " + std::to_string(seq)}).ok());
    ASSERT_TRUE(store_->Commit().ok());
  }
  ASSERT_TRUE(store_->Begin(Access::kRead).ok());
  EXPECT_EQ((*store_->ReadLatestSnapshot())->bytes, "state at 9");
  store_->Rollback();
}

TEST_P(StoreConformanceTest, PruneKeepsEveryEntryAfterTheNewestSnapshot) {
  Append(1, 10);
  ASSERT_TRUE(store_->Begin(Access::kWrite).ok());
  // No snapshot: opening needs every entry.
  EXPECT_EQ(*store_->PruneHistory(8), 0);
  ASSERT_TRUE(store_->WriteSnapshot({5, "state at 5"}).ok());
  EXPECT_EQ(*store_->PruneHistory(8), 5);  // 1..5; 6.. follow the snapshot.
  ASSERT_TRUE(store_->Commit().ok());
  EXPECT_THAT(Read(*store_, 0), ::testing::ElementsAre(6, 7, 8, 9, 10));
  ASSERT_TRUE(store_->Begin(Access::kWrite).ok());
  EXPECT_EQ(*store_->LastSequence(), 10);
  ASSERT_TRUE(store_->AppendEntries(Entries(11, 11)).ok());
  ASSERT_TRUE(store_->Commit().ok());
}

TEST_P(StoreConformanceTest, LastSequenceSurvivesPruningEverything) {
  Append(1, 4);
  ASSERT_TRUE(store_->Begin(Access::kWrite).ok());
  ASSERT_TRUE(store_->WriteSnapshot({4, "state at 4"}).ok());
  EXPECT_EQ(*store_->PruneHistory(100), 4);
  EXPECT_EQ(*store_->LastSequence(), 4);
  ASSERT_TRUE(store_->AppendEntries(Entries(5, 5)).ok());
  ASSERT_TRUE(store_->Commit().ok());
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreConformanceTest,
                         ::testing::Values(StoreKind::kMemory,
                                           StoreKind::kSqlite,
                                           StoreKind::kPostgres),
                         StoreKindName);

}  // namespace
}  // namespace landfall::testing
