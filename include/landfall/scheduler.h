// Scheduler: the deterministic core. It turns arrivals into ready tasks and
// hands them out in priority order under pool limits, fences attempts with
// leases, retries with backoff, dead-letters what keeps failing, and records
// every change as one history entry.
//
// Given the same pipeline, calls and clock readings it makes the same
// decisions. Time comes only from SchedulerOptions::clock. Every method is
// thread-safe (one internal mutex); none starts threads. A scheduler made by
// Create lives in memory; one made by Open keeps its state in a StateStore,
// and each operation commits there before it returns.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "landfall/clock.h"
#include "landfall/export.h"
#include "landfall/history.h"
#include "landfall/observer.h"
#include "landfall/pipeline.h"
#include "landfall/records.pb.h"
#include "landfall/state_store.h"

namespace landfall {

struct SchedulerOptions {
  // Source of time. Not owned; must outlive the scheduler. Default: the
  // system clock.
  const Clock* clock = nullptr;
  // Seed of the backoff jitter, which is drawn from the seed and the attempt
  // alone (so a scheduler rebuilt from its history draws the same). Default 1.
  uint64_t seed = 1;
  // How long an event id is remembered for deduplication (see Ingest).
  // Every process on one store should use the same: a snapshot keeps the
  // event ids its writer's window held. Default 7 days.
  absl::Duration dedup_retention = absl::Hours(24 * 7);
  // Without a store: history entries kept in memory for ReadHistory (older
  // ones are dropped first); 0 keeps every entry. Default 1,000,000. With a
  // store, ReadHistory reads the store and none are kept in memory.
  size_t history_capacity = 1000000;
  // Told of each history entry as it is appended (with a store: once
  // committed, including the entries other schedulers on the store
  // appended, as this one catches up on them). Not owned; must outlive the
  // scheduler. Default: none.
  Observer* observer = nullptr;
  // With a store: a snapshot of the state is written after this many
  // entries, or this long, since the last one, so that opening replays
  // little. Default 100,000 entries or 10 minutes.
  int64_t snapshot_every_entries = 100000;
  absl::Duration snapshot_interval = absl::Minutes(10);
};

// A task: the work to build one partition of a derived table.
struct TaskKey {
  std::string table;
  std::string partition;  // "" for an unpartitioned table.

  friend bool operator==(const TaskKey& a, const TaskKey& b) {
    return a.table == b.table && a.partition == b.partition;
  }
  friend bool operator<(const TaskKey& a, const TaskKey& b) {
    return a.table != b.table ? a.table < b.table : a.partition < b.partition;
  }
};

struct IngestResult {
  bool duplicate = false;
  // Tasks this arrival made READY, in the order they became ready.
  std::vector<TaskKey> made_ready;
};

// At most this many origins are kept per (table, partition) for the tasks
// reading it (see InputVersion::origins); past it the oldest are dropped,
// down to seven eighths of it.
inline constexpr int kMaxOriginsPerPartition = 10000;

// An upstream version an attempt consumes. The views point into the
// pipeline and the scheduler: valid while the Scheduler lives.
struct InputVersion {
  std::string_view table;
  std::string_view partition;
  int64_t version = 0;
  // Copies of the origins (Arrival::origin) of the arrivals on this input that
  // are newer than what the task's last successful attempt (or mark as
  // succeeded) consumed, all of them when it never succeeded, oldest
  // first: the objects landed since, for a loader to load exactly those.
  // An arrival without an origin adds nothing, and neither does a build by
  // a task or a duplicate. Listed only for an input read partition by
  // partition (both tables partitioned, or neither); an unpartitioned
  // table's partitioned input, and a partitioned table's unpartitioned
  // requirement, list none.
  //
  // The scheduler keeps a partition's origins (in its state and snapshots)
  // for the tasks reading it partition by partition: all are dropped once
  // every such task has consumed the newest; when an arrival brings the
  // number kept to 8, 16, 32... those every such task has consumed are
  // dropped; and past kMaxOriginsPerPartition the oldest are.
  std::vector<std::string> origins;
  // Whether `origins` is known to be complete: false when an origin the
  // task has not consumed was dropped (over kMaxOriginsPerPartition, or
  // dropped before the task existed, as for a table added by a deploy), and
  // always for an input not read partition by partition. When false, load
  // the input whole.
  bool origins_complete = true;
};

struct ClaimedTask {
  // Written out so that a claim's vector does not zero each 440-byte task
  // (its inline inputs included) before constructing it: that is what an
  // implicit or defaulted constructor gets on value-initialization.
  ClaimedTask() {}  // NOLINT(modernize-use-equals-default)

