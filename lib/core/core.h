// The scheduler's state machine, without locking.
//
// Every change goes through Emit(entry), which appends the entry to the
// history and applies it with Apply(). Decisions (what becomes ready, what is
// claimed, how long to back off) read the state and emit entries; Apply()
// only mutates. Replaying the entries through Apply() therefore rebuilds the
// state exactly, without the clock.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "landfall/scheduler.h"
#include "lib/core/chunked_vector.h"
#include "lib/core/entry.h"
#include "lib/core/gate_wait.h"
#include "lib/core/held_history.h"
#include "lib/core/journal_buffer.h"
#include "lib/core/partition_names.h"
#include "lib/core/ready_key_sort.h"
#include "lib/core/ready_queue.h"
#include "lib/core/run_records.h"
#include "lib/core/saturating.h"
#include "lib/core/seen_events.h"
#include "lib/core/slot_directory.h"
#include "lib/core/snapshot.pb.h"
#include "lib/core/task_counts.h"
#include "lib/core/task_state.h"

namespace landfall::internal {

class Core {
 public:
  // With `hold_history`, the newest options.history_capacity entries are
  // kept for ReadHistory; without, none (a store holds them).
  Core(std::shared_ptr<const Pipeline> pipeline,
       const SchedulerOptions& options, bool hold_history = true);
  // Not copied: its view of the entry being told refers to itself.
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  const Pipeline& pipeline() const { return *pipeline_; }

  // The public operations, with `now` read by the caller.
  // Fills results[i] for arrivals[i]. REQUIRES: as many results as arrivals.
  absl::Status Ingest(absl::Span<const Arrival> arrivals, int64_t now,
                      absl::Span<IngestResult> results);
  std::vector<ClaimedTask> Claim(const std::string& worker, int max,
                                 const ClaimFilter& filter, int64_t now);
  // Extends the lease by `lease`, or the table's lease when not positive.
  absl::Status Heartbeat(const TaskKey& key, int64_t attempt,
                         absl::Duration lease, int64_t now);
  // `id` is ClaimedTask::id, or 0.
  absl::Status Complete(const TaskKey& key, uint64_t id, int64_t attempt,
                        Outcome outcome, const std::string& message,
                        int64_t now);
  void Poll(int64_t now);
  // The earliest time Poll has work to do, or a task's max_gate_wait runs
  // out (after `now`), if any.
  std::optional<int64_t> NextWakeup(int64_t now);
  // All `keys` are checked before any applies (Scheduler::RedriveBatch).
  absl::Status Redrive(absl::Span<const TaskKey> keys, int64_t now);
  absl::Status MarkSucceeded(const TaskKey& key, int64_t now);
  // As Scheduler::RerunBatch; `rerun` may be null.
  absl::Status Rerun(absl::Span<const TaskKey> keys, bool with_descendants,
                     int64_t now, std::vector<TaskKey>* rerun);
  absl::Status Pause(const std::string& table, const std::string& cls,
                     bool pause, int64_t now);
  absl::Status SetPriorityClass(const std::string& table,
                                const std::string& cls, int64_t now);
  absl::Status SetPoolSlots(const std::string& pool, int slots, int64_t now);
  // Records that this core's pipeline was deployed (`change` says how it
  // differs from the one before); the state came with RestoreSnapshot.
  // Fills `made_ready` (if not null) with the tasks it makes ready.
  void RecordPipelineUpdate(const std::string& change, int64_t now,
                            std::vector<TaskKey>* made_ready = nullptr);
  // The tables the update adopts and rebuilds (DeployOptions), settled as
  // the kPipelineUpdated entry applies. REQUIRES: the names are tables.
  void SetDeployPlan(const DeployOptions& options);

  absl::StatusOr<Explanation> Explain(const TaskKey& key, int64_t now);
  absl::StatusOr<Freshness> GetFreshness(const std::string& table, int64_t now);
  // States as of `now` (see TaskState).
  TaskList List(const ListFilter& filter, int64_t now);
  // Scheduler::Gauges: counters kept by Detach and Attach, read in
  // O(pools x classes).
  TaskGauges Gauges() const;
  std::vector<TaskStatus> DeadLetter(int64_t now);

