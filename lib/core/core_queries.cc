// Read-only views of the core: task states, explain, freshness, history.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/core/core.h"
#include "lib/core/plural.h"
#include "lib/core/rfc3339.h"
#include "lib/core/saturating.h"

namespace landfall::internal {
namespace {

std::string Rfc3339(int64_t ns) {
  return internal::Rfc3339(absl::FromUnixNanos(ns));
}

}  // namespace

TaskState Core::StateOf(const Slot& slot, int64_t now) const {
  switch (slot.phase) {
    case Phase::kRunning:
      return now >= TimeOf(slot) ? TaskState::kExpired : TaskState::kRunning;
    case Phase::kRetryWait:
      // The next write records the retry as due, as kRetryDue's Apply does.
      if (now < TimeOf(slot)) return TaskState::kRetryWait;
      if (slot.blocked) return TaskState::kBlocked;
      return Paused(slot.table) ? TaskState::kPaused : TaskState::kReady;
    default:
      return RecordedState(slot);  // Not a matter of time.
  }
}

TaskStatus Core::StatusOf(SlotIndex s, int64_t now) const {
  const Slot& slot = slots_[s];
  TaskStatus status;
  status.task = KeyOf(s);
  status.state = StateOf(slot, now);
  status.attempt = slot.attempt;
  status.run_attempts = slot.run_attempts;
  status.version = slot.version;
  if (slot.phase == Phase::kReady || status.state == TaskState::kReady ||
      status.state == TaskState::kPaused) {
    status.ready_since = absl::FromUnixNanos(TimeOf(slot));
  }
  if (slot.phase == Phase::kRunning || status.state == TaskState::kRetryWait) {
    status.deadline = absl::FromUnixNanos(TimeOf(slot));
  }
  if (const int64_t success = LastSuccess(s); success != 0) {
    status.last_success = absl::FromUnixNanos(success);
  }
  if (slot.phase == Phase::kRunning && WorkerOf(slot) >= 0) {
    status.worker = workers_[WorkerOf(slot)];
  }
  if (auto it = errors_.find(s); it != errors_.end()) {
    status.last_error = it->second;
  }
  return status;
}

std::string Core::BlockerOf(SlotIndex s) const {
  // Walk up through dead or blocked upstream tasks to a dead one.
  SlotIndex at = s;
  for (int guard = 0; guard <= pipeline_->table_count(); ++guard) {
    const Slot& slot = slots_[at];
    if (slot.phase == Phase::kDead && at != s) {
      return absl::StrCat(info_[slot.table].name,
                          slot.partition == 0 ? "" : "/",
                          partitions_.Name(slot.partition), " (dead)");
    }
    std::optional<SlotIndex> next;
    const bool partitioned = info_[slot.table].partitioned;
    if (tables_[slot.table].windowed) next = UnhealthyWindowInput(slot);
    for (TableId up : pipeline_->Upstreams(slot.table)) {
      if (next) break;
      if (info_[up].source) continue;
      const bool up_partitioned = info_[up].partitioned;
      if (up_partitioned && !partitioned) {
        for (SlotIndex u : SlotsOf(up)) {
          if (slots_[u].phase == Phase::kDead || slots_[u].blocked) next = u;
        }
      } else if (auto u = FindSlot(up, up_partitioned ? slot.partition : 0);
                 u &&
                 (slots_[*u].phase == Phase::kDead || slots_[*u].blocked)) {
        next = u;
      }
      if (next) break;
    }
    if (!next) break;
    at = *next;
  }
  return "a dead upstream task";
}

absl::StatusOr<Explanation> Core::Explain(const TaskKey& key, int64_t now) {
  absl::StatusOr<TableId> table_id = LookupTable(key.table);
  if (!table_id.ok()) return table_id.status();
  const Table& table = info_[*table_id];
  Explanation x;
  x.status.task = key;
  if (table.source) {
    x.reasons.push_back(absl::StrCat(key.table,
                                     " is a source table: it only receives "
                                     "arrivals"));
    return x;
  }
  auto p = partitions_.Find(key.partition);
  std::optional<SlotIndex> s;
  if (p) s = FindSlot(*table_id, *p);
  Slot probe;
  probe.table = *table_id;
  probe.partition = p.value_or(0);
  const Slot& slot = s ? slots_[*s] : probe;
  if (s) x.status = StatusOf(*s, now);
  const std::string cls_name =
      pipeline_->priority_classes()[tables_[*table_id].priority_class].name;
  if (tables_[*table_id].paused) {
    x.reasons.push_back(absl::StrCat("table ", key.table, " is paused"));
  }
  if (class_paused_[tables_[*table_id].priority_class]) {
    x.reasons.push_back(
        absl::StrCat("priority class ", cls_name, " is paused"));
  }
  switch (slot.phase) {
    case Phase::kRunning: {
      const int32_t w = WorkerOf(slot);
      const std::string worker = w >= 0 ? workers_[w] : "?";
      if (now >= TimeOf(slot)) {
        x.reasons.push_back(absl::StrCat(
            "the lease of attempt ", slot.attempt, " on worker ", worker,
            " ended at ", Rfc3339(TimeOf(slot)),
            " without a heartbeat: the next write fails the attempt (",
            slot.run_attempts >= table.retry.max_attempts
                ? "its retries are spent: it goes to the dead letter)"
                : "it backs off and retries)"));
      } else {
        x.reasons.push_back(
            absl::StrCat("running attempt ", slot.attempt, " on worker ",
                         worker, ", lease until ", Rfc3339(TimeOf(slot))));
      }
      return x;
    }
    case Phase::kRetryWait:
      if (now < TimeOf(slot)) {
        x.reasons.push_back(absl::StrCat(
            "backing off until ", Rfc3339(TimeOf(slot)), " after attempt ",
            slot.attempt, " failed: ", x.status.last_error));
        return x;
      }
      break;  // Due again: explained as a ready task below.
    case Phase::kDead:
      x.reasons.push_back(absl::StrCat("dead after ",
                                       Counted(slot.run_attempts, "attempt"),
                                       "; last error: ", x.status.last_error,
                                       " (redrive or mark it succeeded)"));
      return x;
    default:
      break;
  }
  if (slot.blocked) {
    x.reasons.push_back(absl::StrCat("blocked: needs ", BlockerOf(*s)));
    return x;
  }
  if (slot.phase == Phase::kRetryWait) {
    x.reasons.push_back(absl::StrCat(
        "its backoff after attempt ", slot.attempt, " ended at ",
        Rfc3339(TimeOf(slot)), ": due again (", x.status.last_error, ")"));
  }
  if (slot.phase == Phase::kWaiting) {
    std::vector<std::string> missing;
    if (tables_[*table_id].windowed) {
      missing = MissingWindowInputs(*table_id, key.partition);
    }
    for (TableId up : pipeline_->Upstreams(*table_id)) {
      if (tables_[*table_id].windowed) break;
      const std::optional<SlotIndex> input = InputSlot(up, slot);
      if (!input || slots_[*input].version == 0) {
        missing.push_back(absl::StrCat(
            info_[up].name, info_[up].partitioned && table.partitioned
                                ? "/" + key.partition
                                : ""));
      }
    }
    if (!missing.empty()) {
      x.reasons.push_back(absl::StrCat("waiting for upstreams: ",
                                       absl::StrJoin(missing, ", ")));
    } else {
      x.reasons.push_back(
          slot.version > 0 && s && LastSuccess(*s) != 0
              ? "up to date: no upstream is newer than its last success"
              : "not due: nothing has triggered it");
    }
    return x;
  }
  // Ready: why it is not running yet.
  if (Paused(*table_id)) return x;
  const PoolId pool = table.pool;
  bool gated = false;
  if (std::string why = GateReason(*s, now, &gated); !why.empty()) {
    x.reasons.push_back(std::move(why));
    if (gated) return x;
  }
  const int free = pool_capacity_[pool] - pool_used_[pool];
  if (free < table.pool_slots) {
    x.reasons.push_back(absl::StrCat(
        "pool ", pipeline_->pools()[pool].name, " is full: ", pool_used_[pool],
        " of ", Counted(pool_capacity_[pool], "slot"),
        " in use, the task needs ", table.pool_slots));
    return x;
  }
  x.reasons.push_back(absl::StrCat("ready since ", Rfc3339(TimeOf(slot)),
                                   ": the next claim takes it"));
  return x;
}

std::string Core::GateReason(SlotIndex s, int64_t now, bool* gated) {
  const Slot& slot = slots_[s];
  const PoolId pool = tables_[slot.table].pool;
  const PriorityClass& mine = classes_info_[tables_[slot.table].priority_class];
  const PriorityGate gate = pipeline_->priority_gate();
  if (gate == PriorityGate::kOff) return "";
  const std::string scope = gate == PriorityGate::kPool
                                ? absl::StrCat("pool ", pools_info_[pool].name)
                                : "the pipeline";
  // Whether class `h` has tasks waiting to retry in the scope.
  auto retrying = [&](ClassId h) {
    for (TableId t = 0; t < pipeline_->table_count(); ++t) {
      if (tables_[t].priority_class != h || Paused(t) ||
          (gate == PriorityGate::kPool && tables_[t].pool != pool)) {
        continue;
      }
      for (SlotIndex u : SlotsOf(t)) {
        if (slots_[u].phase == Phase::kRetryWait) return true;
      }
    }
    return false;
  };
  std::string note;  // Retrying tasks that hold nothing back.
  for (ClassId h = 0; h < mine.id; ++h) {
    const PriorityClass& holder = classes_info_[h];
    if (!holder.gate_holds_retrying && retrying(h)) {
      absl::StrAppend(&note, note.empty() ? "" : "; ", "retrying tasks of ",
                      holder.name, " hold no lower class");
    }
    const bool held = gate == PriorityGate::kPool
                          ? counts_.Active(pool, h) > 0
                          : counts_.ActiveInClass(h) > 0;
    if (!held) continue;
    const std::string what = absl::StrCat(
        "it has tasks ",
        holder.gate_holds_retrying ? "ready, running or retrying"
                                   : "ready or running",
        " in ", scope, note.empty() ? "" : " (", note, note.empty() ? "" : ")");
    if (mine.max_gate_wait == absl::InfiniteDuration()) {
      *gated = true;
      return absl::StrCat("gated by priority class ", holder.name,
                          " (strict): ", what);
    }
    const int64_t claimable = AddDuration(TimeOf(slot), mine.max_gate_wait);
    const std::string wait = absl::FormatDuration(mine.max_gate_wait);
    if (now < claimable) {
      *gated = true;
      return absl::StrCat("gated by priority class ", holder.name,
                          " (max_gate_wait ", wait, ": claimable at ",
                          Rfc3339(claimable), "): ", what);
    }
    return absl::StrCat("past its max_gate_wait of ", wait, " (ready since ",
                        Rfc3339(TimeOf(slot)), "): the gate of priority class ",
                        holder.name,
                        " lets it pass, after every claimable task of a "
                        "higher class");
  }
  return note;
}

absl::StatusOr<Freshness> Core::GetFreshness(const std::string& table,
                                             int64_t now) {
  absl::StatusOr<TableId> t = LookupTable(table);
  if (!t.ok()) return t.status();
  Freshness f;
  f.table = table;
  f.max_lag = info_[*t].max_lag;
  int64_t last_update = 0;
  for (SlotIndex s : SlotsOf(*t)) {
    const Slot& slot = slots_[s];
    if (slot.version == 0) continue;
    PartitionFreshness pf;
    pf.partition = partitions_.Name(slot.partition);
    pf.version = slot.version;
    const int64_t arrival = LastArrival(s);
    const int64_t success = LastSuccess(s);
    if (arrival != 0) pf.last_arrival = absl::FromUnixNanos(arrival);
    if (success != 0) pf.last_success = absl::FromUnixNanos(success);
    last_update = std::max({last_update, arrival, success});
    if (pf.partition > f.latest_partition || f.partitions.empty()) {
      f.latest_partition = pf.partition;
    }
    f.partitions.push_back(std::move(pf));
  }
  std::sort(f.partitions.begin(), f.partitions.end(),
            [](const PartitionFreshness& a, const PartitionFreshness& b) {
              return a.partition < b.partition;
            });
  if (last_update != 0) f.last_update = absl::FromUnixNanos(last_update);
  if (f.max_lag != absl::InfiniteDuration()) {
    f.stale = absl::FromUnixNanos(now) - f.last_update > f.max_lag;
  }
  return f;
}

TaskList Core::List(const ListFilter& filter, int64_t now) {
  TaskList list;
  std::optional<TableId> only;
  if (!filter.table.empty()) {
    only = pipeline_->FindTable(filter.table);
    if (!only) return list;
  }
  for (TableId t = 0; t < pipeline_->table_count(); ++t) {
    if ((only && t != *only) || info_[t].source) continue;
    const absl::Span<const SlotIndex> of = SlotsOf(t);
    std::vector<SlotIndex> slots(of.begin(), of.end());
    std::sort(slots.begin(), slots.end(), [&](SlotIndex a, SlotIndex b) {
      return partitions_.Name(slots_[a].partition) <
             partitions_.Name(slots_[b].partition);
    });
    for (SlotIndex s : slots) {
      TaskStatus status = StatusOf(s, now);
      if (filter.state && status.state != *filter.state) continue;
      const std::string state = TaskStateName(status.state);
      ++list.by_state[state];
      ++list.by_pool[pipeline_->pools()[info_[t].pool].name][state];
      ++list.by_class[pipeline_->priority_classes()[tables_[t].priority_class]
                          .name][state];
      list.tasks.push_back(std::move(status));
    }
  }
  return list;
}

TaskGauges Core::Gauges() const {
  TaskGauges gauges;
  gauges.last_seq = last_seq_;
  const size_t classes = classes_info_.size();
  for (size_t p = 0; p < pools_info_.size(); ++p) {
    gauges.pools.push_back(TaskGauges::PoolSlots{
        pools_info_[p].name, pool_capacity_[p], pool_used_[p]});
    for (size_t c = 0; c < classes; ++c) {
      TaskGauges::Group group;
      group.pool = pools_info_[p].name;
      group.priority_class = classes_info_[c].name;
      const int64_t* counts = counts_.RecordedInQueue(p * classes + c);
      std::copy(counts, counts + kTaskStateCount, group.tasks.begin());
      gauges.groups.push_back(std::move(group));
    }
  }
  return gauges;
}

std::vector<TaskStatus> Core::DeadLetter(int64_t now) {
  ListFilter filter;
  filter.state = TaskState::kDead;
  return List(filter, now).tasks;
}

std::vector<HistoryEntry> Core::ReadHistory(int64_t from_seq,
                                            size_t max) const {
  std::vector<HistoryEntry> out;
  for (int64_t seq = std::max(from_seq, history_.OldestHeld(last_seq_));
       seq <= last_seq_ && out.size() < max; ++seq) {
    out.push_back(ToPublic(*history_.Find(seq, last_seq_)));
  }
  return out;
}

std::string Core::DebugState() const {
  std::vector<std::string> lines;
  for (SlotIndex s = 0; s < slots_.size(); ++s) {
    const Slot& slot = slots_[s];
    auto error = errors_.find(s);
    lines.push_back(absl::StrCat(
        info_[slot.table].name, "/", partitions_.Name(slot.partition),
        " phase=", static_cast<int>(slot.phase), " blocked=", slot.blocked,
        " forced=", slot.forced, " run=", slot.run_attempts, " attempt=",
        slot.attempt, " ended=", static_cast<int>(slot.last_outcome),
        " worker=", WorkerOf(slot) >= 0 ? workers_[WorkerOf(slot)] : "", " v=",
        slot.version, "@", slot.version_seq, " consumed=", slot.consumed_seq,
        " claim=", ClaimSeqOf(slot), " time=", TimeOf(slot),
        " inputs=", slot.missing_inputs, "/", slot.newest_input_seq,
        " arrival=", LastArrival(s), " success=", LastSuccess(s),
        " error=", error == errors_.end() ? "" : error->second));
  }
  std::sort(lines.begin(), lines.end());
  for (TableId t = 0; t < pipeline_->table_count(); ++t) {
    lines.push_back(absl::StrCat(
        "table ", t, " class=", tables_[t].priority_class, " paused=",
        tables_[t].paused, " unhealthy=", counts_.UnhealthyOf(t), " latest=",
        LatestSlot(t) == kNoSlot
            ? "-"
            : partitions_.Name(slots_[LatestSlot(t)].partition)));
  }
  for (size_t p = 0; p < pool_capacity_.size(); ++p) {
    lines.push_back(
        absl::StrCat("pool ", p, " ", pool_used_[p], "/", pool_capacity_[p]));
  }
  for (size_t c = 0; c < class_paused_.size(); ++c) {
    lines.push_back(absl::StrCat(
        "class ", c, " paused=", class_paused_[c] != 0,
        " active=", counts_.ActiveInClass(static_cast<ClassId>(c))));
  }
  // The counters Apply keeps as it goes (Detach and Attach, or the fast
  // paths): a replay and a restore rebuild them, and must agree.
  const size_t classes = classes_info_.size();
  for (size_t group = 0; group < counts_.queue_count(); ++group) {
    const int64_t* recorded = counts_.RecordedInQueue(group);
    lines.push_back(
        absl::StrCat("queue ", group / classes, "/", group % classes,
                     " active=", counts_.ActiveInQueue(group),
                     " ready=", ready_[group].LiveCount(), " recorded=",
                     absl::StrJoin(recorded, recorded + kTaskStateCount, ",")));
  }
  lines.push_back(absl::StrCat("timers ", timers_.LiveCount()));
  std::vector<std::string> events;
  seen_events_.ForEachId(
      [&](absl::string_view id, const SeenEvents::Seen& seen) {
        events.push_back(absl::StrCat("event ", id, "@", seen.at_ns));
      });
  std::sort(events.begin(), events.end());
  lines.insert(lines.end(), events.begin(), events.end());
  AppendOriginsDebug(&lines);
  lines.push_back(absl::StrCat("last_seq ", last_seq_));
  return absl::StrJoin(lines, "\n");
}

}  // namespace landfall::internal