  TaskKey task;
  // The task's id in this scheduler: handing it back in a Completion saves
  // finding the task by name.
  uint64_t id = 0;
  int64_t attempt = 0;  // Fences Heartbeat and Complete.
  absl::Time lease_deadline;
  // Views into the pipeline: valid while the Scheduler lives.
  std::string_view pool;
  std::string_view priority_class;
  std::string_view sink;
  // Held inline up to four: a claim then allocates nothing for them.
  absl::InlinedVector<InputVersion, 4> inputs;
};

// Restricts Claim to some pools and/or classes; empty means any.
struct ClaimFilter {
  std::vector<std::string> pools;
  std::vector<std::string> classes;
};

// The states a task can be seen in, as of the moment a query is asked:
// queries change nothing, so a lease that has ended shows as kExpired and a
// backoff that has ended as kReady (or kPaused) until the next write records
// it.
enum class TaskState {
  kWaiting,    // Not due yet: inputs missing, and never built.
  kReady,      // Due, waiting to be claimed.
  kRunning,    // Claimed; an attempt holds a lease that has not ended.
  kRetryWait,  // Backing off after a failure.
  kDead,       // In the dead letter.
  kBlocked,    // Needs a dead task's output (trigger ANY: every input's).
  kPaused,     // Due, but its table or class is paused.
  kSucceeded,  // Built and up to date: no input is newer than its last build.
  kExpired,    // Its attempt's lease ended without a heartbeat; the next
               // write fails the attempt (retry, or the dead letter).
};
// "WAITING", "READY", "RUNNING", "RETRY_WAIT", "DEAD", "BLOCKED", "PAUSED",
// "SUCCEEDED", "EXPIRED".
LANDFALL_EXPORT const char* TaskStateName(TaskState state);
// The state named `name` (as TaskStateName spells it), if any.
LANDFALL_EXPORT std::optional<TaskState> TaskStateFromName(
    std::string_view name);
// Every state, in the order of the enum.
LANDFALL_EXPORT absl::Span<const TaskState> AllTaskStates();
// How many states there are (the size of AllTaskStates()).
inline constexpr size_t kTaskStateCount = 9;

struct TaskStatus {
  TaskKey task;
  TaskState state = TaskState::kWaiting;
  int64_t attempt = 0;   // Last attempt number, 0 if never claimed.
  int run_attempts = 0;  // Attempts in the current run.
  int64_t version = 0;   // Builds (and external arrivals) so far.
  absl::Time ready_since = absl::InfinitePast();
  absl::Time deadline = absl::InfinitePast();  // Lease end or retry time.
  absl::Time last_success = absl::InfinitePast();
  std::string worker;  // Holder of the running attempt.
  std::string last_error;
};

struct ListFilter {
  std::string table;  // Empty: every table.
  std::optional<TaskState> state;
};

struct TaskList {
  std::vector<TaskStatus> tasks;  // Sorted by table order, then partition.
  // Counts of the listed tasks by state name, and by pool and class name.
  std::map<std::string, int> by_state;
  std::map<std::string, std::map<std::string, int>> by_pool;
  std::map<std::string, std::map<std::string, int>> by_class;
};

// Counts a metrics exporter can read at every scrape: kept up to date as
// entries apply, so reading them costs O(pools x classes) however many
// tasks there are. Tasks count in the state their entries last recorded,
// not as of now: a lease that has ended counts as RUNNING and a backoff that
// has ended as RETRY_WAIT until the next write records it (so kExpired is
// always 0); List answers as of now.
struct TaskGauges {
  struct PoolSlots {
    std::string pool;
    int slots = 0;  // Its size now.
    int used = 0;   // Held by running attempts.
  };
  // Every pool of the pipeline, in spec order.
  std::vector<PoolSlots> pools;
  struct Group {
    std::string pool;
    std::string priority_class;
    // Tasks of the group's tables, indexed by TaskState.
    std::array<int64_t, kTaskStateCount> tasks{};
  };
  // One per pool and class (every pair, in spec order: pool, then class).
  std::vector<Group> groups;
  // The last entry they include (Scheduler::LastSequence).
  int64_t last_seq = 0;
};

// Why a task is or is not running.
struct Explanation {
  TaskStatus status;
  // Each reason as a sentence naming the tables, classes, pools and times
  // involved, most important first.
  std::vector<std::string> reasons;
  LANDFALL_EXPORT std::string ToString() const;
};

struct PartitionFreshness {
  std::string partition;
  int64_t version = 0;
  absl::Time last_arrival = absl::InfinitePast();
  absl::Time last_success = absl::InfinitePast();
};

struct Freshness {
  std::string table;
  std::vector<PartitionFreshness> partitions;  // Sorted by partition key.
  std::string latest_partition;                // Greatest key with a version.
  absl::Time last_update = absl::InfinitePast();  // Arrival or success.
  absl::Duration max_lag = absl::InfiniteDuration();
  bool stale = false;  // last_update older than now - max_lag.
};

// How Scheduler::Deploy treats what a changed spec cannot carry over alone.
struct DeployOptions {
  // Tables that have task states and whose upstreams or trigger change: each
  // must be named in one of these. Adopt keeps what was built and takes the
  // upstream versions current now as consumed, so nothing is rebuilt for the
  // change (a partition that was never built is due as usual). Rebuild makes
  // every partition the table has due again (dead ones wait for a redrive);
  // it may also name a table whose shape does not change (say its SQL did).
  std::vector<std::string> adopt;
  std::vector<std::string> rebuild;
  // Removing a table that has task states drops them: refused unless set.
  // So is a pipeline with another name and no table in common (another
  // pipeline, not a change of this one): it would drop every task.
  bool force = false;
  // Work out and return the plan, changing nothing.
  bool dry_run = false;
};

// What a deploy changes (or, dry, would change).
struct DeployPlan {
  bool changed = false;  // False for a spec identical to the running one.
  // One line: the tables added, removed and changed, and whether classes,
  // pools, defaults or the gate changed (the history entry's detail).
  std::string summary;
  // One line per table added, removed or changed, saying how, then one per
  // change of classes, pools, defaults or the gate.
  std::vector<std::string> changes;
  // The tasks the deploy makes READY, in the order it does.
  std::vector<TaskKey> made_ready;
};

class LANDFALL_EXPORT Scheduler {
 public:
  // A scheduler with no history on `pipeline`, which it keeps alive.
  // InvalidArgument for a null pipeline.
  static absl::StatusOr<std::unique_ptr<Scheduler>> Create(
      std::shared_ptr<const Pipeline> pipeline,
      SchedulerOptions options = SchedulerOptions());

