// A store whose history or snapshot is corrupt (written by no scheduler):
// opening a scheduler on it is refused with DataLoss naming what is wrong,
// never applied to a state it does not fit. State a newer landfall wrote (an
// entry kind, a snapshot format this one does not know) is not corruption:
// FailedPrecondition, saying so.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "landfall/scheduler.h"
#include "landfall/state_store.h"
#include "landfall/version.h"
#include "lib/core/snapshot.pb.h"

namespace landfall {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSpec[] = R"(
name: "corrupt"
pool { name: "wh" slots: 2 }
table { name: "src" source: true }
table { name: "dim" source: true partitioned: false }
table { name: "a" upstream: "src" pool: "wh" }
table { name: "b" upstream: "dim" pool: "wh" partitioned: false }
)";

class CorruptStoreTest : public ::testing::Test {
 protected:
  CorruptStoreTest()
      : pipeline_(*Pipeline::FromText(kSpec, SpecFormat::kTextProto,
                                      "corrupt.textproto")),
        spec_(pipeline_->spec()),
        store_(NewMemoryStore()) {}

  // An entry numbered after those appended so far.
  JournalEntry Entry(EntryKind kind, const std::string& table,
                     const std::string& partition) {
    JournalEntry j;
    j.set_seq(static_cast<int64_t>(entries_.size()) + 1);
    j.set_at_ns(1);
    j.set_kind(static_cast<int32_t>(kind));
    j.set_table(table);
    j.set_partition(partition);
    j.set_attempt(1);
    return j;
  }

  // Opens a scheduler on a store holding `spec_` and `entries_` (and the
  // snapshot `snapshot`, when not empty, at `snapshot_seq`).
  absl::Status OpenStatus(const std::string& snapshot = "",
                          int64_t snapshot_seq = 0) {
    EXPECT_TRUE(store_->Begin(StateStore::Access::kWrite).ok());
    EXPECT_TRUE(store_->WriteSpec(spec_.SerializeAsString()).ok());
    if (!snapshot.empty()) {
      EXPECT_TRUE(store_->WriteSnapshot({snapshot_seq, snapshot}).ok());
    }
    EXPECT_TRUE(store_->AppendEntries(entries_).ok());
    EXPECT_TRUE(store_->Commit().ok());
    return Scheduler::Open(store_).status();
  }

  // The snapshot a scheduler writes after an arrival on src/p and on dim.
  internal::Snapshot SnapshotAfterArrivals() {
    auto store = NewMemoryStore();
    SchedulerOptions options;
    options.snapshot_every_entries = 1;
    auto scheduler = Scheduler::Open(pipeline_, store, options);
    EXPECT_TRUE(scheduler.ok()) << scheduler.status();
    for (const auto& [table, partition] :
         {std::pair<std::string, std::string>{"src", "p"}, {"dim", ""}}) {
      Arrival a;
      a.set_event_id(table);
      a.set_table(table);
      a.set_partition(partition);
      EXPECT_TRUE((*scheduler)->Ingest(a).ok());
    }
    internal::Snapshot snapshot;
    EXPECT_TRUE(snapshot.ParseFromString(LatestSnapshotBytes(*store)));
    return snapshot;
  }

  // The bytes of the newest snapshot in `store` ("" when it holds none).
  static std::string LatestSnapshotBytes(StateStore& store) {
    EXPECT_TRUE(store.Begin(StateStore::Access::kRead).ok());
    auto stored = store.ReadLatestSnapshot();
    store.Rollback();
    EXPECT_TRUE(stored.ok() && stored->has_value());
    return stored.ok() && stored->has_value() ? (*stored)->bytes : "";
  }

  // The slot of `table` in `snapshot`.
  static internal::SlotState& SlotOf(internal::Snapshot& snapshot,
                                     const std::string& table) {
    for (internal::SlotState& slot : *snapshot.mutable_slots()) {
      if (snapshot.tables(slot.table()) == table) return slot;
    }
    ADD_FAILURE() << "no slot of " << table;
    return *snapshot.add_slots();
  }

  void ExpectDataLoss(const absl::Status& status, const std::string& what) {
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
    EXPECT_THAT(std::string(status.message()), HasSubstr(what));
  }

  // A newer landfall's spec: table "a" with a trigger this one lacks.
  static PipelineSpec WithNewerTrigger(PipelineSpec spec) {
    spec.mutable_table(2)->set_trigger(static_cast<TableSpec::Trigger>(7));
    return spec;
  }

