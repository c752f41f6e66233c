// A model run's random sequence: the pipeline and scheduler it starts with,
// and each step it takes (arrivals, claims, completions, operations, deploys).
#include "tests/core/model_run.h"

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

namespace landfall::testing {

ModelRun::ModelRun(uint64_t seed) : rng_(seed) {
  pipeline_ = RandomPipeline(rng_);
  initial_pipeline_ = pipeline_;
  clock_.Set(absl::FromUnixSeconds(1541293200));
  options_.clock = &clock_;
  options_.seed = seed;
  options_.history_capacity = 0;
  // Every other run keeps its state in a store, snapshots often and is
  // restarted midway: the restored scheduler must carry on as if nothing
  // happened.
  if (rng_() % 2 == 0) {
    store_ = NewMemoryStore();
    options_.snapshot_every_entries = 1 + rng_() % 50;
    restart_at_ = static_cast<int>(rng_() % 150);
    auto opened = Scheduler::Open(pipeline_, store_, options_);
    EXPECT_TRUE(opened.ok()) << opened.status();
    if (opened.ok()) scheduler_ = *std::move(opened);
  } else {
    scheduler_ = *Scheduler::Create(pipeline_, options_);
  }
  for (const Pool& pool : pipeline_->pools()) capacity_[pool.name] = pool.slots;
}

void ModelRun::Run(int steps) {
  if (scheduler_ == nullptr) return;
  for (int i = 0; i < steps && !::testing::Test::HasFatalFailure(); ++i) {
    if (i == restart_at_) Restart();
    Step(/*quiet=*/false);
  }
  // Quiet: no arrivals, no failures; resume and redrive everything.
  for (const PriorityClass& c : pipeline_->priority_classes()) {
    ASSERT_TRUE(scheduler_->ResumeClass(c.name).ok());
    paused_classes_[c.id] = false;
  }
  for (TableId t = 0; t < pipeline_->table_count(); ++t) {
    if (pipeline_->table(t).source) continue;
    ASSERT_TRUE(scheduler_->ResumeTable(pipeline_->table(t).name).ok());
    paused_tables_[t] = false;
  }
  for (const TaskStatus& dead : scheduler_->DeadLetter()) {
    ASSERT_TRUE(scheduler_->Redrive(dead.task).ok());
  }
  for (int i = 0; i < 2000; ++i) {
    if (Idle()) break;
    Step(/*quiet=*/true);
  }
  ASSERT_TRUE(Idle()) << "not idle after the stream went quiet:\n" << Busy();
  CheckNothingDueIsLeft();
  CheckReplay();
  if (store_ != nullptr) Restart();
}

bool ModelRun::Idle() {
  TaskList list = scheduler_->List();
  return list.by_state["READY"] == 0 && list.by_state["RUNNING"] == 0 &&
         list.by_state["RETRY_WAIT"] == 0 && list.by_state["EXPIRED"] == 0;
}

std::string ModelRun::Busy() {
  std::string out;
  for (const TaskStatus& s : scheduler_->List().tasks) {
    if (s.state != TaskState::kReady && s.state != TaskState::kRunning &&
        s.state != TaskState::kRetryWait && s.state != TaskState::kExpired) {
      continue;
    }
    auto why = scheduler_->Explain(s.task);
    out += (why.ok() ? why->ToString() : why.status().ToString()) + "\n";
  }
  return out;
}

void ModelRun::Step(bool quiet) {
  const int action = quiet ? 2 + rng_() % 5 : rng_() % 15;
  switch (action) {
    case 0:
    case 1:
      Arrive();
      break;
    case 2:
    case 3:
      ClaimSome();
      break;
    case 4:
    case 5:
      CompleteOne(quiet);
      break;
    case 6:
      clock_.Advance(absl::Seconds(rng_() % 900));
      break;
    case 7:
      if (!held_.empty()) {
        const Held& h = Pick(held_);
        (void)scheduler_->Heartbeat(h.task, h.attempt);
      }
      break;
    case 8: {
      const Table& t = pipeline_->table(rng_() % pipeline_->table_count());
      const bool pause = rng_() % 2;
      const absl::Status status = pause ? scheduler_->PauseTable(t.name)
                                        : scheduler_->ResumeTable(t.name);
      // A source has no tasks to pause: refused, changing nothing.
      ASSERT_EQ(status.code(), t.source ? absl::StatusCode::kInvalidArgument
                                        : absl::StatusCode::kOk);
      if (!t.source) paused_tables_[t.id] = pause;
      break;
    }
    case 9: {
      const auto& classes = pipeline_->priority_classes();
      const ClassId c = rng_() % classes.size();
      const bool pause = rng_() % 3 == 0;
      ASSERT_TRUE((pause ? scheduler_->PauseClass(classes[c].name)
                         : scheduler_->ResumeClass(classes[c].name))
                      .ok());
      paused_classes_[c] = pause;
      break;
    }
    case 10: {
      auto dead = scheduler_->DeadLetter();
      if (!dead.empty()) {
        const TaskKey& key = Pick(dead).task;
        ASSERT_TRUE(rng_() % 2 ? scheduler_->Redrive(key).ok()
                               : scheduler_->MarkSucceeded(key).ok());
      }
      break;
    }
    case 11: {
      const Table& t = pipeline_->table(rng_() % pipeline_->table_count());
      if (!t.source) {
        (void)scheduler_->Rerun({t.name, t.partitioned ? Partition(t) : ""},
                                rng_() % 2 == 0);
      }
      break;
    }
    case 12: {
      const Table& t = pipeline_->table(rng_() % pipeline_->table_count());
      const auto& classes = pipeline_->priority_classes();
      const ClassId c = rng_() % classes.size();
      ASSERT_TRUE(scheduler_->SetPriorityClass(t.name, classes[c].name).ok());
      class_of_[t.id] = c;
      break;
    }
    case 13: {
      const Pool& pool = pipeline_->pools()[rng_() % pipeline_->pools().size()];
      if (pool.slots == kUnlimitedSlots) break;
      const int slots = 1 + rng_() % 4;
      const absl::Status status = scheduler_->SetPoolSlots(pool.name, slots);
      if (status.ok()) {
        capacity_[pool.name] = slots;
      } else {  // Fewer slots than a table's attempt holds.
        ASSERT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
      }
      break;
    }
    case 14:
      DeployAChange();
      break;
  }
  CheckHistory();
  CheckStatesAreAsOfNow();
  CheckBlockedByTheRule();
}

std::string ModelRun::Partition(const Table& t) {
  const int day = 1 + rng_() % 3;
  switch (t.partition_format) {
    case PartitionFormat::kDaily:
      return absl::StrFormat("2018-11-%02d", day);
    case PartitionFormat::kHourly:
      return absl::StrFormat("2018-11-%02dT%02d", day, rng_() % 24);
    default:
      return "p" + std::to_string(day - 1);
  }
}

void ModelRun::ArriveDay(const Table& t) {
  std::vector<Arrival> day(24);
  const std::string date = Partition(t).substr(0, 10);
  for (int h = 0; h < 24; ++h) {
    day[h].set_event_id("e" + std::to_string(events_++));
    day[h].set_table(t.name);
    day[h].set_partition(absl::StrFormat("%sT%02d", date, h));
  }
  ASSERT_TRUE(scheduler_->IngestBatch(day).ok());
}

void ModelRun::DeployAChange() {
  const TableId t = rng_() % pipeline_->table_count();
  const Table& table = pipeline_->table(t);
  if (table.source) return;
  PipelineSpec spec = pipeline_->spec();
  TableSpec& changed = *spec.mutable_table(t);
  if (rng_() % 2 == 0) {
    changed.set_trigger(table.trigger == Trigger::kAll ? TableSpec::ANY
                                                       : TableSpec::ALL);
  } else {
    const absl::Span<const TableId> order = pipeline_->TopologicalOrder();
    const auto at = std::find(order.begin(), order.end(), t);
    if (at == order.begin()) return;
    const TableId up = order[rng_() % (at - order.begin())];
    const absl::Span<const TableId> ups = pipeline_->Upstreams(t);
    if (std::find(ups.begin(), ups.end(), up) != ups.end()) return;
    changed.add_upstream(pipeline_->table(up).name);
  }
  auto next = Pipeline::FromSpec(spec);
  if (!next.ok()) return;  // Say, a partitioning the change does not fit.
  DeployOptions options;
  if (rng_() % 2 == 0) {
    options.adopt = {table.name};
    adopted_.insert(table.name);  // Its due tasks differ from the model's.
  } else {
    options.rebuild = {table.name};
  }
  auto plan = scheduler_->Deploy(*next, options);
  ASSERT_TRUE(plan.ok()) << plan.status();
  pipeline_ = *next;
}

void ModelRun::Arrive() {
  const Table& t = pipeline_->table(rng_() % pipeline_->table_count());
  if (t.partition_format == PartitionFormat::kHourly && rng_() % 3 == 0) {
    ArriveDay(t);
    return;
  }
  Arrival a;
  // One arrival in five repeats an earlier event id.
  if (events_ > 0 && rng_() % 5 == 0) {
    a.set_event_id("e" + std::to_string(rng_() % events_));
  } else {
    a.set_event_id("e" + std::to_string(events_++));
  }
  a.set_table(t.name);
  if (t.partitioned) a.set_partition(Partition(t));
  auto result = scheduler_->Ingest(a);
  ASSERT_TRUE(result.ok()) << result.status();
}

void ModelRun::CompleteOne(bool quiet) {
  if (held_.empty()) return;
  const size_t i = rng_() % held_.size();
  const Held h = held_[i];
  held_.erase(held_.begin() + i);
  Outcome outcome = Outcome::SUCCEEDED;
  if (!quiet) {
    const int r = rng_() % 10;
    outcome = r < 6   ? Outcome::SUCCEEDED
              : r < 9 ? Outcome::RETRYABLE
                      : Outcome::FATAL;
  }
  // Some completions are stale (the lease may have run out meanwhile):
  // they must be refused, never crash or double-apply.
  // An older attempt is always stale, since attempt numbers only grow.
  const int64_t attempt =
      (!quiet && rng_() % 8 == 0) ? h.attempt - 1 : h.attempt;
  const int64_t before = scheduler_->LastSequence();
  absl::Status status = scheduler_->Complete(h.task, attempt, outcome, "model");
  if (!status.ok()) {
    ASSERT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
    if (attempt != h.attempt) {
      ASSERT_EQ(scheduler_->LastSequence(), before);
      held_.push_back(h);
    }
  }
}

}  // namespace landfall::testing
