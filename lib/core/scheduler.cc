// Scheduler: the public face of the core, one mutex around it.
#include "landfall/scheduler.h"

#include <algorithm>
#include <deque>
#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/util/message_differencer.h"
#include "lib/core/core.h"
#include "lib/core/upgrade.h"

namespace landfall {

namespace {

using google::protobuf::util::MessageDifferencer;

// For a parsed snapshot: large blocks, as one of a million task states
// takes hundreds of megabytes as messages.
google::protobuf::ArenaOptions SnapshotArenaOptions() {
  google::protobuf::ArenaOptions options;
  options.start_block_size = 64 << 10;
  options.max_block_size = 4 << 20;
  return options;
}

absl::Status Flatten(absl::StatusOr<absl::Status> s) {
  return s.ok() ? *s : s.status();
}
template <typename T>
absl::StatusOr<T> Flatten(absl::StatusOr<absl::StatusOr<T>> s) {
  if (!s.ok()) return s.status();
  return *std::move(s);
}

// Brackets an operation's entries for `observer` (Observer::BeginEntries),
// when there is one.
class ObserverBracket {
 public:
  explicit ObserverBracket(Observer* observer) : observer_(observer) {
    if (observer_ != nullptr) observer_->BeginEntries();
  }
  ~ObserverBracket() {
    if (observer_ != nullptr) observer_->EndEntries();
  }
  ObserverBracket(const ObserverBracket&) = delete;
  ObserverBracket& operator=(const ObserverBracket&) = delete;

 private:
  Observer* const observer_;
};

}  // namespace

class Scheduler::Impl {
 public:
  Impl(std::shared_ptr<const Pipeline> pipeline, const SchedulerOptions& o,
       std::shared_ptr<StateStore> store)
      : clock_(o.clock != nullptr ? o.clock : SystemClock::Default()),
        pipeline_(std::move(pipeline)),
        options_(o),
        store_(std::move(store)) {
    // With a store, Open loads the core (and may take the store's pipeline).
    if (store_ == nullptr) {
      core_ = NewCore(pipeline_);
    }
  }

  int64_t Now() const { return absl::ToUnixNanos(clock_->Now()); }

  // With a store, history is read from the store: the core holds none.
  std::unique_ptr<internal::Core> NewCore(
      std::shared_ptr<const Pipeline> pipeline) const {
    return std::make_unique<internal::Core>(std::move(pipeline), options_,
                                            store_ == nullptr);
  }

  // Runs op(core, now) as one operation. With a store: in a write
  // transaction, after catching up, committing the entries it emitted.
  template <typename Op>
  auto Write(Op op)
      -> absl::StatusOr<decltype(op(std::declval<internal::Core&>(),
                                    int64_t{}))> {
    absl::MutexLock lock(&mu_);
    if (store_ == nullptr) {
      // The core tells the observer each entry as it emits it.
      ObserverBracket bracket(options_.observer);
      return op(*core_, Now());
    }
    if (absl::Status s = store_->Begin(StateStore::Access::kWrite); !s.ok()) {
      return s;
    }
    // Kept between operations so that its messages are reused.
    internal::JournalBuffer& captured = captured_;
    captured.Clear();
    absl::Status status = CatchUp(&captured);
    const size_t theirs = captured.size();
    std::optional<decltype(op(*core_, int64_t{}))> result;
    if (status.ok()) {
      const int64_t now = Now();  // After waiting for the lock.
      core_->set_capture(&captured);
      result.emplace(op(*core_, now));
      core_->set_capture(nullptr);
      status = Persist(captured.entries(theirs), now);
    }
    checkpoint_ = false;
    if (!status.ok()) {
      store_->Rollback();
      stale_ = true;  // The core may hold entries the store does not.
      return status;
    }
    Notify(captured.entries());
    // Gives back what an earlier, larger operation or catch-up made it hold.
    captured.ClearKeeping(4096);
    return *std::move(result);
  }

