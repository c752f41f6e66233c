#include "lib/core/core.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"

namespace landfall::internal {

Core::Core(std::shared_ptr<const Pipeline> pipeline,
           const SchedulerOptions& options, bool hold_history)
    : pipeline_(std::move(pipeline)),
      info_(pipeline_->tables()),
      pools_info_(pipeline_->pools()),
      classes_info_(pipeline_->priority_classes()),
      options_(options),
      minus_dedup_retention_ns_(
          absl::ToInt64Nanoseconds(-options.dedup_retention)),
      counts_(pools_info_.size(), classes_info_.size()),
      history_(hold_history, options.history_capacity) {
  const Pipeline& p = *pipeline_;
  tables_.resize(p.table_count());
  for (TableId t = 0; t < p.table_count(); ++t) {
    const Table& table = p.table(t);
    TableRuntime& rt = tables_[t];
    rt.source = table.source;
    rt.partitioned = table.partitioned;
    rt.trigger_any = table.trigger == Trigger::kAny;
    rt.windowed = table.windowed;
    rt.pool = table.pool;
    rt.longest_path = table.longest_downstream_path;
    rt.priority_class = table.priority_class;
  }
  for (TableId t = 0; t < p.table_count(); ++t) {
    tables_[t].origins_read = OriginReaderCount(t) > 0;
  }
  const size_t pools = p.pools().size();
  const size_t classes = p.priority_classes().size();
  for (const Pool& pool : p.pools()) {
    pool_capacity_.push_back(pool.slots);
    pool_used_.push_back(0);
  }
  class_paused_.assign(classes, false);
  for (size_t i = 0; i < pools * classes; ++i) {
    ready_.emplace_back(ReadyLess{&partitions_.ranks()});
  }
  for (const PriorityClass& cls : p.priority_classes()) {
    holds_retrying_.push_back(cls.gate_holds_retrying);
    if (cls.max_gate_wait == absl::InfiniteDuration()) continue;
    gate_waits_.resize(pools * classes);
    for (size_t pool = 0; pool < pools; ++pool) {
      gate_waits_[pool * classes + cls.id] =
          std::make_unique<Waits>(ReadyLess{&partitions_.ranks()},
                                  absl::ToInt64Nanoseconds(cls.max_gate_wait));
    }
  }
  partitions_.Intern("");
}

// ---------------------------------------------------------------------------
// Entries

Entry Core::NewEntry(EntryKind kind, SlotIndex slot, int64_t now) const {
  Entry e;
  e.kind = kind;
  e.at_ns = now;
  e.table = slots_[slot].table;
  e.partition = slots_[slot].partition;
  e.slot = slot;
  return e;
}

inline int64_t Core::LinkAttempt(Entry& e) const {
  if (e.kind != EntryKind::kClaimed && !EndsAttempt(e.kind)) {
    return EntryView::kNoTime;
  }
  const std::optional<SlotIndex> s =
      e.slot != kNoSlot ? e.slot : FindSlot(e.table, e.partition);
  if (!s) return EntryView::kNoTime;
  const Slot& slot = slots_[*s];
  if (e.kind == EntryKind::kClaimed) {
    // Only a ready task is claimed: its time is when it became ready.
    e.attempt_link = TimeOf(slot);
  } else if (slot.phase == Phase::kRunning && slot.run >= 0) {
    const RunRecord& run = runs_[slot.run];
    e.attempt_link = run.claim_seq;
    return run.claimed_ns;
  }
  return EntryView::kNoTime;
}

void Core::Emit(Entry&& entry) {
  entry.seq = ++last_seq_;
  const int64_t claimed_ns = LinkAttempt(entry);
  // The fast paths first, sparing the usual entries Apply's generic frame.
  const bool applied =
      (entry.kind == EntryKind::kReady && ApplyReady(entry)) ||
      (entry.kind == EntryKind::kClaimed && ApplyClaimed(entry)) ||
      (entry.kind == EntryKind::kSucceeded && ApplySucceeded(entry));
  if (!applied) Apply(entry);
  if (capture_ != nullptr) {
    ToJournal(entry, capture_->Add());
  } else if (options_.observer != nullptr) {
    Tell(entry, claimed_ns);
  }
  history_.Add(std::move(entry));
}

void Core::Apply(const Entry& e) {
  if (e.kind == EntryKind::kPaused || e.kind == EntryKind::kResumed) {
    const bool pause = e.kind == EntryKind::kPaused;
    std::vector<TableId> affected;
    if (e.table >= 0) {
      affected.push_back(e.table);
    } else {
      for (TableId t = 0; t < pipeline_->table_count(); ++t) {
        if (tables_[t].priority_class == e.target) affected.push_back(t);
      }
    }
    for (TableId t : affected) {
      for (SlotIndex s : SlotsOf(t)) Detach(s);
    }
    if (e.table >= 0) {
      tables_[e.table].paused = pause;
    } else {
      class_paused_[e.target] = pause;
    }
    for (TableId t : affected) {
      for (SlotIndex s : SlotsOf(t)) Attach(s);
    }
    return;
  }
  if (e.kind == EntryKind::kClassChanged) {
    for (SlotIndex s : SlotsOf(e.table)) Detach(s);
    tables_[e.table].priority_class = e.target;
    for (SlotIndex s : SlotsOf(e.table)) Attach(s);
    return;
  }
  if (e.kind == EntryKind::kPoolResized) {
    pool_capacity_[e.target] = e.slots;
    return;
  }
  if (e.kind == EntryKind::kPipelineUpdated) {
    AddTasksOnLandedData();
    SettleDeployedTables();
    return;
  }
  if (e.kind == EntryKind::kDuplicate) {
    NoteOrigin(e, kNoSlot);
    return;
  }

  const SlotIndex s = SlotOf(e);
  Detach(s);
  Slot& slot = slots_[s];
  const bool unhealthy_before = slot.phase == Phase::kDead || slot.blocked;
  const bool running_before = slot.phase == Phase::kRunning;
  switch (e.kind) {
    case EntryKind::kArrival:
    case EntryKind::kSucceeded:
    case EntryKind::kMarkedSucceeded: {
      if (e.kind == EntryKind::kArrival) {
        SetLastArrival(s, e.until_ns);
        if (e.text != nullptr && !e.text->event_id.empty()) {
          seen_events_.ForgetBefore(DedupHorizon(e.at_ns));
          seen_events_.Add(e.at_ns, e.text);
        }
      } else {
        Succeed(e, s, slot);
      }
      AddVersion(e, s, slot);
      break;
    }
    case EntryKind::kReady:
    case EntryKind::kRetryDue:
      slot.phase = slot.blocked ? Phase::kWaiting : Phase::kReady;
      if (slot.phase == Phase::kReady) HoldRun(slot).time_ns = e.at_ns;
      break;
    case EntryKind::kBlocked:
      slot.blocked = true;
      if (slot.phase == Phase::kReady) slot.phase = Phase::kWaiting;
      break;
    case EntryKind::kUnblocked:
      slot.blocked = false;
      break;
    case EntryKind::kClaimed:
      StartAttempt(e, slot);
      break;
    case EntryKind::kHeartbeat:
      HoldRun(slot).time_ns = e.until_ns;
      break;
    case EntryKind::kRetryScheduled:
      ReleasePool(slot);
      slot.last_outcome = static_cast<uint8_t>(e.outcome);
      slot.phase = Phase::kRetryWait;
      HoldRun(slot).time_ns = e.until_ns;
      if (e.text != nullptr) errors_[s] = e.text->detail;
      break;
    case EntryKind::kDead:
      if (slot.phase == Phase::kRunning) ReleasePool(slot);
      slot.last_outcome = static_cast<uint8_t>(e.outcome);
      slot.phase = Phase::kDead;
      if (e.text != nullptr) errors_[s] = e.text->detail;
      break;
    case EntryKind::kRedriven:
      slot.phase = Phase::kWaiting;
      slot.run_attempts = 0;
      break;
    case EntryKind::kRerunRequested:
      SetForced(slot, true);
      // A fresh run; one under way keeps counting until it ends.
      if (slot.phase != Phase::kRunning) slot.run_attempts = 0;
      break;
    default:
      break;
  }
  // Only a change of phase can settle the record (SettleRun).
  if (slot.run >= 0 && (!Timed(slot.phase) ||
                        (running_before && slot.phase != Phase::kRunning))) {
    SettleRun(slot);
  }
  SetUnhealthy(slot, unhealthy_before);
  Attach(s);
}

inline void Core::Succeed(const Entry& e, SlotIndex s, Slot& slot) {
  if (slot.phase == Phase::kRunning) ReleasePool(slot);
  if (e.kind == EntryKind::kSucceeded) {
    slot.last_outcome = static_cast<uint8_t>(Outcome::SUCCEEDED);
  }
  slot.phase = Phase::kWaiting;
  const int64_t consumed_before = slot.consumed_seq;
  slot.consumed_seq =
      e.kind == EntryKind::kSucceeded ? ClaimSeqOf(slot) : e.seq;
  ConsumeOrigins(slot, consumed_before);
  SetLastSuccess(s, e.at_ns);
  slot.run_attempts = 0;
  // A rerun asked for while this attempt ran is still owed; a mark
  // settles it.
  if (e.kind == EntryKind::kMarkedSucceeded) SetForced(slot, false);
  if (!errors_.empty()) errors_.erase(s);
}

inline void Core::StartAttempt(const Entry& e, Slot& slot) {
  slot.phase = Phase::kRunning;
  slot.attempt = static_cast<int32_t>(e.attempt);
  ++slot.run_attempts;
  RunRecord& run = HoldRun(slot);
  run.claim_seq = e.seq;
  run.claimed_ns = e.at_ns;
  run.worker = e.worker;
  run.time_ns = e.until_ns;
  SetForced(slot, false);  // This attempt consumes the current inputs.
  pool_used_[tables_[slot.table].pool] += info_[slot.table].pool_slots;
}

void Core::AddVersion(const Entry& e, SlotIndex s, Slot& slot) {
  ++slot.version;
  slot.version_seq = e.seq;
  const bool first_table_version = !tables_[slot.table].versioned;
  SetLatestSlot(slot.table, s);
  Propagate(s, slot.version == 1, first_table_version);
  // After Propagate: the tasks reading the slot exist now.
  if (e.kind == EntryKind::kArrival) NoteOrigin(e, s);
}

inline void Core::SettleRun(Slot& slot) {
  if (slot.run < 0) return;
  if (Timed(slot.phase)) {
    // An attempt that ended (whichever way) forgets its claim.
    if (slot.phase != Phase::kRunning) {
      RunRecord& run = runs_[slot.run];
      run.claim_seq = 0;
      run.claimed_ns = EntryView::kNoTime;
      run.worker = -1;
    }
    return;
  }
  runs_.GiveBack(slot.run);
  slot.run = -1;
}

// ---------------------------------------------------------------------------
// Queue and counters

bool Core::TimerLive(const Timer& timer) const {
  const Slot& slot = slots_[timer.second];
  return (slot.phase == Phase::kRunning || slot.phase == Phase::kRetryWait) &&
         TimeOf(slot) == timer.first;
}

inline void Core::PushTimer(SlotIndex s) {
  timers_.Push(Timer(TimeOf(slots_[s]), s),
               [this](const Timer& timer) { return TimerLive(timer); });
}

void Core::Detach(SlotIndex s) {
  const Slot& slot = slots_[s];
  CountRecorded(slot, -1);
  // A waiting or dead task holds no timer and counts for nothing.
  if (slot.phase == Phase::kWaiting || slot.phase == Phase::kDead) return;
  if (slot.phase != Phase::kReady) timers_.Forget();  // Its entry goes stale.
  const TableRuntime& table = tables_[slot.table];
  if (table.source || !Counts(slot)) return;
  --counts_.Active(table.pool, table.priority_class);
  --counts_.ActiveInClass(table.priority_class);
  if (slot.phase == Phase::kReady) {
    ReadyOf(table.pool, table.priority_class).Forget();
  }
}

void Core::Attach(SlotIndex s) {
  const Slot& slot = slots_[s];
  CountRecorded(slot, 1);
  // A waiting or dead task holds no timer and counts for nothing.
  if (slot.phase == Phase::kWaiting || slot.phase == Phase::kDead) return;
  if (slot.phase != Phase::kReady) PushTimer(s);
  const TableRuntime& table = tables_[slot.table];
  if (table.source || !Counts(slot)) return;
  const PoolId pool = table.pool;
  const ClassId cls = table.priority_class;
  ++counts_.Active(pool, cls);
  ++counts_.ActiveInClass(cls);
  if (slot.phase == Phase::kReady) Enqueue(s, slot, table);
}

inline void Core::Enqueue(SlotIndex s, const Slot& slot,
                          const TableRuntime& table) {
  const PoolId pool = table.pool;
  const ClassId cls = table.priority_class;
  const ReadyKey key{table.longest_path, TimeOf(slot), slot.table,
                     slot.partition, s};
  auto live = [&](const ReadyKey& k) { return ReadyLive(k, pool, cls); };
  Queue& queue = ReadyOf(pool, cls);
  queue.Push(key, live);
  if (Waits* waits = GateWaitOf(pool, cls)) {
    waits->Push(key, queue.LiveCount(), live);
  }
}

bool Core::ReadyLive(const ReadyKey& key, PoolId pool, ClassId cls) const {
  const Slot& slot = slots_[key.slot];
  const TableRuntime& table = tables_[slot.table];
  return slot.phase == Phase::kReady && TimeOf(slot) == key.ready_ns() &&
         table.pool == pool && table.priority_class == cls &&
         !Paused(slot.table);
}

void Core::ReleasePool(const Slot& slot) {
  pool_used_[tables_[slot.table].pool] -= info_[slot.table].pool_slots;
}

void Core::SetForced(Slot& slot, bool forced) {
  if (slot.forced != forced) counts_.AddForced(slot.table, forced ? 1 : -1);
  slot.forced = forced;
}

absl::Duration Core::Jitter(const Slot& slot, absl::Duration wait) const {
  // splitmix64 over the seed, the task and the attempt number.
  uint64_t x = options_.seed;
  auto mix = [&x](uint64_t v) {
    x += v + 0x9e3779b97f4a7c15ULL;
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    x = z ^ (z >> 31);
  };
  mix(static_cast<uint64_t>(slot.table));
  for (char c : partitions_.Name(slot.partition)) mix(static_cast<uint8_t>(c));
  mix(static_cast<uint64_t>(slot.attempt));
  const uint64_t range = static_cast<uint64_t>(absl::ToInt64Nanoseconds(wait));
  // Multiply-shift maps the 64-bit draw onto [0, range].
  const unsigned __int128 scaled =
      static_cast<unsigned __int128>(x) * (range + 1);
  return absl::Nanoseconds(static_cast<int64_t>(scaled >> 64));
}

// ---------------------------------------------------------------------------
// Readiness

bool Core::InputUnhealthy(TableId up, TableId table, PartitionId p) const {
  // Most tables (every source) have no dead or blocked task: no lookup.
  if (!counts_.HasUnhealthy(up)) return false;
  if (tables_[table].windowed) return WindowInputUnhealthy(up, table, p);
  const bool up_partitioned = tables_[up].partitioned;
  // An unpartitioned reader needs every partition of a partitioned one.
  if (up_partitioned && !tables_[table].partitioned) return true;
  auto s = FindSlot(up, up_partitioned ? p : 0);
  return s && (slots_[*s].phase == Phase::kDead || slots_[*s].blocked);
}

bool Core::UpstreamUnhealthyByLookup(TableId table, PartitionId p) const {
  const absl::Span<const TableId> upstreams = pipeline_->Upstreams(table);
  // Trigger ANY runs on any healthy upstream (a source always is one).
  if (tables_[table].trigger_any) {
    return !upstreams.empty() &&
           std::all_of(upstreams.begin(), upstreams.end(), [&](TableId up) {
             return InputUnhealthy(up, table, p);
           });
  }
  return std::any_of(upstreams.begin(), upstreams.end(),
                     [&](TableId up) { return InputUnhealthy(up, table, p); });
}

void Core::SetDeployPlan(const DeployOptions& options) {
  for (const std::string& name : options.adopt) {
    adopted_.push_back(*pipeline_->FindTable(name));
  }
  for (const std::string& name : options.rebuild) {
    rebuilt_.push_back(*pipeline_->FindTable(name));
  }
}

void Core::SettleDeployedTables() {
  for (const bool rebuild : {false, true}) {
    for (TableId t : rebuild ? rebuilt_ : adopted_) {
      for (SlotIndex s : SlotsOf(t)) {
        Detach(s);
        Slot& slot = slots_[s];
        const bool was_due = slot.phase != Phase::kWaiting || Due(slot);
        CountInputs(slot);
        if (!rebuild && slot.version > 0 && !was_due) {
          const int64_t consumed_before = slot.consumed_seq;
          slot.consumed_seq =
              std::max(slot.consumed_seq, slot.newest_input_seq);
          ConsumeOrigins(slot, consumed_before);
        }
        if (rebuild && slot.phase != Phase::kDead) {
          SetForced(slot, true);
          if (slot.phase != Phase::kRunning) slot.run_attempts = 0;
        }
        Attach(s);
        touched_.push_back(s);
      }
    }
  }
  SettleDeployedBlocking();
}

void Core::Trigger(int64_t now, std::vector<TaskKey>* made_ready,
                   SlotIndex cause) {
  std::vector<SlotIndex> touched;
  touched.swap(touched_);
  // Most of what a change touches becomes ready: one allocation instead of
  // a doubling growth that moves every key made ready before (FanOut). A
  // list that one batch fills over many calls still grows geometrically.
  if (made_ready != nullptr &&
      made_ready->size() + touched.size() > made_ready->capacity()) {
    made_ready->reserve(std::max(made_ready->size() + touched.size(),
                                 2 * made_ready->capacity()));
  }
  for (SlotIndex d : touched) Evaluate(d, now, made_ready, cause);
  touched.clear();
  if (touched_.empty()) touched_.swap(touched);  // Keep the capacity.
}

SlotIndex Core::NewestInput(SlotIndex s) const {
  const Slot& slot = slots_[s];
  if (tables_[slot.table].windowed) return NewestWindowInput(slot);
  SlotIndex newest = kNoSlot;
  for (TableId up : pipeline_->Upstreams(slot.table)) {
    const std::optional<SlotIndex> input = InputSlot(up, slot);
    if (!input || slots_[*input].version == 0) continue;
    if (newest == kNoSlot ||
        slots_[*input].version_seq > slots_[newest].version_seq) {
      newest = *input;
    }
  }
  return newest;
}

void Core::MakeReady(SlotIndex s, int64_t now, std::vector<TaskKey>* made_ready,
                     SlotIndex cause) {
  const Slot& slot = slots_[s];
  if (UpstreamUnhealthy(slot.table, slot.partition)) {
    Entry e = NewEntry(EntryKind::kBlocked, s, now);
    e.text = std::make_shared<EntryText>(
        EntryText{"", "", {}, absl::StrCat("needs ", BlockerOf(s))});
    Emit(std::move(e));
    return;
  }
  Entry e = NewEntry(EntryKind::kReady, s, now);
  if (slot.forced) {
    static const auto* const kRerun = new std::shared_ptr<const EntryText>(
        std::make_shared<EntryText>(EntryText{"", "", {}, "rerun requested"}));
    e.text = *kRerun;
  } else {
    e.cause = cause != kNoSlot ? cause : NewestInput(s);
    if (e.cause != kNoSlot) e.cause_version = slots_[e.cause].version;
  }
  Emit(std::move(e));
  if (made_ready != nullptr) {
    // Copy-constructed and moved: measured faster than assigning the
    // strings of a key emplaced empty.
    made_ready->push_back(KeyOf(s));
  }
}

}  // namespace landfall::internal
