// Scheduler: the public face of the core, one mutex around it.
#include "landfall/scheduler.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "lib/core/core.h"

namespace landfall {

class Scheduler::Impl {
 public:
  Impl(std::shared_ptr<const Pipeline> pipeline, const SchedulerOptions& o)
      : clock_(o.clock != nullptr ? o.clock : SystemClock::Default()),
        core_(std::move(pipeline), o) {}

  int64_t Now() const { return absl::ToUnixNanos(clock_->Now()); }

  const Clock* clock_;
  absl::Mutex mu_;
  internal::Core core_ ABSL_GUARDED_BY(mu_);
};

absl::StatusOr<std::unique_ptr<Scheduler>> Scheduler::Create(
    std::shared_ptr<const Pipeline> pipeline, SchedulerOptions options) {
  if (pipeline == nullptr) {
    return absl::InvalidArgumentError("Scheduler::Create: no pipeline");
  }
  return std::unique_ptr<Scheduler>(
      new Scheduler(std::make_unique<Impl>(std::move(pipeline), options)));
}

Scheduler::Scheduler(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Scheduler::~Scheduler() = default;

const Pipeline& Scheduler::pipeline() const {
  // The pipeline never changes, so reading it needs no lock.
  return impl_->core_.pipeline();
}

absl::StatusOr<IngestResult> Scheduler::Ingest(const Arrival& arrival) {
  absl::MutexLock lock(&impl_->mu_);
  IngestResult result;
  absl::Status status =
      impl_->core_.Ingest(absl::MakeConstSpan(&arrival, 1), impl_->Now(),
                          absl::MakeSpan(&result, 1));
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<std::vector<IngestResult>> Scheduler::IngestBatch(
    absl::Span<const Arrival> arrivals) {
  absl::MutexLock lock(&impl_->mu_);
  std::vector<IngestResult> results(arrivals.size());
  absl::Status status =
      impl_->core_.Ingest(arrivals, impl_->Now(), absl::MakeSpan(results));
  if (!status.ok()) return status;
  return results;
}

std::vector<ClaimedTask> Scheduler::Claim(const std::string& worker, int max,
                                          const ClaimFilter& filter) {
  absl::MutexLock lock(&impl_->mu_);
  return impl_->core_.Claim(worker, max, filter, impl_->Now());
}

absl::Status Scheduler::Heartbeat(const TaskKey& task, int64_t attempt) {
  absl::MutexLock lock(&impl_->mu_);
  return impl_->core_.Heartbeat(task, attempt, impl_->Now());
}

absl::Status Scheduler::Complete(const TaskKey& task, int64_t attempt,
                                 Outcome outcome, const std::string& message) {
  absl::MutexLock lock(&impl_->mu_);
  return impl_->core_.Complete(task, /*id=*/0, attempt, outcome, message,
                               impl_->Now());
}

std::vector<absl::Status> Scheduler::CompleteBatch(
    absl::Span<const Completion> completions) {
  absl::MutexLock lock(&impl_->mu_);
  const int64_t now = impl_->Now();
  std::vector<absl::Status> statuses;
  statuses.reserve(completions.size());
  for (const Completion& c : completions) {
    statuses.push_back(impl_->core_.Complete(c.task, c.id, c.attempt, c.outcome,
                                             c.message, now));
  }
  return statuses;
}

std::vector<absl::Status> Scheduler::HeartbeatBatch(
    absl::Span<const std::pair<TaskKey, int64_t>> attempts) {
  absl::MutexLock lock(&impl_->mu_);
  const int64_t now = impl_->Now();
  std::vector<absl::Status> statuses;
  statuses.reserve(attempts.size());
  for (const auto& [task, attempt] : attempts) {
    statuses.push_back(impl_->core_.Heartbeat(task, attempt, now));
  }
  return statuses;
}

void Scheduler::Poll() {
  absl::MutexLock lock(&impl_->mu_);
  impl_->core_.Poll(impl_->Now());
}

std::optional<absl::Time> Scheduler::NextWakeup() {
  absl::MutexLock lock(&impl_->mu_);
  auto next = impl_->core_.NextWakeup();
  if (!next) return std::nullopt;
  return absl::FromUnixNanos(*next);
}

absl::Status Scheduler::Redrive(const TaskKey& task) {
  absl::MutexLock lock(&impl_->mu_);
  return impl_->core_.Redrive(task, impl_->Now());
}

absl::Status Scheduler::MarkSucceeded(const TaskKey& task) {
  absl::MutexLock lock(&impl_->mu_);
  return impl_->core_.MarkSucceeded(task, impl_->Now());
}

absl::Status Scheduler::Rerun(const TaskKey& task, bool with_descendants) {
  absl::MutexLock lock(&impl_->mu_);
  return impl_->core_.Rerun(task, with_descendants, impl_->Now());
}

absl::Status Scheduler::PauseTable(const std::string& table) {
  absl::MutexLock lock(&impl_->mu_);
  return impl_->core_.Pause(table, "", true, impl_->Now());
}

absl::Status Scheduler::ResumeTable(const std::string& table) {
  absl::MutexLock lock(&impl_->mu_);
  return impl_->core_.Pause(table, "", false, impl_->Now());
}

absl::Status Scheduler::PauseClass(const std::string& priority_class) {
  absl::MutexLock lock(&impl_->mu_);
  return impl_->core_.Pause("", priority_class, true, impl_->Now());
}

absl::Status Scheduler::ResumeClass(const std::string& priority_class) {
  absl::MutexLock lock(&impl_->mu_);
  return impl_->core_.Pause("", priority_class, false, impl_->Now());
}

absl::Status Scheduler::SetPriorityClass(const std::string& table,
                                         const std::string& priority_class) {
  absl::MutexLock lock(&impl_->mu_);
  return impl_->core_.SetPriorityClass(table, priority_class, impl_->Now());
}

absl::Status Scheduler::SetPoolSlots(const std::string& pool, int slots) {
  absl::MutexLock lock(&impl_->mu_);
  return impl_->core_.SetPoolSlots(pool, slots, impl_->Now());
}

absl::StatusOr<Explanation> Scheduler::Explain(const TaskKey& task) {
  absl::MutexLock lock(&impl_->mu_);
  return impl_->core_.Explain(task, impl_->Now());
}

absl::StatusOr<Freshness> Scheduler::GetFreshness(const std::string& table) {
  absl::MutexLock lock(&impl_->mu_);
  return impl_->core_.GetFreshness(table, impl_->Now());
}

TaskList Scheduler::List(const ListFilter& filter) {
  absl::MutexLock lock(&impl_->mu_);
  return impl_->core_.List(filter);
}

std::vector<TaskStatus> Scheduler::DeadLetter() {
  absl::MutexLock lock(&impl_->mu_);
  return impl_->core_.DeadLetter();
}

std::vector<HistoryEntry> Scheduler::ReadHistory(int64_t from_seq, size_t max) {
  absl::MutexLock lock(&impl_->mu_);
  return impl_->core_.ReadHistory(from_seq, max);
}

int64_t Scheduler::LastSequence() {
  absl::MutexLock lock(&impl_->mu_);
  return impl_->core_.last_seq();
}

absl::StatusOr<std::unique_ptr<Scheduler>> Scheduler::Replay(
    std::shared_ptr<const Pipeline> pipeline,
    absl::Span<const HistoryEntry> entries, SchedulerOptions options) {
  absl::StatusOr<std::unique_ptr<Scheduler>> scheduler =
      Create(std::move(pipeline), std::move(options));
  if (!scheduler.ok()) return scheduler.status();
  Impl& impl = *(*scheduler)->impl_;
  absl::MutexLock lock(&impl.mu_);
  for (const HistoryEntry& entry : entries) {
    if (absl::Status status = impl.core_.Replay(entry); !status.ok()) {
      return status;
    }
  }
  return scheduler;
}

std::string Scheduler::DebugState() {
  absl::MutexLock lock(&impl_->mu_);
  return impl_->core_.DebugState();
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
  }
  return "UNKNOWN";
}

std::string Explanation::ToString() const {
  return absl::StrCat(status.task.table,
                      status.task.partition.empty() ? "" : "/",
                      status.task.partition, " ", TaskStateName(status.state),
                      ": ", absl::StrJoin(reasons, "; "));
}

}  // namespace landfall
