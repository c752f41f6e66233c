// The operations: each checks its input, decides, and emits entries.
#include <algorithm>
#include <cmath>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "lib/core/arrival_check.h"
#include "lib/core/core.h"
#include "lib/core/rfc3339.h"
#include "lib/core/saturating.h"

namespace landfall::internal {
namespace {

std::string Describe(const TaskKey& key) {
  return key.partition.empty() ? key.table
                               : absl::StrCat(key.table, "/", key.partition);
}

// How an attempt that ended with `outcome` ended, for people.
std::string HowEnded(Outcome outcome) {
  switch (outcome) {
    case Outcome::SUCCEEDED:
      return "it succeeded";
    case Outcome::LEASE_EXPIRED:
      return "its lease expired";
    default:
      return absl::StrCat("it failed ", Outcome_Name(outcome));
  }
}

}  // namespace

absl::Status Core::Ingest(absl::Span<const Arrival> arrivals, int64_t now,
                          absl::Span<IngestResult> results) {
  // Check everything first so that a bad arrival changes nothing.
  absl::InlinedVector<TableId, 1> tables;
  tables.reserve(arrivals.size());
  for (size_t i = 0; i < arrivals.size(); ++i) {
    absl::StatusOr<TableId> table =
        CheckArrival(*pipeline_, arrivals[i], i, arrivals.size());
    if (!table.ok()) return table.status();
    tables.push_back(*table);
  }
  // Ids seen before this are forgotten (the next arrival's entry drops them).
  const int64_t horizon = DedupHorizon(now);
  for (size_t i = 0; i < arrivals.size(); ++i) {
    const Arrival& a = arrivals[i];
    Entry e;
    e.at_ns = now;
    e.table = tables[i];
    e.partition = ArrivalPartition(e.table, a.partition());
    if (const SeenEvents::Seen* seen = seen_events_.Find(a.event_id());
        seen != nullptr && seen->at_ns >= horizon) {
      e.kind = EntryKind::kDuplicate;
      // The first delivery's text serves when it landed at the same place.
      e.text = seen->text->origin == a.origin()
                   ? seen->text
                   : std::make_shared<EntryText>(
                         EntryText{a.event_id(), a.origin(), {}, ""});
      Emit(std::move(e));
      results[i].duplicate = true;
      continue;
    }
    e.kind = EntryKind::kArrival;
    e.until_ns =
        a.has_at() ? a.at().seconds() * 1000000000 + a.at().nanos() : now;
    e.text = std::make_shared<EntryText>(EntryText{
        a.event_id(), a.origin(), SortedAttributes(a.attributes()), ""});
    e.slot = GetOrCreateSlot(e.table, e.partition);
    const SlotIndex landed = e.slot;
    Emit(std::move(e));
    Trigger(now, &results[i].made_ready, landed);
  }
  return absl::OkStatus();
}

void Core::InputsOf(const Slot& slot,
                    absl::InlinedVector<InputVersion, 4>* inputs) const {
  if (tables_[slot.table].windowed) {
    WindowInputsOf(slot, inputs);
    return;
  }
  const absl::Span<const TableId> upstreams = pipeline_->Upstreams(slot.table);
  const absl::string_view name = partitions_.View(slot.partition);
  const std::string_view partition(name.data(), name.size());
  if (upstreams.size() > inputs->capacity()) inputs->reserve(upstreams.size());
  for (TableId up : upstreams) {
    const std::optional<SlotIndex> s = InputSlot(up, slot);
    if (!s) continue;
    const Slot& input = slots_[*s];
    // Most inputs are of the task's own partition, already at hand.
    InputVersion& in = inputs->emplace_back();
    in.table = info_[up].name;
    in.partition = input.partition == slot.partition
                       ? partition
                       : std::string_view(partitions_.Name(input.partition));
    in.version = input.version;
    OriginsOf(slot, up, *s, &in);
  }
}

absl::Status Core::CheckAttempt(SlotIndex s, int64_t attempt, int64_t now) {
  const Slot& slot = slots_[s];
  if (AttemptLive(slot, attempt, now)) return absl::OkStatus();
  if (Ended(slot, attempt)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "attempt ", attempt, " of ", Describe(KeyOf(s)),
        " already ended: ", HowEnded(static_cast<Outcome>(slot.last_outcome))));
  }
  if (slot.phase != Phase::kRunning || slot.attempt != attempt) {
    return absl::FailedPreconditionError(absl::StrCat(
        "attempt ", attempt, " of ", Describe(KeyOf(s)),
        " is stale: the task is ", TaskStateName(StateOf(slot, now)),
        " and its latest attempt is ", slot.attempt));
  }
  // The running attempt, past its lease: the next Poll fails it.
  return absl::FailedPreconditionError(absl::StrCat(
      "attempt ", attempt, " of ", Describe(KeyOf(s)), " lost its lease at ",
      Rfc3339(absl::FromUnixNanos(TimeOf(slot)))));
}

