// Scheduler::Impl: the core behind one mutex, and with a store, each
// operation as a transaction on it. scheduler.cc holds the public methods,
// scheduler_impl.cc the transactions, scheduler_deploy.cc moving the state
// onto another pipeline.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "landfall/scheduler.h"
#include "lib/core/core.h"

namespace landfall {
namespace internal {

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

}  // namespace internal

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
      internal::ObserverBracket bracket(options_.observer);
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
  absl::Status Refresh() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Inside a transaction: a fresh core from the latest snapshot and the
  // entries after it.
  absl::Status Load() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Inside a transaction: applies the entries others appended since the
  // core's last one, adding them to `captured` for the observer when there
  // is one and `captured` is not null.
  absl::Status CatchUp(internal::JournalBuffer* captured)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Inside a write transaction: appends `mine`, writes a snapshot when one
  // is due, and commits.
  absl::Status Persist(absl::Span<const JournalEntry> mine, int64_t now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Tells the observer, when there is one, of entries once committed.
  void Notify(absl::Span<const JournalEntry> entries);

  // With a store: records the pipeline in a new one; loads the state of one
  // that has some, and deploys the pipeline asked for when it differs.
  absl::Status Open();

  // Inside a write transaction: a store without a pipeline gets this one's.
  absl::Status RecordFirstPipeline() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Inside a transaction: runs the store's pipeline (keeping this one's
  // object when its spec is the same).
  absl::Status TakeStoredPipeline() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Makes `next` the pipeline, keeping the old one alive: ClaimedTask and
  // pipeline() handed out views into it.
  void Retire(std::shared_ptr<const Pipeline> next)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // A core on `next` holding the state of the current one, deployed with
  // `options`. REQUIRES: options passed CheckDeployOptions.
  absl::StatusOr<std::unique_ptr<internal::Core>> Upgraded(
      const std::shared_ptr<const Pipeline>& next, const DeployOptions& options)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Moves the state onto `next` and records it; changes nothing on error or
  // with options.dry_run.
  absl::StatusOr<DeployPlan> Deploy(std::shared_ptr<const Pipeline> next,
                                    int64_t now, const DeployOptions& options)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Applies an entry as if emitted here; an update moves to its pipeline.
  absl::Status ReplayEntry(const JournalEntry& j)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Runs `core` on `next` from now on. Without a store the old core's
  // history moves to earlier_, as a new core holds only what it applied.
  void Switch(std::shared_ptr<const Pipeline> next,
              std::unique_ptr<internal::Core> core)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Without a store: the history held, across pipeline updates.
  std::vector<HistoryEntry> HeldHistory(int64_t from_seq, size_t max)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

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

}  // namespace landfall