  // Runs op(core, now, item) for each item as one operation: one status
  // per item, each the store's error when the operation could not commit.
  template <typename Item, typename Op>
  std::vector<absl::Status> WriteEach(absl::Span<const Item> items, Op op) {
    absl::StatusOr<std::vector<absl::Status>> statuses =
        Write([&](internal::Core& core, int64_t now) {
          std::vector<absl::Status> out;
          out.reserve(items.size());
          for (const Item& item : items) out.push_back(op(core, now, item));
          return out;
        });
    if (!statuses.ok()) {
      return std::vector<absl::Status>(items.size(), statuses.status());
    }
    return *std::move(statuses);
  }

  // Catches up for a query.
  absl::Status Refresh() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
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

  // Inside a transaction: a fresh core from the latest snapshot and the
  // entries after it.
  absl::Status Load() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
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
        return absl::DataLossError(
            absl::StrCat("the snapshot at history entry ", (*stored)->seq,
                         " cannot be read"));
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

  // Inside a transaction: applies the entries others appended since the
  // core's last one, adding them to `captured` for the observer when there
  // is one and `captured` is not null.
  absl::Status CatchUp(internal::JournalBuffer* captured)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
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

  // Inside a write transaction: appends `mine`, writes a snapshot when one
  // is due, and commits.
  absl::Status Persist(absl::Span<const JournalEntry> mine, int64_t now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
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

  void Notify(absl::Span<const JournalEntry> entries) {
    if (options_.observer == nullptr || entries.empty()) return;
    ObserverBracket bracket(options_.observer);
    for (const JournalEntry& j : entries) {
      // Entries the core applied are of kinds it knows.
      auto whole = [&] { return *FromJournal(j); };
      options_.observer->OnEntryView(internal::JournalView(j, whole));
    }
  }

  // With a store: records the pipeline in a new one; loads the state of one
  // that has some, and deploys the pipeline asked for when it differs.
  absl::Status Open() {
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

  // Inside a write transaction: a store without a pipeline gets this one's.
  absl::Status RecordFirstPipeline() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    absl::StatusOr<std::optional<std::string>> stored = store_->ReadSpec();
    if (!stored.ok()) return stored.status();
    if (stored->has_value()) return absl::OkStatus();
    if (pipeline_ == nullptr) {
      return absl::FailedPreconditionError(
          "the store holds no pipeline yet: open it with a pipeline first");
    }
    return store_->WriteSpec(pipeline_->spec().SerializeAsString());
  }

  // Inside a transaction: runs the store's pipeline (keeping this one's
  // object when its spec is the same).
  absl::Status TakeStoredPipeline() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    absl::StatusOr<std::optional<std::string>> stored = store_->ReadSpec();
    if (!stored.ok()) return stored.status();
    if (!stored->has_value()) {
      return absl::DataLossError("the store has lost its pipeline spec");
    }
    PipelineSpec spec;
    if (!spec.ParseFromString(**stored)) {
      return absl::DataLossError("the stored pipeline spec cannot be read");
    }
    if (pipeline_ != nullptr &&
        MessageDifferencer::Equals(spec, pipeline_->spec())) {
      return absl::OkStatus();
    }
    absl::StatusOr<std::shared_ptr<const Pipeline>> pipeline =
        Pipeline::FromSpec(spec);
    if (!pipeline.ok()) {
      return absl::DataLossError(
          absl::StrCat("the stored pipeline spec is not valid: ",
                       pipeline.status().message()));
    }
    Retire(*std::move(pipeline));
    return absl::OkStatus();
  }

  // Makes `next` the pipeline, keeping the old one alive: ClaimedTask and
  // pipeline() handed out views into it.
  void Retire(std::shared_ptr<const Pipeline> next)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (pipeline_ != nullptr) retired_.push_back(std::move(pipeline_));
    pipeline_ = std::move(next);
  }

