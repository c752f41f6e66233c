#include "landfall/runner.h"

#include <unistd.h>

#include <algorithm>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace landfall {

Source::~Source() = default;
Executor::~Executor() = default;

namespace {

class CallbackExecutor : public Executor {
 public:
  explicit CallbackExecutor(
      std::function<AttemptResult(const ClaimedTask&, const std::atomic<bool>&)>
          run)
      : run_(std::move(run)) {}
  AttemptResult Run(const ClaimedTask& task,
                    const std::atomic<bool>& cancelled) override {
    return run_(task, cancelled);
  }

 private:
  std::function<AttemptResult(const ClaimedTask&, const std::atomic<bool>&)>
      run_;
};

std::string DefaultWorkerName() {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  return absl::StrCat(host, ":", getpid());
}

}  // namespace

int TaskCounts::Of(TaskState state) const {
  return const_cast<TaskCounts*>(this)->Of(state);
}

int& TaskCounts::Of(TaskState state) {
  switch (state) {
    case TaskState::kWaiting:
      return waiting;
    case TaskState::kReady:
      return ready;
    case TaskState::kRunning:
      return running;
    case TaskState::kRetryWait:
      return retry_wait;
    case TaskState::kDead:
      return dead;
    case TaskState::kBlocked:
      return blocked;
    case TaskState::kPaused:
      return paused;
    case TaskState::kSucceeded:
      return succeeded;
    case TaskState::kExpired:
      return expired;
  }
  return waiting;  // Not reached: every state is named above.
}

TaskCounts TaskCounts::From(const TaskList& list) {
  TaskCounts counts;
  for (const TaskStatus& t : list.tasks) ++counts.Of(t.state);
  return counts;
}

std::unique_ptr<Executor> NewCallbackExecutor(
    std::function<AttemptResult(const ClaimedTask&, const std::atomic<bool>&)>
        run) {
  return std::make_unique<CallbackExecutor>(std::move(run));
}

class Runner::Impl {
 public:
  Impl(std::shared_ptr<Scheduler> scheduler, RunnerOptions options)
      : scheduler_(std::move(scheduler)), options_(std::move(options)) {
    if (options_.worker.empty()) options_.worker = DefaultWorkerName();
    if (options_.heartbeat_interval <= absl::ZeroDuration()) {
      absl::Duration shortest = absl::InfiniteDuration();
      for (const Table& t : scheduler_->pipeline().tables()) {
        if (!t.source) shortest = std::min(shortest, t.lease);
      }
      options_.heartbeat_interval = shortest == absl::InfiniteDuration()
                                        ? absl::Minutes(1)
                                        : shortest / 3;
    }
  }

  absl::Status Start() {
    for (size_t i = 0; i < sources_.size(); ++i) {
      absl::Status s = sources_[i]->Start(
          [this](std::vector<Arrival> arrivals) { return Deliver(arrivals); });
      if (!s.ok()) {
        for (size_t j = 0; j <= i; ++j) sources_[j]->Stop();
        return s;
      }
    }
    const Pipeline& pipeline = scheduler_->pipeline();
    std::vector<bool> used(pipeline.pools().size(), false);
    for (const Table& t : pipeline.tables()) {
      if (!t.source) used[t.pool] = true;
    }
    for (const Pool& pool : pipeline.pools()) {
      if (!used[pool.id]) continue;
      const int threads = std::min(pool.slots, options_.max_workers);
      for (int i = 0; i < threads; ++i) {
        threads_.emplace_back([this, name = pool.name] { WorkLoop(name); });
      }
    }
    heartbeat_ = std::thread([this] { HeartbeatLoop(); });
    absl::MutexLock lock(&mu_);
    started_ = true;
    last_busy_ = absl::Now();
    return absl::OkStatus();
  }