  // Scheduler::Ingested for one arrival.
  bool Ingested(const std::string& origin, const std::string& event_id) const;

  std::vector<HistoryEntry> ReadHistory(int64_t from_seq, size_t max) const;
  int64_t last_seq() const { return last_seq_; }
  // While set, each entry emitted goes to `capture` instead of the observer:
  // a durable scheduler tells the observer only what it has committed.
  void set_capture(JournalBuffer* capture) { capture_ = capture; }
  JournalBuffer* capture() const { return capture_; }
  // Applies a journal entry as if it had been emitted here.
  absl::Status Replay(const JournalEntry& j);
  std::string DebugState() const;

  // The state as a serialized Snapshot, and back from one. Restore REQUIRES
  // a core that has applied nothing; InvalidArgument for a snapshot that
  // does not fit the pipeline (naming what), leaving the core unusable.
  // `expected_bytes`, the size it may have (the last one's), saves growing
  // the bytes step by step.
  std::string SerializedSnapshot(size_t expected_bytes = 0) const;
  absl::Status RestoreSnapshot(const Snapshot& snapshot);

 private:
  // --- Entries ---
  // By rvalue reference: the entry moves once, into the held history.
  void Emit(Entry&& entry);
  // The generic path, for what the fast ones (core_hot_path.cc), which
  // Emit tries first, leave.
  void Apply(const Entry& e);
  // The entry with names for ids.
  void ToJournal(const Entry& e, JournalEntry* out) const;
  HistoryEntry ToPublic(const Entry& e) const;
  // Sets e.attempt_link from the slot, before `e` applies. Returns, for an
  // entry ending an attempt, when its claim was written (kNoTime unknown).
  // Inlined into Emit, its one caller: a call costs about 40 instructions
  // a task.
  ABSL_ATTRIBUTE_ALWAYS_INLINE int64_t LinkAttempt(Entry& e) const;
  // The class and the pool an entry names, if any (HistoryEntry's).
  absl::string_view ClassNameOf(const Entry& e) const;
  absl::string_view PoolNameOf(const Entry& e) const;
  // Hands `e` to the observer as a view, building no HistoryEntry unless
  // the observer asks for it. `claimed_ns`: LinkAttempt's.
  void Tell(const Entry& e, int64_t claimed_ns) const;
  // The entry Tell is telling, and the view it hands over: kept between
  // calls, so that each call sets the view's fields rather than building
  // a view anew.
  struct WholeOfTold {
    const Core* core;
    HistoryEntry operator()() const { return core->ToPublic(*core->told_); }
  };
  struct TableOfTold {
    const Core* core;
    absl::string_view operator()() const;
  };
  mutable const Entry* told_ = nullptr;
  const WholeOfTold whole_of_told_{this};
  const TableOfTold table_of_told_{this};
  mutable EntryView told_view_{whole_of_told_, table_of_told_};
  mutable JournalEntry public_scratch_;  // ToPublic's.
  Entry NewEntry(EntryKind kind, SlotIndex slot, int64_t now) const;