  // A core on `next` holding the state of the current one, deployed with
  // `options`. REQUIRES: options passed CheckDeployOptions.
  absl::StatusOr<std::unique_ptr<internal::Core>> Upgraded(
      const std::shared_ptr<const Pipeline>& next, const DeployOptions& options)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    internal::Snapshot current;
    if (!current.ParseFromString(core_->SerializedSnapshot(snapshot_bytes_))) {
      // Only past protobuf's 2 GiB: the store could not hold it either.
      return absl::ResourceExhaustedError(
          "the scheduler's state is too large to deploy a pipeline on");
    }
    absl::StatusOr<internal::Snapshot> snapshot =
        internal::UpgradeSnapshot(current, *pipeline_, *next, options);
    if (!snapshot.ok()) return snapshot.status();
    std::unique_ptr<internal::Core> core = NewCore(next);
    if (absl::Status s = core->RestoreSnapshot(*snapshot); !s.ok()) return s;
    core->SetDeployPlan(options);
    core->set_capture(core_->capture());
    return core;
  }

  // Moves the state onto `next` and records it; changes nothing on error or
  // with options.dry_run.
  absl::StatusOr<DeployPlan> Deploy(std::shared_ptr<const Pipeline> next,
                                    int64_t now, const DeployOptions& options)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (absl::Status s = internal::CheckDeployOptions(*next, options);
        !s.ok()) {
      return s;
    }
    if (absl::Status s = internal::CheckRelated(*pipeline_, *next, options);
        !s.ok()) {
      return s;
    }
    DeployPlan plan;
    // Equals, not Equivalent: a field set to its proto default (such as
    // `partitioned: false`) is a change.
    if (MessageDifferencer::Equals(next->spec(), pipeline_->spec()) &&
        options.rebuild.empty()) {
      plan.summary = "no change";
      return plan;
    }
    absl::StatusOr<std::unique_ptr<internal::Core>> core =
        Upgraded(next, options);
    if (!core.ok()) return core.status();
    plan.changed = true;
    plan.summary = internal::DescribeChange(*pipeline_, *next);
    plan.changes = internal::DescribeChanges(*pipeline_, *next, options);
    // A dry run's entries go nowhere: not to the store, nor the observer.
    internal::JournalBuffer dry;
    if (options.dry_run) (*core)->set_capture(&dry);
    (*core)->RecordPipelineUpdate(plan.summary, now, &plan.made_ready);
    if (!options.dry_run) Switch(std::move(next), *std::move(core));
    return plan;
  }

  // Applies an entry as if emitted here; an update moves to its pipeline.
  absl::Status ReplayEntry(const JournalEntry& j)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (j.kind() != static_cast<int32_t>(EntryKind::kPipelineUpdated)) {
      return core_->Replay(j);
    }
    PipelineSpec spec;
    if (!spec.ParseFromString(j.spec())) {
      return absl::DataLossError(absl::StrCat(
          "history entry ", j.seq(), ": the pipeline spec cannot be read"));
    }
    absl::StatusOr<std::shared_ptr<const Pipeline>> next =
        Pipeline::FromSpec(spec);
    if (!next.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "history entry ", j.seq(), ": the pipeline it deploys is ",
          "not valid: ", next.status().message()));
    }
    // What the entry records was allowed when it was written.
    DeployOptions options;
    options.adopt.assign(j.adopted().begin(), j.adopted().end());
    options.rebuild.assign(j.rebuilt().begin(), j.rebuilt().end());
    options.force = true;
    if (absl::Status s = internal::CheckDeployOptions(**next, options);
        !s.ok()) {
      return absl::DataLossError(
          absl::StrCat("history entry ", j.seq(),
                       ": the deploy it records is not valid: ", s.message()));
    }
    absl::StatusOr<std::unique_ptr<internal::Core>> core =
        Upgraded(*next, options);
    if (!core.ok()) return core.status();
    if (absl::Status s = (*core)->Replay(j); !s.ok()) return s;
    Switch(*std::move(next), *std::move(core));
    return absl::OkStatus();
  }

  // Runs `core` on `next` from now on. Without a store the old core's
  // history moves to earlier_, as a new core holds only what it applied.
  void Switch(std::shared_ptr<const Pipeline> next,
              std::unique_ptr<internal::Core> core)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (store_ == nullptr) {
      for (HistoryEntry& h : core_->ReadHistory(1, SIZE_MAX)) {
        earlier_.push_back(std::move(h));
      }
      const size_t capacity = options_.history_capacity;
      while (capacity != 0 && earlier_.size() > capacity) earlier_.pop_front();
    }
    Retire(std::move(next));
    core_ = std::move(core);
  }

  // Without a store: the history held, across pipeline updates.
  std::vector<HistoryEntry> HeldHistory(int64_t from_seq, size_t max)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
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

  const Clock* clock_;
  std::shared_ptr<const Pipeline> pipeline_ ABSL_GUARDED_BY(mu_);
  // Pipelines run before; views into them may still be held.
  std::vector<std::shared_ptr<const Pipeline>> retired_ ABSL_GUARDED_BY(mu_);
  std::deque<HistoryEntry> earlier_ ABSL_GUARDED_BY(mu_);
  SchedulerOptions options_;
  std::shared_ptr<StateStore> store_;
  absl::Mutex mu_;
  std::unique_ptr<internal::Core> core_ ABSL_GUARDED_BY(mu_);
  bool stale_ ABSL_GUARDED_BY(mu_) = false;
  bool checkpoint_ ABSL_GUARDED_BY(mu_) = false;  // Snapshot at this commit.
  internal::JournalBuffer captured_ ABSL_GUARDED_BY(mu_);
  int64_t snapshot_seq_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t snapshot_time_ ABSL_GUARDED_BY(mu_) = 0;
  // The size of the last snapshot written or read: the next one's guess.
  size_t snapshot_bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

