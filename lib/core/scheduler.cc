// Scheduler: the public face of the core, one mutex around it.
#include "landfall/scheduler.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "lib/core/core.h"
#include "lib/core/scheduler_impl.h"

namespace landfall {

namespace {

absl::Status Flatten(absl::StatusOr<absl::Status> s) {
  return s.ok() ? *s : s.status();
}
template <typename T>
absl::StatusOr<T> Flatten(absl::StatusOr<absl::StatusOr<T>> s) {
  if (!s.ok()) return s.status();
  return *std::move(s);
}

}  // namespace

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