  void ExpectNewer(const absl::Status& status, const std::string& what) {
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
    EXPECT_TRUE(IsWrittenByNewerLandfall(status)) << status;
    EXPECT_THAT(std::string(status.message()),
                HasSubstr(absl::StrCat(what, ", which landfall ", Version(),
                                       " does not know: it was written by a "
                                       "newer landfall")));
  }

  std::shared_ptr<const Pipeline> pipeline_;
  PipelineSpec spec_;  // The one the store holds.
  std::shared_ptr<StateStore> store_;
  std::vector<JournalEntry> entries_;
};

TEST_F(CorruptStoreTest, AHistoryOfSoundEntriesOpens) {
  entries_.push_back(Entry(EntryKind::kArrival, "src", "p"));
  entries_.push_back(Entry(EntryKind::kReady, "a", "p"));
  EXPECT_TRUE(OpenStatus().ok());
}

TEST_F(CorruptStoreTest, ATaskEntryWithoutATableIsDataLoss) {
  entries_.push_back(Entry(EntryKind::kClaimed, "", ""));
  ExpectDataLoss(OpenStatus(), "history entry 1 (claimed): it names no table");
}

TEST_F(CorruptStoreTest, ATaskEntryOfASourceTableIsDataLoss) {
  entries_.push_back(Entry(EntryKind::kArrival, "src", "p"));
  entries_.push_back(Entry(EntryKind::kClaimed, "src", "p"));
  ExpectDataLoss(OpenStatus(),
                 "history entry 2 (claimed): table \"src\" is a source");
}

TEST_F(CorruptStoreTest, AnEntryWhosePartitionDoesNotFitItsTableIsDataLoss) {
  entries_.push_back(Entry(EntryKind::kArrival, "dim", "p"));
  ExpectDataLoss(OpenStatus(), "table \"dim\" is unpartitioned");
}

TEST_F(CorruptStoreTest, AClassChangeWithoutItsClassIsDataLoss) {
  entries_.push_back(Entry(EntryKind::kClassChanged, "a", ""));
  ExpectDataLoss(OpenStatus(), "it needs a table and a priority class");
}

TEST_F(CorruptStoreTest, ASnapshotThatCannotBeRestoredIsDataLoss) {
  entries_.push_back(Entry(EntryKind::kArrival, "src", "p"));
  // A serialized Snapshot of no format: field 1 (format) = 0.
  ExpectDataLoss(OpenStatus(std::string("\x08\x00", 2), 1),
                 "the snapshot at history entry 1 cannot be restored");
}

TEST_F(CorruptStoreTest, ASnapshotOfANewerFormatIsFailedPrecondition) {
  entries_.push_back(Entry(EntryKind::kArrival, "src", "p"));
  // Field 1 (format) = 99: a format a newer library writes.
  const absl::Status status = OpenStatus(std::string("\x08\x63", 2), 1);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_THAT(std::string(status.message()),
              HasSubstr(absl::StrCat(
                  "the snapshot at history entry 1 cannot be restored: "
                  "snapshot format 99, which landfall ",
                  Version(),
                  " does not know: it was written by a newer "
                  "landfall")));
}

TEST_F(CorruptStoreTest, AnEntryOfAKindFromANewerLandfallIsFailedPrecondition) {
  entries_.push_back(Entry(EntryKind::kArrival, "src", "p"));
  entries_.push_back(Entry(static_cast<EntryKind>(99), "src", "p"));
  const absl::Status status = OpenStatus();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_TRUE(IsWrittenByNewerLandfall(status));
  EXPECT_THAT(std::string(status.message()),
              HasSubstr(absl::StrCat("history entry 2 has kind 99, which "
                                     "landfall ",
                                     Version(),
                                     " does not know: it was written by a "
                                     "newer landfall")));
}

TEST_F(CorruptStoreTest, AStoredSpecWithANewerEnumValueIsFailedPrecondition) {
  spec_ = WithNewerTrigger(spec_);
  ExpectNewer(OpenStatus(),
              "the stored pipeline spec has table[2].trigger value 7");
}

