// Runner: the runtime on top of a Scheduler. It pulls arrivals from Sources,
// hands claimed tasks to Executors on worker threads (one group per pool,
// sized by the pool's slots and a global cap), heartbeats running attempts,
// reports their outcomes, and sleeps until the next wake-up or the next
// arrival. `landfall run` is a Runner; a host may embed one, or drive a
// Scheduler itself.
//
// Unlike the Scheduler, a Runner starts threads: its workers, a heartbeat
// thread, and whatever its Sources start.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "landfall/alerts.h"
#include "landfall/export.h"
#include "landfall/notifier.h"
#include "landfall/records.pb.h"
#include "landfall/scheduler.h"

namespace landfall {

// Where arrivals come from (a directory, a queue, a host's own calls).
class LANDFALL_EXPORT Source {
 public:
  // Ingests arrivals into the scheduler (Scheduler::IngestBatch: all or
  // none) and returns its status. Thread-safe. It returns OK only once the
  // arrivals are committed to the scheduler's store, durably as the store
  // commits: this is the acknowledgement a source waits for before it
  // acknowledges upstream (deletes a queue message), so that a crash loses
  // nothing. A crash after the commit and before the upstream
  // acknowledgement makes the upstream deliver again; the event ids make
  // that a duplicate.
  using Deliver = std::function<absl::Status(std::vector<Arrival>)>;
  // Told of a problem that does not stop the source (a message it cannot
  // read, an error it retries). Thread-safe.
  using Report = std::function<void(const absl::Status&)>;

  virtual ~Source();
  // Starts delivering: `deliver` may be called from any thread, including
  // before Start returns, until Stop returns. An error means nothing was
  // started.
  virtual absl::Status Start(Deliver deliver) = 0;
  // As Start, with `report` for the source's problems: a Runner passes one
  // that makes each a RunnerEvent of kind kError. The default calls
  // Start(deliver) and never reports, for sources that predate it.
  virtual absl::Status StartReporting(Deliver deliver, Report report);
  // Stops; afterwards `deliver` is not called again. Idempotent.
  virtual void Stop() = 0;
};

// How an attempt ended, as an Executor reports it.
struct AttemptResult {
  Outcome outcome = Outcome::SUCCEEDED;
  std::string message;  // Recorded in the history (the error, a log path).
};

// Runs claimed tasks: Run is called on a worker thread once per attempt, for
// different attempts at once, and returns when the attempt has ended. When
// the runner gives up on an attempt (stopped past its grace period),
// `cancelled` turns true: return soon; the result is then not reported and
// the attempt's lease runs out. Must be thread-safe.
class LANDFALL_EXPORT Executor {
 public:
  virtual ~Executor();
  virtual AttemptResult Run(const ClaimedTask& task,
                            const std::atomic<bool>& cancelled) = 0;
};

// An executor that calls `run`, for hosts doing the work in-process.
LANDFALL_EXPORT std::unique_ptr<Executor> NewCallbackExecutor(
    std::function<AttemptResult(const ClaimedTask&, const std::atomic<bool>&)>
        run);

// What happened, for a host's log or progress display.
struct RunnerEvent {
  enum class Kind {
    kClaimed,    // An attempt started.
    kFinished,   // An attempt ended (result) and was reported.
    kAbandoned,  // Stopped past the grace period; its lease will run out.
    kError,      // A source, store or executor problem (message).
  };
  Kind kind = Kind::kError;
  TaskKey task;
  int64_t attempt = 0;
  AttemptResult result;
  std::string message;
};

struct RunnerOptions {
  // Who claims: the history names it. Default "HOST:PID".
  std::string worker;
  // At most this many attempts at once in total, each on its own thread:
  // 1 to kMaxWorkers. Default 64.
  static constexpr int kMaxWorkers = 1024;
  int max_workers = 64;
  // Runs the attempts of a table, by table name, else by sink name, else
  // `executor` (HasExecutor). Every table that runs must have one, and
  // every key must name a table that runs or a sink of one
  // (CheckExecutors: Runner::Create refuses options that break this). A
  // table added later by a deploy that has none fails its attempts FATAL.
  // Default: none.
  std::map<std::string, std::shared_ptr<Executor>> executor_by_table;
  std::map<std::string, std::shared_ptr<Executor>> executor_by_sink;
  std::shared_ptr<Executor> executor;
  // Running attempts heartbeat this often. Default (zero): a third of the
  // shortest lease in the pipeline.
  absl::Duration heartbeat_interval = absl::ZeroDuration();
  // Longest sleep with nothing to do, so that work other processes add to a
  // shared store is seen; must be positive. Default 1 second.
  absl::Duration idle_poll = absl::Seconds(1);
  // Told of each RunnerEvent, from the runner's threads (serialized).
  // Default: none.
  std::function<void(const RunnerEvent&)> on_event;
  // Alerts (alerts.h): with a notifier, a thread of the runner runs
  // AlertRules::Check at start and every alerts.check_interval (at the
  // system time), and each claim tells the rules whether the store
  // answered. The notifier must not block (WebhookNotifier queues), so a
  // slow endpoint never holds up scheduling. Stop checks once more and
  // gives queued alerts what is left of its grace period (Flush).
  // Default: none.
  std::shared_ptr<Notifier> notifier;
  AlertOptions alerts;
};

// How CheckExecutors' messages name RunnerOptions' executor fields: a host
// that fills them from options of its own (`landfall run`: --exec,
// --exec-table, --exec-sink) passes those names.
struct ExecutorOptionNames {
  std::string executor = "executor";
  std::string executor_by_table = "executor_by_table";
  std::string executor_by_sink = "executor_by_sink";
};

// Whether `options` give the attempts of `table` an executor: its entry in
// executor_by_table, else its sink's in executor_by_sink, else `executor`,
// the one the Runner then runs them with. A source table has none: it runs
// nothing. This is the one rule of "has an executor" that CheckExecutors
// and the Runner go by.
LANDFALL_EXPORT bool HasExecutor(const RunnerOptions& options,
                                 const Table& table);

// OK when `options`' executors fit `pipeline`, else InvalidArgument with one
// line per problem, naming the fields as `names` says:
//   - a key of executor_by_table that names no table that runs: an unknown
//     table (with the closest name when it is a plausible typo) or a
//     source table;
//   - a key of executor_by_sink that names no sink of a table that runs
//     (with the closest sink, as for tables);
//   - an entry of either map holding a null executor;
//   - tables that run (not sources) without an executor (HasExecutor):
//     the first five in spec order, then how many more.
// Runner::Create checks this against its scheduler's pipeline. A host may
// call it first, to refuse a configuration before it opens any state.
// Thread-safe.
LANDFALL_EXPORT absl::Status CheckExecutors(
    const Pipeline& pipeline, const RunnerOptions& options,
    const ExecutorOptionNames& names = ExecutorOptionNames());

// A runner's attempts so far, by how they ended.
struct RunnerStats {
  int64_t claimed = 0;
  int64_t succeeded = 0;
  int64_t failed = 0;     // retryable + fatal.
  int64_t retryable = 0;  // Any outcome but SUCCEEDED or FATAL: the
                          // scheduler retries it, or dead-letters it when
                          // the retry budget is spent.
  int64_t fatal = 0;      // FATAL: dead-lettered.
  int64_t abandoned = 0;  // Given up past the grace period, or on a lost
                          // lease: left to lease expiry.
  int running = 0;
};

// A scheduler's tasks counted by state.
struct TaskCounts {
  int waiting = 0;
  int ready = 0;
  int running = 0;
  int retry_wait = 0;
  int dead = 0;
  int blocked = 0;
  int paused = 0;
  int succeeded = 0;
  int expired = 0;