  // --- Lookup ---
  // The slot of an entry: its hint when it has one, else found or created.
  SlotIndex SlotOf(const Entry& e);
  // As PartitionNames::Intern for an arrival on `table`. Most arrivals (and
  // every redelivery) name the partition their table saw last: comparing that
  // name first saves hashing.
  PartitionId ArrivalPartition(TableId table, const std::string& partition) {
    return IsRecentPartition(table, partition) ? tables_[table].recent_partition
                                               : partitions_.Intern(partition);
  }
  // Whether `partition` names the partition of the slot `table` created
  // last: the one most calls name, found without hashing.
  bool IsRecentPartition(TableId table, const std::string& partition) const {
    const TableRuntime& rt = tables_[table];
    return rt.has_slots() && partitions_.View(rt.recent_partition) == partition;
  }
  int32_t InternWorker(const std::string& worker);
  std::optional<SlotIndex> FindSlot(TableId table, PartitionId p) const {
    return slot_directory_.Find(tables_[table], table, p);
  }
  // Creates a missing slot with its input counters computed from scratch.
  SlotIndex GetOrCreateSlot(TableId table, PartitionId p,
                            bool* created = nullptr);
  // Registers a new slot of (slot.table, slot.partition). REQUIRES: none yet.
  SlotIndex AddSlot(const Slot& slot);
  void CountInputs(Slot& slot) const;
  // NotFound naming the table when the pipeline has none of that name.
  absl::StatusOr<TableId> LookupTable(const std::string& name) const;
  // As LookupTable, and InvalidArgument for a source table (it has no task).
  absl::StatusOr<TableId> LookupDerivedTable(const std::string& name) const;
  absl::StatusOr<SlotIndex> FindTask(const TaskKey& key) const;
  // As FindTask, trying first the slot that ClaimedTask::id `id` names.
  absl::StatusOr<SlotIndex> FindTask(const TaskKey& key, uint64_t id) const;
  static uint64_t IdOf(SlotIndex s) { return uint64_t{s} + 1; }
  // The slot of upstream `up` whose version `slot` reads: the same
  // partition, the unpartitioned one, or for an unpartitioned reader of a
  // partitioned upstream the partition that changed last. None before the
  // upstream has any.
  std::optional<SlotIndex> InputSlot(TableId up, const Slot& slot) const {
    const TableRuntime& upstream = tables_[up];
    if (upstream.partitioned && !tables_[slot.table].partitioned) {
      const SlotIndex latest = LatestSlot(up);
      if (latest == kNoSlot) return std::nullopt;
      return latest;
    }
    return FindSlot(up, upstream.partitioned ? slot.partition : 0);
  }
  TaskKey KeyOf(SlotIndex s) const;
  // When slot `s` last had an arrival, and a success (or mark); 0 if never.
  int64_t LastArrival(SlotIndex s) const {
    return info_[slots_[s].table].source ? slots_[s].stamp_ns : OtherStamp(s);
  }
  int64_t LastSuccess(SlotIndex s) const {
    return info_[slots_[s].table].source ? OtherStamp(s) : slots_[s].stamp_ns;
  }
  void SetLastArrival(SlotIndex s, int64_t ns);
  // The running attempt's worker and claim entry; -1 and 0 when none runs.
  int32_t WorkerOf(const Slot& slot) const {
    return slot.run >= 0 ? runs_[slot.run].worker : -1;
  }
  int64_t ClaimSeqOf(const Slot& slot) const {
    return slot.run >= 0 ? runs_[slot.run].claim_seq : 0;
  }
  // RunRecord::time_ns of a timed slot; 0 for the others.
  int64_t TimeOf(const Slot& slot) const {
    return slot.run >= 0 ? runs_[slot.run].time_ns : 0;
  }
  // Whether a slot in `phase` holds a RunRecord.
  static bool Timed(Phase phase) {
    return phase == Phase::kReady || phase == Phase::kRunning ||
           phase == Phase::kRetryWait;
  }
  // Gives `slot` a run record (its own, if it holds one already).
  RunRecord& HoldRun(Slot& slot) {
    return slot.run >= 0 ? runs_[slot.run] : runs_.Take(&slot.run);
  }
  // SettleRun, Enqueue, StartAttempt, Succeed and PushTimer are steps every
  // task takes once on its usual way: always inlined (defined in core.cc,
  // called only within the scheduler_core unity group), as their calls cost
  // more than their bodies (67 instructions a task in EndToEndBatched).
  //
  // After a change of `slot`: gives its record back once it is not Timed,
  // and forgets the claim of an attempt that ended.
  ABSL_ATTRIBUTE_ALWAYS_INLINE void SettleRun(Slot& slot);
  void SetLastSuccess(SlotIndex s, int64_t ns);
  int64_t OtherStamp(SlotIndex s) const {
    auto it = other_stamps_.find(s);
    return it == other_stamps_.end() ? 0 : it->second;
  }