absl::Status Core::Heartbeat(const TaskKey& key, int64_t attempt,
                             absl::Duration lease, int64_t now) {
  absl::StatusOr<SlotIndex> s = FindTask(key);
  if (!s.ok()) return s.status();
  if (absl::Status status = CheckAttempt(*s, attempt, now); !status.ok()) {
    return status;
  }
  Entry e = NewEntry(EntryKind::kHeartbeat, *s, now);
  e.attempt = attempt;
  e.worker = WorkerOf(slots_[*s]);
  e.until_ns = AddDuration(now, lease > absl::ZeroDuration()
                                    ? lease
                                    : info_[slots_[*s].table].lease);
  Emit(std::move(e));
  return absl::OkStatus();
}

absl::Status Core::Complete(const TaskKey& key, uint64_t id, int64_t attempt,
                            Outcome outcome, const std::string& message,
                            int64_t now) {
  // A number cast to Outcome that names none would read as a failure.
  if (!Outcome_IsValid(outcome)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown outcome ", static_cast<int>(outcome)));
  }
  absl::StatusOr<SlotIndex> s = FindTask(key, id);
  if (!s.ok()) return s.status();
  // The usual completion, of the running attempt within its lease, passes
  // both checks below: it skips them.
  const Slot& slot = slots_[*s];
  if (!AttemptLive(slot, attempt, now)) {
    // A host repeating a completion (after a lost reply) is told it is
    // done; another outcome for an attempt that ended is refused by
    // CheckAttempt.
    if (Ended(slot, attempt) &&
        outcome == static_cast<Outcome>(slot.last_outcome)) {
      return absl::OkStatus();
    }
    if (absl::Status status = CheckAttempt(*s, attempt, now); !status.ok()) {
      return status;
    }
  }
  if (outcome != Outcome::SUCCEEDED) {
    Fail(*s, outcome, message, now);
    return absl::OkStatus();
  }
  Entry e = NewEntry(EntryKind::kSucceeded, *s, now);
  e.attempt = attempt;
  e.worker = WorkerOf(slots_[*s]);
  if (!message.empty()) {
    e.text = std::make_shared<EntryText>(EntryText{"", "", {}, message});
  }
  Emit(std::move(e));
  Trigger(now, nullptr, *s);
  Evaluate(*s, now, nullptr);  // Due again if an input changed meanwhile.
  return absl::OkStatus();
}

void Core::Fail(SlotIndex s, Outcome outcome, const std::string& message,
                int64_t now) {
  const Slot& slot = slots_[s];
  const RetryPolicy& retry = info_[slot.table].retry;
  const bool dead =
      outcome == Outcome::FATAL || slot.run_attempts >= retry.max_attempts;
  Entry e =
      NewEntry(dead ? EntryKind::kDead : EntryKind::kRetryScheduled, s, now);
  e.attempt = slot.attempt;
  e.worker = WorkerOf(slot);
  e.outcome = outcome;
  e.text = std::make_shared<EntryText>(EntryText{
      "",
      "",
      {},
      message.empty() ? std::string(Outcome_Name(outcome)) : message});
  if (!dead) {
    // min(max, initial * multiplier^(n-1)) for the n-th failure of the run.
    const double factor =
        std::pow(retry.multiplier, std::max(0, slot.run_attempts - 1));
    absl::Duration wait =
        std::min(retry.max_backoff, retry.initial_backoff * factor);
    if (retry.jitter) wait = Jitter(slot, wait);
    e.until_ns = AddDuration(now, wait);
  }
  Emit(std::move(e));
  if (dead) BlockDescendants(s, now);
}

void Core::Poll(int64_t now) {
  // Without a live timer there is nothing to do, and the stale ones wait
  // for the next push to drop them unread.
  if (timers_.Empty()) return;
  // Stale timers past `now` stay for Compact: popping each costs more.
  for (const Timer* front;
       (front = timers_.Front()) != nullptr && front->first <= now;) {
    const Timer timer = timers_.PopEntry();
    if (!TimerLive(timer)) continue;
    const auto [at, s] = timer;
    if (slots_[s].phase == Phase::kRunning) {
      Fail(s, Outcome::LEASE_EXPIRED, "lease expired", at);
    } else {
      Entry e = NewEntry(EntryKind::kRetryDue, s, at);
      e.attempt = slots_[s].attempt;
      Emit(std::move(e));
    }
  }
}