  // A scheduler whose state lives in `store`, which may be shared with other
  // schedulers (in this process or, for a file, in others). Opening records
  // the pipeline's spec in a new store, and restores the state of one that
  // has some: the latest snapshot plus the entries after it. When the store
  // runs another spec, opening deploys `pipeline` as UpdatePipeline does
  // (FailedPrecondition, changing nothing, when it is incompatible). Every
  // operation then catches up on what others appended (including pipeline
  // updates, which it follows), applies, appends its entries and commits
  // before returning; the store's errors come back as the operation's
  // status, and the operation is then undone. DataLoss, for opening and for
  // every later operation, when the store holds what no scheduler wrote: a
  // snapshot or history entry that cannot be decoded, or one that does not
  // fit the pipeline (an entry naming no table for a task, a task of a
  // source table, a partition that does not fit its table, ...).
  static absl::StatusOr<std::unique_ptr<Scheduler>> Open(
      std::shared_ptr<const Pipeline> pipeline,
      std::shared_ptr<StateStore> store,
      SchedulerOptions options = SchedulerOptions());
  // As above, running the pipeline the store holds. FailedPrecondition for a
  // store that holds none yet. Opening so writes nothing: on a store opened
  // read-only (StoreOpenOptions::read_only) the queries work (List,
  // Explain, ReadHistory, ...) and every operation that would write returns
  // the store's PermissionDenied, changing nothing.
  static absl::StatusOr<std::unique_ptr<Scheduler>> Open(
      std::shared_ptr<StateStore> store,
      SchedulerOptions options = SchedulerOptions());

  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;
  ~Scheduler();