absl::StatusOr<std::unique_ptr<Scheduler>> Scheduler::Create(
    std::shared_ptr<const Pipeline> pipeline, SchedulerOptions options) {
  if (pipeline == nullptr) {
    return absl::InvalidArgumentError("Scheduler::Create: no pipeline");
  }
  return std::unique_ptr<Scheduler>(new Scheduler(
      std::make_unique<Impl>(std::move(pipeline), options, nullptr)));
}

absl::StatusOr<std::unique_ptr<Scheduler>> Scheduler::Open(
    std::shared_ptr<const Pipeline> pipeline, std::shared_ptr<StateStore> store,
    SchedulerOptions options) {
  if (pipeline == nullptr || store == nullptr) {
    return absl::InvalidArgumentError(
        "Scheduler::Open: a pipeline and a store are needed");
  }
  auto impl =
      std::make_unique<Impl>(std::move(pipeline), options, std::move(store));
  if (absl::Status s = impl->Open(); !s.ok()) return s;
  return std::unique_ptr<Scheduler>(new Scheduler(std::move(impl)));
}

absl::StatusOr<std::unique_ptr<Scheduler>> Scheduler::Open(
    std::shared_ptr<StateStore> store, SchedulerOptions options) {
  if (store == nullptr) {
    return absl::InvalidArgumentError("Scheduler::Open: no store");
  }
  auto impl = std::make_unique<Impl>(nullptr, options, std::move(store));
  if (absl::Status s = impl->Open(); !s.ok()) return s;
  return std::unique_ptr<Scheduler>(new Scheduler(std::move(impl)));
}