std::optional<int64_t> Core::NextWakeup(int64_t now) {
  std::optional<int64_t> next = NextGateExpiry(now);
  const Timer* timer =
      timers_.Empty()
          ? nullptr
          : timers_.Top([this](const Timer& t) { return TimerLive(t); });
  if (timer != nullptr && (!next || timer->first < *next)) {
    next = timer->first;
  }
  return next;
}

template <typename F>
void Core::ForEachReader(SlotIndex s, F f) {
  const TableId table = slots_[s].table;
  for (TableId down : pipeline_->Downstreams(table)) {
    if (tables_[down].windowed) {
      ForEachWindowReader(s, down, f);
    } else if (!info_[table].partitioned && info_[down].partitioned) {
      // A copy: `f` may add slots to the table.
      const absl::Span<const SlotIndex> of = SlotsOf(down);
      const absl::InlinedVector<SlotIndex, 1> slots(of.begin(), of.end());
      for (SlotIndex d : slots) f(down, slots_[d].partition);
    } else {
      f(down, info_[down].partitioned ? slots_[s].partition : 0);
    }
  }
}

std::vector<SlotIndex> Core::DescendantTasks(SlotIndex start) {
  std::vector<SlotIndex> found;
  absl::flat_hash_set<SlotIndex> seen;
  std::vector<SlotIndex> frontier = {start};
  while (!frontier.empty()) {
    const SlotIndex s = frontier.back();
    frontier.pop_back();
    ForEachReader(s, [&](TableId down, PartitionId q) {
      std::optional<SlotIndex> d = FindSlot(down, q);
      if (!d || !seen.insert(*d).second) return;
      found.push_back(*d);
      frontier.push_back(*d);
    });
  }
  // Upstreams first, so that each is settled before its downstreams.
  std::stable_sort(found.begin(), found.end(), [&](SlotIndex a, SlotIndex b) {
    return pipeline_->TopologicalPosition(slots_[a].table) <
           pipeline_->TopologicalPosition(slots_[b].table);
  });
  return found;
}

void Core::BlockDescendants(SlotIndex s, int64_t now) {
  const auto text = std::make_shared<EntryText>(
      EntryText{"", "", {}, absl::StrCat("needs ", Describe(KeyOf(s)))});
  // Unhealthy tasks below `s`, upstreams first: each may block its readers.
  // A reader is blocked by DESIGN.md's rule, so a trigger ANY task with a
  // healthy upstream stays unblocked and shields its own readers; it is
  // visited again when another of its upstreams turns out unhealthy.
  auto later = [this](SlotIndex a, SlotIndex b) { return Later(a, b); };
  std::vector<SlotIndex> frontier = {s};
  absl::flat_hash_set<SlotIndex> expanded = {s};
  while (!frontier.empty()) {
    std::pop_heap(frontier.begin(), frontier.end(), later);
    const SlotIndex x = frontier.back();
    frontier.pop_back();
    ForEachReader(x, [&](TableId down, PartitionId q) {
      std::optional<SlotIndex> d = FindSlot(down, q);
      if (!d || !slots_[*d].blocked) {
        if (!UpstreamUnhealthy(down, q)) return;
        // A task the mapping names but nothing has triggered yet is made
        // (by its entry) so that it shows as blocked.
        Entry e = NewEntry(EntryKind::kBlocked,
                           d ? *d : GetOrCreateSlot(down, q), now);
        e.text = text;
        d = e.slot;
        Emit(std::move(e));
      }
      if (expanded.insert(*d).second) {
        frontier.push_back(*d);
        std::push_heap(frontier.begin(), frontier.end(), later);
      }
    });
  }
}

void Core::ReleaseDescendants(SlotIndex s, int64_t now) {
  for (SlotIndex d : DescendantTasks(s)) {
    const Slot& slot = slots_[d];
    if (!slot.blocked || UpstreamUnhealthy(slot.table, slot.partition)) {
      continue;
    }
    Emit(NewEntry(EntryKind::kUnblocked, d, now));
    Evaluate(d, now, nullptr);
  }
}