  // The pipeline it runs now; valid while the scheduler lives. Takes the
  // scheduler's lock (not to be called from its Observer).
  const Pipeline& pipeline() const;
  // The store it was opened on; null for one made by Create.
  std::shared_ptr<StateStore> store() const;

  // Deploys a changed pipeline without disturbing other tables' work: each
  // task keeps its state, and the change is one history entry
  // (kPipelineUpdated, carrying the new spec). Compatible changes: tables
  // added, tables without task states removed (with DeployOptions::force,
  // any whose attempts none runs: their states are dropped), and any change
  // of policies, sinks, labels, classes or pools (a table's class and a
  // pool's size follow the new spec where it changes them, and keep what
  // operators set otherwise). A table that already has task states may not
  // change its upstreams or trigger (Deploy can adopt or rebuild it), nor
  // ever its partitioning or source-ness (remove it, then add it); its
  // partition_format may change when every partition of its task states
  // matches the new one. A table
  // added is due at once on data its upstreams hold (it never succeeded):
  // one kReady entry per partition, after the update's entry. A pipeline
  // with another name and no table in common is another pipeline, not a
  // change: refused (DeployOptions::force replaces it, dropping every task).
  // FailedPrecondition (changing nothing) naming every incompatibility;
  // InvalidArgument for a null pipeline. An identical spec changes nothing.
  absl::Status UpdatePipeline(std::shared_ptr<const Pipeline> next);
  // As UpdatePipeline, with the choices of `options` for what it refuses,
  // returning the plan. The change stays one kPipelineUpdated entry (it
  // records the tables adopted and rebuilt, so replay does the same),
  // followed by a kReady entry per task made due. InvalidArgument for a
  // name in adopt or rebuild that the new pipeline has not, or that derives
  // nothing, or that both name. With dry_run nothing is written.
  absl::StatusOr<DeployPlan> Deploy(std::shared_ptr<const Pipeline> next,
                                    const DeployOptions& options);

  // Records an arrival and makes ready the tasks it triggers. A repeated
  // event id within the retention window is a duplicate: recorded, and
  // nothing else changes. InvalidArgument (changing nothing) for an empty
  // event id, an unknown table, a partition on an unpartitioned table or none
  // on a partitioned one. Every error naming an unknown table ends in
  // `(did you mean "name"?)` when a table's name is a plausible typo of it.
  absl::StatusOr<IngestResult> Ingest(const Arrival& arrival);
  // As Ingest for each arrival in order; all are checked before any applies.
  absl::StatusOr<std::vector<IngestResult>> IngestBatch(
      absl::Span<const Arrival> arrivals);
  // For each arrival, whether the object it names was ingested already:
  // true when its origin is not empty and the latest arrival or duplicate
  // recorded from that origin had the same event id, however long ago (the
  // dedup window does not apply). A changed object (new content at the same
  // origin, so a new event id) is not. A source rescanning what is in place
  // (the landing directory at start-up) skips these, so that a restart
  // neither ingests them again nor records duplicates. The scheduler keeps,
  // per origin ever recorded, a 64-bit hash of the origin and of its latest
  // event id: 16 bytes per origin in each snapshot, about 20 to 40 in
  // memory, for as long as the state lives (history pruning keeps them).
  // A query: with a store it catches up first.
  std::vector<bool> Ingested(absl::Span<const Arrival> arrivals);