  void Stop(absl::Duration grace) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      stopping_ = true;
      wake_.SignalAll();
    }
    for (auto& source : sources_) source->Stop();
    {
      absl::MutexLock lock(&mu_);
      // Claims under way either find nothing or register their attempt.
      while (claiming_ > 0) wake_.Wait(&mu_);
      const absl::Time deadline = absl::Now() + grace;
      while (!running_.empty() && !wake_.WaitWithDeadline(&mu_, deadline)) {
      }
      for (auto& [id, attempt] : running_) attempt.cancelled->store(true);
    }
    for (std::thread& t : threads_) t.join();
    {
      absl::MutexLock lock(&mu_);
      heartbeat_stop_ = true;
      wake_.SignalAll();
    }
    if (heartbeat_.joinable()) heartbeat_.join();
  }

  void Notify() {
    absl::MutexLock lock(&mu_);
    ++generation_;
    last_busy_ = absl::Now();
    wake_.SignalAll();
  }

  RunnerStats stats() {
    absl::MutexLock lock(&mu_);
    return StatsLocked();
  }

  RunSummary WaitUntilIdle(absl::Duration quiet, absl::Duration timeout) {
    quiet = std::max(quiet, absl::ZeroDuration());
    const absl::Time deadline = timeout == absl::InfiniteDuration()
                                    ? absl::InfiniteFuture()
                                    : absl::Now() + timeout;
    RunSummary summary;
    while (true) {
      int64_t seen_generation;
      {
        absl::MutexLock lock(&mu_);
        seen_generation = generation_;
      }
      // Outside mu_: the scheduler's lock is never taken under it.
      summary.tasks = TaskCounts::From(scheduler_->List());
      absl::MutexLock lock(&mu_);
      const absl::Time now = absl::Now();
      const TaskCounts& t = summary.tasks;
      // An expired attempt is failed by the next write, then retried.
      const bool busy = t.ready > 0 || t.running > 0 || t.retry_wait > 0 ||
                        t.expired > 0 || !running_.empty();
      if (busy) last_busy_ = now;
      summary.attempts = StatsLocked();
      summary.idle = !busy && now - last_busy_ >= quiet;
      if (summary.idle || !started_ || stopping_ || now >= deadline) {
        return summary;
      }
      const absl::Time wake_at =
          std::min({deadline, now + options_.idle_poll,
                    busy ? absl::InfiniteFuture() : last_busy_ + quiet});
      Sleep(seen_generation, wake_at);
    }
  }

  std::shared_ptr<Scheduler> scheduler_;
  RunnerOptions options_;
  std::vector<std::unique_ptr<Source>> sources_;

 private:
  struct Running {
    TaskKey task;
    int64_t attempt = 0;
    std::shared_ptr<std::atomic<bool>> cancelled;
  };

  absl::Status Deliver(const std::vector<Arrival>& arrivals) {
    absl::StatusOr<std::vector<IngestResult>> results =
        scheduler_->IngestBatch(arrivals);
    if (!results.ok()) return results.status();
    Notify();
    return absl::OkStatus();
  }

  Executor* ExecutorFor(const ClaimedTask& task) const {
    if (auto it = options_.executor_by_table.find(task.task.table);
        it != options_.executor_by_table.end()) {
      return it->second.get();
    }
    if (auto it = options_.executor_by_sink.find(std::string(task.sink));
        it != options_.executor_by_sink.end()) {
      return it->second.get();
    }
    return options_.executor.get();
  }

  RunnerStats StatsLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    RunnerStats out = stats_;
    out.running = static_cast<int>(running_.size());
    return out;
  }

  // Serialized, outside mu_ (a host's callback may call stats()).
  void Tell(const RunnerEvent& event) {
    if (!options_.on_event) return;
    absl::MutexLock lock(&event_mu_);
    options_.on_event(event);
  }

  void TellError(const std::string& message) {
    RunnerEvent event;
    event.kind = RunnerEvent::Kind::kError;
    event.message = message;
    Tell(event);
  }

  // Waits, holding mu_, until woken, stopping, or `deadline`.
  void Sleep(int64_t seen_generation, absl::Time deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    while (!stopping_ && generation_ == seen_generation &&
           !wake_.WaitWithDeadline(&mu_, deadline)) {
    }
  }

  // One worker of `pool`: claims one attempt at a time and runs it.
  void WorkLoop(const std::string& pool) {
    const ClaimFilter filter{{pool}, {}};
    while (true) {
      int64_t seen_generation;
      {
        absl::MutexLock lock(&mu_);
        while (!stopping_ && static_cast<int>(running_.size()) + claiming_ >=
                                 options_.max_workers) {
          wake_.Wait(&mu_);
        }
        if (stopping_) return;
        ++claiming_;
        seen_generation = generation_;
      }
      absl::StatusOr<std::vector<ClaimedTask>> claimed =
          scheduler_->Claim(options_.worker, 1, filter);
      if (!claimed.ok() || claimed->empty()) {
        if (!claimed.ok()) {
          TellError(absl::StrCat("claim: ", claimed.status().message()));
        }
        std::optional<absl::Time> next = scheduler_->NextWakeup();
        absl::MutexLock lock(&mu_);
        --claiming_;
        wake_.SignalAll();
        absl::Time deadline = absl::Now() + options_.idle_poll;
        if (next && *next < deadline) deadline = *next;
        Sleep(seen_generation, deadline);
        continue;
      }
      Run(std::move(claimed->front()));
    }
  }

  void Run(ClaimedTask task) {
    auto cancelled = std::make_shared<std::atomic<bool>>(false);
    uint64_t id;
    {
      absl::MutexLock lock(&mu_);
      --claiming_;
      id = next_id_++;
      running_[id] = Running{task.task, task.attempt, cancelled};
      ++stats_.claimed;
      last_busy_ = absl::Now();
      wake_.SignalAll();  // Stop may be waiting for the claim to land.
    }
    RunnerEvent event;
    event.kind = RunnerEvent::Kind::kClaimed;
    event.task = task.task;
    event.attempt = task.attempt;
    Tell(event);

    Executor* executor = ExecutorFor(task);
    AttemptResult result =
        executor != nullptr
            ? executor->Run(task, *cancelled)
            : AttemptResult{Outcome::FATAL,
                            absl::StrCat("no executor for table \"",
                                         task.task.table, "\"")};
    const bool abandoned = cancelled->load();
    if (!abandoned) {
      absl::Status s = scheduler_->Complete(task.task, task.attempt,
                                            result.outcome, result.message);
      if (!s.ok()) TellError(absl::StrCat("complete: ", s.message()));
    }
    event.kind = abandoned ? RunnerEvent::Kind::kAbandoned
                           : RunnerEvent::Kind::kFinished;
    event.result = std::move(result);
    {
      absl::MutexLock lock(&mu_);
      running_.erase(id);
      last_busy_ = absl::Now();
      if (abandoned) {
        ++stats_.abandoned;
      } else if (event.result.outcome == Outcome::SUCCEEDED) {
        ++stats_.succeeded;
      } else {
        ++stats_.failed;
        ++(event.result.outcome == Outcome::FATAL ? stats_.fatal
                                                  : stats_.retryable);
      }
      ++generation_;  // A success may have made other pools' work ready.
      wake_.SignalAll();
    }
    Tell(event);
  }

  // Extends the leases of the running attempts; an attempt whose lease is
  // lost is cancelled (its result could no longer be recorded).
  void HeartbeatLoop() {
    absl::MutexLock lock(&mu_);
    while (!heartbeat_stop_) {
      const absl::Time deadline = absl::Now() + options_.heartbeat_interval;
      while (!heartbeat_stop_ && !wake_.WaitWithDeadline(&mu_, deadline)) {
      }
      if (heartbeat_stop_) return;
      std::vector<std::pair<TaskKey, int64_t>> attempts;
      std::vector<std::shared_ptr<std::atomic<bool>>> flags;
      for (const auto& [id, r] : running_) {
        attempts.emplace_back(r.task, r.attempt);
        flags.push_back(r.cancelled);
      }
      if (attempts.empty()) continue;
      mu_.Unlock();
      std::vector<absl::Status> statuses = scheduler_->HeartbeatBatch(attempts);
      for (size_t i = 0; i < statuses.size(); ++i) {
        if (statuses[i].ok()) continue;
        if (absl::IsFailedPrecondition(statuses[i])) flags[i]->store(true);
        TellError(absl::StrCat("heartbeat: ", statuses[i].message()));
      }
      mu_.Lock();
    }
  }

  absl::Mutex mu_;
  absl::CondVar wake_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool heartbeat_stop_ ABSL_GUARDED_BY(mu_) = false;
  // Bumped by anything that may have made work claimable.
  int64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  int claiming_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<uint64_t, Running> running_ ABSL_GUARDED_BY(mu_);
  RunnerStats stats_ ABSL_GUARDED_BY(mu_);
  // The last time the runner saw work, for WaitUntilIdle.
  absl::Time last_busy_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Mutex event_mu_;
  std::vector<std::thread> threads_;
  std::thread heartbeat_;
};