TEST_F(CorruptStoreTest, AStoredSpecWithANewerFieldIsFailedPrecondition) {
  // Read as it is, the spec would run without the newer setting.
  spec_.mutable_table(3)
      ->GetReflection()
      ->MutableUnknownFields(spec_.mutable_table(3))
      ->AddVarint(999, 1);
  ExpectNewer(OpenStatus(),
              "the stored pipeline spec has field 999 in table[3]");
  // So is a host opening it with this landfall's pipeline.
  ExpectNewer(Scheduler::Open(pipeline_, store_).status(),
              "the stored pipeline spec has field 999 in table[3]");
}

TEST_F(CorruptStoreTest, ADeployOfANewerSpecIsFailedPrecondition) {
  entries_.push_back(Entry(EntryKind::kArrival, "src", "p"));
  JournalEntry deploy = Entry(EntryKind::kPipelineUpdated, "", "");
  deploy.set_spec(WithNewerTrigger(spec_).SerializeAsString());
  entries_.push_back(deploy);
  ExpectNewer(OpenStatus(),
              "history entry 2's pipeline spec has table[2].trigger value 7");
}

TEST_F(CorruptStoreTest, AnEntryOfANegativeKindIsDataLoss) {
  entries_.push_back(Entry(static_cast<EntryKind>(-3), "src", "p"));
  ExpectDataLoss(OpenStatus(), "history entry 1 has kind -3, which is none");
}

TEST_F(CorruptStoreTest, ARestoredSnapshotOpens) {
  internal::Snapshot snapshot = SnapshotAfterArrivals();
  EXPECT_TRUE(
      OpenStatus(snapshot.SerializeAsString(), snapshot.last_seq()).ok());
}

// Snapshots written before a running attempt's worker and claim entry were
// kept aside still name them for attempts that ended: they open, and the
// task that is no longer running has no worker.
// A windowed task's input counters follow the time zone data of the host
// that counted them (the hours of a local day): opening a snapshot counts
// them again under this host's, as a replay of the history would.
TEST_F(CorruptStoreTest, AWindowedTasksCountersAreCountedAgainOnOpening) {
  auto pipeline = Pipeline::FromText(R"(
table { name: "hourly" source: true partition_format: "%Y-%m-%dT%H" }
table { name: "daily" partition_format: "%Y-%m-%d"
        input { table: "hourly" mapping: HOURLY_TO_DAILY } }
)",
                                     SpecFormat::kTextProto, "windowed");
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  auto written = NewMemoryStore();
  SchedulerOptions options;
  options.snapshot_every_entries = 1;
  auto writer = Scheduler::Open(*pipeline, written, options);
  ASSERT_TRUE(writer.ok()) << writer.status();
  Arrival a;
  a.set_event_id("h5");
  a.set_table("hourly");
  a.set_partition("2026-12-01T05");
  ASSERT_TRUE((*writer)->Ingest(a).ok());
  internal::Snapshot snapshot;
  ASSERT_TRUE(snapshot.ParseFromString(LatestSnapshotBytes(*written)));
  internal::SlotState& daily = SlotOf(snapshot, "daily");
  ASSERT_GT(daily.missing_inputs(), 0);
  daily.set_missing_inputs(0);  // As counted with other hours in the day.

  ASSERT_TRUE(store_->Begin(StateStore::Access::kWrite).ok());
  ASSERT_TRUE(store_->WriteSpec((*pipeline)->spec().SerializeAsString()).ok());
  ASSERT_TRUE(
      store_->WriteSnapshot({snapshot.last_seq(), snapshot.SerializeAsString()})
          .ok());
  ASSERT_TRUE(store_->Commit().ok());
  auto reopened = Scheduler::Open(store_);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*reopened)->DebugState(), (*writer)->DebugState());
}

TEST_F(CorruptStoreTest, ASnapshotNamingTheWorkerOfAnEndedAttemptOpens) {
  internal::Snapshot snapshot = SnapshotAfterArrivals();
  snapshot.add_workers("old-worker");
  internal::SlotState& a = SlotOf(snapshot, "a");
  ASSERT_EQ(a.phase(), 1);  // Ready.
  a.set_worker(0);
  a.set_claim_seq(1);
  a.set_attempt(1);
  a.set_last_outcome(Outcome::RETRYABLE);
  ASSERT_TRUE(
      OpenStatus(snapshot.SerializeAsString(), snapshot.last_seq()).ok());
  auto scheduler = Scheduler::Open(store_);
  ASSERT_TRUE(scheduler.ok()) << scheduler.status();
  ListFilter only_a;
  only_a.table = "a";
  TaskList list = (*scheduler)->List(only_a);
  ASSERT_EQ(list.tasks.size(), 1u);
  EXPECT_EQ(list.tasks[0].state, TaskState::kReady);
  EXPECT_EQ(list.tasks[0].worker, "");
  EXPECT_EQ(list.tasks[0].attempt, 1);
  EXPECT_THAT((*scheduler)->DebugState(), Not(HasSubstr("old-worker")));
}

