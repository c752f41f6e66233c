// Origins on a store: what Scheduler::Ingested and the claims' origins
// answer holds across processes, snapshots and pruned history.
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "landfall/scheduler.h"
#include "lib/core/snapshot.pb.h"
#include "tests/store/durable_test_base.h"

namespace landfall::testing {
namespace {

using ::testing::ElementsAre;

constexpr char kSpec[] = R"(
name: "origins"
table { name: "src" source: true }
table { name: "a" upstream: "src" }
table { name: "b" upstream: "src" }
)";

// Each scheduler opens its own handle on the store, as another process would.
class DurableOriginsTest : public DurableTest {
 protected:
  DurableOriginsTest() : DurableTest(kSpec) {}

  static Arrival File(const std::string& name, const std::string& version) {
    Arrival a;
    a.set_event_id(name + "#" + version);
    a.set_table("src");
    a.set_partition("p");
    a.set_origin("file:///land/src/p/" + name);
    return a;
  }

  // Writes a snapshot and prunes every entry before it.
  void CheckpointAndPrune(Scheduler& s) {
    ASSERT_TRUE(s.Checkpoint().ok());
    const int64_t last = s.LastSequence();  // Not under the store's lock.
    ASSERT_TRUE(store_->Begin(StateStore::Access::kWrite).ok());
    ASSERT_TRUE(store_->PruneHistory(last + 1).ok());
    ASSERT_TRUE(store_->Commit().ok());
  }
};

TEST_P(DurableOriginsTest, IngestedHoldsAfterASnapshotAPruneAndEightDays) {
  auto first = Open(Reopen());
  ASSERT_TRUE(first->IngestBatch({File("x", "1"), File("y", "1")}).ok());
  clock_.Advance(absl::Hours(24 * 8));
  // Forgets x and y's event ids: the snapshot's dedup window lacks them.
  ASSERT_TRUE(first->Ingest(File("w", "1")).ok());
  CheckpointAndPrune(*first);
  first.reset();

  auto second = Open(Reopen());
  EXPECT_THAT(second->Ingested({File("x", "1"), File("y", "1"), File("y", "2"),
                                File("z", "1")}),
              ElementsAre(true, true, false, false));
  ASSERT_TRUE(second->Ingest(File("y", "2")).ok());
  // Another scheduler on the store catches up on it.
  auto third = Open(Reopen());
  EXPECT_THAT(third->Ingested({File("y", "1"), File("y", "2")}),
              ElementsAre(false, true));
}

TEST_P(DurableOriginsTest, AClaimListsTheSameOriginsAfterReopening) {
  options_.snapshot_every_entries = 3;  // Snapshot and tail both.
  auto first = Open(Reopen());
  ASSERT_TRUE(first->Ingest(File("x", "1")).ok());
  auto claimed = first->Claim("w", 10);
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 2u);
  // a consumes x; b's attempt fails and runs again later.
  ASSERT_TRUE(first->Complete((*claimed)[0].task, 1, Outcome::SUCCEEDED).ok());
  ASSERT_TRUE(first->Complete((*claimed)[1].task, 1, Outcome::FATAL).ok());
  ASSERT_TRUE(first->Redrive((*claimed)[1].task).ok());
  ASSERT_TRUE(first->Ingest(File("y", "1")).ok());
  CheckpointAndPrune(*first);
  const std::string state = first->DebugState();
  first.reset();

  auto second = Open(Reopen());
  EXPECT_EQ(second->DebugState(), state);
  auto again = second->Claim("w", 10);
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->size(), 2u);
  EXPECT_EQ((*again)[0].task.table, "a");
  EXPECT_THAT((*again)[0].inputs[0].origins,
              ElementsAre("file:///land/src/p/y"));
  EXPECT_EQ((*again)[1].task.table, "b");
  EXPECT_THAT((*again)[1].inputs[0].origins,
              ElementsAre("file:///land/src/p/x", "file:///land/src/p/y"));
  EXPECT_TRUE((*again)[1].inputs[0].origins_complete);
}

TEST_P(DurableOriginsTest, ASnapshotWithoutOriginsTakesThemFromItsDedupWindow) {
  auto first = Open(Reopen());
  ASSERT_TRUE(first->Ingest(File("x", "1")).ok());
  ASSERT_TRUE(first->Checkpoint().ok());
  first.reset();
  // The snapshot as a library that recorded no origins wrote it.
  ASSERT_TRUE(store_->Begin(StateStore::Access::kWrite).ok());
  auto stored = store_->ReadLatestSnapshot();
  ASSERT_TRUE(stored.ok() && stored->has_value());
  internal::Snapshot snapshot;
  ASSERT_TRUE(snapshot.ParseFromString((*stored)->bytes));
  ASSERT_EQ(snapshot.origin_hashes_size(), 1);
  snapshot.clear_origin_hashes();
  snapshot.clear_origin_event_hashes();
  for (internal::SlotState& slot : *snapshot.mutable_slots()) {
    slot.clear_origin_seqs();
    slot.clear_origins();
    slot.clear_origins_dropped_seq();
  }
  ASSERT_TRUE(store_
                  ->WriteSnapshot(StoredSnapshot{(*stored)->seq,
                                                 snapshot.SerializeAsString()})
                  .ok());
  ASSERT_TRUE(store_->Commit().ok());

  auto second = Open(Reopen());
  EXPECT_THAT(second->Ingested({File("x", "1"), File("x", "2")}),
              ElementsAre(true, false));
}

INSTANTIATE_TEST_SUITE_P(Stores, DurableOriginsTest,
                         ::testing::Values(StoreKind::kMemory,
                                           StoreKind::kSqlite,
                                           StoreKind::kPostgres),
                         StoreKindName);

}  // namespace
}  // namespace landfall::testing