Scheduler::Scheduler(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Scheduler::~Scheduler() = default;

const Pipeline& Scheduler::pipeline() const {
  absl::MutexLock lock(&impl_->mu_);
  return *impl_->pipeline_;
}

std::shared_ptr<StateStore> Scheduler::store() const { return impl_->store_; }

absl::Status Scheduler::UpdatePipeline(std::shared_ptr<const Pipeline> next) {
  return Deploy(std::move(next), DeployOptions()).status();
}

absl::StatusOr<DeployPlan> Scheduler::Deploy(
    std::shared_ptr<const Pipeline> next, const DeployOptions& options) {
  if (next == nullptr) {
    return absl::InvalidArgumentError("Deploy: no pipeline");
  }
  absl::StatusOr<DeployPlan> plan =
      Flatten(impl_->Write([&](internal::Core&, int64_t now) {
        impl_->mu_.AssertHeld();
        return impl_->Deploy(next, now, options);
      }));
  if (!plan.ok()) {
    // A deploy that did not commit left the core on the new pipeline: back
    // to the store's now, not at the next operation.
    absl::MutexLock lock(&impl_->mu_);
    (void)impl_->Refresh();
  }
  return plan;
}

using internal::Core;

absl::StatusOr<IngestResult> Scheduler::Ingest(const Arrival& arrival) {
  return Flatten(impl_->Write(
      [&](Core& core, int64_t now) -> absl::StatusOr<IngestResult> {
        IngestResult result;
        absl::Status status = core.Ingest(absl::MakeConstSpan(&arrival, 1), now,
                                          absl::MakeSpan(&result, 1));
        if (!status.ok()) return status;
        return result;
      }));
}

absl::StatusOr<std::vector<IngestResult>> Scheduler::IngestBatch(
    absl::Span<const Arrival> arrivals) {
  return Flatten(impl_->Write([&](Core& core, int64_t now)
                                  -> absl::StatusOr<std::vector<IngestResult>> {
    std::vector<IngestResult> results(arrivals.size());
    absl::Status status = core.Ingest(arrivals, now, absl::MakeSpan(results));
    if (!status.ok()) return status;
    return results;
  }));
}

std::vector<bool> Scheduler::Ingested(absl::Span<const Arrival> arrivals) {
  absl::MutexLock lock(&impl_->mu_);
  (void)impl_->Refresh();
  std::vector<bool> out;
  out.reserve(arrivals.size());
  for (const Arrival& a : arrivals) {
    out.push_back(impl_->core_->Ingested(a.origin(), a.event_id()));
  }
  return out;
}

absl::StatusOr<std::vector<ClaimedTask>> Scheduler::Claim(
    const std::string& worker, int max, const ClaimFilter& filter) {
  return impl_->Write([&](Core& core, int64_t now) {
    return core.Claim(worker, max, filter, now);
  });
}

absl::Status Scheduler::Heartbeat(const TaskKey& task, int64_t attempt) {
  return Heartbeat(task, attempt, absl::ZeroDuration());
}

absl::Status Scheduler::Heartbeat(const TaskKey& task, int64_t attempt,
                                  absl::Duration lease) {
  return Flatten(impl_->Write([&](Core& core, int64_t now) {
    return core.Heartbeat(task, attempt, lease, now);
  }));
}

absl::Status Scheduler::Complete(const TaskKey& task, int64_t attempt,
                                 Outcome outcome, const std::string& message) {
  return Flatten(impl_->Write([&](Core& core, int64_t now) {
    return core.Complete(task, /*id=*/0, attempt, outcome, message, now);
  }));
}

std::vector<absl::Status> Scheduler::CompleteBatch(
    absl::Span<const Completion> completions) {
  return impl_->WriteEach(completions, [](Core& core, int64_t now,
                                          const Completion& c) {
    return core.Complete(c.task, c.id, c.attempt, c.outcome, c.message, now);
  });
}

std::vector<absl::Status> Scheduler::HeartbeatBatch(
    absl::Span<const std::pair<TaskKey, int64_t>> attempts) {
  return impl_->WriteEach(attempts, [](Core& core, int64_t now,
                                       const std::pair<TaskKey, int64_t>& a) {
    return core.Heartbeat(a.first, a.second, absl::ZeroDuration(), now);
  });
}

absl::Status Scheduler::Poll() {
  return Flatten(impl_->Write([&](Core& core, int64_t now) {
    core.Poll(now);
    return absl::OkStatus();
  }));
}

std::optional<absl::Time> Scheduler::NextWakeup() {
  absl::MutexLock lock(&impl_->mu_);
  (void)impl_->Refresh();
  auto next = impl_->core_->NextWakeup(impl_->Now());
  if (!next) return std::nullopt;
  return absl::FromUnixNanos(*next);
}

absl::Status Scheduler::Redrive(const TaskKey& task) {
  return RedriveBatch({task});
}

absl::Status Scheduler::RedriveBatch(absl::Span<const TaskKey> tasks) {
  return Flatten(impl_->Write(
      [&](Core& core, int64_t now) { return core.Redrive(tasks, now); }));
}

absl::Status Scheduler::MarkSucceeded(const TaskKey& task) {
  return Flatten(impl_->Write(
      [&](Core& core, int64_t now) { return core.MarkSucceeded(task, now); }));
}

absl::Status Scheduler::Rerun(const TaskKey& task, bool with_descendants) {
  return RerunBatch({task}, with_descendants, nullptr);
}

absl::Status Scheduler::RerunBatch(absl::Span<const TaskKey> tasks,
                                   bool with_descendants,
                                   std::vector<TaskKey>* rerun) {
  // Told only once committed: a store's error undoes the operation.
  std::vector<TaskKey> marked;
  absl::Status status = Flatten(impl_->Write([&](Core& core, int64_t now) {
    return core.Rerun(tasks, with_descendants, now, &marked);
  }));
  if (status.ok() && rerun != nullptr) {
    rerun->insert(rerun->end(), marked.begin(), marked.end());
  }
  return status;
}

absl::Status Scheduler::PauseTable(const std::string& table) {
  return Flatten(impl_->Write([&](Core& core, int64_t now) {
    return core.Pause(table, "", true, now);
  }));
}

absl::Status Scheduler::ResumeTable(const std::string& table) {
  return Flatten(impl_->Write([&](Core& core, int64_t now) {
    return core.Pause(table, "", false, now);
  }));
}

absl::Status Scheduler::PauseClass(const std::string& priority_class) {
  return Flatten(impl_->Write([&](Core& core, int64_t now) {
    return core.Pause("", priority_class, true, now);
  }));
}

absl::Status Scheduler::ResumeClass(const std::string& priority_class) {
  return Flatten(impl_->Write([&](Core& core, int64_t now) {
    return core.Pause("", priority_class, false, now);
  }));
}

absl::Status Scheduler::SetPriorityClass(const std::string& table,
                                         const std::string& priority_class) {
  return Flatten(impl_->Write([&](Core& core, int64_t now) {
    return core.SetPriorityClass(table, priority_class, now);
  }));
}

absl::Status Scheduler::SetPoolSlots(const std::string& pool, int slots) {
  return Flatten(impl_->Write([&](Core& core, int64_t now) {
    return core.SetPoolSlots(pool, slots, now);
  }));
}

absl::Status Scheduler::Checkpoint() {
  return Flatten(impl_->Write([&](internal::Core&, int64_t) {
    impl_->mu_.AssertHeld();
    impl_->checkpoint_ = true;
    return absl::OkStatus();
  }));
}

absl::StatusOr<Explanation> Scheduler::Explain(const TaskKey& task) {
  absl::MutexLock lock(&impl_->mu_);
  if (absl::Status s = impl_->Refresh(); !s.ok()) return s;
  return impl_->core_->Explain(task, impl_->Now());
}

absl::StatusOr<Freshness> Scheduler::GetFreshness(const std::string& table) {
  absl::MutexLock lock(&impl_->mu_);
  if (absl::Status s = impl_->Refresh(); !s.ok()) return s;
  return impl_->core_->GetFreshness(table, impl_->Now());
}

TaskList Scheduler::List(const ListFilter& filter) {
  absl::MutexLock lock(&impl_->mu_);
  (void)impl_->Refresh();
  return impl_->core_->List(filter, impl_->Now());
}

TaskGauges Scheduler::Gauges() {
  absl::MutexLock lock(&impl_->mu_);
  return impl_->core_->Gauges();
}

std::vector<TaskStatus> Scheduler::DeadLetter() {
  absl::MutexLock lock(&impl_->mu_);
  (void)impl_->Refresh();
  return impl_->core_->DeadLetter(impl_->Now());
}

absl::StatusOr<std::vector<HistoryEntry>> Scheduler::ReadHistory(
    int64_t from_seq, size_t max) {
  // Below 1 reads from 1 (and from_seq - 1 cannot overflow).
  from_seq = std::max<int64_t>(from_seq, 1);
  absl::MutexLock lock(&impl_->mu_);
  StateStore* store = impl_->store_.get();
  if (store == nullptr) return impl_->HeldHistory(from_seq, max);
  if (absl::Status s = store->Begin(StateStore::Access::kRead); !s.ok()) {
    return s;
  }
  std::vector<JournalEntry> batch;
  absl::Status read = store->ReadEntries(from_seq - 1, max, &batch);
  store->Rollback();
  if (!read.ok()) return read;
  std::vector<HistoryEntry> out;
  for (const JournalEntry& j : batch) {
    // Entries pruned before from_seq may be missing; none after the first.
    if (!out.empty() && j.seq() != out.back().seq + 1) {
      return absl::DataLossError(absl::StrCat(
          "history entry ", out.back().seq + 1, " is missing from the store"));
    }
    absl::StatusOr<HistoryEntry> h = FromJournal(j);
    if (!h.ok()) {
      return internal::AsStoredStateError(
          h.status(),
          absl::StrCat("history entry ", j.seq(), " cannot be read: "));
    }
    out.push_back(*std::move(h));
  }
  return out;
}

int64_t Scheduler::LastSequence() {
  absl::MutexLock lock(&impl_->mu_);
  (void)impl_->Refresh();
  return impl_->core_->last_seq();
}

absl::StatusOr<std::unique_ptr<Scheduler>> Scheduler::Replay(
    std::shared_ptr<const Pipeline> pipeline,
    absl::Span<const HistoryEntry> entries, SchedulerOptions options) {
  absl::StatusOr<std::unique_ptr<Scheduler>> scheduler =
      Create(std::move(pipeline), std::move(options));
  if (!scheduler.ok()) return scheduler.status();
  Impl& impl = *(*scheduler)->impl_;
  absl::MutexLock lock(&impl.mu_);
  JournalEntry journal;
  for (const HistoryEntry& entry : entries) {
    ToJournal(entry, &journal);
    if (absl::Status status = impl.ReplayEntry(journal); !status.ok()) {
      return status;
    }
  }
  return scheduler;
}

std::string Scheduler::DebugState() {
  absl::MutexLock lock(&impl_->mu_);
  (void)impl_->Refresh();
  return impl_->core_->DebugState();
}

const char* TaskStateName(TaskState state) {
  switch (state) {
    case TaskState::kWaiting:
      return "WAITING";
    case TaskState::kReady:
      return "READY";
    case TaskState::kRunning:
      return "RUNNING";
    case TaskState::kRetryWait:
      return "RETRY_WAIT";
    case TaskState::kDead:
      return "DEAD";
    case TaskState::kBlocked:
      return "BLOCKED";
    case TaskState::kPaused:
      return "PAUSED";
    case TaskState::kSucceeded:
      return "SUCCEEDED";
    case TaskState::kExpired:
      return "EXPIRED";
  }
  return "UNKNOWN";
}

absl::Span<const TaskState> AllTaskStates() {
  static constexpr TaskState kAll[] = {
      TaskState::kWaiting,   TaskState::kReady,     TaskState::kRunning,
      TaskState::kRetryWait, TaskState::kDead,      TaskState::kBlocked,
      TaskState::kPaused,    TaskState::kSucceeded, TaskState::kExpired};
  static_assert(std::size(kAll) == kTaskStateCount);
  return kAll;
}

std::optional<TaskState> TaskStateFromName(std::string_view name) {
  for (TaskState state : AllTaskStates()) {
    if (name == TaskStateName(state)) return state;
  }
  return std::nullopt;
}

std::string Explanation::ToString() const {
  return absl::StrCat(status.task.table,
                      status.task.partition.empty() ? "" : "/",
                      status.task.partition, " ", TaskStateName(status.state),
                      ": ", absl::StrJoin(reasons, "; "));
}

}  // namespace landfall