  // --- Queue and counters (Apply's helpers) ---
  bool Paused(TableId table) const;
  bool Counts(const Slot& slot) const;  // Holds back lower classes.
  void Detach(SlotIndex s);
  void Attach(SlotIndex s);
  // Attach's part for a ready task that counts: into its queue.
  ABSL_ATTRIBUTE_ALWAYS_INLINE void Enqueue(SlotIndex s, const Slot& slot,
                                            const TableRuntime& table);
  // Apply's fast paths for the changes every task makes on its usual way,
  // waiting to ready to running to succeeded (core_hot_path.cc): the effect
  // of Detach, the change and Attach, without the steps that cancel out.
  // False, changing nothing, for an entry off that way.
  // The slot `e` names (by its hint) when it is an unblocked task in
  // `phase`: on its usual way there. Null otherwise.
  Slot* UsualSlot(const Entry& e, Phase phase);
  bool ApplyReady(const Entry& e);
  bool ApplyClaimed(const Entry& e);
  bool ApplySucceeded(const Entry& e);
  // Apply's parts for a claim, for a success or a mark on slot `s`, and for
  // the new version an arrival, a success or a mark gives it.
  ABSL_ATTRIBUTE_ALWAYS_INLINE void StartAttempt(const Entry& e, Slot& slot);
  ABSL_ATTRIBUTE_ALWAYS_INLINE void Succeed(const Entry& e, SlotIndex s,
                                            Slot& slot);
  void AddVersion(const Entry& e, SlotIndex s, Slot& slot);
  // The count of `slot`'s queue in `state` (TaskCounts::Recorded).
  int64_t& Recorded(const Slot& slot, TaskState state) {
    const TableRuntime& table = tables_[slot.table];
    return counts_.Recorded(table.pool, table.priority_class, state);
  }
  void ReleasePool(const Slot& slot);
  // After a new version of `s`: updates the input counters of its downstream
  // tasks (creating those the partition mapping names) and lists them in
  // touched_ for Trigger.
  void Propagate(SlotIndex s, bool first_version, bool first_table_version);
  // Propagate's part for partitioned table `down` reading unpartitioned
  // `s`'s table as a requirement.
  void PropagateRequirement(TableId down, bool first_version);
  // After a change of `slot`, which was dead or blocked if `before`.
  void SetUnhealthy(Slot& slot, bool before) {
    const bool after = slot.phase == Phase::kDead || slot.blocked;
    if (before != after) counts_.AddUnhealthy(slot.table, after ? 1 : -1);
  }
  void SetForced(Slot& slot, bool forced);

  // --- Origins (core_origins.cc) ---
  // Records the origin of an arrival on slot `s` (after its Propagate) or
  // of a duplicate (`s` kNoSlot).
  void NoteOrigin(const Entry& e, SlotIndex s);
  // A task whose consumed_seq was `before` consumed more: the origins every
  // reader has now consumed are dropped.
  void ConsumeOrigins(const Slot& reader, int64_t before);
  // A task just created reads the origins its inputs keep.
  void AddOriginReader(const Slot& reader);
  // `input`'s origins newer than what `reader` consumed, into `out`.
  // Inline: most inputs keep none, and no origin was ever dropped.
  void OriginsOf(const Slot& reader, TableId up, SlotIndex input,
                 InputVersion* out) const {
    if (tables_[up].partitioned != tables_[reader.table].partitioned) {
      out->origins_complete = false;  // Not read partition by partition.
    } else if (tables_[up].kept_origin_slots > 0 || !dropped_origins_.empty()) {
      KeptOriginsOf(reader, up, input, out);
    }
  }
  // OriginsOf's part for an input read partition by partition.
  void KeptOriginsOf(const Slot& reader, TableId up, SlotIndex input,
                     InputVersion* out) const;
  // Whether `down` reads `up` partition by partition (as the same
  // partition, both partitioned or both not).
  bool OriginReader(TableId up, TableId down) const;
  // How many downstream tables read `up` partition by partition.
  int32_t OriginReaderCount(TableId up) const;
  // The slots reading `s` partition by partition, calling f(slot).
  template <typename F>
  void ForEachOriginReader(SlotIndex s, F f) const;
  // The inputs `reader` reads partition by partition that keep origins,
  // calling f(input slot, its KeptOrigins).
  template <typename F>
  void ForEachKeptInput(const Slot& reader, F f);
  // Drops the oldest `n` origins kept for `s`.
  void DropOrigins(SlotIndex s, size_t n);
  // Drops those every reader of `s` has consumed.
  void PruneConsumedOrigins(SlotIndex s);
  // InvalidArgument unless a snapshot's `slot` (from `state`) is one this
  // pipeline can have: a source's slot runs nothing, and a slot has a
  // partition exactly when its table is partitioned.
  absl::Status CheckSlotFits(const Slot& slot, const SlotState& state) const;
  // A snapshot's origins: slot `s`'s kept and dropped ones into its state,
  // and every origin's event hash, both sorted by origin hash.
  void SaveSlotOrigins(SlotIndex s, SlotState* state) const;
  void SortedOriginEvents(std::vector<uint64_t>* origins,
                          std::vector<uint64_t>* events) const;
  // After the slots are restored. Unfit for a snapshot out of range.
  absl::Status RestoreOrigins(const Snapshot& in);
  void AppendOriginsDebug(std::vector<std::string>* lines) const;
  // The backoff jitter of an attempt: a uniform draw in [0, wait] that
  // depends only on the seed and the attempt, so that a scheduler rebuilt
  // from the history draws what the original would have.
  absl::Duration Jitter(const Slot& slot, absl::Duration wait) const;