TEST_F(CorruptStoreTest, ASnapshotRunningATaskOfASourceIsDataLoss) {
  internal::Snapshot snapshot = SnapshotAfterArrivals();
  SlotOf(snapshot, "src").set_phase(2);  // Running.
  ExpectDataLoss(OpenStatus(snapshot.SerializeAsString(), snapshot.last_seq()),
                 "table \"src\" is a source: it has no task");
}

TEST_F(CorruptStoreTest, ASnapshotSlotWhosePartitionDoesNotFitIsDataLoss) {
  internal::Snapshot snapshot = SnapshotAfterArrivals();
  SlotOf(snapshot, "dim").set_partition(SlotOf(snapshot, "src").partition());
  ExpectDataLoss(OpenStatus(snapshot.SerializeAsString(), snapshot.last_seq()),
                 "table \"dim\" is unpartitioned");
}

// A snapshot is written field by field, each repeated message through one
// reused message: its bytes are those of the Snapshot they parse to.
TEST_F(CorruptStoreTest, AStoredSnapshotIsItsMessageSerialized) {
  auto store = NewMemoryStore();
  SchedulerOptions options;
  options.snapshot_every_entries = 1;
  auto scheduler = Scheduler::Open(pipeline_, store, options);
  ASSERT_TRUE(scheduler.ok()) << scheduler.status();
  Arrival arrival;
  arrival.set_event_id("e1");
  arrival.set_table("src");
  arrival.set_partition("p");
  arrival.set_origin("s3://lake/src/p/part-1");
  (*arrival.mutable_attributes())["size"] = "10";
  ASSERT_TRUE((*scheduler)->Ingest(arrival).ok());
  auto claimed = (*scheduler)->Claim("w1", 1);
  ASSERT_TRUE(claimed.ok() && claimed->size() == 1u);
  ASSERT_TRUE((*scheduler)
                  ->Complete((*claimed)[0].task, (*claimed)[0].attempt,
                             Outcome::RETRYABLE, "the warehouse went away")
                  .ok());
  arrival.set_event_id("e2");
  arrival.set_table("dim");
  arrival.set_partition("");
  ASSERT_TRUE((*scheduler)->Ingest(arrival).ok());

  const std::string bytes = LatestSnapshotBytes(*store);
  internal::Snapshot snapshot;
  ASSERT_TRUE(!bytes.empty() && snapshot.ParseFromString(bytes));
  EXPECT_EQ(snapshot.SerializeAsString(), bytes);
  // Every kind of field is there.
  EXPECT_EQ(snapshot.workers_size(), 1);
  EXPECT_EQ(snapshot.seen_events_size(), 2);
  EXPECT_EQ(snapshot.seen_events(0).attributes().at("size"), "10");
  EXPECT_EQ(snapshot.origin_hashes_size(), 1);
  EXPECT_EQ(SlotOf(snapshot, "a").error(), "the warehouse went away");
  EXPECT_EQ(SlotOf(snapshot, "src").origins_size(), 1);
  EXPECT_EQ(snapshot.table_states_size(), 4);
  EXPECT_EQ(snapshot.pools_size(), 1);
}

TEST_F(CorruptStoreTest, ASnapshotWhoseTableNamesAnotherTablesSlotIsDataLoss) {
  internal::Snapshot snapshot = SnapshotAfterArrivals();
  int64_t src_slot = -1;
  for (int i = 0; i < snapshot.slots_size(); ++i) {
    if (snapshot.tables(snapshot.slots(i).table()) == "src") src_slot = i;
  }
  ASSERT_GE(src_slot, 0);
  for (internal::TableState& table : *snapshot.mutable_table_states()) {
    if (table.name() == "dim") table.set_latest_slot(src_slot);
  }
  ExpectDataLoss(OpenStatus(snapshot.SerializeAsString(), snapshot.last_seq()),
                 "table \"dim\": latest slot is another table's");
}

}  // namespace
}  // namespace landfall