  // The count of tasks in `state`.
  LANDFALL_EXPORT int Of(TaskState state) const;
  LANDFALL_EXPORT int& Of(TaskState state);
  // The tasks of `list`, counted.
  LANDFALL_EXPORT static TaskCounts From(const TaskList& list);
};

// What Runner::WaitUntilIdle saw when it returned.
struct RunSummary {
  // Whether the pipeline was idle: false when the call timed out, or the
  // runner was stopped, before it had been idle long enough.
  bool idle = false;
  // Every task the scheduler holds (in this process or any other sharing
  // its store), by state, when the call returned.
  TaskCounts tasks;
  // This runner's attempts so far.
  RunnerStats attempts;
};

class LANDFALL_EXPORT Runner {
 public:
  // A runner over `scheduler`, which it keeps alive. InvalidArgument for a
  // null scheduler, max_workers outside 1 to kMaxWorkers, an idle_poll
  // that is not positive, or executors that do not fit the scheduler's
  // pipeline (CheckExecutors).
  static absl::StatusOr<std::unique_ptr<Runner>> Create(
      std::shared_ptr<Scheduler> scheduler, RunnerOptions options);
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;
  // Stops with no grace period if still running.
  ~Runner();

  // REQUIRES: before Start.
  void AddSource(std::unique_ptr<Source> source);
  // Starts the sources and the workers. An error (a source that cannot
  // start) starts nothing. REQUIRES: called once.
  absl::Status Start();
  // Stops the sources and claiming, waits up to `grace` for running attempts
  // to end (reporting them), then abandons the rest to lease expiry. With
  // a notifier, alerts have the rest of `grace` to be delivered.
  // Idempotent; thread-safe.
  void Stop(absl::Duration grace);
  // Wakes the workers now (new work was added from outside). Thread-safe.
  void Notify();
  // Waits until the pipeline has been idle for `quiet` and returns with
  // `idle` true, or returns with it false once `timeout` has passed. Idle
  // means no task of the scheduler READY, RUNNING, RETRY_WAIT or EXPIRED
  // (whoever runs it; PAUSED, DEAD and BLOCKED tasks wait for an operator)
  // and no attempt of this runner under way. Quiet time counts from the last
  // moment the runner saw work: Start, Notify (a source's delivery notifies),
  // an attempt claimed or finished, or a check finding the pipeline busy. A
  // call checks at once, then every RunnerOptions::idle_poll and whenever
  // the runner finishes an attempt: a zero `timeout` checks once without
  // waiting, and short calls in turn add up to one long one. Work that
  // other processes start and finish between two checks goes unseen. On a
  // runner not started, or stopped, it checks once. A negative `quiet`
  // counts as zero. Thread-safe; may be called from several threads.
  RunSummary WaitUntilIdle(absl::Duration quiet,
                           absl::Duration timeout = absl::InfiniteDuration());
  RunnerStats stats() const;
  Scheduler& scheduler() const;

 private:
  class Impl;
  explicit Runner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace landfall
