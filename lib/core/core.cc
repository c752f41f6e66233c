#include "lib/core/core.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>

#include "absl/strings/str_cat.h"
#include "lib/core/arrival_check.h"
#include "lib/core/replay_check.h"
#include "lib/core/saturating.h"

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
      hold_history_(hold_history) {
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
  active_.assign(pools * classes, 0);
  active_by_class_.assign(classes, 0);
  recorded_.assign(pools * classes * kTaskStateCount, 0);
  for (size_t i = 0; i < pools * classes; ++i) {
    ready_.emplace_back(ReadyLess{&partition_ranks_});
  }
  for (const PriorityClass& cls : p.priority_classes()) {
    holds_retrying_.push_back(cls.gate_holds_retrying);
    if (cls.max_gate_wait == absl::InfiniteDuration()) continue;
    gate_waits_.resize(pools * classes);
    for (size_t pool = 0; pool < pools; ++pool) {
      gate_waits_[pool * classes + cls.id] =
          std::make_unique<Waits>(ReadyLess{&partition_ranks_},
                                  absl::ToInt64Nanoseconds(cls.max_gate_wait));
    }
  }
  InternPartition("");
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

void Core::Emit(Entry entry) {
  entry.seq = ++last_seq_;
  const int64_t claimed_ns = LinkAttempt(entry);
  Apply(entry);
  if (capture_ != nullptr) {
    ToJournal(entry, capture_->Add());
  } else if (options_.observer != nullptr) {
    Tell(entry, claimed_ns);
  }
  if (!hold_history_) return;
  const size_t capacity = options_.history_capacity;
  if (capacity == 0 || history_.size() < capacity) {
    history_.push_back(std::move(entry));
  } else {
    // Over the oldest entry, at (seq - history_start_) % capacity: a running
    // index spares a division per entry.
    history_[history_next_] = std::move(entry);
    if (++history_next_ == capacity) history_next_ = 0;
  }
}

const Entry* Core::HeldEntry(int64_t seq) const {
  if (seq < history_start_ || seq > last_seq_) return nullptr;
  const size_t capacity = options_.history_capacity;
  if (capacity == 0) return &history_[seq - history_start_];
  if (last_seq_ - seq >= static_cast<int64_t>(capacity)) return nullptr;
  return &history_[(seq - history_start_) % capacity];
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
  const TableRuntime& table = tables_[slot.table];
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
      ++slot.version;
      slot.version_seq = e.seq;
      const bool first_table_version = !tables_[slot.table].versioned;
      SetLatestSlot(slot.table, s);
      Propagate(s, slot.version == 1, first_table_version);
      // After Propagate: the tasks reading the slot exist now.
      if (e.kind == EntryKind::kArrival) NoteOrigin(e, s);
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
      slot.phase = Phase::kRunning;
      slot.attempt = e.attempt;
      ++slot.run_attempts;
      {
        RunRecord& run = HoldRun(slot);
        run.claim_seq = e.seq;
        run.claimed_ns = e.at_ns;
        run.worker = e.worker;
        run.time_ns = e.until_ns;
      }
      SetForced(slot, false);  // This attempt consumes the current inputs.
      pool_used_[table.pool] += info_[slot.table].pool_slots;
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

RunRecord& Core::NewRun(Slot& slot) {
  ++live_runs_;
  if (free_run_ < 0) {
    slot.run = static_cast<int32_t>(runs_.size());
    return runs_.emplace_back();
  }
  slot.run = free_run_;
  RunRecord& run = runs_[slot.run];
  free_run_ = run.worker;
  run = RunRecord{};
  return run;
}

void Core::SettleRun(Slot& slot) {
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
  runs_[slot.run].worker = free_run_;
  free_run_ = slot.run;
  slot.run = -1;
  // The last timed slot of a burst gives back what the burst took (a batch
  // of arrivals can make 100,000s of tasks ready at once).
  if (--live_runs_ == 0 && runs_.capacity() > kKeptRuns) {
    runs_ = std::vector<RunRecord>();
    free_run_ = -1;
  }
}

int64_t Core::LinkAttempt(Entry& e) const {
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

absl::string_view Core::ClassNameOf(const Entry& e) const {
  if (e.kind == EntryKind::kClassChanged ||
      ((e.kind == EntryKind::kPaused || e.kind == EntryKind::kResumed) &&
       e.table < 0)) {
    return pipeline_->priority_classes()[e.target].name;
  }
  return {};
}

absl::string_view Core::PoolNameOf(const Entry& e) const {
  if (e.kind != EntryKind::kPoolResized) return {};
  return pipeline_->pools()[e.target].name;
}

absl::string_view Core::TableOfTold::operator()() const {
  // The name is in the pipeline's Table, a cache miss away on a large
  // pipeline: read only when the observer asks.
  const TableId table = core->told_->table;
  return table >= 0 ? absl::string_view(core->info_[table].name)
                    : absl::string_view();
}

void Core::Tell(const Entry& e, int64_t claimed_ns) const {
  told_ = &e;
  EntryView& view = told_view_;
  const bool has_table = e.table >= 0;
  const bool claim = e.kind == EntryKind::kClaimed;
  const bool ends = EndsAttempt(e.kind);
  view.seq = e.seq;
  view.at_ns = e.at_ns;
  view.kind = e.kind;
  view.partition = has_table ? PartitionView(e.partition) : absl::string_view();
  view.table_id = has_table ? e.table : -1;
  view.attempt = e.attempt;
  view.worker = e.worker >= 0 ? absl::string_view(workers_[e.worker])
                              : absl::string_view();
  view.outcome = e.outcome;
  view.until_ns = e.until_ns != 0 ? e.until_ns : EntryView::kNoTime;
  view.priority_class = ClassNameOf(e);
  view.pool = PoolNameOf(e);
  view.slots = e.slots;
  view.ready_ns = claim ? e.attempt_link : EntryView::kNoTime;
  view.claim_time_follows = claim;  // Its lease keeps the time.
  view.claim_seq = ends ? e.attempt_link : 0;
  view.claimed_ns = ends ? claimed_ns : EntryView::kNoTime;
  options_.observer->OnEntryView(view);
  told_ = nullptr;
}

void Core::ToJournal(const Entry& e, JournalEntry* out) const {
  JournalEntry& j = *out;
  j.set_seq(e.seq);
  j.set_at_ns(e.at_ns);
  j.set_kind(static_cast<int32_t>(e.kind));
  if (e.table >= 0) {
    j.set_table(info_[e.table].name);
    j.set_partition(PartitionName(e.partition));
  }
  j.set_attempt(e.attempt);
  if (e.worker >= 0) j.set_worker(workers_[e.worker]);
  if (e.text != nullptr) {
    j.set_event_id(e.text->event_id);
    j.set_origin(e.text->origin);
    j.mutable_attributes()->insert(e.text->attributes.begin(),
                                   e.text->attributes.end());
    j.set_detail(e.text->detail);
  } else if (e.kind == EntryKind::kReady && e.cause != kNoSlot) {
    const Slot& cause = slots_[e.cause];
    std::string& detail = *j.mutable_detail();
    detail.clear();
    absl::StrAppend(&detail, "upstream ", info_[cause.table].name,
                    cause.partition == 0 ? "" : "/",
                    PartitionName(cause.partition), " reached version ",
                    e.cause_version);
  }
  j.set_outcome(e.outcome);
  if (e.until_ns != 0) j.set_until_ns(e.until_ns);
  if (absl::string_view cls = ClassNameOf(e); !cls.empty()) {
    j.set_priority_class(cls.data(), cls.size());
  }
  if (e.kind == EntryKind::kPoolResized) {
    const absl::string_view pool = PoolNameOf(e);
    j.set_pool(pool.data(), pool.size());
    j.set_slots(e.slots);
  }
  if (e.kind == EntryKind::kClaimed) {
    j.set_ready_ns(e.attempt_link);
  } else if (EndsAttempt(e.kind)) {
    j.set_claim_seq(e.attempt_link);
  }
  // A core runs one pipeline, and its update is the first entry it applies.
  if (e.kind == EntryKind::kPipelineUpdated) {
    j.set_spec(pipeline_->spec().SerializeAsString());
    for (TableId t : adopted_) j.add_adopted(info_[t].name);
    for (TableId t : rebuilt_) j.add_rebuilt(info_[t].name);
  }
}

HistoryEntry Core::ToPublic(const Entry& e) const {
  // Cleared, not made anew: its strings keep their memory from one entry
  // to the next.
  public_scratch_.Clear();
  ToJournal(e, &public_scratch_);
  // The kinds of entries emitted here are all known.
  return *FromJournal(public_scratch_);
}

absl::Status Core::Replay(const JournalEntry& j) {
  if (j.seq() != last_seq_ + 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "history entry ", j.seq(), " follows ", last_seq_, ": there is a gap"));
  }
  if (absl::Status s = CheckKind(j); !s.ok()) return s;
  if (absl::Status s = CheckReplayedEntry(j, *pipeline_); !s.ok()) return s;
  Entry e;
  e.kind = static_cast<EntryKind>(j.kind());
  e.at_ns = j.at_ns();
  e.attempt = j.attempt();
  e.outcome = j.outcome();
  e.slots = j.slots();
  if (j.has_until_ns()) e.until_ns = j.until_ns();
  if (!j.table().empty()) {
    auto table = pipeline_->FindTable(j.table());
    if (!table) {
      return absl::InvalidArgumentError(absl::StrCat(
          "history entry ", j.seq(), ": unknown table ", j.table()));
    }
    e.table = *table;
    e.partition = InternPartition(j.partition());
  }
  if (!j.worker().empty()) e.worker = InternWorker(j.worker());
  if (!j.event_id().empty() || !j.origin().empty() || !j.detail().empty() ||
      !j.attributes().empty()) {
    e.text = std::make_shared<EntryText>(
        EntryText{j.event_id(), j.origin(), SortedAttributes(j.attributes()),
                  j.detail()});
  }
  if (!j.priority_class().empty()) {
    auto cls = pipeline_->FindPriorityClass(j.priority_class());
    if (!cls) return absl::InvalidArgumentError("unknown class in history");
    e.target = *cls;
  }
  if (e.kind == EntryKind::kPoolResized) {
    auto pool = pipeline_->FindPool(j.pool());
    if (!pool) return absl::InvalidArgumentError("unknown pool in history");
    e.target = *pool;
  }
  Emit(std::move(e));
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Lookup

PartitionId Core::InternPartition(const std::string& partition) {
  auto [it, added] = partition_ids_.emplace(
      partition, static_cast<PartitionId>(partitions_.size()));
  if (added) {
    partitions_.push_back(partition);
    partition_names_.push_back(partitions_.back());
    RankPartition(it->second);
  }
  return it->second;
}

void Core::RankPartition(PartitionId id) {
  // Appended names (dates, hours) take the last rank plus a gap; names in
  // between halve their neighbours' gap. Renumbering is rare: it needs 32
  // names in a row between the same two.
  constexpr uint64_t kGap = uint64_t{1} << 32;
  auto [it, added] = partitions_in_order_.emplace(partitions_[id], id);
  partition_ranks_.resize(partitions_.size());
  const uint64_t below = it == partitions_in_order_.begin()
                             ? 0
                             : partition_ranks_[std::prev(it)->second];
  const auto next = std::next(it);
  if (next == partitions_in_order_.end()) {
    if (std::numeric_limits<uint64_t>::max() - below > kGap) {
      partition_ranks_[id] = below + kGap;
      return;
    }
  } else if (const uint64_t above = partition_ranks_[next->second];
             above - below >= 2) {
    partition_ranks_[id] = below + (above - below) / 2;
    return;
  }
  uint64_t rank = 0;
  for (const auto& [name, p] : partitions_in_order_) {
    rank += kGap;
    partition_ranks_[p] = rank;
  }
}

std::optional<PartitionId> Core::FindPartition(const std::string& p) const {
  auto it = partition_ids_.find(p);
  if (it == partition_ids_.end()) return std::nullopt;
  return it->second;
}

int32_t Core::InternWorker(const std::string& worker) {
  // A host claims for the same worker again and again: no hashing then.
  if (last_worker_ >= 0 && workers_[last_worker_] == worker) {
    return last_worker_;
  }
  auto [it, added] =
      worker_ids_.emplace(worker, static_cast<int32_t>(workers_.size()));
  if (added) workers_.push_back(worker);
  last_worker_ = it->second;
  return it->second;
}

SlotIndex Core::SlotOf(const Entry& e) {
  return e.slot != kNoSlot ? e.slot : GetOrCreateSlot(e.table, e.partition);
}

SlotIndex Core::GetOrCreateSlot(TableId table, PartitionId p, bool* created) {
  const std::optional<SlotIndex> found = FindSlot(table, p);
  if (created != nullptr) *created = !found;
  if (found) return *found;
  Slot slot;
  slot.table = table;
  slot.partition = p;
  CountInputs(slot);
  const SlotIndex s = AddSlot(slot);
  AddOriginReader(slots_[s]);
  CountRecorded(slots_[s], 1);
  return s;
}

SlotIndex Core::AddSlot(const Slot& slot) {
  const SlotIndex s = static_cast<SlotIndex>(slots_.size());
  slots_.push_back(slot);
  TableRuntime& rt = tables_[slot.table];
  if (rt.slot_list == TableRuntime::kNoSlots) {
    rt.slot_list = TableRuntime::kOneSlot;
  } else {
    if (rt.slot_list == TableRuntime::kOneSlot) {
      rt.slot_list = static_cast<int32_t>(slot_lists_.size());
      // Its one slot is the latest if the table is versioned.
      slot_lists_.push_back({{rt.recent_slot}, rt.recent_slot});
    }
    slot_lists_[rt.slot_list].slots.push_back(s);
    // The slot recent until now is found by the map from here on.
    slot_ids_.insert(rt.recent_slot);
  }
  rt.recent_partition = slot.partition;
  rt.recent_slot = s;
  return s;
}

void Core::CountInputs(Slot& slot) const {
  const TableRuntime& table = tables_[slot.table];
  slot.missing_inputs = 0;
  slot.newest_input_seq = 0;
  if (table.windowed) {
    CountWindowInputs(slot);
    return;
  }
  for (TableId up : pipeline_->Upstreams(slot.table)) {
    // An unpartitioned upstream of a partitioned table is a requirement
    // only: it must have arrived, but its new versions make nothing due.
    const bool requirement = !tables_[up].partitioned && table.partitioned;
    const std::optional<SlotIndex> input = InputSlot(up, slot);
    const int64_t seq =
        input && slots_[*input].version > 0 ? slots_[*input].version_seq : 0;
    if (seq == 0 && (requirement || !table.trigger_any)) {
      ++slot.missing_inputs;
    }
    if (!requirement) {
      slot.newest_input_seq = std::max(slot.newest_input_seq, seq);
    }
  }
}

void Core::Propagate(SlotIndex s, bool first_version,
                     bool first_table_version) {
  touched_.clear();
  const TableId up = slots_[s].table;
  const PartitionId p = slots_[s].partition;
  const int64_t seq = slots_[s].version_seq;
  const bool up_partitioned = tables_[up].partitioned;
  for (TableId down : pipeline_->Downstreams(up)) {
    const TableRuntime& table = tables_[down];
    if (table.windowed) {
      PropagateToWindows(s, down, first_version);
      continue;
    }
    if (!up_partitioned && table.partitioned) {
      PropagateRequirement(down, first_version);
      continue;
    }
    const bool any_partition = up_partitioned && !table.partitioned;
    bool created;
    const SlotIndex d =
        GetOrCreateSlot(down, table.partitioned ? p : 0, &created);
    if (!created) {  // A new slot counted this version already.
      Slot& slot = slots_[d];
      const bool arrived = any_partition ? first_table_version : first_version;
      if (arrived && !table.trigger_any) --slot.missing_inputs;
      slot.newest_input_seq = std::max(slot.newest_input_seq, seq);
    }
    touched_.push_back(d);
  }
}

void Core::PropagateRequirement(TableId down, bool first_version) {
  if (first_version) {
    // A requirement arrived for the first time: every partition waiting
    // for it has one input fewer to wait for.
    for (SlotIndex d : SlotsOf(down)) {
      --slots_[d].missing_inputs;
      touched_.push_back(d);
    }
  } else if (!forced_tables_.empty() && forced_tables_.contains(down)) {
    // Not a trigger, but reruns asked for wait for this rebuild.
    for (SlotIndex d : SlotsOf(down)) {
      if (slots_[d].forced) touched_.push_back(d);
    }
  }
}

void Core::AddTasksOnLandedData() {
  touched_.clear();
  for (TableId d = 0; d < pipeline_->table_count(); ++d) {
    const TableRuntime& table = tables_[d];
    // A derived table with tasks got them from upstream versions already,
    // unless a deploy changed its upstreams.
    if (table.source || (table.has_slots() && !InDeployPlan(d))) continue;
    // The partitions its partitioned upstreams have versions of (identity
    // mapping), or "" for an unpartitioned table with any upstream version.
    std::vector<PartitionId> partitions;
    if (table.windowed) partitions = WindowPartitionsOnLandedData(d);
    for (TableId up : pipeline_->Upstreams(d)) {
      const bool requirement = !tables_[up].partitioned && table.partitioned;
      if (requirement || table.windowed) continue;
      for (SlotIndex s : SlotsOf(up)) {
        if (slots_[s].version > 0) partitions.push_back(slots_[s].partition);
      }
    }
    if (!table.partitioned && !partitions.empty()) partitions = {0};
    std::sort(partitions.begin(), partitions.end(),
              [&](PartitionId a, PartitionId b) {
                return PartitionName(a) < PartitionName(b);
              });
    partitions.erase(std::unique(partitions.begin(), partitions.end()),
                     partitions.end());
    for (PartitionId p : partitions) {
      touched_.push_back(GetOrCreateSlot(d, p));
    }
  }
}

absl::StatusOr<TableId> Core::LookupTable(const std::string& name) const {
  auto table = pipeline_->FindTable(name);
  if (!table) return absl::NotFoundError(UnknownTable(*pipeline_, name));
  return *table;
}

absl::StatusOr<TableId> Core::LookupDerivedTable(
    const std::string& name) const {
  absl::StatusOr<TableId> table = LookupTable(name);
  if (table.ok() && info_[*table].source) {
    return absl::InvalidArgumentError(
        absl::StrCat("table \"", name, "\" is a source table: it has no task"));
  }
  return table;
}

absl::StatusOr<SlotIndex> Core::FindTask(const TaskKey& key) const {
  absl::StatusOr<TableId> table = LookupDerivedTable(key.table);
  if (!table.ok()) return table.status();
  std::optional<SlotIndex> slot;
  if (IsRecentPartition(*table, key.partition)) {
    slot = tables_[*table].recent_slot;
  } else if (auto p = FindPartition(key.partition)) {
    slot = FindSlot(*table, *p);
  }
  if (!slot) {
    return absl::NotFoundError(
        absl::StrCat("no task ", key.table, "/", key.partition, " yet"));
  }
  return *slot;
}

absl::StatusOr<SlotIndex> Core::FindTask(const TaskKey& key,
                                         uint64_t id) const {
  if (id != 0 && id <= slots_.size()) {
    const SlotIndex s = static_cast<SlotIndex>(id - 1);
    const Slot& slot = slots_[s];
    if (!info_[slot.table].source && info_[slot.table].name == key.table &&
        PartitionView(slot.partition) == key.partition) {
      return s;
    }
  }
  return FindTask(key);
}

void Core::SetLastArrival(SlotIndex s, int64_t ns) {
  if (info_[slots_[s].table].source) {
    slots_[s].stamp_ns = ns;
  } else {
    other_stamps_[s] = ns;
  }
}

void Core::SetLastSuccess(SlotIndex s, int64_t ns) {
  if (info_[slots_[s].table].source) {
    other_stamps_[s] = ns;
  } else {
    slots_[s].stamp_ns = ns;
  }
}

TaskKey Core::KeyOf(SlotIndex s) const {
  return TaskKey{info_[slots_[s].table].name,
                 PartitionName(slots_[s].partition)};
}

// ---------------------------------------------------------------------------
// Queue and counters

bool Core::TimerLive(const Timer& timer) const {
  const Slot& slot = slots_[timer.second];
  return (slot.phase == Phase::kRunning || slot.phase == Phase::kRetryWait) &&
         TimeOf(slot) == timer.first;
}

void Core::PushTimer(SlotIndex s) {
  ++live_timers_;
  if (timers_.size() > 2 * live_timers_ + 1024) {
    std::vector<Timer> live;
    for (const Timer& timer : timers_) {
      if (TimerLive(timer)) live.push_back(timer);
    }
    std::sort(live.begin(), live.end());
    live.erase(std::unique(live.begin(), live.end()), live.end());
    timers_ = std::move(live);
    std::make_heap(timers_.begin(), timers_.end(), std::greater<>());
  }
  timers_.emplace_back(TimeOf(slots_[s]), s);
  std::push_heap(timers_.begin(), timers_.end(), std::greater<>());
}

void Core::Detach(SlotIndex s) {
  const Slot& slot = slots_[s];
  CountRecorded(slot, -1);
  // A waiting or dead task holds no timer and counts for nothing.
  if (slot.phase == Phase::kWaiting || slot.phase == Phase::kDead) return;
  if (slot.phase != Phase::kReady) --live_timers_;  // Its entry goes stale.
  const TableRuntime& table = tables_[slot.table];
  if (table.source || !Counts(slot)) return;
  --Active(table.pool, table.priority_class);
  --active_by_class_[table.priority_class];
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
  ++Active(pool, cls);
  ++active_by_class_[cls];
  if (slot.phase == Phase::kReady) {
    const ReadyKey key{table.longest_path, TimeOf(slot), slot.table,
                       slot.partition, s};
    auto live = [&](const ReadyKey& k) { return ReadyLive(k, pool, cls); };
    Queue& queue = ReadyOf(pool, cls);
    queue.Push(key, live);
    if (Waits* waits = GateWaitOf(pool, cls)) {
      waits->Push(key, queue.LiveCount(), live);
    }
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
  if (slot.forced != forced) Count(forced_tables_, slot.table, forced ? 1 : -1);
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
  for (char c : PartitionName(slot.partition)) mix(static_cast<uint8_t>(c));
  mix(static_cast<uint64_t>(slot.attempt));
  const uint64_t range = static_cast<uint64_t>(absl::ToInt64Nanoseconds(wait));
  // Multiply-shift maps the 64-bit draw onto [0, range].
  const unsigned __int128 scaled =
      static_cast<unsigned __int128>(x) * (range + 1);
  return absl::Nanoseconds(static_cast<int64_t>(scaled >> 64));
}

void Core::CountUnhealthy(TableId table, int32_t delta) {
  Count(unhealthy_tables_, table, delta);
  unhealthy_ += delta;
}

// ---------------------------------------------------------------------------
// Readiness

bool Core::InputUnhealthy(TableId up, TableId table, PartitionId p) const {
  // Most tables (every source) have no dead or blocked task: no lookup.
  if (!unhealthy_tables_.contains(up)) return false;
  if (tables_[table].windowed) return WindowInputUnhealthy(up, table, p);
  const bool up_partitioned = tables_[up].partitioned;
  // An unpartitioned reader needs every partition of a partitioned one.
  if (up_partitioned && !tables_[table].partitioned) return true;
  auto s = FindSlot(up, up_partitioned ? p : 0);
  return s && (slots_[*s].phase == Phase::kDead || slots_[*s].blocked);
}

bool Core::UpstreamUnhealthy(TableId table, PartitionId p) const {
  if (unhealthy_ == 0) return false;  // Most of the time: no lookups.
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