void Core::SettleDeployedBlocking() {
  // Upstreams first: a task is settled after every input it reads.
  auto later = [this](SlotIndex a, SlotIndex b) { return Later(a, b); };
  std::vector<SlotIndex> frontier;
  absl::flat_hash_set<SlotIndex> queued;
  auto queue = [&](SlotIndex s) {
    if (!queued.insert(s).second) return;
    frontier.push_back(s);
    std::push_heap(frontier.begin(), frontier.end(), later);
  };
  // The deployed tables' tasks, and the tasks of theirs that an unhealthy
  // input names but nothing has made yet (an edge from a dead table).
  for (const std::vector<TableId>* tables : {&adopted_, &rebuilt_}) {
    for (TableId t : *tables) {
      for (SlotIndex s : SlotsOf(t)) queue(s);
      for (TableId up : pipeline_->Upstreams(t)) {
        if (!counts_.HasUnhealthy(up)) continue;
        for (SlotIndex u : SlotsOf(up)) {
          if (slots_[u].phase != Phase::kDead && !slots_[u].blocked) continue;
          ForEachReader(u, [&](TableId down, PartitionId q) {
            if (down != t || !UpstreamUnhealthy(down, q)) return;
            queue(GetOrCreateSlot(down, q));
          });
        }
      }
    }
  }
  while (!frontier.empty()) {
    std::pop_heap(frontier.begin(), frontier.end(), later);
    const SlotIndex s = frontier.back();
    frontier.pop_back();
    const bool blocked =
        UpstreamUnhealthy(slots_[s].table, slots_[s].partition);
    if (blocked == slots_[s].blocked) continue;
    Detach(s);
    Slot& slot = slots_[s];
    const bool unhealthy_before = slot.phase == Phase::kDead || slot.blocked;
    slot.blocked = blocked;
    if (blocked && slot.phase == Phase::kReady) slot.phase = Phase::kWaiting;
    SettleRun(slot);
    SetUnhealthy(slot, unhealthy_before);
    Attach(s);
    touched_.push_back(s);
    // Its readers may change with it; one that nothing has made yet is
    // made blocked, as BlockDescendants makes it.
    ForEachReader(s, [&](TableId down, PartitionId q) {
      const std::optional<SlotIndex> d = FindSlot(down, q);
      if (d) {
        queue(*d);
      } else if (blocked && UpstreamUnhealthy(down, q)) {
        queue(GetOrCreateSlot(down, q));
      }
    });
  }
}

absl::Status Core::Redrive(absl::Span<const TaskKey> keys, int64_t now) {
  // All are checked before any applies.
  std::vector<SlotIndex> slots;
  slots.reserve(keys.size());
  for (const TaskKey& key : keys) {
    absl::StatusOr<SlotIndex> s = FindTask(key);
    if (!s.ok()) return s.status();
    if (slots_[*s].phase != Phase::kDead) {
      return absl::FailedPreconditionError(
          absl::StrCat(Describe(key), " is not dead: it is ",
                       TaskStateName(StateOf(slots_[*s], now))));
    }
    slots.push_back(*s);
  }
  for (SlotIndex s : slots) {
    if (slots_[s].phase != Phase::kDead) continue;  // Named twice.
    Emit(NewEntry(EntryKind::kRedriven, s, now));
    // A redriven task runs again whatever its inputs.
    Entry ready = NewEntry(EntryKind::kReady, s, now);
    ready.text = std::make_shared<EntryText>(EntryText{"", "", {}, "redriven"});
    Emit(std::move(ready));
    ReleaseDescendants(s, now);
  }
  return absl::OkStatus();
}

absl::Status Core::MarkSucceeded(const TaskKey& key, int64_t now) {
  absl::StatusOr<SlotIndex> s = FindTask(key);
  if (!s.ok()) return s.status();
  if (slots_[*s].phase == Phase::kRunning) {
    return absl::FailedPreconditionError(
        absl::StrCat(Describe(key), " is running attempt ", slots_[*s].attempt,
                     ": complete it instead"));
  }
  Emit(NewEntry(EntryKind::kMarkedSucceeded, *s, now));
  ReleaseDescendants(*s, now);  // Emits no new version: touched_ stays.
  Trigger(now, nullptr, *s);
  return absl::OkStatus();
}