absl::StatusOr<std::unique_ptr<Runner>> Runner::Create(
    std::shared_ptr<Scheduler> scheduler, RunnerOptions options) {
  if (scheduler == nullptr) {
    return absl::InvalidArgumentError("Runner::Create: no scheduler");
  }
  // Each worker is a thread: an unbounded count would spawn them until the
  // system refuses.
  if (options.max_workers < 1 ||
      options.max_workers > RunnerOptions::kMaxWorkers) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Runner::Create: max_workers must be 1 to ", RunnerOptions::kMaxWorkers,
        " (got ", options.max_workers, ")"));
  }
  // Zero or less would make an idle runner spin.
  if (options.idle_poll <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Runner::Create: idle_poll must be positive (got ",
                     absl::FormatDuration(options.idle_poll), ")"));
  }
  return std::unique_ptr<Runner>(new Runner(
      std::make_unique<Impl>(std::move(scheduler), std::move(options))));
}

Runner::Runner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Runner::~Runner() { Stop(absl::ZeroDuration()); }

void Runner::AddSource(std::unique_ptr<Source> source) {
  impl_->sources_.push_back(std::move(source));
}
absl::Status Runner::Start() { return impl_->Start(); }
void Runner::Stop(absl::Duration grace) { impl_->Stop(grace); }
void Runner::Notify() { impl_->Notify(); }
RunSummary Runner::WaitUntilIdle(absl::Duration quiet, absl::Duration timeout) {
  return impl_->WaitUntilIdle(quiet, timeout);
}
RunnerStats Runner::stats() const { return impl_->stats(); }
Scheduler& Runner::scheduler() const { return *impl_->scheduler_; }

}  // namespace landfall