  // --- Windows (core_windows.cc) ---
  // For a table that reads an input through a window (TableRuntime::
  // windowed), what the identity mapping's shortcuts do for the others.
  // Calls f(input, requirement, slot, key) for each upstream partition of
  // each window that task (table, partition) reads, in Pipeline::Inputs
  // order; an unpartitioned upstream is one requirement (key: partition).
  // By name: the task may not exist yet.
  template <typename F>
  void ForEachWindowInput(TableId table, const std::string& partition,
                          F f) const;
  // CountInputs for a windowed table: one input per window partition.
  void CountWindowInputs(Slot& slot) const;
  // Propagate's part for windowed table `down`: the readers of `s` through
  // each of its inputs from `s`'s table.
  void PropagateToWindows(SlotIndex s, TableId down, bool first_version);
  // ForEachReader's part for windowed table `down`.
  void ForEachWindowReader(SlotIndex s, TableId down,
                           absl::FunctionRef<void(TableId, PartitionId)> f);
  // The partitions of windowed table `d` that its upstreams' versions
  // trigger (AddTasksOnLandedData), unsorted.
  std::vector<PartitionId> WindowPartitionsOnLandedData(TableId d);
  bool WindowInputUnhealthy(TableId up, TableId table, PartitionId p) const;
  // A dead or blocked task in the windows `slot` reads, if any.
  std::optional<SlotIndex> UnhealthyWindowInput(const Slot& slot) const;
  SlotIndex NewestWindowInput(const Slot& slot) const;
  void WindowInputsOf(const Slot& slot,
                      absl::InlinedVector<InputVersion, 4>* inputs) const;
  // Explain's "waiting for upstreams" for task (table, partition) of a
  // windowed table: each input with the partitions of its window that have
  // not arrived.
  std::vector<std::string> MissingWindowInputs(
      TableId table, const std::string& partition) const;
  // Whether `down` reads `up` partition by partition (origins follow).
  bool ReadsByIdentity(TableId up, TableId down) const;
  bool Unhealthy(SlotIndex s) const {
    return slots_[s].phase == Phase::kDead || slots_[s].blocked;
  }