absl::Status Core::Rerun(absl::Span<const TaskKey> keys, bool with_descendants,
                         int64_t now, std::vector<TaskKey>* rerun) {
  // All are checked before any applies.
  std::vector<SlotIndex> slots;
  slots.reserve(keys.size());
  for (const TaskKey& key : keys) {
    absl::StatusOr<TableId> table = LookupDerivedTable(key.table);
    if (!table.ok()) return table.status();
    if (info_[*table].partitioned == key.partition.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "table \"", key.table, "\" is ",
          key.partition.empty() ? "partitioned: name a partition"
                                : "unpartitioned: it takes no partition"));
    }
    // A partition nothing has triggered has no task to build again.
    absl::StatusOr<SlotIndex> s = FindTask(key);
    if (!s.ok()) return s.status();
    if (slots_[*s].phase == Phase::kDead) {
      return absl::FailedPreconditionError(
          absl::StrCat(Describe(key), " is dead: redrive it instead"));
    }
    slots.push_back(*s);
  }
  absl::flat_hash_set<SlotIndex> marked;
  auto mark = [&](SlotIndex s) {
    if (!marked.insert(s).second) return;
    Emit(NewEntry(EntryKind::kRerunRequested, s, now));
    if (rerun != nullptr) rerun->push_back(KeyOf(s));
  };
  for (SlotIndex s : slots) {
    mark(s);
    if (with_descendants) {
      // Marked now, they run once the rebuild above them triggers them: each
      // waits for its upstreams as always.
      for (SlotIndex d : DescendantTasks(s)) {
        if (slots_[d].phase == Phase::kDead || slots_[d].blocked) continue;
        mark(d);
      }
    }
    Evaluate(s, now, nullptr);
  }
  return absl::OkStatus();
}

absl::Status Core::Pause(const std::string& table, const std::string& cls,
                         bool pause, int64_t now) {
  Entry e;
  e.kind = pause ? EntryKind::kPaused : EntryKind::kResumed;
  e.at_ns = now;
  if (!table.empty()) {
    // A source has no tasks: pausing it would hold nothing back.
    absl::StatusOr<TableId> t = LookupDerivedTable(table);
    if (!t.ok()) return t.status();
    if (tables_[*t].paused == pause) return absl::OkStatus();
    e.table = *t;
  } else {
    auto c = pipeline_->FindPriorityClass(cls);
    if (!c) {
      return absl::NotFoundError(
          absl::StrCat("unknown priority class \"", cls, "\""));
    }
    if (class_paused_[*c] == pause) return absl::OkStatus();
    e.target = *c;
  }
  Emit(std::move(e));
  return absl::OkStatus();
}

absl::Status Core::SetPriorityClass(const std::string& table,
                                    const std::string& cls, int64_t now) {
  absl::StatusOr<TableId> t = LookupTable(table);
  if (!t.ok()) return t.status();
  auto c = pipeline_->FindPriorityClass(cls);
  if (!c) {
    return absl::NotFoundError(
        absl::StrCat("unknown priority class \"", cls, "\""));
  }
  if (tables_[*t].priority_class == *c) return absl::OkStatus();
  Entry e;
  e.kind = EntryKind::kClassChanged;
  e.at_ns = now;
  e.table = *t;
  e.target = *c;
  Emit(std::move(e));
  return absl::OkStatus();
}

absl::Status Core::SetPoolSlots(const std::string& pool, int slots,
                                int64_t now) {
  auto p = pipeline_->FindPool(pool);
  if (!p) {
    return absl::NotFoundError(absl::StrCat("unknown pool \"", pool, "\""));
  }
  if (slots < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "pool \"", pool, "\": slots must be at least 1 (got ", slots, ")"));
  }
  // As in a spec: a pool smaller than one attempt of a table would starve it.
  for (TableId t = 0; t < pipeline_->table_count(); ++t) {
    const Table& table = info_[t];
    if (table.pool == *p && table.pool_slots > slots) {
      return absl::InvalidArgumentError(
          absl::StrCat("pool \"", pool, "\": ", slots,
                       " slots are fewer than the ", table.pool_slots,
                       " one attempt of table \"", table.name, "\" holds"));
    }
  }
  Entry e;
  e.kind = EntryKind::kPoolResized;
  e.at_ns = now;
  e.target = *p;
  e.slots = slots;
  Emit(std::move(e));
  return absl::OkStatus();
}

void Core::RecordPipelineUpdate(const std::string& change, int64_t now,
                                std::vector<TaskKey>* made_ready) {
  Entry e;
  e.kind = EntryKind::kPipelineUpdated;
  e.at_ns = now;
  e.text = std::make_shared<EntryText>(EntryText{"", "", {}, change});
  Emit(std::move(e));
  // Tasks of added tables on data landed before, and of those adopted or
  // rebuilt.
  Trigger(now, made_ready);
}

}  // namespace landfall::internal
