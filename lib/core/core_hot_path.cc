// Apply's fast paths: the changes every task makes on its usual way, with
// the effect of the generic path (core.cc) and fewer steps.
#include "lib/core/core.h"

namespace landfall::internal {

Slot* Core::UsualSlot(const Entry& e, Phase phase) {
  if (e.slot == kNoSlot) return nullptr;
  Slot& slot = slots_[e.slot];
  if (slot.phase != phase || slot.blocked || tables_[slot.table].source) {
    return nullptr;
  }
  return &slot;
}

bool Core::ApplyReady(const Entry& e) {
  // A waiting task holds no timer and counts for nothing; made ready, it
  // stays healthy and takes a run record.
  Slot* const usual = UsualSlot(e, Phase::kWaiting);
  if (usual == nullptr) return false;
  Slot& slot = *usual;
  --Recorded(slot, RecordedState(slot));
  slot.phase = Phase::kReady;
  HoldRun(slot).time_ns = e.at_ns;
  const TableRuntime& table = tables_[slot.table];
  if (Paused(slot.table)) {
    ++Recorded(slot, TaskState::kPaused);
    return true;
  }
  ++Recorded(slot, TaskState::kReady);
  ++counts_.Active(table.pool, table.priority_class);
  ++counts_.ActiveInClass(table.priority_class);
  Enqueue(e.slot, slot, table);
  return true;
}

bool Core::ApplyClaimed(const Entry& e) {
  // A ready task that counts, and still counts once running: only its
  // queue entry and its recorded state change, and it takes a timer.
  Slot* const usual = UsualSlot(e, Phase::kReady);
  if (usual == nullptr || Paused(usual->table)) return false;
  Slot& slot = *usual;
  const TableRuntime& table = tables_[slot.table];
  ReadyOf(table.pool, table.priority_class).Forget();
  --Recorded(slot, TaskState::kReady);
  ++Recorded(slot, TaskState::kRunning);
  StartAttempt(e, slot);
  PushTimer(e.slot);
  return true;
}

bool Core::ApplySucceeded(const Entry& e) {
  Slot* const usual = UsualSlot(e, Phase::kRunning);
  if (usual == nullptr) return false;
  Slot& slot = *usual;
  // Running, paused or not, it counts and holds a timer; waiting, neither,
  // and it gives its run record back.
  const TableRuntime& table = tables_[slot.table];
  --Recorded(slot, TaskState::kRunning);
  timers_.Forget();
  --counts_.Active(table.pool, table.priority_class);
  --counts_.ActiveInClass(table.priority_class);
  Succeed(e, e.slot, slot);
  AddVersion(e, e.slot, slot);
  SettleRun(slot);
  ++Recorded(slot, RecordedState(slot));
  return true;
}

}  // namespace landfall::internal