  // --- Decisions ---
  bool Due(const Slot& slot) const {
    return slot.missing_inputs == 0 &&
           (slot.newest_input_seq > slot.consumed_seq || slot.forced);
  }
  // Whether task (table, p) is blocked by DESIGN.md's rule: for trigger
  // ALL, some upstream is unhealthy for it (InputUnhealthy); for ANY, every
  // upstream is. Inline: most of the time nothing is unhealthy, and it
  // looks up nothing.
  bool UpstreamUnhealthy(TableId table, PartitionId p) const {
    return counts_.unhealthy() > 0 && UpstreamUnhealthyByLookup(table, p);
  }
  // UpstreamUnhealthy's lookups, for when some task is unhealthy.
  bool UpstreamUnhealthyByLookup(TableId table, PartitionId p) const;
  // Whether a task of `up` that (table, p) reads is dead or blocked: the one
  // of its partition, or for an unpartitioned reader of a partitioned
  // upstream any of them. Never for a source.
  bool InputUnhealthy(TableId up, TableId table, PartitionId p) const;
  // A pipeline update's part: tasks, touched, for each derived table that
  // has none where its upstreams have versions (a table added, or one whose
  // upstreams changed), as DESIGN.md's readiness asks of a table that never
  // succeeded.
  void AddTasksOnLandedData();
  // A pipeline update's part for the tables it adopts or rebuilds: their
  // input counters recounted on their new upstreams, then an adopted task
  // that was up to date takes its current inputs as consumed, and every
  // rebuilt one that is not dead is forced. Each is touched.
  void SettleDeployedTables();
  // Its part for DESIGN.md's BLOCKED rule on the new upstreams and
  // triggers: each deployed task is blocked or released as its inputs now
  // say, and so, transitively, are the tasks reading one that changed (a
  // task an unhealthy input names but nothing made yet is made blocked).
  void SettleDeployedBlocking();
  bool InDeployPlan(TableId table) const {
    return std::find(adopted_.begin(), adopted_.end(), table) !=
               adopted_.end() ||
           std::find(rebuilt_.begin(), rebuilt_.end(), table) != rebuilt_.end();
  }
  // Evaluates the tasks the last version change touched: the new version of
  // `cause`, when one slot's version touched them.
  void Trigger(int64_t now, std::vector<TaskKey>* made_ready,
               SlotIndex cause = kNoSlot);
  // Makes a waiting task ready (or blocked) when it is due; `cause` is the
  // input whose new version made it so, when the caller knows. Inline: most
  // tasks a version touches are not due yet.
  void Evaluate(SlotIndex s, int64_t now, std::vector<TaskKey>* made_ready,
                SlotIndex cause = kNoSlot) {
    const Slot& slot = slots_[s];
    if (slot.phase == Phase::kWaiting && !slot.blocked && Due(slot)) {
      MakeReady(s, now, made_ready, cause);
    }
  }
  // Evaluate's work for a due task.
  void MakeReady(SlotIndex s, int64_t now, std::vector<TaskKey>* made_ready,
                 SlotIndex cause);
  // The input of `s` with its newest version (what made it due), if any.
  SlotIndex NewestInput(SlotIndex s) const;
  void Fail(SlotIndex s, Outcome outcome, const std::string& message,
            int64_t now);
  // Calls f(table, partition) for each task reading slot `s` through the
  // partition mapping, whether it exists or not (of a partitioned table
  // reading an unpartitioned `s`: its existing tasks).
  template <typename F>
  void ForEachReader(SlotIndex s, F f);
  // The existing descendant tasks of `s` through the partition mapping,
  // upstreams first.
  std::vector<SlotIndex> DescendantTasks(SlotIndex s);
  // Whether `a`'s table comes after `b`'s in topological order: a heap
  // ordered by it yields upstreams first.
  bool Later(SlotIndex a, SlotIndex b) const {
    return pipeline_->TopologicalPosition(slots_[a].table) >
           pipeline_->TopologicalPosition(slots_[b].table);
  }
  void BlockDescendants(SlotIndex s, int64_t now);
  void ReleaseDescendants(SlotIndex s, int64_t now);
  // OK for the running attempt of `s` within its lease (AttemptLive), else
  // FailedPrecondition saying why not.
  absl::Status CheckAttempt(SlotIndex s, int64_t attempt, int64_t now);
  bool AttemptLive(const Slot& slot, int64_t attempt, int64_t now) const {
    return slot.phase == Phase::kRunning && slot.attempt == attempt &&
           now < TimeOf(slot);
  }
  // Whether `attempt` is the slot's latest and has ended (how: last_outcome).
  static bool Ended(const Slot& slot, int64_t attempt) {
    return slot.phase != Phase::kRunning && slot.attempt == attempt &&
           attempt > 0;
  }
  void InputsOf(const Slot& slot,
                absl::InlinedVector<InputVersion, 4>* inputs) const;
  TaskStatus StatusOf(SlotIndex s, int64_t now) const;
  TaskState StateOf(const Slot& slot, int64_t now) const;
  std::string BlockerOf(SlotIndex s) const;
  // Why the gate holds ready task `s` back and by which rule (setting
  // `gated`), or that its max_gate_wait lets it pass, or that retrying
  // tasks of a higher class do not hold it; empty when none applies.
  std::string GateReason(SlotIndex s, int64_t now, bool* gated);