  // First processes due timers (as Poll), then claims up to `max` tasks in
  // priority order for `worker`: class by class, highest first, each task
  // when its pool has room and the gate lets it pass (no higher class
  // active in its scope, retrying tasks of a class with
  // gate_holds_retrying false not counted, or READY for its class's
  // max_gate_wait). `max` <= 0 claims nothing and changes nothing.
  // Errors only from a store.
  absl::StatusOr<std::vector<ClaimedTask>> Claim(
      const std::string& worker, int max,
      const ClaimFilter& filter = ClaimFilter());

  // Extends the attempt's lease to now + the table's lease. A lease covers
  // the time before its deadline. FailedPrecondition (changing nothing) for
  // a stale attempt or a lease that has ended (the next Poll fails that
  // attempt); NotFound for an unknown task.
  absl::Status Heartbeat(const TaskKey& task, int64_t attempt);
  // As above, extending the lease to now + `lease` instead (a worker that
  // knows how long it needs; not positive: the table's lease). A deadline
  // past what the clock holds (year 2262) is the end of time.
  absl::Status Heartbeat(const TaskKey& task, int64_t attempt,
                         absl::Duration lease);
  // Records how an attempt ended. SUCCEEDED bumps the table's version and
  // triggers its downstreams; RETRYABLE backs off or, with the retry budget
  // spent, dead-letters; FATAL dead-letters. Errors as Heartbeat. Completing
  // the task's latest attempt again after it ended, with the outcome it
  // ended with (a host retrying after a lost reply), succeeds and changes
  // nothing; another outcome is FailedPrecondition saying how it ended (a
  // lease that expired ended it as LEASE_EXPIRED).
  absl::Status Complete(const TaskKey& task, int64_t attempt, Outcome outcome,
                        const std::string& message = "");

  struct Completion {
    TaskKey task;
    // ClaimedTask::id, or 0 to find the task by `task`. An id that does not
    // name `task` is ignored.
    uint64_t id = 0;
    int64_t attempt = 0;
    Outcome outcome = Outcome::SUCCEEDED;
    std::string message;
  };
  // Completes each in order; returns one status per completion.
  std::vector<absl::Status> CompleteBatch(
      absl::Span<const Completion> completions);
  // Heartbeats each (task, attempt) in order; one status per pair.
  std::vector<absl::Status> HeartbeatBatch(
      absl::Span<const std::pair<TaskKey, int64_t>> attempts);

  // Fails attempts whose lease has ended and wakes retries that are due.
  // Errors only from a store.
  absl::Status Poll();
  // The earliest time Poll has work to do, or (after now) a READY task's
  // max_gate_wait runs out so that a claim may take it despite the gate,
  // if any.
  std::optional<absl::Time> NextWakeup();

