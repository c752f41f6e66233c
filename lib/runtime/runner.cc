#include "landfall/runner.h"

#include <unistd.h>

#include <algorithm>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "lib/runtime/executor_for.h"

namespace landfall {

Source::~Source() = default;

absl::Status Source::StartReporting(Deliver deliver, Report) {
  return Start(std::move(deliver));
}
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
      absl::Status s = sources_[i]->StartReporting(
          [this](std::vector<Arrival> arrivals) { return Deliver(arrivals); },
          [this](const absl::Status& problem) {
            TellError(std::string(problem.message()));
          });
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
    // A store that tells of other hosts' commits wakes the workers at once.
    if (std::shared_ptr<StateStore> store = scheduler_->store()) {
      watch_ = store->Watch();
    }
    if (watch_ != nullptr) watcher_ = std::thread([this] { WatchLoop(); });
    if (options_.notifier != nullptr) {
      rules_ = std::make_unique<AlertRules>(options_.notifier.get(),
                                            options_.alerts);
      // The first check is made here, so that what holds at start is
      // known when Start returns.
      rules_->Check(*scheduler_, absl::Now());
      alerter_ = std::thread([this] { AlertLoop(); });
    }
    absl::MutexLock lock(&mu_);
    started_ = true;
    last_busy_ = absl::Now();
    return absl::OkStatus();
  }

  void Stop(absl::Duration grace) {
    const absl::Time grace_ends = absl::Now() + grace;
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
      wake_.SignalAll();  // Completions waiting to retry give up.
    }
    for (std::thread& t : threads_) t.join();
    {
      absl::MutexLock lock(&mu_);
      heartbeat_stop_ = true;
      watch_stop_.store(true);
      wake_.SignalAll();
    }
    if (watch_ != nullptr) watch_->Interrupt();
    if (heartbeat_.joinable()) heartbeat_.join();
    if (watcher_.joinable()) watcher_.join();
    if (alerter_.joinable()) alerter_.join();
    if (rules_ != nullptr) {
      // A task that died just before the stop is told too, and queued
      // alerts have what is left of the grace period to go out.
      rules_->Check(*scheduler_, absl::Now());
      options_.notifier->Flush(
          std::max(absl::ZeroDuration(), grace_ends - absl::Now()));
    }
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
    // When its lease ends as far as this runner knows: the claim's
    // deadline, moved on by each heartbeat that was recorded.
    absl::Time lease_ends;
    absl::Duration lease;
  };

  // How long to wait after the n-th store error in a row (n >= 1): 10ms,
  // doubling, at most `cap`.
  static absl::Duration Backoff(int n, absl::Duration cap) {
    return std::min(cap, absl::Milliseconds(10) * (1 << std::min(n - 1, 16)));
  }

  absl::Status Deliver(const std::vector<Arrival>& arrivals) {
    absl::StatusOr<std::vector<IngestResult>> results =
        scheduler_->IngestBatch(arrivals);
    if (!results.ok()) return results.status();
    Notify();
    return absl::OkStatus();
  }

  Executor* ExecutorFor(const ClaimedTask& task) const {
    return internal::ExecutorFor(options_, task.task.table, task.sink);
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
    int failures = 0;  // Claims in a row that failed.
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
      if (rules_ != nullptr) {
        rules_->OnStoreStatus(claimed.status(), absl::Now());
      }
      if (!claimed.ok() || claimed->empty()) {
        failures = claimed.ok() ? 0 : failures + 1;
        if (!claimed.ok()) {
          TellError(absl::StrCat("claim: ", claimed.status().message()));
        }
        // After a failed claim the state held may be stale: back off
        // rather than trust its next wake-up.
        absl::Time next = absl::InfiniteFuture();
        if (failures == 0) {
          if (std::optional<absl::Time> n = scheduler_->NextWakeup()) next = *n;
        }
        absl::MutexLock lock(&mu_);
        --claiming_;
        wake_.SignalAll();
        const absl::Time deadline = std::min(
            next, absl::Now() + (failures == 0
                                     ? options_.idle_poll
                                     : Backoff(failures, options_.idle_poll)));
        Sleep(seen_generation, deadline);
        continue;
      }
      failures = 0;
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
      const absl::Time now = absl::Now();
      running_[id] = Running{task.task, task.attempt, cancelled,
                             task.lease_deadline, task.lease_deadline - now};
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
      absl::Status s = CompleteWithRetries(id, task, result);
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

  // Records an attempt's end. While the store cannot be reached
  // (Unavailable: a server restart, a failover) it tries again with
  // backoff, as long as the attempt's lease may still hold (the heartbeats
  // go on meanwhile) and the runner is not stopping past its grace.
  absl::Status CompleteWithRetries(uint64_t id, const ClaimedTask& task,
                                   const AttemptResult& result) {
    for (int failures = 1;; ++failures) {
      absl::Status s = scheduler_->Complete(task.task, task.attempt,
                                            result.outcome, result.message);
      // A completion that committed but whose acknowledgement was lost is
      // accepted again: the same outcome of the same attempt changes
      // nothing.
      if (!absl::IsUnavailable(s)) return s;
      const absl::Time retry_at =
          absl::Now() + Backoff(failures, options_.heartbeat_interval);
      absl::MutexLock lock(&mu_);
      const Running& r = running_[id];
      if (retry_at >= r.lease_ends || r.cancelled->load()) return s;
      while (!r.cancelled->load() && !wake_.WaitWithDeadline(&mu_, retry_at)) {
      }
    }
  }

  // Extends the leases of the running attempts. An attempt whose lease is
  // lost is cancelled (its result could no longer be recorded). While the
  // store cannot be reached, heartbeats are tried again with backoff, and
  // an attempt is given up only once its lease has ended.
  void HeartbeatLoop() {
    absl::MutexLock lock(&mu_);
    int failures = 0;  // Rounds in a row with a store error.
    while (!heartbeat_stop_) {
      const absl::Time deadline =
          absl::Now() + (failures == 0
                             ? options_.heartbeat_interval
                             : Backoff(failures, options_.heartbeat_interval));
      WaitUntilStopped(deadline);
      if (heartbeat_stop_) return;
      std::vector<uint64_t> ids;
      std::vector<std::pair<TaskKey, int64_t>> attempts;
      for (const auto& [id, r] : running_) {
        ids.push_back(id);
        attempts.emplace_back(r.task, r.attempt);
      }
      if (attempts.empty()) {
        failures = 0;
        continue;
      }
      const absl::Time sent = absl::Now();
      mu_.Unlock();
      std::vector<absl::Status> statuses = scheduler_->HeartbeatBatch(attempts);
      mu_.Lock();
      // The batch is one transaction: when the store is away, every
      // attempt has the same error, told once.
      absl::Status unavailable;
      std::vector<std::string> errors;
      for (size_t i = 0; i < statuses.size(); ++i) {
        auto it = running_.find(ids[i]);
        if (it == running_.end()) continue;  // Ended meanwhile.
        Running& r = it->second;
        if (statuses[i].ok()) {
          r.lease_ends = sent + r.lease;
          continue;
        }
        if (absl::IsFailedPrecondition(statuses[i]) ||
            (absl::IsUnavailable(statuses[i]) && absl::Now() >= r.lease_ends)) {
          r.cancelled->store(true);
        }
        if (absl::IsUnavailable(statuses[i])) {
          unavailable = statuses[i];
        } else {
          errors.push_back(absl::StrCat("heartbeat: ", statuses[i].message()));
        }
      }
      if (!unavailable.ok()) {
        errors.push_back(
            absl::StrCat("heartbeat: ", unavailable.message(), " (retrying)"));
      }
      failures = unavailable.ok() ? 0 : failures + 1;
      mu_.Unlock();
      for (const std::string& error : errors) TellError(error);
      mu_.Lock();
    }
  }

  // Checks the alert rules every check_interval until stopped (Start made
  // the first check).
  void AlertLoop() {
    absl::MutexLock lock(&mu_);
    while (true) {
      WaitUntilStopped(absl::Now() + options_.alerts.check_interval);
      if (heartbeat_stop_) return;
      mu_.Unlock();
      rules_->Check(*scheduler_, absl::Now());
      mu_.Lock();
    }
  }

  // Wakes the workers when another host commits to the store.
  void WatchLoop() {
    // Commits in a burst wake the idle workers (each of which claims, under
    // the store's lock) once per this window, not once per commit.
    constexpr absl::Duration kCoalesce = absl::Milliseconds(10);
    for (int failures = 0; !watch_stop_.load();) {
      absl::StatusOr<bool> changed = watch_->Wait(absl::Seconds(10));
      if (changed.ok()) {
        failures = 0;
        if (!*changed) continue;
        Notify();
        absl::MutexLock lock(&mu_);
        WaitUntilStopped(absl::Now() + kCoalesce);
        continue;
      }
      if (watch_stop_.load()) return;
      TellError(absl::StrCat("watch: ", changed.status().message()));
      // The workers' idle polls go on meanwhile.
      absl::MutexLock lock(&mu_);
      WaitUntilStopped(absl::Now() + Backoff(++failures, options_.idle_poll));
    }
  }

  // Waits, holding mu_, until `deadline` or the heartbeat and watch threads
  // are told to stop.
  void WaitUntilStopped(absl::Time deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    while (!heartbeat_stop_ && !wake_.WaitWithDeadline(&mu_, deadline)) {
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
  std::unique_ptr<StoreWatch> watch_;  // Null when the store has none.
  std::atomic<bool> watch_stop_{false};
  std::thread watcher_;
  std::unique_ptr<AlertRules> rules_;  // Null without a notifier.
  std::thread alerter_;
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
  if (options.notifier != nullptr &&
      options.alerts.check_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Runner::Create: alerts.check_interval must be positive (got ",
        absl::FormatDuration(options.alerts.check_interval), ")"));
  }
  if (absl::Status s = CheckExecutors(scheduler->pipeline(), options);
      !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Runner::Create: ", s.message()));
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