  std::shared_ptr<const Pipeline> pipeline_;
  // The pipeline's tables, pools and classes, read in place on hot paths.
  absl::Span<const Table> info_;
  absl::Span<const Pool> pools_info_;
  absl::Span<const PriorityClass> classes_info_;
  SchedulerOptions options_;
  // -options_.dedup_retention, converted once.
  const int64_t minus_dedup_retention_ns_;
  // Arrivals before this are forgotten when one lands at `now`.
  int64_t DedupHorizon(int64_t now) const {
    return AddNanos(now, minus_dedup_retention_ns_);
  }
  DurationNanos lease_nanos_;  // Claim's.

  PartitionNames partitions_;  // Every partition name seen, by id.
  std::vector<std::string> workers_;
  absl::flat_hash_map<std::string, int32_t> worker_ids_;
  int32_t last_worker_ = -1;  // InternWorker's last answer.

  ChunkedVector<Slot> slots_;
  SlotDirectory slot_directory_{&slots_};
  std::vector<TableRuntime> tables_;
  // The slots of `table` in creation order. Valid until the next slot of
  // that table is created.
  absl::Span<const SlotIndex> SlotsOf(TableId table) const {
    return slot_directory_.SlotsOf(tables_[table]);
  }
  // The slot of `table` with the newest version over all partitions, or
  // kNoSlot before any has one.
  SlotIndex LatestSlot(TableId table) const {
    return slot_directory_.Latest(tables_[table]);
  }
  // Slot `s` of `table` has just got the table's newest version.
  void SetLatestSlot(TableId table, SlotIndex s) {
    slot_directory_.SetLatest(tables_[table], s);
  }
  absl::flat_hash_map<SlotIndex, std::string> errors_;
  // The time Slot::stamp_ns does not hold, for the few slots that have one:
  // an arrival on a derived table (an external build), a success on a
  // source.
  absl::flat_hash_map<SlotIndex, int64_t> other_stamps_;
  RunRecords runs_;  // Of the timed slots.

  std::vector<int> pool_capacity_;
  std::vector<int> pool_used_;
  // Bytes rather than std::vector<bool>: read on every task state change.
  std::vector<uint8_t> class_paused_;
  TaskCounts counts_;
  void CountRecorded(const Slot& slot, int64_t delta);
  // The state `slot`'s entries recorded, as counted in counts_.
  TaskState RecordedState(const Slot& slot) const;

  // Claim order (ReadyBefore).
  struct ReadyLess {
    const std::vector<uint64_t>* partition_ranks;
    bool operator()(const ReadyKey& a, const ReadyKey& b) const {
      return ReadyBefore(a, b, *partition_ranks);
    }
  };
  struct ReadySort {
    void operator()(std::vector<ReadyKey>& keys, const ReadyLess& less) const {
      SortReadyKeysLastFirst(keys, *less.partition_ranks);
    }
  };
  // Whether `key` is still a ready task of queue (pool, cls).
  bool ReadyLive(const ReadyKey& key, PoolId pool, ClassId cls) const;
  using Queue = ReadyQueue<ReadyKey, ReadyLess, ReadySort>;
  Queue& ReadyOf(PoolId pool, ClassId cls) {
    return ready_[pool * classes_info_.size() + cls];
  }
  std::vector<Queue> ready_;  // By pool, then class.