  // Operations. NotFound for unknown tables, partitions or classes;
  // FailedPrecondition when the task is not in a state the operation takes.
  // Puts a dead task back to work with a fresh retry budget.
  absl::Status Redrive(const TaskKey& task);
  // Redrives each task in order, as one operation: all are checked before
  // any applies, so one that is unknown or not dead refuses the whole batch
  // (changing nothing). A task named twice is redriven once.
  absl::Status RedriveBatch(absl::Span<const TaskKey> tasks);
  // Records a dead or waiting task as built (by hand), unblocking and
  // triggering its downstreams.
  absl::Status MarkSucceeded(const TaskKey& task);
  // Builds the task again even if nothing is newer (backfill); asked for
  // while it runs, once more after. Its new version makes its descendants
  // due as usual; `with_descendants` also reruns the descendants that the
  // new version does not trigger (through requirement-only edges) once it
  // lands; of those, the dead and the blocked are left alone. InvalidArgument
  // for a source table, a partition on an unpartitioned table or none on a
  // partitioned one; NotFound for a partition with no task yet (no input
  // of it has landed); FailedPrecondition for a dead task (redrive it).
  absl::Status Rerun(const TaskKey& task, bool with_descendants);
  // Reruns each task in order, as one operation: all are checked before any
  // applies, so one that Rerun refuses refuses the whole batch (changing
  // nothing). On success appends to `*rerun` (when not null) every task
  // marked, each once, in order: each task of `tasks`, followed (with
  // `with_descendants`) by the descendants it marked, upstreams first.
  absl::Status RerunBatch(absl::Span<const TaskKey> tasks,
                          bool with_descendants, std::vector<TaskKey>* rerun);
  // A paused table's (or class's) ready tasks are not claimed and hold back
  // no lower class; running attempts go on. Pausing twice is a no-op.
  // InvalidArgument for a source table (it has no task to hold).
  absl::Status PauseTable(const std::string& table);
  absl::Status ResumeTable(const std::string& table);
  absl::Status PauseClass(const std::string& priority_class);
  absl::Status ResumeClass(const std::string& priority_class);
  // Moves a table to another class from now on.
  absl::Status SetPriorityClass(const std::string& table,
                                const std::string& priority_class);
  // Resizes a pool from now on; running attempts keep their slots.
  // InvalidArgument for slots < 1 or fewer than one attempt of a table in
  // the pool holds.
  absl::Status SetPoolSlots(const std::string& pool, int slots);

  // With a store: writes a snapshot of the state now (unless one is at the
  // last entry already), so that opening replays nothing and history up to
  // here may be pruned. Without one: does nothing.
  absl::Status Checkpoint();

  // Queries. With a store they first catch up on what other schedulers
  // committed; when the store cannot be read they answer from the state
  // held (the ones returning a status return the store's error).
  // Why the task is or is not running. NotFound for an unknown table.
  absl::StatusOr<Explanation> Explain(const TaskKey& task);
  // Last arrival and success per partition, and whether the table is stale
  // by its `max_lag`. NotFound for an unknown table.
  absl::StatusOr<Freshness> GetFreshness(const std::string& table);
  // The tasks (table, partition) that exist so far, with counts.
  TaskList List(const ListFilter& filter = ListFilter());
  // The DEAD tasks, as List with state DEAD.
  std::vector<TaskStatus> DeadLetter();
  // Tasks by recorded state, pool and class, and pool slots (TaskGauges):
  // cheap enough for every scrape. Unlike the other queries it does not
  // catch up with the store: it answers from the state held, as of the
  // last operation this scheduler ran or caught up with.
  TaskGauges Gauges();

  // History entries with sequence number >= from_seq that are still held
  // (with a store: not pruned from it), at most `max` of them; a from_seq
  // below 1 reads from 1. Sequence numbers start at 1 and have no gaps.
  // With a store: the store's error when it cannot be read, and DataLoss
  // naming the sequence number when an entry cannot be decoded or is
  // missing after the first one returned (no entry is skipped).
  absl::StatusOr<std::vector<HistoryEntry>> ReadHistory(int64_t from_seq,
                                                        size_t max);
  // Sequence number of the last entry appended (0 before any).
  int64_t LastSequence();

  // Folds `entries` (a complete history from sequence 1) into a new
  // scheduler, without reading the clock or drawing random numbers. The
  // result's state equals that of the scheduler that wrote them.
  // InvalidArgument, naming the entry, for one that does not fit the
  // pipeline (as Open's DataLoss says).
  static absl::StatusOr<std::unique_ptr<Scheduler>> Replay(
      std::shared_ptr<const Pipeline> pipeline,
      absl::Span<const HistoryEntry> entries,
      SchedulerOptions options = SchedulerOptions());

  // A canonical text dump of the whole state, for comparing two schedulers.
  std::string DebugState();

 private:
  class Impl;
  explicit Scheduler(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace landfall
