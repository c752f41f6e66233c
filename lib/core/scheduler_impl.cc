// Scheduler::Impl with a store: each operation a transaction that catches
// up with other writers, appends its entries and snapshots when one is due.
#include "lib/core/scheduler_impl.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"

namespace landfall {
namespace {

// For a parsed snapshot: large blocks, as one of a million task states
// takes hundreds of megabytes as messages.
google::protobuf::ArenaOptions SnapshotArenaOptions() {
  google::protobuf::ArenaOptions options;
  options.start_block_size = 64 << 10;
  options.max_block_size = 4 << 20;
  return options;
}

}  // namespace

absl::Status Scheduler::Impl::Refresh() {
  if (store_ == nullptr) return absl::OkStatus();
  if (absl::Status s = store_->Begin(StateStore::Access::kRead); !s.ok()) {
    return s;
  }
  internal::JournalBuffer captured;
  absl::Status status = CatchUp(&captured);
  if (status.ok()) status = store_->Commit();
  if (!status.ok()) {
    store_->Rollback();
    return status;
  }
  Notify(captured.entries());
  return absl::OkStatus();
}

absl::Status Scheduler::Impl::Load() {
  if (absl::Status s = TakeStoredPipeline(); !s.ok()) return s;
  std::unique_ptr<internal::Core> core = NewCore(pipeline_);
  absl::StatusOr<std::optional<StoredSnapshot>> stored =
      store_->ReadLatestSnapshot();
  if (!stored.ok()) return stored.status();
  snapshot_seq_ = 0;
  if (stored->has_value()) {
    // On an arena: its millions of messages cost no heap allocation each.
    google::protobuf::Arena arena(SnapshotArenaOptions());
    internal::Snapshot& snapshot =
        *google::protobuf::Arena::CreateMessage<internal::Snapshot>(&arena);
    if (!snapshot.ParseFromString((*stored)->bytes)) {
      return absl::DataLossError(absl::StrCat(
          "the snapshot at history entry ", (*stored)->seq, " cannot be read"));
    }
    if (absl::Status s = core->RestoreSnapshot(snapshot); !s.ok()) {
      return internal::AsStoredStateError(
          s, absl::StrCat("the snapshot at history entry ", (*stored)->seq,
                          " cannot be restored: "));
    }
    snapshot_seq_ = (*stored)->seq;
    snapshot_bytes_ = (*stored)->bytes.size();
  }
  snapshot_time_ = Now();
  core_ = std::move(core);
  stale_ = false;
  return CatchUp(nullptr);
}

absl::Status Scheduler::Impl::CatchUp(internal::JournalBuffer* captured) {
  if (stale_) return Load();
  std::vector<JournalEntry> batch;
  internal::JournalBuffer discarded;
  // Without a capture the core would tell the observer before the commit.
  if (options_.observer != nullptr) {
    core_->set_capture(captured != nullptr ? captured : &discarded);
  }
  absl::Status status;
  while (status.ok()) {
    batch.clear();
    status = store_->ReadEntries(core_->last_seq(), 1024, &batch);
    if (!status.ok() || batch.empty()) break;
    if (batch.front().seq() != core_->last_seq() + 1) {
      // Pruned past this core: start again from the snapshot.
      core_->set_capture(nullptr);
      return Load();
    }
    for (const JournalEntry& j : batch) {
      status = internal::AsStoredStateError(ReplayEntry(j));
      if (!status.ok()) break;
    }
    discarded.Clear();
  }
  core_->set_capture(nullptr);
  if (!status.ok()) stale_ = true;
  return status;
}

absl::Status Scheduler::Impl::Persist(absl::Span<const JournalEntry> mine,
                                      int64_t now) {
  absl::Status appended = store_->AppendEntries(mine);
  if (!appended.ok()) return appended;
  // A deployed pipeline becomes the store's, with a snapshot on it: opening
  // then never replays entries across a change of pipeline.
  const bool deployed =
      std::any_of(mine.begin(), mine.end(), [](const JournalEntry& j) {
        return j.kind() == static_cast<int32_t>(EntryKind::kPipelineUpdated);
      });
  if (deployed) {
    absl::Status s = store_->WriteSpec(pipeline_->spec().SerializeAsString());
    if (!s.ok()) return s;
  }
  const int64_t last = core_->last_seq();
  const bool due = deployed || (checkpoint_ && last > snapshot_seq_) ||
                   last - snapshot_seq_ >= options_.snapshot_every_entries ||
                   (last > snapshot_seq_ &&
                    now - snapshot_time_ >=
                        absl::ToInt64Nanoseconds(options_.snapshot_interval));
  if (due) {
    StoredSnapshot snapshot{last, core_->SerializedSnapshot(snapshot_bytes_)};
    snapshot_bytes_ = snapshot.bytes.size();
    if (absl::Status s = store_->WriteSnapshot(snapshot); !s.ok()) return s;
  }
  if (absl::Status s = store_->Commit(); !s.ok()) return s;
  if (due) {
    snapshot_seq_ = last;
    snapshot_time_ = now;
  }
  return absl::OkStatus();
}

void Scheduler::Impl::Notify(absl::Span<const JournalEntry> entries) {
  if (options_.observer == nullptr || entries.empty()) return;
  internal::ObserverBracket bracket(options_.observer);
  for (const JournalEntry& j : entries) {
    // Entries the core applied are of kinds it knows.
    auto whole = [&] { return *FromJournal(j); };
    options_.observer->OnEntryView(internal::JournalView(j, whole));
  }
}

absl::Status Scheduler::Impl::Open() {
  absl::MutexLock lock(&mu_);
  // Without a pipeline opening only reads, so a read-only store opens.
  if (absl::Status s =
          store_->Begin(pipeline_ == nullptr ? StateStore::Access::kRead
                                             : StateStore::Access::kWrite);
      !s.ok()) {
    return s;
  }
  const std::shared_ptr<const Pipeline> wanted = pipeline_;
  internal::JournalBuffer captured;
  absl::Status status = RecordFirstPipeline();
  if (status.ok()) status = Load();
  if (status.ok() && wanted != nullptr && wanted != pipeline_) {
    const int64_t now = Now();
    core_->set_capture(&captured);
    status = Deploy(wanted, now, DeployOptions()).status();
    core_->set_capture(nullptr);
    if (status.ok()) status = Persist(captured.entries(), now);
  } else if (status.ok()) {
    status = store_->Commit();
  }
  if (!status.ok()) {
    store_->Rollback();
    return status;
  }
  Notify(captured.entries());
  return absl::OkStatus();
}

std::vector<HistoryEntry> Scheduler::Impl::HeldHistory(int64_t from_seq,
                                                       size_t max) {
  std::vector<HistoryEntry> out;
  for (const HistoryEntry& h : earlier_) {
    if (out.size() == max) return out;
    if (h.seq >= from_seq) out.push_back(h);
  }
  for (HistoryEntry& h : core_->ReadHistory(from_seq, max - out.size())) {
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace landfall
