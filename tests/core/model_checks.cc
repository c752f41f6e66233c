// A model run's checks of the scheduler's invariants (listed in
// model_test.cc): after each claim and each step, and at the end of the run.
#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "landfall/scheduler.h"
#include "lib/testing/history.h"
#include "tests/core/model.h"
#include "tests/core/model_run.h"

namespace landfall::testing {

void ModelRun::ClaimSome() {
  // Poll first so that the snapshot is what Claim sees (Claim polls too).
  ASSERT_TRUE(scheduler_->Poll().ok());
  const TaskList before = scheduler_->List();
  std::map<std::string, const TaskStatus*> state;
  for (const TaskStatus& s : before.tasks) {
    state[s.task.table + "/" + s.task.partition] = &s;
  }
  const int asked = 1 + rng_() % 3;
  auto claimed_or = scheduler_->Claim("w", asked);
  ASSERT_TRUE(claimed_or.ok()) << claimed_or.status();
  const std::vector<ClaimedTask>& claimed = *claimed_or;
  std::set<std::string> taken;
  for (const ClaimedTask& c : claimed) {
    const std::string key = c.task.table + "/" + c.task.partition;
    const TaskStatus* was = state[key];
    ASSERT_NE(was, nullptr) << key;
    ASSERT_EQ(was->state, TaskState::kReady) << key << " claimed twice?";
    ASSERT_GT(c.attempt, was->attempt) << key;
    // No higher class active in the scope just before the claim, unless
    // the task was READY for its class's max_gate_wait.
    if (!WaitedEnough(*was)) {
      const TaskStatus* holder = GateHolder(*was, before);
      ASSERT_EQ(holder, nullptr)
          << key << " claimed while " << holder->task.table << "/"
          << holder->task.partition << " of a higher class is "
          << TaskStateName(holder->state);
    }
    taken.insert(key);
    held_.push_back(Held{c.task, c.attempt});
  }
  // Pools hold no more slots than they have (a shrunk pool may be over
  // until attempts finish, but claims never add to it then).
  std::map<PoolId, int> used;
  for (const TaskStatus& s : scheduler_->List().tasks) {
    if (s.state != TaskState::kRunning) continue;
    const Table& t = pipeline_->table(*pipeline_->FindTable(s.task.table));
    used[t.pool] += t.pool_slots;
  }
  for (const ClaimedTask& c : claimed) {
    const PoolId pool = *pipeline_->FindPool(std::string(c.pool));
    ASSERT_LE(used[pool], capacity_[std::string(c.pool)]) << "pool " << pool;
  }
  // A claim that took fewer than it asked for left no READY task that the
  // gate (or its max_gate_wait) let pass and its pool had room for.
  if (static_cast<int>(claimed.size()) == asked) return;
  for (const TaskStatus& s : before.tasks) {
    const std::string key = s.task.table + "/" + s.task.partition;
    if (s.state != TaskState::kReady || taken.count(key)) continue;
    const Table& t = pipeline_->table(*pipeline_->FindTable(s.task.table));
    const Pool& pool = pipeline_->pools()[t.pool];
    const bool room = capacity_[pool.name] - used[t.pool] >= t.pool_slots;
    const bool passes = WaitedEnough(s) || GateHolder(s, before) == nullptr;
    ASSERT_FALSE(room && passes) << key << " was left READY by a claim of "
                                 << claimed.size() << " of " << asked << ":\n"
                                 << scheduler_->Explain(s.task)->ToString();
  }
}

bool ModelRun::WaitedEnough(const TaskStatus& s) {
  const Table& t = pipeline_->table(*pipeline_->FindTable(s.task.table));
  return s.ready_since +
             pipeline_->priority_classes()[ClassOf(t)].max_gate_wait <=
         clock_.Now();
}

const TaskStatus* ModelRun::GateHolder(const TaskStatus& task,
                                       const TaskList& states) {
  const PriorityGate gate = pipeline_->priority_gate();
  if (gate == PriorityGate::kOff) return nullptr;
  const Table& mine = pipeline_->table(*pipeline_->FindTable(task.task.table));
  for (const TaskStatus& s : states.tasks) {
    const Table& other = pipeline_->table(*pipeline_->FindTable(s.task.table));
    const bool holds_retrying =
        pipeline_->priority_classes()[ClassOf(other)].gate_holds_retrying;
    const bool active =
        s.state == TaskState::kRunning || s.state == TaskState::kReady ||
        (s.state == TaskState::kRetryWait && !Paused(other) && holds_retrying);
    const bool same_scope =
        gate == PriorityGate::kPipeline || other.pool == mine.pool;
    if (active && same_scope && ClassOf(other) < ClassOf(mine)) return &s;
  }
  return nullptr;
}

ClassId ModelRun::ClassOf(const Table& table) {
  auto it = class_of_.find(table.id);
  return it == class_of_.end() ? table.priority_class : it->second;
}

bool ModelRun::Paused(const Table& table) {
  return paused_tables_[table.id] || paused_classes_[ClassOf(table)];
}

void ModelRun::CheckHistory() {
  const int64_t last = scheduler_->LastSequence();
  auto tail =
      ::landfall::testing::History(*scheduler_, checked_seq_ + 1, SIZE_MAX);
  for (const HistoryEntry& e : tail) {
    ASSERT_EQ(e.seq, ++checked_seq_);
  }
  ASSERT_EQ(checked_seq_, last);
}

void ModelRun::CheckStatesAreAsOfNow() {
  const absl::Time now = clock_.Now();
  for (const TaskStatus& s : scheduler_->List().tasks) {
    const std::string key = s.task.table + "/" + s.task.partition;
    switch (s.state) {
      case TaskState::kRunning:
      case TaskState::kRetryWait:
        ASSERT_GT(s.deadline, now) << key << " " << TaskStateName(s.state);
        break;
      case TaskState::kExpired:
        ASSERT_LE(s.deadline, now) << key;
        break;
      case TaskState::kSucceeded:
        ASSERT_GT(s.version, 0) << key;
        break;
      case TaskState::kWaiting:
        ASSERT_EQ(s.version, 0) << key << " was built: not WAITING";
        break;
      default:
        break;
    }
  }
}

void ModelRun::CheckBlockedByTheRule() {
  const TaskList list = scheduler_->List();
  std::map<std::string, std::vector<const TaskStatus*>> by_table;
  for (const TaskStatus& s : list.tasks) {
    by_table[s.task.table].push_back(&s);
  }
  std::set<std::string> unhealthy;  // "table/partition", dead or blocked
  std::set<std::string> unhealthy_tables;
  auto input_unhealthy = [&](const Table& up, const Table& table,
                             const std::string& p) {
    if (up.source) return false;
    if (up.partitioned && !table.partitioned) {
      return unhealthy_tables.count(up.name) > 0;
    }
    if (!up.partitioned) return unhealthy.count(up.name + "/") > 0;
    // Any task in any of its windows of `up`.
    for (const Input& input : pipeline_->Inputs(table.id)) {
      if (input.table != up.id) continue;
      for (const std::string& key :
           PartitionWindow(input.mapping, table.partition_format, p,
                           pipeline_->time_zone())) {
        if (unhealthy.count(up.name + "/" + key) > 0) return true;
      }
    }
    return false;
  };
  for (TableId t : pipeline_->TopologicalOrder()) {
    const Table& table = pipeline_->table(t);
    const auto upstreams = pipeline_->Upstreams(t);
    for (const TaskStatus* s : by_table[table.name]) {
      int count = 0;
      for (TableId up : upstreams) {
        count +=
            input_unhealthy(pipeline_->table(up), table, s->task.partition);
      }
      const bool blocked = table.trigger == Trigger::kAny
                               ? count == static_cast<int>(upstreams.size())
                               : count > 0;
      const std::string key = s->task.table + "/" + s->task.partition;
      if (s->state == TaskState::kBlocked || s->state == TaskState::kReady) {
        ASSERT_EQ(s->state == TaskState::kBlocked, blocked)
            << key << " is " << TaskStateName(s->state) << " with " << count
            << " of " << upstreams.size() << " upstreams dead or blocked\n"
            << HistoryOf(s->task.table);
      }
      const bool hides_blocked = s->state == TaskState::kRunning ||
                                 s->state == TaskState::kExpired ||
                                 s->state == TaskState::kRetryWait;
      if (s->state == TaskState::kDead || s->state == TaskState::kBlocked ||
          (hides_blocked && blocked)) {
        unhealthy.insert(key);
        unhealthy_tables.insert(table.name);
      }
    }
  }
}

void ModelRun::CheckNothingDueIsLeft() {
  ReferenceModel model(*pipeline_);
  for (const HistoryEntry& e :
       ::landfall::testing::History(*scheduler_, 1, SIZE_MAX)) {
    model.Apply(e);
  }
  TaskList list = scheduler_->List();
  std::map<std::string, TaskState> states;
  for (const TaskStatus& s : list.tasks) {
    states[s.task.table + "/" + s.task.partition] = s.state;
  }
  for (const std::string& task : model.DueTasks()) {
    if (adopted_.count(task.substr(0, task.find('/')))) continue;
    auto it = states.find(task);
    const TaskState state =
        it == states.end() ? TaskState::kWaiting : it->second;
    if (state == TaskState::kBlocked || state == TaskState::kDead) continue;
    ASSERT_NE(state, TaskState::kSucceeded)
        << task << " is due: it is not up to date";
    const size_t slash = task.find('/');
    auto why =
        scheduler_->Explain({task.substr(0, slash), task.substr(slash + 1)});
    ADD_FAILURE() << task << " is due but " << TaskStateName(state) << ": "
                  << (why.ok() ? why->ToString() : why.status().ToString())
                  << "\n"
                  << HistoryOf(task.substr(0, slash));
  }
}

std::string ModelRun::HistoryOf(const std::string& table) {
  std::set<std::string> names = {table};
  for (TableId up : pipeline_->Upstreams(*pipeline_->FindTable(table))) {
    names.insert(pipeline_->table(up).name);
  }
  std::string out;
  for (const HistoryEntry& e :
       ::landfall::testing::History(*scheduler_, 1, SIZE_MAX)) {
    if (names.count(e.table)) out += e.ToString() + "\n";
  }
  return out;
}

void ModelRun::Restart() {
  if (store_ == nullptr) return;
  auto reopened = Scheduler::Open(pipeline_, store_, options_);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  ASSERT_EQ((*reopened)->DebugState(), scheduler_->DebugState());
  scheduler_ = *std::move(reopened);
}

void ModelRun::CheckReplay() {
  auto replayed = Scheduler::Replay(
      initial_pipeline_, ::landfall::testing::History(*scheduler_, 1, SIZE_MAX),
      SchedulerOptions());
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  ASSERT_EQ((*replayed)->DebugState(), scheduler_->DebugState());
}

}  // namespace landfall::testing
