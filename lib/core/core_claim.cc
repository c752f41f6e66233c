// Claiming: the priority gate, its relaxations, pools and claim order.
#include <algorithm>

#include "lib/core/core.h"
#include "lib/core/saturating.h"

namespace landfall::internal {

bool Core::GateHolds(PoolId pool, ClassId cls) {
  const PriorityGate gate = pipeline_->priority_gate();
  for (ClassId h = 0; h < cls; ++h) {
    if (gate == PriorityGate::kPool
            ? counts_.Active(pool, h) > 0
            : gate == PriorityGate::kPipeline && counts_.ActiveInClass(h) > 0) {
      return true;
    }
  }
  return false;
}

std::optional<int64_t> Core::NextGateExpiry(int64_t now) {
  std::optional<int64_t> next;
  const size_t classes = classes_info_.size();
  for (size_t i = 0; i < gate_waits_.size(); ++i) {
    if (gate_waits_[i] == nullptr) continue;
    const PoolId pool = static_cast<PoolId>(i / classes);
    const ClassId cls = static_cast<ClassId>(i % classes);
    auto live = [&](const ReadyKey& key) { return ReadyLive(key, pool, cls); };
    const std::optional<int64_t> at = gate_waits_[i]->NextExpiry(now, live);
    if (at && (!next || *at < *next)) next = at;
  }
  return next;
}

std::vector<ClaimedTask> Core::Claim(const std::string& worker, int max,
                                     const ClaimFilter& filter, int64_t now) {
  if (max <= 0) return {};
  Poll(now);
  std::vector<ClaimedTask> claimed;
  claimed.reserve(std::min(max, 1024));
  const int classes = static_cast<int>(pipeline_->priority_classes().size());
  const int pools = static_cast<int>(pipeline_->pools().size());
  absl::InlinedVector<bool, 8> pool_allowed(pools, filter.pools.empty());
  for (const std::string& name : filter.pools) {
    if (auto p = pipeline_->FindPool(name)) pool_allowed[*p] = true;
  }
  absl::InlinedVector<bool, 8> class_allowed(classes, filter.classes.empty());
  for (const std::string& name : filter.classes) {
    if (auto c = pipeline_->FindPriorityClass(name)) class_allowed[*c] = true;
  }
  const PriorityGate gate = pipeline_->priority_gate();
  int32_t worker_id = -1;
  // Classes in order, so that a task past its max_gate_wait comes after
  // every claimable task of a higher class.
  for (ClassId c = 0; c < classes && static_cast<int>(claimed.size()) < max;
       ++c) {
    // The pipeline-wide gate holds every class below an active one.
    const bool held_everywhere =
        gate == PriorityGate::kPipeline && GateHolds(0, c);
    if (held_everywhere && gate_waits_.empty()) break;
    if (!class_allowed[c]) continue;
    // The queues this class may claim from now: a pool's ready tasks, or
    // where the gate holds the class, those past its max_gate_wait.
    absl::InlinedVector<std::pair<PoolId, Queue*>, 8> open;
    for (PoolId p = 0; p < pools; ++p) {
      // The tasks past their max_gate_wait are ready tasks too.
      if (!pool_allowed[p] || ReadyOf(p, c).Empty()) continue;
      const bool held =
          held_everywhere || (gate == PriorityGate::kPool && GateHolds(p, c));
      if (!held) {
        open.emplace_back(p, &ReadyOf(p, c));
      } else if (Waits* waits = GateWaitOf(p, c)) {
        open.emplace_back(p, &waits->Overdue(now, [&](const ReadyKey& key) {
          return ReadyLive(key, p, c);
        }));
      }
    }
    // Merge the open queues in claim order. A task needing more slots than
    // its pool has free is set aside, and put back after.
    absl::InlinedVector<std::pair<Queue*, ReadyKey>, 4> set_aside;
    ReadyLess before{&partitions_.ranks()};
    while (static_cast<int>(claimed.size()) < max) {
      const ReadyKey* best = nullptr;
      Queue* best_queue = nullptr;
      for (const auto& [p, queue] : open) {
        const int free = pool_capacity_[p] - pool_used_[p];
        if (free <= 0) continue;
        auto live = [&, p = p](const ReadyKey& key) {
          return ReadyLive(key, p, c);
        };
        const ReadyKey* top;
        while ((top = queue->Top(live)) != nullptr &&
               info_[top->table()].pool_slots > free) {
          set_aside.emplace_back(queue, queue->PopEntry());
        }
        if (top != nullptr && (best == nullptr || before(*top, *best))) {
          best = top;
          best_queue = queue;
        }
      }
      if (best == nullptr) break;
      const SlotIndex s = best->slot;
      // The entry is on top: dropping it now saves finding it stale later.
      best_queue->PopEntry();
      if (worker_id < 0) worker_id = InternWorker(worker);
      const Table& table = info_[slots_[s].table];
      Entry e = NewEntry(EntryKind::kClaimed, s, now);
      e.attempt = slots_[s].attempt + 1;
      e.worker = worker_id;
      e.until_ns = AddNanos(now, lease_nanos_(table.lease));
      // Built in place: a ClaimedTask is costly to move.
      ClaimedTask& task = claimed.emplace_back();
      InputsOf(slots_[s], &task.inputs);
      Emit(std::move(e));
      // Copied string to string: cheaper than assigning from a view.
      task.task.table = table.name;
      task.task.partition = partitions_.Name(slots_[s].partition);
      task.id = IdOf(s);
      task.attempt = slots_[s].attempt;
      task.lease_deadline = absl::FromUnixNanos(TimeOf(slots_[s]));
      task.pool = pools_info_[table.pool].name;
      task.priority_class =
          classes_info_[tables_[table.id].priority_class].name;
      task.sink = table.sink;
    }
    for (const auto& [queue, key] : set_aside) queue->PushEntry(key);
  }
  return claimed;
}

}  // namespace landfall::internal