  // --- The gate (core_claim.cc) ---
  // Whether a higher class than `cls` holds it back in `pool`.
  bool GateHolds(PoolId pool, ClassId cls);
  // When the next ready task's max_gate_wait runs out, after `now`.
  std::optional<int64_t> NextGateExpiry(int64_t now);
  // The ready tasks of classes with a max_gate_wait, by pool, then class
  // (null for the other classes; empty when no class has one).
  using Waits = GateWait<ReadyKey, ReadyLess, ReadySort>;
  std::vector<std::unique_ptr<Waits>> gate_waits_;
  Waits* GateWaitOf(PoolId pool, ClassId cls) {
    return gate_waits_.empty()
               ? nullptr
               : gate_waits_[pool * classes_info_.size() + cls].get();
  }
  // Per class: whether its tasks waiting to retry hold lower classes back.
  std::vector<uint8_t> holds_retrying_;

  // Lease ends and retry times, earliest first, in a heap with lazy
  // deletion as the ready tasks are. An entry is live while its slot still
  // runs or waits with that very time.
  using Timer = std::pair<int64_t, SlotIndex>;
  bool TimerLive(const Timer& timer) const;
  ABSL_ATTRIBUTE_ALWAYS_INLINE void PushTimer(SlotIndex s);
  ReadyQueue<Timer, std::less<Timer>> timers_{std::less<Timer>()};
  std::vector<SlotIndex> touched_;  // Filled by Propagate, read by Trigger.
  // The deploy that made this core (SetDeployPlan).
  std::vector<TableId> adopted_;
  std::vector<TableId> rebuilt_;

  // Event ids seen within the retention window.
  SeenEvents seen_events_;

  // Per origin ever recorded, by OriginHash: the hash of the event id of
  // the latest arrival or duplicate naming it. Kept however old.
  absl::flat_hash_map<uint64_t, uint64_t> origin_events_;
  // The origins of arrivals on a slot, oldest first, kept while a task
  // reading it partition by partition has not consumed them.
  struct KeptOrigins {
    std::vector<std::pair<int64_t, std::string>> list;  // (seq, origin)
    size_t head = 0;  // list[0, head) is dropped.
    // Readers whose consumed_seq is below the newest origin's seq.
    int32_t unconsumed = 0;
  };
  absl::flat_hash_map<SlotIndex, KeptOrigins> kept_origins_;
  // Per slot, the newest seq of an origin no longer kept.
  absl::flat_hash_map<SlotIndex, int64_t> dropped_origins_;

  HeldHistory history_;  // For ReadHistory.
  JournalBuffer* capture_ = nullptr;
  int64_t last_seq_ = 0;
};

// Read on every change of a task's state: inline.

inline bool Core::Paused(TableId table) const {
  return tables_[table].paused || class_paused_[tables_[table].priority_class];
}

inline bool Core::Counts(const Slot& slot) const {
  // A paused table holds nothing back but the attempts it is running.
  return slot.phase == Phase::kRunning ||
         ((slot.phase == Phase::kReady ||
           (slot.phase == Phase::kRetryWait &&
            holds_retrying_[tables_[slot.table].priority_class])) &&
          !Paused(slot.table));
}

inline TaskState Core::RecordedState(const Slot& slot) const {
  switch (slot.phase) {
    case Phase::kRunning:
      return TaskState::kRunning;
    case Phase::kRetryWait:
      return TaskState::kRetryWait;
    case Phase::kDead:
      return TaskState::kDead;
    case Phase::kReady:
      return Paused(slot.table) ? TaskState::kPaused : TaskState::kReady;
    case Phase::kWaiting:
      if (slot.blocked) return TaskState::kBlocked;
      return slot.version > 0 ? TaskState::kSucceeded : TaskState::kWaiting;
  }
  return TaskState::kWaiting;
}

inline void Core::CountRecorded(const Slot& slot, int64_t delta) {
  if (tables_[slot.table].source) return;  // A source's slot is no task.
  Recorded(slot, RecordedState(slot)) += delta;
}

}  // namespace landfall::internal
